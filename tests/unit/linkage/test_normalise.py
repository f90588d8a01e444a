"""Normalisation of the identifiers and values linkage compares."""

from __future__ import annotations

import polars as pl
import pytest

from accord.linkage.engine import (
    normalise_address,
    normalise_nhs_number,
    normalise_postcode,
    normalise_uprn,
)


def _apply(fn, values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"v": values}, schema={"v": pl.String}).select(fn(pl.col("v")))["v"].to_list()
    )


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("9434765919", "9434765919"),
        ("943 476 5919", "9434765919"),
        ("943-476-5919", "9434765919"),
        ("9434765918", None),  # wrong check digit
        ("9434765929", None),  # one digit changed
        ("943476591", None),  # nine digits
        ("94347659190", None),
        ("abcdefghij", None),
        (None, None),
        ("4010232137", "4010232137"),
        ("1000000010", None),  # check digit would be 10: never valid
    ],
)
def test_nhs_number(raw, clean):
    assert _apply(normalise_nhs_number, [raw]) == [clean]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("100023336956", "100023336956"),
        ("000100023336956", "100023336956"),
        (" 12345 ", "12345"),
        ("12345.0", "12345"),
        ("1.00E+11", None),
        ("1.00023E+11", None),
        ("0", None),
        ("1000000000000", None),  # 13 digits: above the largest UPRN
        ("12a45", None),
        ("", None),
        (None, None),
    ],
)
def test_uprn(raw, clean):
    assert _apply(normalise_uprn, [raw]) == [clean]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SW1A  1AA", "SW1A 1AA"),
        ("me14 2ab", "ME14 2AB"),
        ("M1 1AE", "M1 1AE"),
        ("not a postcode", None),
        (None, None),
        # Other countries' postcodes are kept whole, as one token.
        ("2618", "2618"),
        ("1012 ab", "1012AB"),
        ("ABC", None),
        ("12", None),
    ],
)
def test_postcode(raw, clean):
    assert _apply(normalise_postcode, [raw]) == [clean]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Flat 2, 10 High St.", "FLAT 2 10 HIGH STREET"),
        ("12 St. John's Rd", "12 SAINT JOHNS ROAD"),
        ("3 Acacia Ave, Maidstone", "3 ACACIA AVENUE MAIDSTONE"),
        ("10 a Park Lane", "10A PARK LANE"),
        ("Apt 4, 1 The Gdns", "FLAT 4 1 THE GARDENS"),
        ("  ", None),
        (None, None),
    ],
)
def test_address(raw, clean):
    assert _apply(normalise_address, [raw]) == [clean]
