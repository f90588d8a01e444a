"""A standard's descriptor is checked before anything uses it: every problem is named, and
nothing that could make the engine fail on every file gets through."""

from __future__ import annotations

import pytest

from accord.standards.exceptions import StandardError
from accord.standards.schema import parse_standard, version_key
from tests.factories import standard_descriptor


def problems(**overrides: object) -> list[str]:
    with pytest.raises(StandardError) as refused:
        parse_standard(standard_descriptor(**overrides))
    return refused.value.problems


def with_field(field: dict) -> list[str]:
    return problems(fields=[field])


def test_the_test_standard_parses() -> None:
    standard = parse_standard(standard_descriptor())
    assert standard.label == "test-returns@1.0"
    assert standard.identifiers == ("nhs_number",)
    assert standard.field("nhs_number").personal is True


def test_every_problem_is_named_at_once() -> None:
    found = problems(name="Bad Name", version="one", title="", primaryKey=["nowhere"])
    assert len(found) == 4
    assert any("slug" in p for p in found)
    assert any("'version'" in p for p in found)
    assert any("'title'" in p for p in found)
    assert any("'primaryKey' names 'nowhere'" in p for p in found)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ({"name": "x", "type": "colour"}, "type 'colour' is not one of"),
        ({"name": "Bad-Name"}, "must be lower case"),
        ({"name": "x", "accord": {"identifier": "passport"}}, "identifier type 'passport'"),
        ({"name": "x", "accord": {"codeList": "lad99"}}, "code list 'lad99' is not bundled"),
        ({"name": "x", "accord": {"gssEntities": ["galaxy"]}}, "'galaxy' is not a GSS entity"),
        ({"name": "x", "constraints": {"pattern": "("}}, "not a valid regular expression"),
        ({"name": "x", "constraints": {"enum": []}}, "non-empty list"),
        ({"name": "x", "constraints": {"size": 3}}, "unknown constraint 'size'"),
        ({"name": "x", "type": "date", "format": "%d/%m"}, "must be 'default'"),
    ],
)
def test_field_problems(field, expected) -> None:
    assert any(expected in p for p in with_field(field)), with_field(field)


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            {"name": "d", "type": "date", "constraints": {"minimum": "2020-13-01"}},
            "minimum '2020-13-01' must be a date written YYYY-MM-DD",
        ),
        (
            {"name": "d", "type": "date", "constraints": {"maximum": "1/1/2030"}},
            "maximum '1/1/2030' must be a date written YYYY-MM-DD",
        ),
        (
            {"name": "n", "type": "integer", "constraints": {"minimum": "ten"}},
            "minimum 'ten' must be a number",
        ),
        (
            {"name": "n", "type": "integer", "constraints": {"maximum": 2.5}},
            "must be a whole number",
        ),
        (
            {"name": "n", "type": "number", "constraints": {"minimum": True}},
            "must be a number",
        ),
        (
            {"name": "s", "type": "string", "constraints": {"minimum": 1}},
            "only numbers and dates have ranges",
        ),
        (
            {"name": "n", "type": "integer", "constraints": {"minimum": 5, "maximum": 1}},
            "minimum 5 is above maximum 1",
        ),
        (
            {
                "name": "d",
                "type": "date",
                "constraints": {"minimum": "2026-01-01", "maximum": "2020-01-01"},
            },
            "minimum 2026-01-01 is above maximum 2020-01-01",
        ),
    ],
)
def test_ranges_must_fit_the_column_type(field, expected) -> None:
    """A bad bound would otherwise fail inside the engine on every file checked."""
    assert any(expected in p for p in with_field(field)), with_field(field)


def test_versions_sort_as_numbers() -> None:
    assert sorted(["1.10", "1.9", "2.0", "1.0"], key=version_key) == ["1.0", "1.9", "1.10", "2.0"]
