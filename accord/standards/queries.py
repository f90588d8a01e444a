"""Finding published standards: bundled data files, then versions platform staff published."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from .exceptions import StandardNotFound
from .schema import Standard, parse_standard, version_key

BUNDLED_PACKAGE = "accord.standards"
BUNDLED_DIR = ("data", "standards")


@cache
def bundled_standards() -> tuple[Standard, ...]:
    """Every standard version shipped as a data file: data/standards/<slug>/<version>.json."""
    root = resources.files(BUNDLED_PACKAGE).joinpath(*BUNDLED_DIR)
    found: list[Standard] = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            if item.name.endswith(".json"):
                found.append(parse_standard(json.loads(item.read_text(encoding="utf-8"))))
    return tuple(sorted(found, key=lambda s: (s.slug, version_key(s.version))))


def published_standards(*, database: bool = True) -> tuple[Standard, ...]:
    """All published versions of every standard, by slug then version: the bundled data
    files and (unless ``database`` is false) the versions platform staff published."""
    from .models import PublishedStandard

    found = {s.label: s for s in bundled_standards()}
    rows = PublishedStandard.objects.only("descriptor") if database else ()
    for row in rows:
        standard = parse_standard(row.descriptor)
        found.setdefault(standard.label, standard)
    return tuple(sorted(found.values(), key=lambda s: (s.slug, version_key(s.version))))


def latest_versions() -> tuple[Standard, ...]:
    """The newest version of each standard, by slug."""
    latest: dict[str, Standard] = {}
    for standard in published_standards():
        latest[standard.slug] = standard
    return tuple(latest.values())


def versions_of(slug: str, *, database: bool = True) -> tuple[Standard, ...]:
    return tuple(s for s in published_standards(database=database) if s.slug == slug)


def get_standard(slug: str, version: str | None = None, *, database: bool = True) -> Standard:
    """The standard SLUG at VERSION (the newest when no version is given).

    ``slug`` may also be written ``SLUG@VERSION``.
    """
    if version is None and "@" in slug:
        slug, version = slug.split("@", 1)
    versions = versions_of(slug, database=database)
    if not versions:
        raise StandardNotFound(f"There is no standard called '{slug}'.")
    if version is None:
        return versions[-1]
    for standard in versions:
        if standard.version == version:
            return standard
    raise StandardNotFound(
        f"Standard '{slug}' has no version {version}; "
        f"published versions are {', '.join(s.version for s in versions)}."
    )
