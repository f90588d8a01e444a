"""Each standard's fields in the engine's terms."""

from __future__ import annotations

import datetime as dt

import polars as pl

from accord.linkage import columns


def test_shielded_list_address_lines_become_one_address() -> None:
    frame = pl.DataFrame(
        {
            "submission": ["s1", "s1"],
            "source_row": [2, 3],
            "nhs_number": ["9990000018", None],
            "given_name": ["Ann", ""],
            "family_name": ["Archer", "Baker"],
            "date_of_birth": [dt.date(1941, 2, 3), dt.date(1938, 7, 19)],
            "address_line_1": ["1 Acacia Avenue", "2 Beech Road"],
            "address_line_2": [None, "Bearsted"],
            "postcode": ["ME14 1AA", "ME14 2BB"],
            "spl_status": ["active", "active"],
        }
    )
    out = columns.standardise(frame, "shielded-patient-list")
    assert out.columns == [
        "record_id",
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "address",
        "postcode",
    ]
    assert out["record_id"].to_list() == ["s1:2", "s1:3"]
    assert out["address"].to_list() == ["1 Acacia Avenue", "2 Beech Road, Bearsted"]
    assert out["given_name"].to_list() == ["Ann", None]  # blank is missing, not a name


def test_free_school_meals_parent_plays_the_person() -> None:
    frame = pl.DataFrame(
        {
            "parent_family_name": ["Cole"],
            "parent_dob": [dt.date(1985, 1, 2)],
            "home_postcode": ["ME15 3DF"],
            "uprn": ["990000000003"],
            "child_given_name": ["Zoe"],
        }
    )
    out = columns.standardise(frame, "fsm-eligibility")
    assert out.row(0, named=True) == {
        "record_id": "1",
        "uprn": "990000000003",
        "family_name": "Cole",
        "date_of_birth": dt.date(1985, 1, 2),
        "postcode": "ME15 3DF",
    }


def test_a_field_not_granted_is_not_compared() -> None:
    assert columns.parts_of("shielded-patient-list", ["nhs_number", "postcode"]) == [
        "nhs_number",
        "postcode",
    ]
    assert "address" in columns.parts_of("shielded-patient-list", ["address_line_2"])
