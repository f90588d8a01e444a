"""Template helpers for the data use pages: whether the current member may see them."""

from __future__ import annotations

from typing import Any

from django import template

from accord.access.usage import HISTORY_READERS, USAGE_READERS

register = template.Library()


@register.filter
def can_see_usage(membership: Any) -> bool:
    """True when ``membership`` may see who used its organisation's data."""
    return bool(membership is not None and membership.has_role(*USAGE_READERS))


@register.filter
def can_see_access_history(membership: Any) -> bool:
    """True when ``membership`` may see its organisation's access history."""
    return bool(membership is not None and membership.has_role(*HISTORY_READERS))
