"""Start Django in a separate interpreter with a clean Accord environment, to test how the
settings react to environment variables (production refusals, defaults) without disturbing
the settings this test run has already loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]


def start_django(script: str, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ACCORD_") and name != "DJANGO_SETTINGS_MODULE"
    }
    environment["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    environment.update(variables)
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=environment,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
