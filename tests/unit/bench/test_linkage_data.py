"""The synthetic people and households of the record-linkage benchmark (bench/linkage_data.py)."""

from __future__ import annotations

import polars as pl
import pytest

from bench.linkage_data import COLUMNS, DATA, SCHEMA, generate, nhs_valid

N = 5000
COMPARED = ("given_name", "family_name", "date_of_birth", "sex", "address", "postcode")


@pytest.fixture(scope="module")
def files() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    return generate(N, seed=11)


@pytest.fixture(scope="module")
def pairs(files) -> pl.DataFrame:
    """Each true pair with the left record's columns and the right's (suffixed _r)."""
    left, right, truth = files
    return truth.join(left, left_on="record_l", right_on="record_id").join(
        right, left_on="record_r", right_on="record_id", suffix="_r"
    )


def test_the_same_seed_gives_the_same_files_and_another_seed_others() -> None:
    first, again, other = generate(2000, seed=3), generate(2000, seed=3), generate(2000, seed=4)
    for a, b in zip(first, again, strict=True):
        assert a.equals(b)
    assert not first[0].equals(other[0])


def test_both_files_have_the_schema_and_about_n_unique_records(files) -> None:
    left, right, truth = files
    for frame, prefix in ((left, "L"), (right, "R")):
        assert frame.columns == list(COLUMNS)
        assert dict(frame.schema) == SCHEMA
        assert abs(frame.height - N) < 0.05 * N
        ids = frame["record_id"]
        assert ids.null_count() == 0
        assert ids.n_unique() == frame.height
        assert ids.str.starts_with(prefix).all()
        assert frame["sex"].drop_nulls().is_in(["M", "F"]).all()
        assert frame["uprn"].drop_nulls().str.contains(r"^\d{12}$").all()
        assert frame["postcode"].drop_nulls().str.contains(r"^[A-Z]{1,2}\d{1,2} ?\d[A-Z]{2}$").all()
    assert truth.columns == ["record_l", "record_r"]


def test_address_is_its_lines_and_town_on_one_line(files) -> None:
    left = files[0].drop_nulls("town")
    joined = left.select(
        pl.concat_str("address_line_1", "address_line_2", "town", separator=", ", ignore_nulls=True)
    ).to_series()
    assert (joined == left["address"]).all()
    assert left["address_line_2"].drop_nulls().str.starts_with("FLAT ").all()


def test_left_nhs_numbers_are_synthetic_with_valid_check_digits(files) -> None:
    left, right, _ = files
    numbers = left["nhs_number"].drop_nulls()
    assert numbers.str.contains(r"^999\d{7}$").all()
    assert nhs_valid(numbers).all()
    mistyped = (~nhs_valid(right["nhs_number"].drop_nulls())).mean()
    assert 0.002 < mistyped < 0.03  # a small share of the right file's numbers fail


def test_about_70_percent_of_each_files_records_have_a_true_match(files) -> None:
    left, right, truth = files
    assert left["record_id"].is_in(truth["record_l"].implode()).mean() == pytest.approx(
        0.70, abs=0.05
    )
    assert right["record_id"].is_in(truth["record_r"].implode()).mean() == pytest.approx(
        0.70, abs=0.05
    )


def test_about_a_quarter_of_records_lack_identifiers(files) -> None:
    for frame in files[:2]:
        lacking = frame["nhs_number"].is_null() & frame["uprn"].is_null()
        assert lacking.mean() == pytest.approx(0.25, abs=0.03)
        # identifiers go missing together
        assert (frame["nhs_number"].is_null() == frame["uprn"].is_null()).mean() > 0.99


def test_truth_pairs_name_existing_records_once_each(files) -> None:
    left, right, truth = files
    assert truth["record_l"].is_in(left["record_id"].implode()).all()
    assert truth["record_r"].is_in(right["record_id"].implode()).all()
    assert not truth.is_duplicated().any()
    # duplicates within a source: some records are in more than one true pair
    assert truth["record_l"].is_duplicated().any()
    assert truth["record_r"].is_duplicated().any()


def test_households_share_a_family_name_and_address(files) -> None:
    left = files[0].drop_nulls("uprn")
    households = left.group_by("uprn").agg(
        pl.len().alias("records"),
        pl.col("date_of_birth").n_unique().alias("dobs"),
        pl.col("given_name").n_unique().alias("given"),
        pl.col("family_name").n_unique().alias("family"),
        pl.col("postcode").n_unique().alias("postcodes"),
    )
    # several people (not one person recorded twice): different given names and dates of birth
    shared = households.filter(pl.col("given") > 1, pl.col("dobs") > 1)
    assert 0.02 < shared["records"].sum() / left.height < 0.12
    assert (shared["family"] == 1).mean() > 0.85
    assert (shared["postcodes"] == 1).mean() > 0.8  # (the odd postcode typo)


def test_corrupted_records_differ_from_their_true_partner(pairs) -> None:
    differs = pl.any_horizontal(pl.col(c).ne_missing(pl.col(f"{c}_r")) for c in COMPARED)
    share = pairs.select(differs.mean()).item()
    assert 0.8 < share < 0.97  # most right records are corrupted, a few are clean


def test_the_kinds_of_corruption_appear(pairs) -> None:
    nick = pl.read_csv(DATA / "nicknames.csv", comment_prefix="#")
    nicknamed = pairs.join(
        nick, left_on=["given_name", "given_name_r"], right_on=["name", "nickname"]
    )
    assert nicknamed.height > 0.005 * pairs.height
    swapped = (pl.col("given_name") == pl.col("family_name_r")) & (
        pl.col("family_name") == pl.col("given_name_r")
    )
    assert pairs.filter(swapped).height > 0.002 * pairs.height
    dob, dob_r = pl.col("date_of_birth"), pl.col("date_of_birth_r")
    transposed = (
        (dob.dt.day() == dob_r.dt.month())
        & (dob.dt.month() == dob_r.dt.day())
        & (dob.dt.year() == dob_r.dt.year())
        & (dob != dob_r)
    )
    assert pairs.filter(transposed).height > 0.005 * pairs.height
    abbreviated = pl.col("address_line_1_r").str.contains(r" (RD|ST|AVE|LN|CL|DR)$")
    assert pairs.filter(abbreviated).height > 0.005 * pairs.height
    no_space = pl.col("postcode_r").str.contains(r"^\S+$")
    assert pairs.filter(no_space).height > 0.005 * pairs.height
    moved = pl.col("uprn").ne(pl.col("uprn_r"))  # both present and different
    assert pairs.filter(moved).height / pairs.drop_nulls(["uprn", "uprn_r"]).height == (
        pytest.approx(0.06, abs=0.03)
    )
