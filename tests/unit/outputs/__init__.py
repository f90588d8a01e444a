"""Tests for accord.outputs."""
