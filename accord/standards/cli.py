"""`accord standards list`, `accord standards show` and `accord standards template`.

    accord standards list [--format json]
    accord standards show care-home-daily-status[@1.0]
    accord standards template care-home-daily-status[@1.0] [--format xlsx|csv|json]
        [--output PATH] [--force]
    accord standards publish SCHEMA.json

``list`` shows the newest version of each published standard; ``show`` one standard's columns
with their types and rules; ``template`` writes the spreadsheet template (``xlsx``), a CSV with
the headers and an example row (``csv``) or the published Table Schema (``json``), by default to
``<slug>-<version>-template.xlsx``, ``<slug>-<version>-template.csv`` or
``<slug>-<version>.schema.json`` in the current folder. An existing file is never replaced
unless ``--force`` is given. ``publish`` publishes a new standard, or a new version of one,
from its JSON schema, as platform staff do on the web page (audited; a published version never
changes, and a new one must be numbered higher); every problem in the schema is named.

Standards are the bundled ones plus any platform staff published; if the database cannot be
read (not set up yet), the bundled ones are shown, with a warning. Exit status: 0 done, 2 the
standard or version does not exist, or the file could not be written (nothing was written).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from pathlib import Path

from accord.cli.common import EXIT_OK, EXIT_UNUSABLE, command_group

from .schema import Standard

FORMAT_NAMES = {
    "xlsx": "spreadsheet template",
    "csv": "CSV template",
    "json": "Table Schema (JSON)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(
        subparsers,
        "standards",
        "list the data standards, show their columns and write their templates",
    )

    listing = commands.add_parser(
        "list",
        help="list the published data standards (newest version of each)",
        description=(
            "List each published data standard: its name (slug), newest version, title, "
            "whether it holds personal data, and its number of columns."
        ),
    )
    listing.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default) or json for programs",
    )
    listing.set_defaults(handler=handle_list)

    show = commands.add_parser(
        "show",
        help="show a standard's columns, with their types, whether required, and rules",
        description=(
            "Show what a data standard is for and each of its columns: type, whether it is "
            "required, and the rules Accord checks."
        ),
    )
    show.add_argument(
        "standard",
        metavar="SLUG[@VERSION]",
        help="the standard, e.g. care-home-daily-status or care-home-daily-status@1.0 "
        "(newest version by default)",
    )
    show.set_defaults(handler=handle_show)

    template = commands.add_parser(
        "template",
        help="write a standard's spreadsheet template, CSV template or Table Schema",
        description=(
            "Write the template for a data standard: an Excel workbook with dropdowns, "
            "checks and instructions (xlsx, the default), a CSV with the headers and an example "
            "row (csv), or the published Table Schema (json). An existing file is never "
            "replaced unless --force is given. Exit status 0: written; 2: unknown standard or "
            "version, or the file could not be written."
        ),
    )
    template.add_argument(
        "standard",
        metavar="SLUG[@VERSION]",
        help="the standard, e.g. care-home-daily-status or care-home-daily-status@1.0 "
        "(newest version by default)",
    )
    template.add_argument(
        "--format",
        choices=tuple(FORMAT_NAMES),
        default="xlsx",
        help="xlsx (default), csv or json",
    )
    template.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="the file to write, or a folder to write it in (default: the current folder, "
        "as <slug>-<version>-template.xlsx, -template.csv or .schema.json)",
    )
    template.add_argument(
        "--force", action="store_true", help="replace the file if it already exists"
    )
    template.set_defaults(handler=handle_template)

    publish = commands.add_parser(
        "publish",
        help="publish a new standard, or a new version of one, from its JSON schema",
        description=(
            "Publish a Table Schema with Accord's extras (as `template --format json` writes "
            "it). A published version never changes: give a correction a higher version. "
            "Exit status 0 published, 2 not published (every reason named)."
        ),
    )
    publish.add_argument("schema", metavar="SCHEMA", help="the JSON schema file to publish")
    publish.set_defaults(handler=handle_publish)


# --- finding standards --------------------------------------------------------------------------


def _published() -> tuple[Standard, ...]:
    """Every published version; the bundled ones alone if the database cannot be read."""
    from django.db import DatabaseError

    from . import queries

    try:
        return queries.published_standards()
    except DatabaseError as exc:
        print(
            "accord standards: warning: could not read the standards published in the "
            f"database ({exc}); showing the bundled standards only. Run `accord manage migrate` "
            "to set the database up.",
            file=sys.stderr,
        )
        return queries.bundled_standards()


def _newest(standards: tuple[Standard, ...]) -> dict[str, Standard]:
    newest: dict[str, Standard] = {}
    for standard in standards:  # sorted by slug, then version
        newest[standard.slug] = standard
    return newest


def find(text: str) -> Standard:
    """The standard ``SLUG`` (newest version) or ``SLUG@VERSION``; StandardNotFound if none."""
    from .exceptions import StandardNotFound

    slug, at, version = text.strip().partition("@")
    if at and not version:
        raise StandardNotFound(
            f"Give a version after the @, like {slug}@1.0, or leave out the @ for the newest."
        )
    versions = [s for s in _published() if s.slug == slug]
    if not versions:
        raise StandardNotFound(
            f"There is no standard called '{slug}'. Run `accord standards list` to see them."
        )
    if not at:
        return versions[-1]
    for standard in versions:
        if standard.version == version:
            return standard
    raise StandardNotFound(
        f"Standard '{slug}' has no version {version}; published versions are "
        f"{', '.join(s.version for s in versions)}."
    )


def _fail(command: str, message: str) -> int:
    print(f"accord standards {command}: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


# --- list -------------------------------------------------------------------------------------


def handle_list(args: argparse.Namespace) -> int:
    everything = _published()
    newest = _newest(everything)
    if args.format == "json":
        listing = [
            {
                "slug": standard.slug,
                "version": standard.version,
                "title": standard.title,
                "personalData": standard.personal_data,
                "columns": len(standard.fields),
                "versions": [s.version for s in everything if s.slug == standard.slug],
            }
            for standard in newest.values()
        ]
        print(json.dumps(listing, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not newest:
        print("No data standards are published.")
        return EXIT_OK
    rows: list[tuple[str, ...]] = [("Standard", "Version", "Title", "Personal data", "Columns")]
    rows += [
        (
            standard.slug,
            standard.version,
            standard.title,
            "yes" if standard.personal_data else "no",
            str(len(standard.fields)),
        )
        for standard in newest.values()
    ]
    print(_table(rows, right=(4,)))
    print()
    print(
        f"{len(newest)} standard(s). See one's columns with `accord standards show SLUG`; "
        "write its template with `accord standards template SLUG`."
    )
    return EXIT_OK


def _table(rows: list[tuple[str, ...]], *, right: tuple[int, ...] = ()) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


# --- show -------------------------------------------------------------------------------------


def handle_show(args: argparse.Namespace) -> int:
    from .exceptions import StandardNotFound

    try:
        standard = find(args.standard)
    except StandardNotFound as exc:
        return _fail("show", str(exc))
    print(render_standard(standard, width=_width()))
    return EXIT_OK


def _width() -> int:
    return max(60, min(shutil.get_terminal_size(fallback=(100, 24)).columns, 120))


def render_standard(standard: Standard, *, width: int = 100) -> str:
    """A standard in plain text: what it is for, then each column's type, need and rules."""
    from .templates import format_text, rules_text, type_text

    out = [f"{standard.title} ({standard.label})", ""]
    if standard.description:
        out += [textwrap.fill(standard.description, width=width), ""]
    facts = []
    if standard.row_description:
        facts.append(f"{standard.row_description}.")
    facts.append("Holds personal data." if standard.personal_data else "No personal data.")
    if standard.primary_key:
        facts.append(f"Each row is identified by {_and(standard.primary_key)}.")
    out += [textwrap.fill(" ".join(facts), width=width), ""]
    out.append(f"Columns ({len(standard.fields)}):")
    name_width = max(len(f.name) for f in standard.fields)
    type_width = max(len(type_text(f)) for f in standard.fields)
    need_width = len("required")
    indent = " " * (2 + name_width + 2 + type_width + 2 + need_width + 2)
    for field in standard.fields:
        details = f"{field.title}."
        rules = rules_text(field)
        if rules:
            details += " " + rules
        if field.type in ("date", "datetime"):
            details += f" Written {format_text(field)}."
        lead = (
            f"  {field.name.ljust(name_width)}  {type_text(field).ljust(type_width)}  "
            f"{('required' if field.required else 'optional').ljust(need_width)}  "
        )
        out.append(
            textwrap.fill(
                details,
                width=max(width, len(indent) + 30),
                initial_indent=lead,
                subsequent_indent=indent,
            )
        )
    out += ["", f"Template: accord standards template {standard.label}"]
    return "\n".join(out)


