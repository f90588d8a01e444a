"""The settings' production checks, and the demo's generated secret key.

Each case starts Django in a fresh interpreter (settings are read once per process) with a clean
environment: no ACCORD_* variables from the caller, a temporary data folder, and only what the
case sets.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.config.settings import BASE_DIR, DEMO_SECRET_PREFIX
from tests.settings_process import start_django

GOOD_SECRET = "k" * 20 + "7Qx-9rT_2mZ" * 4  # 64 characters, not a demo secret

SCRIPT = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "env": settings.ENVIRONMENT,
    "debug": settings.DEBUG,
    "demo_mode": settings.DEMO_MODE,
    "secret_key": settings.SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "key_file": str(settings.AUDIT_SIGNING_KEY_FILE),
    "data_dir": str(settings.DATA_DIR),
    "session_cookie_secure": settings.SESSION_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
}))
"""


def _write_key(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    return _write_key(tmp_path / "secrets" / "audit-signing-ed25519.pem")


@pytest.fixture
def production(data_dir: Path, key_file: Path, tmp_path: Path) -> dict[str, str]:
    """A production environment with everything right (the vault's own refusals are tested in
    tests/unit/vault/test_settings.py)."""
    return {
        "ACCORD_ENV": "production",
        "ACCORD_DATA_DIR": str(data_dir),
        "ACCORD_SECRET_KEY": GOOD_SECRET,
        "ACCORD_ALLOWED_HOSTS": "accord.example.gov.uk, www.accord.example.gov.uk",
        "ACCORD_AUDIT_SIGNING_KEY_FILE": str(key_file),
        "ACCORD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ACCORD_VAULT_KEYSTORE_DIR": str(tmp_path / "keystore"),
    }


def _start(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return start_django(SCRIPT, variables)


def _started(variables: dict[str, str]) -> dict:
    result = _start(variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _refused(variables: dict[str, str], message: str) -> str:
    result = _start(variables)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert message in result.stderr
    return result.stderr


# Production: everything right -------------------------------------------------------------------


def test_production_starts_when_everything_is_right(
    production: dict[str, str], key_file: Path, data_dir: Path
) -> None:
    loaded = _started(production)
    assert loaded["env"] == "production"
    assert loaded["debug"] is False
    assert loaded["demo_mode"] is False
    assert loaded["secret_key"] == GOOD_SECRET
    assert loaded["allowed_hosts"] == ["accord.example.gov.uk", "www.accord.example.gov.uk"]
    assert loaded["key_file"] == str(key_file)
    assert loaded["data_dir"] == str(data_dir.resolve())
    assert loaded["session_cookie_secure"] is True
    assert loaded["hsts"] > 0
    # Production never generates a secret of its own in the data folder.
    assert not (data_dir / "keys" / "django-secret-key").exists()


def test_a_secret_of_exactly_50_characters_is_enough(production: dict[str, str]) -> None:
    assert _started({**production, "ACCORD_SECRET_KEY": "s" * 50})["secret_key"] == "s" * 50


def test_debug_explicitly_off_is_fine(production: dict[str, str]) -> None:
    assert _started({**production, "ACCORD_DEBUG": "false"})["debug"] is False


# Production: refusals ---------------------------------------------------------------------------

SECRET_MESSAGE = "Production needs ACCORD_SECRET_KEY: at least 50 random characters"


def test_a_missing_secret_key_is_refused(production: dict[str, str]) -> None:
    del production["ACCORD_SECRET_KEY"]
    _refused(production, SECRET_MESSAGE)


@pytest.mark.parametrize(
    "secret",
    ["", "s" * 49, DEMO_SECRET_PREFIX + "x" * 64],
    ids=["empty", "49-characters", "demo-secret"],
)
def test_a_short_or_demo_secret_key_is_refused(production: dict[str, str], secret: str) -> None:
    _refused({**production, "ACCORD_SECRET_KEY": secret}, SECRET_MESSAGE)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", " yes ", "on"])
def test_debug_is_refused(production: dict[str, str], value: str) -> None:
    _refused({**production, "ACCORD_DEBUG": value}, "ACCORD_DEBUG must be off in production.")


def test_a_demo_password_is_refused(production: dict[str, str]) -> None:
    _refused(
        {**production, "ACCORD_DEMO_PASSWORD": "demo-password-123"},
        "ACCORD_DEMO_PASSWORD is for the demo only; unset it.",
    )


@pytest.mark.parametrize("hosts", [None, "", " , ,"], ids=["unset", "empty", "only-commas"])
def test_missing_allowed_hosts_are_refused(production: dict[str, str], hosts: str | None) -> None:
    if hosts is None:
        del production["ACCORD_ALLOWED_HOSTS"]
    else:
        production["ACCORD_ALLOWED_HOSTS"] = hosts
    _refused(production, "Production needs ACCORD_ALLOWED_HOSTS")


KEY_MESSAGE = "Production needs ACCORD_AUDIT_SIGNING_KEY_FILE"


def test_an_unset_signing_key_file_is_refused(production: dict[str, str]) -> None:
    del production["ACCORD_AUDIT_SIGNING_KEY_FILE"]
    stderr = _refused(production, KEY_MESSAGE)
    assert "outside ACCORD_DATA_DIR" in stderr


def test_a_missing_signing_key_file_is_refused(production: dict[str, str], tmp_path: Path) -> None:
    production["ACCORD_AUDIT_SIGNING_KEY_FILE"] = str(tmp_path / "secrets" / "absent.pem")
    _refused(production, KEY_MESSAGE)


def test_a_folder_is_not_a_signing_key_file(production: dict[str, str], tmp_path: Path) -> None:
    production["ACCORD_AUDIT_SIGNING_KEY_FILE"] = str(tmp_path / "secrets")
    _refused(production, KEY_MESSAGE)


def test_a_signing_key_inside_the_data_folder_is_refused(
    production: dict[str, str], data_dir: Path
) -> None:
    inside = _write_key(data_dir / "keys" / "audit-signing-ed25519.pem")
    production["ACCORD_AUDIT_SIGNING_KEY_FILE"] = str(inside)
    _refused(production, KEY_MESSAGE)


def test_a_link_outside_the_data_folder_to_a_key_inside_it_is_refused(
    production: dict[str, str], data_dir: Path, tmp_path: Path
) -> None:
    inside = _write_key(data_dir / "keys" / "audit-signing-ed25519.pem")
    link = tmp_path / "elsewhere" / "key.pem"
    link.parent.mkdir()
    link.symlink_to(inside)
    production["ACCORD_AUDIT_SIGNING_KEY_FILE"] = str(link)
    _refused(production, KEY_MESSAGE)


def test_a_data_folder_named_by_a_relative_path_still_contains_its_key(
    production: dict[str, str], data_dir: Path
) -> None:
    inside = _write_key(data_dir / "audit.pem")
    production["ACCORD_DATA_DIR"] = os.path.relpath(data_dir, BASE_DIR)
    production["ACCORD_AUDIT_SIGNING_KEY_FILE"] = str(inside)
    _refused(production, KEY_MESSAGE)


# Environment name -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["staging", "Production", "prod", ""])
def test_an_unknown_environment_is_refused(data_dir: Path, name: str) -> None:
    _refused(
        {"ACCORD_ENV": name, "ACCORD_DATA_DIR": str(data_dir)},
        "ACCORD_ENV must be 'demo' or 'production'.",
    )


# The demo's generated secret key ----------------------------------------------------------------


def test_the_demo_generates_a_private_secret_key_once_and_reuses_it(data_dir: Path) -> None:
    first = _started({"ACCORD_DATA_DIR": str(data_dir)})
    assert first["env"] == "demo"
    assert first["demo_mode"] is True
    key_path = data_dir / "keys" / "django-secret-key"
    assert key_path.is_file()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
    assert first["secret_key"] == key_path.read_text().strip()
    assert first["secret_key"].startswith(DEMO_SECRET_PREFIX)
    assert len(first["secret_key"]) >= 50 + len(DEMO_SECRET_PREFIX)

    second = _started({"ACCORD_DATA_DIR": str(data_dir)})
    assert second["secret_key"] == first["secret_key"]


def test_each_demo_data_folder_gets_its_own_secret(tmp_path: Path) -> None:
    one = _started({"ACCORD_DATA_DIR": str(tmp_path / "one")})
    two = _started({"ACCORD_DATA_DIR": str(tmp_path / "two")})
    assert one["secret_key"] != two["secret_key"]


def test_the_demo_uses_a_given_secret_key_without_writing_one(data_dir: Path) -> None:
    loaded = _started({"ACCORD_DATA_DIR": str(data_dir), "ACCORD_SECRET_KEY": GOOD_SECRET})
    assert loaded["secret_key"] == GOOD_SECRET
    assert not (data_dir / "keys" / "django-secret-key").exists()


def test_the_demo_keeps_its_signing_key_in_the_data_folder(data_dir: Path) -> None:
    loaded = _started({"ACCORD_DATA_DIR": str(data_dir)})
    assert Path(loaded["key_file"]).is_relative_to(data_dir.resolve())
    assert loaded["session_cookie_secure"] is False
