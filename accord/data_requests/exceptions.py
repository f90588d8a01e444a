"""Refusals specific to data requests are the audit app's Refused and NotPermitted."""

from accord.audit.exceptions import NotPermitted, Refused

__all__ = ["NotPermitted", "Refused"]
