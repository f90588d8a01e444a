"""Each demo test gets its own keys folder and no ACCORD_DEMO_PASSWORD from the caller's shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.demo.loader import PASSWORD_ENV

DEMO_PASSWORD = "demo-test-password-4821"


@pytest.fixture(autouse=True)
def keys_dir(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keys"
    settings.KEYS_DIR = folder
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    return folder
