"""The vault's settings: production refuses to start without a master key or a key store, or
with either kept with the data, and the demo creates its master key with owner-only
permissions. Each production case starts Django in a fresh interpreter, as
tests/unit/config/test_settings.py does."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured

from accord.config.settings import BASE_DIR
from accord.vault import keys
from tests.settings_process import start_django

SCRIPT = "import django; django.setup(); print('started')"


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir()
    signing = tmp_path / "secrets" / "signing.pem"
    signing.parent.mkdir()
    signing.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    master = tmp_path / "secrets" / "vault-master.key"
    master.write_text(base64.b64encode(os.urandom(32)).decode())
    return {
        "ACCORD_ENV": "production",
        "ACCORD_DATA_DIR": str(data),
        "ACCORD_SECRET_KEY": "p" * 20 + "7Qx-9rT_2mZ" * 4,
        "ACCORD_ALLOWED_HOSTS": "accord.example.gov.uk",
        "ACCORD_AUDIT_SIGNING_KEY_FILE": str(signing),
        "ACCORD_MASTER_KEY_FILE": str(master),
        "ACCORD_VAULT_KEYSTORE_DIR": str(tmp_path / "keystore"),
    }


def _start(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return start_django(SCRIPT, variables)


def _refused(variables: dict[str, str], message: str) -> None:
    result = _start(variables)
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_production_starts_with_keys_kept_apart(production: dict[str, str]) -> None:
    result = _start(production)
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_production_refuses_a_master_key_file_inside_the_data_folder(
    production: dict[str, str],
) -> None:
    inside = Path(production["ACCORD_DATA_DIR"]) / "keys" / "vault-master.key"
    inside.parent.mkdir()
    inside.write_text(base64.b64encode(os.urandom(32)).decode())
    _refused(
        {**production, "ACCORD_MASTER_KEY_FILE": str(inside)},
        "ACCORD_MASTER_KEY_FILE must be kept outside ACCORD_DATA_DIR",
    )


def test_production_refuses_a_master_key_file_inside_the_blob_store(
    production: dict[str, str], tmp_path: Path
) -> None:
    blobs = tmp_path / "blobs"
    _refused(
        {
            **production,
            "ACCORD_VAULT_DIR": str(blobs),
            "ACCORD_MASTER_KEY_FILE": str(blobs / "master.key"),
        },
        "ACCORD_MASTER_KEY_FILE must be kept outside ACCORD_DATA_DIR",
    )


def test_production_refuses_a_key_store_inside_the_data_folder(
    production: dict[str, str],
) -> None:
    _refused(
        {
            **production,
            "ACCORD_VAULT_KEYSTORE_DIR": str(Path(production["ACCORD_DATA_DIR"]) / "keystore"),
        },
        "ACCORD_VAULT_KEYSTORE_DIR must be a folder outside ACCORD_DATA_DIR",
    )


def test_production_refuses_a_key_store_inside_the_blob_store(
    production: dict[str, str], tmp_path: Path
) -> None:
    _refused(
        {
            **production,
            "ACCORD_VAULT_DIR": str(tmp_path / "blobs"),
            "ACCORD_VAULT_KEYSTORE_DIR": str(tmp_path / "blobs" / "keys"),
        },
        "ACCORD_VAULT_KEYSTORE_DIR must be a folder outside ACCORD_DATA_DIR",
    )


def test_both_master_key_settings_at_once_are_refused(production: dict[str, str]) -> None:
    _refused(
        {**production, "ACCORD_MASTER_KEY": base64.b64encode(os.urandom(32)).decode()},
        "Set either ACCORD_MASTER_KEY or ACCORD_MASTER_KEY_FILE",
    )


MASTER_KEY_MESSAGE = (
    "Production needs a vault master key: set ACCORD_MASTER_KEY (base64 of 32 random bytes) or "
    "ACCORD_MASTER_KEY_FILE"
)
KEYSTORE_MESSAGE = (
    "Production needs ACCORD_VAULT_KEYSTORE_DIR: a folder outside ACCORD_DATA_DIR and the blob "
    "store"
)


def test_production_starts_with_an_inline_master_key(production: dict[str, str]) -> None:
    del production["ACCORD_MASTER_KEY_FILE"]
    production["ACCORD_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    result = _start(production)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("blank", [None, "", "   "], ids=["unset", "empty", "spaces"])
def test_production_refuses_to_start_without_a_master_key(
    production: dict[str, str], blank: str | None
) -> None:
    del production["ACCORD_MASTER_KEY_FILE"]
    if blank is not None:
        production["ACCORD_MASTER_KEY"] = blank
    _refused(production, MASTER_KEY_MESSAGE)


@pytest.mark.parametrize("blank", [None, "", "   "], ids=["unset", "empty", "spaces"])
def test_production_refuses_to_start_without_a_key_store(
    production: dict[str, str], blank: str | None
) -> None:
    del production["ACCORD_VAULT_KEYSTORE_DIR"]
    if blank is not None:
        production["ACCORD_VAULT_KEYSTORE_DIR"] = blank
    _refused(production, KEYSTORE_MESSAGE)


def test_production_refuses_a_master_key_file_that_does_not_exist(
    production: dict[str, str], tmp_path: Path
) -> None:
    absent = tmp_path / "secrets" / "absent.key"
    _refused(
        {**production, "ACCORD_MASTER_KEY_FILE": str(absent)},
        f"ACCORD_MASTER_KEY_FILE names {absent}, which is not an existing file",
    )


def test_production_refuses_a_master_key_file_inside_the_key_store(
    production: dict[str, str],
) -> None:
    keystore = Path(production["ACCORD_VAULT_KEYSTORE_DIR"])
    keystore.mkdir()
    inside = keystore / "master.key"
    inside.write_text(base64.b64encode(os.urandom(32)).decode())
    _refused(
        {**production, "ACCORD_MASTER_KEY_FILE": str(inside)},
        "ACCORD_MASTER_KEY_FILE must be kept outside ACCORD_DATA_DIR",
    )


def test_production_refuses_a_key_store_holding_the_blob_store(
    production: dict[str, str], tmp_path: Path
) -> None:
    _refused(
        {
            **production,
            "ACCORD_VAULT_KEYSTORE_DIR": str(tmp_path / "vault"),
            "ACCORD_VAULT_DIR": str(tmp_path / "vault" / "blobs"),
        },
        "ACCORD_VAULT_KEYSTORE_DIR must be a folder outside ACCORD_DATA_DIR",
    )


def _deploy_check(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    environment.update(variables, DJANGO_SETTINGS_MODULE="accord.config.settings")
    return subprocess.run(
        [sys.executable, "-m", "django", "check", "--deploy"],
        env=environment,
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_deploy_check_refuses_production_without_vault_keys(
    production: dict[str, str],
) -> None:
    del production["ACCORD_MASTER_KEY_FILE"]
    del production["ACCORD_VAULT_KEYSTORE_DIR"]
    result = _deploy_check(production)
    assert result.returncode != 0
    assert "django.core.exceptions.ImproperlyConfigured" in result.stderr
    assert MASTER_KEY_MESSAGE in result.stderr


def test_the_deploy_check_reports_a_master_key_that_cannot_be_used(
    production: dict[str, str],
) -> None:
    """The settings only see that a key file exists; the check reads it (accord.vault.E001)."""
    Path(production["ACCORD_MASTER_KEY_FILE"]).write_text("not a key at all!")
    result = _deploy_check(production)
    assert result.returncode != 0
    assert "accord.vault.E001" in result.stderr
    assert "is not valid base64" in result.stderr


def test_the_demo_creates_an_owner_only_master_key(settings, tmp_path: Path) -> None:
    settings.KEYS_DIR = tmp_path / "keys"
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_FILE = "", None
    first = keys.master_key()
    path = tmp_path / "keys" / keys.DEMO_MASTER_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert keys.master_key() == first  # made once, then reused
    assert first.id in repr(first)
    assert base64.b64encode(first.key).decode() not in repr(first)


@pytest.mark.parametrize(
    ("value", "message"),
    [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "5 bytes")],
)
def test_a_bad_master_key_is_explained(settings, value: str, message: str) -> None:
    settings.VAULT_MASTER_KEY = value
    with pytest.raises(ImproperlyConfigured, match=message):
        keys.master_key()


def test_production_never_creates_a_master_key(settings, tmp_path: Path) -> None:
    settings.DEMO_MODE = False
    settings.KEYS_DIR = tmp_path / "keys"
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_FILE = "", None
    with pytest.raises(ImproperlyConfigured, match="Production needs a vault master key"):
        keys.master_key()
    assert not (tmp_path / "keys").exists()
