"""The JSON API (ADR 0007): the same domain functions as the pages, behind bearer tokens."""
