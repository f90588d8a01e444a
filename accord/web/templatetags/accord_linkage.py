"""Template filters for the linkage pages: percentages, and the geometry of their SVG bar
charts (attributes, not styles: the Content Security Policy allows no inline styles)."""

from __future__ import annotations

from typing import Any

from django import template

from accord.linkage import queries
from accord.linkage.columns import PARTS
from accord.linkage.single_view import RISK_FACTORS

register = template.Library()

_CHART_TOP = 10
_CHART_BOTTOM = 196  # the bars' baseline
_BAR_STEP = 62
_ROW_STEP = 40
_ROW_WIDTH = 480  # the widest horizontal bar
PART_LABELS = {
    "nhs_number": "NHS number",
    "uprn": "UPRN",
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "sex": "Sex",
    "address": "Address",
    "postcode": "Postcode",
}
assert set(PART_LABELS) == set(PARTS)


register.filter("percent", queries.percent)


@register.filter
def bar_x(index: int) -> int:
    return 8 + int(index) * _BAR_STEP


def _height(percent_of_top: float) -> float:
    return round((_CHART_BOTTOM - _CHART_TOP) * float(percent_of_top) / 100, 1)


@register.filter
def bar_y(percent_of_top: float) -> float:
    return round(_CHART_BOTTOM - _height(percent_of_top), 1)


@register.filter
def bar_height(percent_of_top: float) -> float:
    return _height(percent_of_top)


@register.filter
def row_y(index: int) -> int:
    return 8 + int(index) * _ROW_STEP


@register.filter
def share_of(value: Any, total: Any) -> int:
    """A horizontal bar's length for ``value`` out of ``total``."""
    if not total or not value:
        return 0
    return round(_ROW_WIDTH * int(value) / int(total))


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def part_label(key: str) -> str:
    return PART_LABELS.get(key, key.replace("_", " ").capitalize())


_RISK_LABELS = {factor.code: factor.label for factor in RISK_FACTORS}


@register.filter
def risk_labels(codes: str | None) -> str:
    """The view's "code; code" risk factors in words."""
    named = [_RISK_LABELS.get(c.strip(), c.strip()) for c in str(codes or "").split(";")]
    return "; ".join(n for n in named if n) or "None"


@register.filter
def part_labels(parts: Any) -> str:
    """What a dataset can be compared on, in words."""
    return ", ".join(
        part_label(p).lower() if p not in ("nhs_number", "uprn") else part_label(p) for p in parts
    )
