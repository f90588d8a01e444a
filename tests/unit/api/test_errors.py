"""Error locations become the plain field paths people read."""

from __future__ import annotations

import pytest

from accord.api.errors import field_path


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "document", "parties", 0, "id"), "parties[0].id"),
        (("body", "document", "version"), "version"),
        (("body", "body", "role"), "role"),
        (("path", "agreement_id"), "agreement_id"),
        (("query", "q"), "q"),
        (("body", "datasets", 2, "fields", 0, "name"), "datasets[2].fields[0].name"),
        ((), ""),
    ],
)
def test_field_path(loc, expected) -> None:
    assert field_path(loc, ("document", "body")) == expected
