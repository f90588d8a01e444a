"""Outputs returned to contributors: disclosure-controlled aggregates (issue 8)."""
