"""Vault test set-up: each test gets its own blob store and key store inside the run's data
folder (so the at-rest test's sweep of DATA_DIR covers them), and helpers to store and read."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from accord.access.decisions import Decision, decide
from accord.access.enums import Action, ResourceKind
from accord.audit.actor import Actor
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.vault import actions, queries
from accord.vault.backends import LocalBackend
from accord.vault.enums import BLOB_MAGIC, CHUNK_OVERHEAD
from accord.vault.models import VaultObject
from tests.factories import MembershipFactory

PURPOSE = "Check the stored submission before compiling the collection"
CHUNK = 64  # small chunks so multi-chunk objects stay small in tests


@pytest.fixture(autouse=True)
def vault_dirs(settings) -> tuple[Path, Path]:
    run = Path(django_settings.DATA_DIR) / f"vault-test-{uuid.uuid4().hex[:12]}"
    settings.VAULT_DIR = run / "blobs"
    settings.VAULT_KEYSTORE_DIR = run / "keystore"
    return settings.VAULT_DIR, settings.VAULT_KEYSTORE_DIR


@pytest.fixture
def member():
    membership = MembershipFactory(roles=[Role.ANALYST])
    return membership.organisation, actor_for(membership.user, membership)


def store(
    actor: Actor,
    organisation: Organisation,
    data: bytes | Iterable[bytes],
    *,
    chunk_size: int = CHUNK,
    name: str = "Free school meals, March",
) -> VaultObject:
    source = [data] if isinstance(data, bytes) else data
    return actions.store(
        by=actor,
        organisation=organisation,
        kind=ResourceKind.SUBMISSION,
        name=name,
        source=source,
        chunk_size=chunk_size,
    )


def permit(actor: Actor, obj: VaultObject, action: Action = Action.VIEW, **kwargs) -> Decision:
    return decide(
        actor=actor, action=action, resource=queries.resource_for(obj), purpose=PURPOSE, **kwargs
    )


def read(actor: Actor, obj: VaultObject) -> bytes:
    return queries.open_object(obj.id, by=actor, decision=permit(actor, obj)).read_all()


def blob_path(obj: VaultObject) -> Path:
    return LocalBackend(Path(django_settings.VAULT_DIR)).path_for(obj.blob_key)


def records(obj: VaultObject) -> list[bytes]:
    """The stored blob cut into its records (nonce + ciphertext + tag), magic left off."""
    raw = blob_path(obj).read_bytes()
    assert raw.startswith(BLOB_MAGIC)
    body, size = raw[len(BLOB_MAGIC) :], obj.chunk_size + CHUNK_OVERHEAD
    return [body[i : i + size] for i in range(0, len(body), size)]


def rewrite(obj: VaultObject, parts: list[bytes]) -> None:
    blob_path(obj).write_bytes(BLOB_MAGIC + b"".join(parts))
