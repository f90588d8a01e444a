"""Storing and reading vault objects: round trips, the decision a read needs, the audit event,
and the SHA-256 check at the end of every read."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from accord.access.enums import Action
from accord.access.exceptions import AccessDenied
from accord.audit.models import AuditEvent
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.vault import actions, queries
from accord.vault.exceptions import ChecksumMismatch, ObjectNotFound
from accord.vault.models import VaultObject
from tests.factories import MembershipFactory

from .conftest import CHUNK, permit, read, store

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "size",
    [0, 11, CHUNK, CHUNK + 1, 7 * CHUNK + 3],
    ids=["empty", "small", "exactly-one-chunk", "one-byte-over", "multi-chunk"],
)
def test_round_trip(member, size: int) -> None:
    organisation, actor = member
    data = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    obj = store(actor, organisation, data)
    assert obj.size == size
    assert obj.chunk_size == CHUNK
    assert read(actor, obj) == data
    stored = VaultObject.objects.get(pk=obj.pk)
    assert stored.sha256 == obj.sha256
    assert stored.size == size


def test_a_binary_file_object_is_read_piece_by_piece(member) -> None:
    organisation, actor = member
    data = bytes(range(256)) * 40
    obj = actions.store(
        by=actor, organisation=organisation, kind="dataset", name="A file", source=io.BytesIO(data)
    )
    assert read(actor, obj) == data


def test_a_source_of_text_is_refused(member) -> None:
    organisation, actor = member
    with pytest.raises(TypeError):
        actions.store(
            by=actor, organisation=organisation, kind="dataset", name="Text", source="not bytes"
        )
    assert not VaultObject.objects.exists()


def test_streaming_gives_chunks_of_the_objects_chunk_size(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"s" * (3 * CHUNK + 5))
    reader = queries.open_object(obj.id, by=actor, decision=permit(actor, obj))
    assert [len(c) for c in reader] == [CHUNK, CHUNK, CHUNK, 5]
    with pytest.raises(RuntimeError, match="only once"):
        iter(reader)


def test_storing_is_audited_with_the_facts(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"payload")
    event = AuditEvent.objects.get(action="vault.object.stored")
    assert event.actor == actor.ref
    assert event.target == f"submission:{obj.id}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.details["sha256"] == obj.sha256
    assert event.details["size"] == 7
    assert event.details["organisation_name"] == organisation.name


class TestTheReadNeedsAPermit:
    def test_the_organisation_reads_its_own_object(self, member) -> None:
        organisation, actor = member
        obj = store(actor, organisation, b"own data")
        assert read(actor, obj) == b"own data"

    def test_another_organisation_is_denied(self, member) -> None:
        organisation, actor = member
        obj = store(actor, organisation, b"not yours")
        other = MembershipFactory(roles=[Role.ANALYST])
        outsider = actor_for(other.user, other)
        decision = permit(outsider, obj)
        assert decision.denied
        with pytest.raises(AccessDenied, match="No active data sharing agreement"):
            queries.open_object(obj.id, by=outsider, decision=decision)

    def test_an_expired_decision_is_refused(self, member) -> None:
        organisation, actor = member
        obj = store(actor, organisation, b"old")
        decision = permit(actor, obj, now=timezone.now() - timedelta(minutes=10))
        assert decision.permitted
        with pytest.raises(AccessDenied, match="expired"):
            queries.open_object(obj.id, by=actor, decision=decision)

    def test_a_decision_for_another_object_is_refused(self, member) -> None:
        organisation, actor = member
        first = store(actor, organisation, b"first")
        second = store(actor, organisation, b"second")
        with pytest.raises(AccessDenied, match="different item of data"):
            queries.open_object(second.id, by=actor, decision=permit(actor, first))

    def test_a_decision_for_another_actor_is_refused(self, member) -> None:
        organisation, actor = member
        obj = store(actor, organisation, b"mine")
        colleague = MembershipFactory(organisation=organisation, roles=[Role.ANALYST])
        other = actor_for(colleague.user, colleague)
        with pytest.raises(AccessDenied, match="someone else"):
            queries.open_object(obj.id, by=other, decision=permit(actor, obj))

    def test_a_decision_for_another_action_is_refused(self, member) -> None:
        organisation, actor = member
        obj = store(actor, organisation, b"view only")
        with pytest.raises(AccessDenied, match="not to take a record-level extract"):
            queries.open_object(
                obj.id, by=actor, decision=permit(actor, obj), action=Action.EXTRACT
            )

    def test_an_unknown_object_is_named(self, member) -> None:
        _, _actor = member
        with pytest.raises(ObjectNotFound, match="no vault object"):
            queries.get_object("not-a-uuid")


def test_a_sha256_that_does_not_match_is_an_integrity_error_on_the_final_chunk(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"c" * (2 * CHUNK + 1))
    VaultObject.objects.filter(pk=obj.pk).update(sha256="0" * 64)
    obj.refresh_from_db()
    chunks = iter(queries.open_object(obj.id, by=actor, decision=permit(actor, obj)))
    assert next(chunks) == b"c" * CHUNK  # authenticated, but not yet the whole story
    assert next(chunks) == b"c" * CHUNK
    with pytest.raises(ChecksumMismatch, match=f"{obj.name}.*{obj.id}.*not the data"):
        next(chunks)  # the final chunk is withheld


def test_read_all_verifies_before_returning(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"small")
    VaultObject.objects.filter(pk=obj.pk).update(size=4)
    with pytest.raises(ChecksumMismatch):
        queries.open_object(obj.id, by=actor, decision=permit(actor, obj)).read_all()


def test_read_all_refuses_large_objects(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"x" * 100)
    reader = queries.open_object(obj.id, by=actor, decision=permit(actor, obj))
    with pytest.raises(ValueError, match="stream it instead"):
        reader.read_all(limit=99)
