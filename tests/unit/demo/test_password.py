"""The personas' password: given, remembered or generated, and kept owner-only."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from django.test import override_settings

from accord.demo.loader import (
    PASSWORD_ENV,
    PasswordSource,
    generate_password,
    password_path,
    resolve_password,
)
from accord.demo.totp import DemoModeOnly


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generates_a_strong_password_and_remembers_it_owner_only(keys_dir: Path):
    first = resolve_password({})
    assert first.source is PasswordSource.GENERATED
    assert first.resets_existing
    assert re.fullmatch(r"([a-z2-9]{4}-){3}[a-z2-9]{4}", first.value)
    assert first.path == keys_dir / "demo-password" == password_path()
    assert first.path.read_text().strip() == first.value
    assert _mode(first.path) == 0o600
    assert _mode(keys_dir) == 0o700
    second = resolve_password({})
    assert second.source is PasswordSource.REMEMBERED
    assert not second.resets_existing
    assert second.value == first.value


def test_generated_passwords_differ():
    assert len({generate_password() for _ in range(20)}) == 20


def test_a_given_password_wins_and_is_remembered_for_the_next_run():
    resolve_password({})
    given = resolve_password({PASSWORD_ENV: "tester's own password 1"})
    assert given.source is PasswordSource.GIVEN
    assert given.resets_existing
    assert given.value == "tester's own password 1"
    assert given.warnings == ()
    assert _mode(given.path) == 0o600
    later = resolve_password({})
    assert later.source is PasswordSource.REMEMBERED
    assert later.value == "tester's own password 1"


def test_a_weak_given_password_is_used_with_a_warning():
    given = resolve_password({PASSWORD_ENV: "demo"})
    assert given.value == "demo"
    assert any("too short" in w for w in given.warnings)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_variable_counts_as_unset(blank: str):
    assert resolve_password({PASSWORD_ENV: blank}).source is PasswordSource.GENERATED


def test_an_empty_remembered_file_is_replaced(keys_dir: Path):
    keys_dir.mkdir(mode=0o700)
    (keys_dir / "demo-password").write_text("\n")
    assert resolve_password({}).source is PasswordSource.GENERATED


def test_reads_the_environment_by_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(PASSWORD_ENV, "from-the-environment-42")
    assert resolve_password().value == "from-the-environment-42"


def test_refuses_in_production(keys_dir: Path):
    with override_settings(PRODUCTION=True, DEMO_MODE=False), pytest.raises(DemoModeOnly):
        resolve_password({})
    assert not keys_dir.exists()
