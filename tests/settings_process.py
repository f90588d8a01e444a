"""Start Django in a separate interpreter with a clean Accord environment, to test how the
settings react to environment variables (production refusals, defaults) without disturbing
the settings this test run has already loaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[1]


def django_environment(variables: dict[str, str]) -> dict[str, str]:
    """This process's environment without any ACCORD_* variable, plus ``variables``."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ACCORD_") and name != "DJANGO_SETTINGS_MODULE"
    }
    environment["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    environment.update(variables)
    return environment


def start_django(script: str, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script],
        env=django_environment(variables),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_django_in_background(
    script: str, variables: dict[str, str], *, args: tuple[str, ...] = (), output: Path
) -> subprocess.Popen[bytes]:
    """Start ``script`` as ``start_django`` does, without waiting for it; its stdout and stderr
    go to the file ``output``. The caller stops it (and waits for it)."""
    with output.open("wb") as sink:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and script)
            [sys.executable, "-c", script, *args],
            env=django_environment(variables),
            cwd=BASE_DIR,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
