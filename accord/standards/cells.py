"""Spreadsheet formula injection: neutralise text before Accord writes it to CSV or XLSX.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return may be run as a
formula when a spreadsheet opens the file (OWASP "CSV injection"). Accord writes such text with
a leading apostrophe, which spreadsheets show as text. Plain numbers (``-12.5``, ``+44``) are
left alone so negative figures stay figures.
"""

from __future__ import annotations

import re

import polars as pl

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain number, as text: also what the validation engine accepts for a "number" column.
NUMBER_PATTERN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_NUMBER = re.compile(NUMBER_PATTERN)
_TRIGGER_PATTERN = r"^[=+\-@\t\r]"


def neutralise(value: object) -> object:
    """The value, made safe to write into a spreadsheet cell."""
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.match(value):
        return "'" + value
    return value


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`neutralise` for a Utf8 column."""
    risky = expr.str.contains(_TRIGGER_PATTERN) & ~expr.str.contains(NUMBER_PATTERN)
    return pl.when(risky).then(pl.lit("'") + expr).otherwise(expr)
