"""Data subjects' rights in practice: subject access, rectification, erasure."""
