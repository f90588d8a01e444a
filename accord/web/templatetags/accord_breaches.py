"""Template helpers for breaches: whether the current member may see or report them."""

from __future__ import annotations

from typing import Any

from django import template

from accord.breaches.enums import BREACH_ROLES, REPORTING_ROLES

register = template.Library()


@register.filter
def can_see_breaches(membership: Any) -> bool:
    """True when ``membership`` holds a data-protection role (sees and acts on breaches)."""
    return bool(membership is not None and membership.has_role(*BREACH_ROLES))


@register.filter
def can_report_breach(membership: Any) -> bool:
    """True when ``membership`` may report a suspected breach."""
    return bool(membership is not None and membership.has_role(*REPORTING_ROLES))
