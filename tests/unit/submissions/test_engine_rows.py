"""The engine's clean rows (``keep_rows=True``): every row of the file, typed, as Collections
will store it — the values the engine cleaned, never cleaned again by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.standards import checks, codelists
from accord.standards.queries import get_standard
from accord.standards.schema import Field, Standard
from accord.submissions import engine
from accord.submissions.engine import rows_schema, validate_file
from tests import files

UTC = dt.UTC


def standard(slug: str) -> Standard:
    return get_standard(slug, database=False)


def example_rows(std: Standard, *changes: Mapping[str, str | None]) -> list[dict[str, str | None]]:
    """One row per change: the standard's own examples, with a date of its own in the primary
    key (so rows are not repeats), then the change (None: an empty cell; a key not in the
    standard: an extra column)."""
    examples = {f.name: f.example for f in std.fields}
    dated = next(f.name for f in std.fields if f.name in std.primary_key and f.type == "date")
    return [
        {**examples, dated: f"2026-01-{n:02d}", **change}
        for n, change in enumerate(changes, start=1)
    ]


def write_csv(
    folder: Path, rows: list[dict[str, str | None]], *, drop: tuple[str, ...] = ()
) -> Path:
    header = [name for name in rows[0] if name not in drop]
    lines = [header, *([row[name] or "" for name in header] for row in rows)]
    return files.csv_file(folder, files.csv_text(lines), name="return.csv")


def errors_by_row(report: engine.ValidationReport) -> set[int]:
    return set(report.errors["row"].to_list())


# --- types ---------------------------------------------------------------------------------


def test_off_by_default(tmp_path):
    std = standard("care-home-daily-status")
    report = validate_file(write_csv(tmp_path, example_rows(std, {})), std)
    assert report.rows_frame is None


def test_each_field_type_has_its_polars_type(tmp_path):
    std = standard("covid-tests-lsoa-weekly")
    path = write_csv(
        tmp_path,
        example_rows(std, {"week_ending": "2026-03-01"}, {"data_as_of": "01/07/2026 10:30"}),
    )
    frame = validate_file(path, std, keep_rows=True).rows_frame
    assert frame is not None
    assert frame.schema == pl.Schema(
        {
            "__row__": pl.Int64,
            "week_ending": pl.Date,
            "lsoa21cd": pl.String,
            "lsoa21nm": pl.String,
            "msoa21cd": pl.String,
            "ltla_cd": pl.String,
            "utla_cd": pl.String,
            "region_cd": pl.String,
            "age_band": pl.String,
            "pcr_tests": pl.Int64,
            "lfd_tests": pl.Int64,
            "positive_cases": pl.Int64,
            "positivity_pct": pl.Float64,
            "case_rate_per_100k": pl.Float64,
            "population_denominator": pl.Int64,
            "suppressed": pl.Boolean,
            "data_as_of": pl.Datetime("us", "UTC"),
            "source": pl.String,
            "__valid__": pl.Boolean,
        }
    )
    assert frame.schema == pl.Schema(rows_schema(std))
    first = frame.row(0, named=True)
    assert first["week_ending"] == dt.date(2026, 3, 1)
    assert first["pcr_tests"] == 312
    assert first["positivity_pct"] == 8.7
    assert first["suppressed"] is False
    assert first["data_as_of"] == dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # "...Z"
    assert first["__valid__"] is True
    # Without an offset, a time is UK civil time: 10:30 in July is 09:30 UTC (BST).
    assert frame["data_as_of"][1] == dt.datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
    assert frame["__valid__"].to_list() == [True, True]


def test_integers_numbers_and_booleans_as_written_in_their_accepted_forms(tmp_path):
    std = standard("care-home-daily-status")
    path = write_csv(
        tmp_path,
        example_rows(
            std,
            {
                "registered_beds": "+48",
                "residents_booster_pct": "1e1",
                "ipc_training_completed": "Y",
            },
            {
                "registered_beds": "007",
                "residents_booster_pct": ".5",
                "ipc_training_completed": "no",
            },
            {
                "registered_beds": " 12 ",
                "residents_booster_pct": "41",
                "ipc_training_completed": "0",
            },
        ),
    )
    frame = validate_file(path, std, keep_rows=True).rows_frame
    assert frame is not None
    assert frame["registered_beds"].to_list() == [48, 7, 12]
    assert frame["residents_booster_pct"].to_list() == [10.0, 0.5, 41.0]
    assert frame["ipc_training_completed"].to_list() == [True, False, False]
    assert frame["__valid__"].all()


# --- canonical values ----------------------------------------------------------------------


def test_identifiers_are_kept_in_their_canonical_form(tmp_path):
    std = standard("shielded-patient-list")
    path = write_csv(
        tmp_path,
        example_rows(
            std,
            {"nhs_number": "943 476 5919", "postcode": "me16 8ab"},
            {"nhs_number": "943-476-5919", "postcode": "ME168AB"},
            {"nhs_number": "9434765919", "postcode": " me16  8ab "},
        ),
    )
    report = validate_file(path, std, keep_rows=True)
    assert report.is_valid, report.problems
    frame = report.rows_frame
    assert frame is not None
    assert frame["nhs_number"].to_list() == ["9434765919"] * 3
    assert frame["postcode"].to_list() == ["ME16 8AB"] * 3


def test_allowed_values_take_the_standards_spelling(tmp_path):
    std = standard("care-home-daily-status")
    path = write_csv(tmp_path, example_rows(std, {"admissions_status": "OPEN", "ppe_rag": "Amber"}))
    frame = validate_file(path, std, keep_rows=True).rows_frame
    assert frame is not None
    assert frame.select("admissions_status", "ppe_rag").row(0) == ("open", "amber")


def test_uk_dates_in_csv_become_dates(tmp_path):
    std = standard("care-home-daily-status")
    path = write_csv(
        tmp_path,
        example_rows(
            std,
            {"report_date": "01/03/2026", "outbreak_start_date": "2026-02-20"},
            {"report_date": "2/3/2026", "outbreak_start_date": "20.02.2026"},
            {"report_date": "46082", "outbreak_start_date": None},  # an Excel serial, as text
        ),
    )
    frame = validate_file(path, std, keep_rows=True).rows_frame
    assert frame is not None
    assert frame["report_date"].to_list() == [
        dt.date(2026, 3, 1),
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 1),
    ]
    assert frame["outbreak_start_date"].to_list() == [dt.date(2026, 2, 20)] * 2 + [None]


def test_xlsx_date_cells_serial_numbers_and_uk_text_become_dates(tmp_path):
    std = standard("care-home-daily-status")
    examples = {f.name: f.example for f in std.fields}
    names = list(examples)
    cells = [examples[name] for name in names]
    at = names.index("report_date")

    def row(report_date: object, location: str) -> list[object]:
        values: list[object] = list(cells)
        values[at] = report_date
        values[names.index("cqc_location_id")] = location
        values[names.index("registered_beds")] = 48  # a number cell
        return values

    path = files.xlsx_file(
        tmp_path,
        {
            "Return": [
                ["Care home daily status"],
                [],
                names,
                row(dt.date(2026, 3, 1), "1-101"),
                row(46083, "1-102"),  # a number where a date belongs: Excel's day 46083
                row("03/03/2026", "1-103"),
            ]
        },
    )
    report = validate_file(path, std, keep_rows=True)
    assert report.is_valid, report.problems
    frame = report.rows_frame
    assert frame is not None
    assert frame["__row__"].to_list() == [4, 5, 6]
    assert frame["report_date"].to_list() == [dt.date(2026, 3, d) for d in (1, 2, 3)]
    assert frame["registered_beds"].to_list() == [48, 48, 48]


# --- validity ------------------------------------------------------------------------------


def test_valid_is_false_exactly_on_rows_with_errors_and_their_bad_cells_are_null(tmp_path):
    std = standard("care-home-daily-status")
    path = write_csv(
        tmp_path,
        example_rows(
            std,
            {"report_date": "2026-03-01"},
            {"report_date": "2026-03-02", "registered_beds": "12.5"},
            {"report_date": "2026-03-03", "postcode": "not a postcode", "ppe_rag": "purple"},
            {"report_date": "2026-02-30"},
            {"report_date": "2026-03-05", "staff_headcount": None},
            {"report_date": "2026-03-05"},  # the primary key again: both rows in error
            {"report_date": "2026-03-07"},
        ),
    )
    report = validate_file(path, std, keep_rows=True)
    frame = report.rows_frame
    assert frame is not None
    assert errors_by_row(report) == {3, 4, 5, 6, 7}
    invalid = set(frame.filter(~pl.col("__valid__"))["__row__"].to_list())
    assert invalid == errors_by_row(report)
    assert frame["__valid__"].sum() == report.valid_rows == 2
    by_row = {r["__row__"]: r for r in frame.to_dicts()}
    assert by_row[3]["registered_beds"] is None
    assert (by_row[4]["postcode"], by_row[4]["ppe_rag"]) == (None, None)
    assert by_row[4]["care_home_name"] == "Oakleigh House Care Home (synthetic)"  # untouched
    assert by_row[5]["report_date"] is None
    assert by_row[6]["staff_headcount"] is None
    # A repeated key is the row's fault, not the values': they are kept.
    assert by_row[7]["report_date"] == dt.date(2026, 3, 5)


def test_warnings_leave_the_row_valid(tmp_path):
    std = standard("care-home-daily-status")
    rows = example_rows(std, {"report_date": "2026-03-01", "shoe_size": "9"})
    report = validate_file(write_csv(tmp_path, rows), std, keep_rows=True)
    assert [(p["rule"], p["severity"]) for p in report.problems.to_dicts()] == [
        ("unknown_column", "warning")
    ]
    frame = report.rows_frame
    assert frame is not None
    assert "shoe_size" not in frame.columns  # not part of the standard: dropped
    assert frame["__valid__"].to_list() == [True]


def test_a_cell_breaking_only_a_warning_rule_keeps_its_value(tmp_path, monkeypatch):
    # None of the bundled rules is a warning yet; make the range rules warnings to see that a
    # cell whose first failing rule is a warning keeps its value and leaves its row valid.
    ranges = engine._range_steps

    def as_warnings(spec: Field, typed: pl.Expr) -> Iterator[engine.Step]:
        for step in ranges(spec, typed):
            yield dataclasses.replace(step, severity="warning")

    monkeypatch.setattr(engine, "_range_steps", as_warnings)
    std = standard("care-home-daily-status")
    path = write_csv(
        tmp_path,
        example_rows(
            std,
            {"report_date": "2026-03-01", "registered_beds": "5000"},
            {"report_date": "2026-03-02", "outbreak_start_date": "2019-05-01"},
            {"report_date": "2026-03-03", "registered_beds": "x"},
        ),
    )
    report = validate_file(path, std, keep_rows=True)
    assert {(p["row"], p["rule"], p["severity"]) for p in report.problems.to_dicts()} == {
        (2, "maximum", "warning"),
        (3, "minimum", "warning"),
        (4, "integer", "error"),
    }
    frame = report.rows_frame
    assert frame is not None
    assert frame["__valid__"].to_list() == [True, True, False]
    assert frame["registered_beds"].to_list() == [5000, 48, None]
    assert frame["outbreak_start_date"][1] == dt.date(2019, 5, 1)


def test_a_missing_required_column_makes_every_row_invalid(tmp_path):
    std = standard("care-home-daily-status")
    rows = example_rows(std, {"report_date": "2026-03-01"}, {"report_date": "2026-03-02"})
    report = validate_file(
        write_csv(tmp_path, rows, drop=("staff_headcount",)), std, keep_rows=True
    )
    frame = report.rows_frame
    assert frame is not None
    assert report.valid_rows == 0
    assert frame["__valid__"].to_list() == [False, False]
    assert frame["staff_headcount"].dtype == pl.Int64
    assert frame["staff_headcount"].null_count() == 2


# --- shape ---------------------------------------------------------------------------------


def test_missing_optional_columns_are_typed_nulls(tmp_path):
    std = standard("care-home-daily-status")
    dropped = ("outbreak_start_date", "residents_booster_pct", "ipc_training_completed", "uprn")
    path = write_csv(tmp_path, example_rows(std, {}, {"report_date": "2026-03-03"}), drop=dropped)
    report = validate_file(path, std, keep_rows=True)
    assert report.is_valid, report.problems
    frame = report.rows_frame
    assert frame is not None
    assert frame.columns == ["__row__", *(f.name for f in std.fields), "__valid__"]
    assert frame.schema["outbreak_start_date"] == pl.Date
    assert frame.schema["residents_booster_pct"] == pl.Float64
    assert frame.schema["ipc_training_completed"] == pl.Boolean
    assert frame.schema["uprn"] == pl.String
    for name in dropped:
        assert frame[name].null_count() == 2
    assert frame["__valid__"].to_list() == [True, True]


def test_row_numbers_are_the_sheets_and_match_the_problems(tmp_path):
    std = standard("care-home-daily-status")
    rows = example_rows(
        std,
        *({"report_date": f"2026-01-{n:02d}"} for n in range(1, 29)),
    )
    rows[4]["registered_beds"] = "lots"
    rows[20]["postcode"] = "me16 8ab"  # needs cleaning: checked on the engine's full path
    rows[21]["postcode"] = "nowhere"
    header = list(rows[0])
    text = files.csv_text(
        [["Daily returns, January"], [], header]
        + [[row[name] or "" for name in header] for row in rows[:10]]
        + [[]]  # a blank line: later rows keep their sheet numbers
        + [[row[name] or "" for name in header] for row in rows[10:]]
    )
    path = files.csv_file(tmp_path, text, name="january.csv")
    whole = validate_file(path, std, keep_rows=True)
    frame = whole.rows_frame
    assert frame is not None
    expected = [*range(4, 14), *range(15, 33)]
    assert frame["__row__"].to_list() == expected
    assert frame["report_date"].to_list() == [dt.date(2026, 1, n) for n in range(1, 29)]
    assert errors_by_row(whole) == {8, 26}
    assert set(frame.filter(~pl.col("__valid__"))["__row__"].to_list()) == {8, 26}
    assert frame.filter(pl.col("__row__") == 25)["postcode"].item() == "ME16 8AB"
    # In small batches, with the fast and full paths mixed in each: the same frame.
    batched = validate_file(path, std, keep_rows=True, batch_rows=7).rows_frame
    assert batched is not None
    assert batched.equals(frame)


def test_a_file_with_no_rows_gives_an_empty_typed_frame(tmp_path):
    std = standard("care-home-daily-status")
    header = [f.name for f in std.fields]
    path = files.csv_file(tmp_path, files.csv_text([header]), name="empty.csv")
    frame = validate_file(path, std, keep_rows=True).rows_frame
    assert frame is not None
    assert frame.height == 0
    assert frame.schema == pl.Schema(rows_schema(std))


# --- round trip ----------------------------------------------------------------------------

CARE_HOMES = standard("care-home-daily-status")
POSTCODES = ["ME16 8AB", "SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EC1A 1BB"]
TRUE_WORDS = ["true", "yes", "Y", "1", "Yes", "TRUE"]
FALSE_WORDS = ["false", "no", "N", "0", "No", "FALSE"]


def _codes(name: str, entity: str) -> list[str]:
    prefixes = checks.GSS_ENTITY_PREFIXES[entity]
    return sorted(c for c in codelists.load(name).codes if c.startswith(prefixes))


def _dates(low: dt.date) -> st.SearchStrategy[tuple[str, object]]:
    return st.tuples(
        st.dates(min_value=low, max_value=dt.date(2030, 12, 31)),
        st.sampled_from(["%Y-%m-%d", "%d/%m/%Y"]),
    ).map(lambda pair: (pair[0].strftime(pair[1]), pair[0]))


def _same(value: str) -> tuple[str, object]:
    return value, value


def cell(spec: Field) -> st.SearchStrategy[tuple[str, object]]:
    """(text written in the cell, the clean value expected back) for a valid value."""
    if spec.type == "date":
        return _dates(dt.date.fromisoformat(str(spec.minimum)))
    if spec.type == "integer":
        numbers = st.integers(int(spec.minimum or 0), int(spec.maximum or 10**6))
        return numbers.map(lambda n: (str(n), n))
    if spec.type == "number":
        low, high = float(spec.minimum or 0), float(spec.maximum or 10**6)
        floats = st.floats(low, high, allow_nan=False, allow_infinity=False)
        return floats.map(lambda x: (repr(x), x))
    if spec.type == "boolean":
        return st.one_of(
            st.sampled_from(TRUE_WORDS).map(lambda w: (w, True)),
            st.sampled_from(FALSE_WORDS).map(lambda w: (w, False)),
        )
    if spec.enum is not None:
        return st.sampled_from(spec.enum).map(_same)
    if spec.name == "cqc_location_id":
        return st.integers(1, 10**10).map(lambda n: _same(f"1-{n}"))
    if spec.name == "cqc_provider_id":
        return st.integers(10**5, 10**11 - 1).map(lambda n: _same(f"1-{n}"))
    if spec.identifier == "postcode":
        return st.sampled_from(POSTCODES).map(_same)
    if spec.identifier == "uprn":
        return st.integers(1, 10**12 - 1).map(lambda n: _same(str(n)))
    if spec.name == "ltla_cd":
        return st.sampled_from(_codes("lad25", "local_authority")).map(_same)
    if spec.name == "icb_cd":
        return st.sampled_from(_codes("icb", "icb")).map(_same)
    if spec.identifier is not None:  # other identifiers: the standard's own example
        return st.just(_same(str(spec.example)))
    text = st.text(
        st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
        min_size=1,
        max_size=40,
    )
    return text.map(str.strip).filter(bool).map(_same)


def care_home_row() -> st.SearchStrategy[dict[str, tuple[str, object]]]:
    cells = {}
    for spec in CARE_HOMES.fields:
        strategy = cell(spec)
        cells[spec.name] = strategy if spec.required else st.one_of(st.just(("", None)), strategy)
    return st.fixed_dictionaries(cells)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        care_home_row(),
        min_size=1,
        max_size=8,
        unique_by=lambda row: (row["report_date"][1], row["cqc_location_id"][1]),
    )
)
def test_valid_care_home_rows_round_trip(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("round-trip")
    names = [spec.name for spec in CARE_HOMES.fields]
    lines = [names, *([row[name][0] for name in names] for row in rows)]
    path = files.csv_file(folder, files.csv_text(lines), name="return.csv")
    report = validate_file(path, CARE_HOMES, keep_rows=True)
    assert report.errors.is_empty(), report.errors["message"].to_list()
    frame = report.rows_frame
    assert frame is not None
    assert frame["__row__"].to_list() == list(range(2, len(rows) + 2))
    assert frame["__valid__"].all()
    assert frame.drop("__row__", "__valid__").to_dicts() == [
        {name: row[name][1] for name in names} for row in rows
    ]
