"""Errors raised by the standards app."""

from __future__ import annotations


class StandardError(ValueError):
    """A standard's descriptor is not usable; ``problems`` says every reason, in plain English."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


class StandardNotFound(LookupError):
    """No published standard has that slug (and version)."""
