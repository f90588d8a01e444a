"""Template helpers for validation reports: a problem's detail and a small percentage meter."""

from __future__ import annotations

import re

from django import template
from django.utils.html import format_html

register = template.Library()

_PREFIX = re.compile(r"^Row \d+, column [A-Z]* ?'.*?': ")


@register.filter
def problem_detail(message: str) -> str:
    """The message without its "Row 14, column C 'NHS number': " prefix (the table says it)."""
    return _PREFIX.sub("", message or "", count=1)


@register.simple_tag
def meter(fraction: float | None) -> str:
    """A percentage as text with a native <meter> bar beside it (no inline styles, so the
    content security policy allows it; screen readers read the text)."""
    if fraction is None:
        return "none filled in"
    fraction = max(0.0, min(1.0, fraction))
    label = f"{fraction * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return format_html(
        '<span class="accord-meter">{}</span> <meter class="accord-meter__bar" min="0" max="1" '
        'low="0.9" high="0.995" optimum="1" value="{}" aria-hidden="true">{}</meter>',
        label,
        f"{fraction:.4f}",
        label,
    )
