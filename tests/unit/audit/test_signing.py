"""The checkpoint signing key: created privately in the demo, never in production."""

from __future__ import annotations

import hashlib
import stat
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pytest_django.fixtures import Settings

from accord.audit import signing


@pytest.fixture
def key_file(settings: Settings, tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "audit-signing-ed25519.pem"
    settings.AUDIT_SIGNING_KEY_FILE = path
    settings.DEMO_MODE = True
    return path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_demo_creates_a_private_key_file(key_file: Path) -> None:
    key = signing.private_key()
    assert isinstance(key, Ed25519PrivateKey)
    assert key_file.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8
    assert _mode(key_file) == 0o600
    assert _mode(key_file.parent) == 0o700
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]  # no temporary left


def test_the_same_key_is_used_afterwards(key_file: Path) -> None:
    first = signing.key_id()
    content = key_file.read_bytes()
    assert signing.key_id() == first
    assert key_file.read_bytes() == content


def test_an_existing_key_is_never_replaced(key_file: Path) -> None:
    key_file.parent.mkdir(mode=0o700)
    mine = Ed25519PrivateKey.generate()
    key_file.write_bytes(
        mine.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert signing.key_id() == signing.key_id(mine.public_key())


def test_racing_processes_end_up_with_one_key(key_file: Path) -> None:
    ids: list[str] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        ids.append(signing.key_id())

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8
    assert len(set(ids)) == 1
    assert [p.name for p in key_file.parent.iterdir()] == [key_file.name]


def test_production_never_creates_a_key(key_file: Path, settings: Settings) -> None:
    settings.DEMO_MODE = False
    with pytest.raises(signing.SigningKeyError, match="does not exist"):
        signing.private_key()
    with pytest.raises(signing.SigningKeyError, match="never creates"):
        signing.private_key(create=True)
    assert not key_file.exists()


def test_production_loads_an_existing_key(key_file: Path, settings: Settings) -> None:
    signing.private_key()  # made while in the demo
    settings.DEMO_MODE = False
    assert isinstance(signing.private_key(), Ed25519PrivateKey)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a PEM private key"),
        (b"hello", "not a PEM private key"),
        (
            ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            "not an Ed25519 key",
        ),
        (
            Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"secret"),
            ),
            "protected by a password",
        ),
    ],
)
def test_an_unusable_key_file_gets_a_clear_error(
    key_file: Path, content: bytes, message: str
) -> None:
    key_file.parent.mkdir(mode=0o700)
    key_file.write_bytes(content)
    with pytest.raises(signing.SigningKeyError, match=message):
        signing.private_key()


def test_key_id_is_the_start_of_the_sha256_of_the_raw_public_key(key_file: Path) -> None:
    raw = signing.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert signing.key_id() == hashlib.sha256(raw).hexdigest()[:16]


def test_public_key_pem_round_trips(key_file: Path) -> None:
    pem = signing.public_key_pem()
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert signing.key_id(signing.load_public_key_pem(pem)) == signing.key_id()


def test_a_signature_verifies_with_the_public_key(key_file: Path) -> None:
    signature = signing.sign(b"statement")
    signing.public_key().verify(signature, b"statement")  # raises if wrong


def test_public_key_files_are_checked(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(signing.SigningKeyError, match="Cannot read the public key file"):
        signing.load_public_key_file(missing)
    rsa_like = tmp_path / "ec.pem"
    rsa_like.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(signing.SigningKeyError, match="not an Ed25519 public key"):
        signing.load_public_key_file(rsa_like)
