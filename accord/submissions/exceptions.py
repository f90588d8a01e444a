"""Errors raised by the submissions app."""

from __future__ import annotations


class UnusableFile(Exception):
    """An uploaded file that Accord cannot read as a table.

    ``message`` is plain English for the person who uploaded it: what is wrong and how to fix
    it. ``code`` is a short stable id for programs and tests:

    ``empty``, ``not_a_spreadsheet``, ``encrypted``, ``old_excel``, ``binary_workbook``,
    ``macros``, ``corrupt``, ``zip_bomb``, ``xml_bomb``, ``too_large``, ``too_many_columns``,
    ``nul_bytes``, ``cell_too_long``, ``bad_encoding``, ``malformed_csv``, ``no_header``,
    ``no_sheet``, ``not_found``.
    """

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(message)

    def __repr__(self) -> str:
        return f"UnusableFile(code={self.code!r}, message={self.message!r})"
