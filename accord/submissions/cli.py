"""`accord validate`: check a file against a standard without uploading it.

    accord validate --standard care-home-daily-status FILE
    accord validate --standard care-home-daily-status@1.0 FILE --format json
    accord validate --standard SLUG FILE --report-csv problems.csv --annotated checked.xlsx

Nothing leaves the machine and nothing is stored. A progress bar shows on the terminal for
large files. Exit status: 0 the file meets the standard (warnings allowed), 1 it has errors
(each named by row and column), 2 the file or the standard could not be used at all (the
message says why and what to do).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE
from accord.standards.schema import Standard

PROGRESS_MIN_BYTES = 20 * 1024 * 1024
BAR_BATCH_ROWS = 100_000


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check a CSV, XLSX or ODS file against a data standard, without uploading it",
        description=(
            "Check a file against a published data standard and say exactly what to fix: "
            "each problem by row and column as your spreadsheet shows them. Nothing is "
            "uploaded or kept. Exit status 0: meets the standard; 1: has errors; 2: the file "
            "or standard could not be used."
        ),
    )
    parser.add_argument(
        "--standard",
        required=True,
        metavar="SLUG[@VERSION]",
        help="the standard to check against, e.g. care-home-daily-status or "
        "care-home-daily-status@1.0 (newest version by default)",
    )
    parser.add_argument("file", metavar="FILE", help="the CSV, XLSX or ODS file to check")
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default) or json for programs",
    )
    parser.add_argument(
        "--report-csv", metavar="PATH", help="also write every problem to this CSV file"
    )
    parser.add_argument(
        "--annotated",
        metavar="PATH",
        help="also write an XLSX copy of the file with problem cells highlighted and commented",
    )
    parser.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    parser.set_defaults(handler=handle_validate)


def handle_validate(args: argparse.Namespace) -> int:
    from accord.standards.exceptions import StandardNotFound

    from . import report as reports
    from .engine import DEFAULT_BATCH_ROWS, validate_file
    from .exceptions import UnusableFile

    try:
        standard = _find_standard(args.standard)
    except StandardNotFound as exc:
        print(f"{exc} Run `accord standards list` to see them.", file=sys.stderr)
        return EXIT_UNUSABLE
    path = Path(args.file)
    if not path.is_file():
        print(f"There is no file at {path}.", file=sys.stderr)
        return EXIT_UNUSABLE
    for option, value in (("--report-csv", args.report_csv), ("--annotated", args.annotated)):
        if value and Path(value).resolve() == path.resolve():
            print(f"{option} would overwrite the file being checked.", file=sys.stderr)
            return EXIT_UNUSABLE
    bar = _progress_bar(path, args)
    try:
        result = validate_file(
            path,
            standard,
            progress=bar.update if bar else None,
            display_name=path.name,
            # Smaller batches when a bar is shown, so it moves; memory only goes down.
            batch_rows=BAR_BATCH_ROWS if bar else DEFAULT_BATCH_ROWS,
        )
    except UnusableFile as exc:
        if bar:
            bar.close()
        if args.format == "json":
            print(json.dumps({"usable": False, "code": exc.code, "message": exc.message}))
        print(f"{path.name} could not be checked: {exc.message}", file=sys.stderr)
        return EXIT_UNUSABLE
    if bar:
        bar.close()
    if args.format == "json":
        print(json.dumps(reports.to_dict(result), ensure_ascii=False, indent=1))
    else:
        print(reports.to_text(result))
    if args.report_csv:
        reports.write_csv(result, args.report_csv)
        print(f"Wrote every problem to {args.report_csv}.", file=sys.stderr)
    if args.annotated:
        reports.write_annotated_xlsx(result, path, args.annotated)
        print(f"Wrote the highlighted copy to {args.annotated}.", file=sys.stderr)
    return EXIT_OK if result.is_valid else EXIT_PROBLEM


def _find_standard(name: str) -> Standard:
    """The standard, from the database when it is set up, else from the bundled ones: checking a
    file needs no database."""
    from django.db import DatabaseError

    from accord.standards.queries import get_standard

    try:
        return get_standard(name)
    except DatabaseError:
        return get_standard(name, database=False)


class _Bar:
    """tqdm over rows, fed the running total the engine reports after each batch."""

    def __init__(self, total: int | None):
        from tqdm import tqdm

        self._bar = tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr)
        self._bar.set_description("Checking")
        self._done = 0

    def update(self, rows: int, estimated: int | None) -> None:
        if estimated and (self._bar.total is None or estimated > self._bar.total):
            self._bar.total = max(estimated, rows)
        self._bar.update(rows - self._done)
        self._done = rows

    def close(self) -> None:
        self._bar.close()


def _progress_bar(path: Path, args: argparse.Namespace) -> _Bar | None:
    if args.no_progress or not sys.stderr.isatty():
        return None
    if path.stat().st_size < PROGRESS_MIN_BYTES:
        return None
    return _Bar(None)
