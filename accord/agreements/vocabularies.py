"""Bundled agreement vocabularies: lawful bases, Schedule 1 conditions, gateways and roles.

Each vocabulary is one JSON file in ``data/vocabularies/``: an object with ``name``, ``title``,
``source``, ``licence`` and ``entries``. Every entry has a stable ``code``, a short plain-English
``label``, a ``description`` for a council officer, a ``legislation`` URL (legislation.gov.uk,
or null where the source is guidance or common law) and, where one exists, a ``dpv`` CURIE that
is a close match in the W3C Data Privacy Vocabulary. Any other keys (``part``,
``requires_schedule1``, ``public_body``, ``verify`` ...) are kept in ``Entry.extra``.

Other top-level keys in a file (notes on how to read a field) are kept in ``Vocabulary.extra``.

Entries marked ``"verify": true`` or ``"verify_commencement": true`` have not been checked
against the legislation's text; they say so rather than guess.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

DATA_DIR = Path(__file__).parent / "data" / "vocabularies"
ENTRY_KEYS = ("code", "label", "description", "legislation", "dpv")
VOCABULARY_KEYS = ("name", "title", "source", "licence", "entries")


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


class UnknownVocabulary(LookupError):
    """No bundled vocabulary has that name."""

    def __init__(self, name: str):
        self.name = name
        names = ", ".join(available()) or "none"
        super().__init__(
            f"There is no agreement vocabulary called '{name}'. The vocabularies Accord has "
            f"are: {names}."
        )


class UnknownCode(KeyError):
    """A vocabulary has no entry with that code."""

    def __init__(self, vocabulary: str, code: str):
        self.vocabulary = vocabulary
        self.code = code
        super().__init__(code)

    def __str__(self) -> str:
        return f"The '{self.vocabulary}' vocabulary has no code '{self.code}'."


@dataclass(frozen=True)
class Entry:
    """One term: a code, its label and description, and where it comes from in law."""

    code: str
    label: str
    description: str
    legislation: str | None = None
    dpv: str | None = None
    extra: Mapping[str, Any] = field(default_factory=_empty, compare=False)

    def __getitem__(self, key: str) -> Any:
        """Any field by name, including the extra ones: ``entry["part"]``."""
        if key in ENTRY_KEYS:
            return getattr(self, key)
        return self.extra[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


@dataclass(frozen=True)
class Vocabulary:
    """A named, ordered set of entries with its source and licence."""

    name: str
    title: str
    source: str
    licence: str
    entries: tuple[Entry, ...]
    extra: Mapping[str, Any] = field(default_factory=_empty, compare=False)

    def get(self, code: str) -> Entry:
        """The entry for CODE; ``UnknownCode`` (a ``KeyError``) when there is none."""
        for entry in self.entries:
            if entry.code == code:
                return entry
        raise UnknownCode(self.name, code)

    def __contains__(self, code: object) -> bool:
        return code in self.codes()

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def codes(self) -> frozenset[str]:
        return frozenset(entry.code for entry in self.entries)

    def choices(self) -> list[tuple[str, str]]:
        """(code, label) pairs in file order, for a Django ``choices`` argument."""
        return [(entry.code, entry.label) for entry in self.entries]


def available() -> tuple[str, ...]:
    """Names of the bundled vocabularies, sorted."""
    return tuple(sorted(path.stem for path in DATA_DIR.glob("*.json")))


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


def _parse_entry(name: str, raw: Any) -> Entry:
    if not isinstance(raw, dict):
        raise ValueError(f"Vocabulary '{name}' has an entry that is not an object: {raw!r}")
    missing = [key for key in ("code", "label", "description") if not raw.get(key)]
    if missing:
        raise ValueError(
            f"Vocabulary '{name}' entry {raw.get('code')!r} is missing {', '.join(missing)}."
        )
    return Entry(
        code=str(raw["code"]),
        label=str(raw["label"]),
        description=str(raw["description"]),
        legislation=raw.get("legislation"),
        dpv=raw.get("dpv"),
        extra=_freeze({key: value for key, value in raw.items() if key not in ENTRY_KEYS}),
    )


@functools.cache
def load(name: str) -> Vocabulary:
    """The bundled vocabulary NAME (cached; the result is immutable)."""
    if name not in available():
        raise UnknownVocabulary(name)
    raw = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    if raw.get("name") != name:
        raise ValueError(f"{name}.json says its name is {raw.get('name')!r}, not '{name}'.")
    entries = tuple(_parse_entry(name, item) for item in raw["entries"])
    seen: set[str] = set()
    for entry in entries:
        if entry.code in seen:
            raise ValueError(f"Vocabulary '{name}' has the code '{entry.code}' twice.")
        seen.add(entry.code)
    return Vocabulary(
        name=name,
        title=str(raw["title"]),
        source=str(raw["source"]),
        licence=str(raw["licence"]),
        entries=entries,
        extra=_freeze({key: value for key, value in raw.items() if key not in VOCABULARY_KEYS}),
    )


def choices(name: str) -> list[tuple[str, str]]:
    """(code, label) pairs for the vocabulary NAME, for a Django form field's ``choices``."""
    return load(name).choices()
