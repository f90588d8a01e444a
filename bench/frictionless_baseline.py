"""Baseline for the validation benchmark: the same file checked by ``frictionless``.

    .venv/bin/python bench/frictionless_baseline.py [--rows 100000] [--seed 7]
    .venv/bin/python bench/frictionless_baseline.py --file data.csv [--truth truth.csv]

The Accord standard (bench/standards/reference-12.json) is translated into an equivalent plain
Table Schema: Accord's identifier types become patterns (NHS number ten digits, the strict
BS 7666 postcode, UPRN 1..999,999,999,999) and "required" also means not blank after trimming,
as it does in Accord (a pattern needing one non-space character). Table Schema cannot express
modulus 11, so a custom Python ``Check`` adds it. Pitfalls from the reference (Part A.5):
frictionless refuses absolute paths, so the schema is passed as a dict and the file by name
with a ``basepath``; ``limit_errors`` defaults to 1000, so it is raised past the row count; a
duplicate key is reported once, on the second row.

What frictionless cannot do that Accord does: normalise values before checking (spaces in NHS
numbers, lower-case or unspaced postcodes). The benchmark data holds none of those.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validation_data  # the bench folder is not a package

NHS_PATTERN = r"[0-9]{10}"
UPRN_PATTERN = r"[1-9][0-9]{0,11}"  # 1 .. 999,999,999,999, no leading zeros
# The strict BS 7666 pattern (identifiers-and-codes.md §2.4), with the optional single space
# before the inward code that the canonical form has. Frictionless anchors patterns itself.
POSTCODE_PATTERN = (
    r"GIR ?0AA|(?:[A-PR-UWYZ][0-9][0-9]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9]?"
    r"|[A-PR-UWYZ][0-9][A-HJKPSTUW]|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY])"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2}"
)
NOT_BLANK_PATTERN = r"[\s\S]*\S[\s\S]*"
IDENTIFIER_PATTERNS = {
    "nhs_number": NHS_PATTERN,
    "postcode": POSTCODE_PATTERN,
    "uprn": UPRN_PATTERN,
}
TEN_DIGITS = re.compile(NHS_PATTERN)
ERROR_SCHEMA = {"row": pl.Int64, "field": pl.String, "type": pl.String, "note": pl.String}


def table_schema(descriptor: Mapping[str, Any]) -> dict[str, Any]:
    """A plain Table Schema equivalent to the Accord standard (``accord`` keys dropped)."""
    fields = []
    for raw in descriptor["fields"]:
        spec = {k: v for k, v in raw.items() if k not in ("accord", "example")}
        constraints = dict(spec.get("constraints") or {})
        identifier = (raw.get("accord") or {}).get("identifier")
        if identifier is not None:
            if identifier not in IDENTIFIER_PATTERNS:
                raise ValueError(f"no Table Schema pattern for identifier {identifier!r}")
            constraints["pattern"] = IDENTIFIER_PATTERNS[identifier]
        if "pattern" in constraints:  # frictionless anchors the pattern; Accord's has ^ and $
            constraints["pattern"] = re.sub(r"^\^|\$$", "", constraints["pattern"])
        if constraints.get("required") and spec.get("type", "string") == "string":
            constraints.setdefault("pattern", NOT_BLANK_PATTERN)
        if constraints:
            spec["constraints"] = constraints
        fields.append(spec)
    schema: dict[str, Any] = {"fields": fields}
    if descriptor.get("primaryKey"):
        schema["primaryKey"] = descriptor["primaryKey"]
    return schema


def nhs_fields(descriptor: Mapping[str, Any]) -> list[str]:
    return [
        f["name"]
        for f in descriptor["fields"]
        if (f.get("accord") or {}).get("identifier") == "nhs_number"
    ]


def _nhs_check_class() -> type:
    import attrs
    from frictionless import Check, errors

    @attrs.define(kw_only=True, repr=False)
    class NhsModulus11(Check):
        """NHS number check digit (modulus 11) on values that are ten digits; other values
        already fail the pattern, so they are not reported twice."""

        type = "nhs-modulus-11"
        Errors = [errors.CellError]

        field_names: list[str]

        def validate_row(self, row: Any) -> Iterable[Any]:
            for name in self.field_names:
                value = row[name]
                if (
                    isinstance(value, str)
                    and TEN_DIGITS.fullmatch(value)
                    and not validation_data.nhs_valid(value)
                ):
                    yield errors.CellError.from_row(
                        row, note="NHS number check digit is wrong", field_name=name
                    )

    return NhsModulus11


def validate(path: Path, descriptor: Mapping[str, Any], *, nhs_check: bool = True) -> pl.DataFrame:
    """Validate the CSV at ``path``; return every error cell (row = spreadsheet row, header
    row 1; field; frictionless error type; note). Errors not on a cell have a null field."""
    from frictionless import Checklist, Dialect, Resource, Schema, formats

    path = Path(path).resolve()
    resource = Resource(
        path=path.name,
        basepath=str(path.parent),
        schema=Schema.from_descriptor(table_schema(descriptor)),
        dialect=Dialect(controls=[formats.CsvControl(delimiter=",")]),
        encoding="utf-8",
    )
    checks = [_nhs_check_class()(field_names=nhs_fields(descriptor))] if nhs_check else []
    limit = max(10_000_000, path.stat().st_size)  # never truncated: more than the rows
    report = resource.validate(Checklist(checks=checks), limit_errors=limit)
    task = report.tasks[0]
    if task.warnings:  # e.g. "reached error limit": the report would be partial
        raise RuntimeError(f"frictionless stopped early: {task.warnings}")
    rows = [
        (
            getattr(error, "row_number", None),
            getattr(error, "field_name", None),
            error.type,
            error.note,
        )
        for error in task.errors
    ]
    return pl.DataFrame(rows, schema=ERROR_SCHEMA, orient="row")


def explain(comparison: validation_data.Comparison) -> None:
    """frictionless reports a duplicate once, on its second row (reference A.5)."""
    kinds = comparison.per_kind.filter(pl.col("missed") > 0)
    only_dups = kinds["kind"].to_list() == ["duplicate_person_id"]
    dups = comparison.per_kind.filter(pl.col("kind") == "duplicate_person_id")
    if only_dups and dups["found"].item() * 2 == dups["injected"].item():
        print(
            "  (as the reference says: frictionless reports each duplicate person_id once, on "
            "the second row; the misses are the first rows of the pairs)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="generated file to check")
    parser.add_argument("--seed", type=int, default=validation_data.DEFAULT_SEED)
    parser.add_argument("--file", type=Path, help="check this CSV instead of a generated one")
    parser.add_argument("--truth", type=Path, help="truth file for --file")
    parser.add_argument("--standard", type=Path, default=validation_data.STANDARD_PATH)
    parser.add_argument("--no-nhs-check", action="store_true", help="schema only")
    args = parser.parse_args()

    if args.file:
        path, truth_path = args.file, args.truth
    else:
        data = validation_data.ensure_csv(args.rows, args.seed)
        path, truth_path = data.path, data.truth
    descriptor = json.loads(args.standard.read_text(encoding="utf-8"))
    import frictionless

    started = time.perf_counter()
    found = validate(path, descriptor, nhs_check=not args.no_nhs_check)
    seconds = time.perf_counter() - started
    rows = sum(1 for _ in path.open("rb")) - 1  # no embedded newlines in the benchmark data
    print(
        f"frictionless {frictionless.__version__}: {path.name}, {rows:,} rows in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s); {found.height:,} errors"
    )
    print(found.group_by("field", "type").len().sort("field", "type"))
    if truth_path:
        truth = validation_data.read_truth(truth_path)
        comparison = validation_data.compare(found, truth)
        comparison.show("frictionless")
        explain(comparison)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
