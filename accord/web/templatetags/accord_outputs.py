"""Template helpers for outputs: whether a collection's records can be tabulated."""

from __future__ import annotations

from typing import Any

from django import template

from accord.outputs.flexible import flexible_for

register = template.Library()


@register.filter
def tabulates(collection: Any) -> bool:
    """True when ``collection`` holds records of people a flexible table can count."""
    return collection is not None and flexible_for(collection) is not None