def _and(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- template ---------------------------------------------------------------------------------


def handle_template(args: argparse.Namespace) -> int:
    from . import templates
    from .exceptions import StandardNotFound

    try:
        standard = find(args.standard)
    except StandardNotFound as exc:
        return _fail("template", str(exc))
    name = templates.default_filename(standard, args.format)
    path = Path(args.output) if args.output else Path.cwd() / name
    if path.is_dir():
        path = path / name
    if path.exists() and not args.force:
        return _fail(
            "template",
            f"{path} already exists and was left as it was. Give --force to replace it, or "
            "--output to write somewhere else.",
        )
    if not path.parent.is_dir():
        return _fail("template", f"there is no folder {path.parent} to write {path.name} in.")
    try:
        templates.WRITERS[args.format](standard, path)
    except OSError as exc:
        return _fail("template", f"could not write {path} ({exc.strerror or exc}).")
    print(
        f"Wrote the {FORMAT_NAMES[args.format]} for {standard.title} ({standard.label}) to {path}."
    )
    return EXIT_OK


PUBLISH_ACTOR = "accord standards publish"
MAX_SCHEMA_BYTES = 2 * 1024 * 1024


def handle_publish(args: argparse.Namespace) -> int:
    from accord.audit.actor import Actor

    from . import actions
    from .exceptions import StandardError

    path = Path(args.schema)
    try:
        raw = path.read_bytes()[: MAX_SCHEMA_BYTES + 1]
    except OSError as exc:
        print(f"accord standards publish: cannot read {path}: {exc.strerror}.", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        if len(raw) > MAX_SCHEMA_BYTES:
            raise ValueError("it is over 2 MB; a standard's schema is far smaller")
        descriptor = json.loads(raw.decode("utf-8-sig"))
        if not isinstance(descriptor, dict):
            raise ValueError("it must be a JSON object with 'name', 'version' and 'fields'")
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"accord standards publish: {path} is not a usable schema: {exc}.", file=sys.stderr)
        return EXIT_UNUSABLE
    try:
        standard = actions.publish(by=Actor.system(PUBLISH_ACTOR), descriptor=descriptor)
    except StandardError as exc:
        print(f"accord standards publish: {path} was not published:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(f"Published {standard.title} ({standard.label}), {len(standard.fields)} columns.")
    return EXIT_OK
