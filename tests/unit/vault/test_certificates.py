"""Deletion certificates: who they concern, the notices and emails they send, the document
anyone can check against the chain, and retention counted from when data was first received."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.audit.actor import Actor
from accord.audit.chain import canonical_bytes
from accord.audit.checkpoints import create_checkpoint
from accord.audit.models import AuditEvent
from accord.notifications.models import Notification, Topic
from accord.organisations.enums import Role
from accord.vault import actions, queries, retention
from accord.vault.exceptions import CertificateNotFound
from accord.vault.models import DeletionCertificate
from tests.factories import MembershipFactory, OrganisationFactory

from .conftest import store

pytestmark = pytest.mark.django_db

REASON = "the agreement ended"


def shred(actor, obj, reason: str = REASON):
    return actions.crypto_shred(by=actor, obj=obj, reason=reason)


def test_a_shred_leaves_a_certificate_pointing_at_its_audit_event(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"pupil rows", name="Pupils, spring")
    shred(actor, obj)
    certificate = DeletionCertificate.objects.get(object=obj)
    event = AuditEvent.objects.get(seq=certificate.audit_seq)
    assert event.action == "vault.object.shredded"
    assert event.target == f"submission:{obj.id}"
    assert event.details["sha256"] == obj.sha256
    assert event.details["organisations_concerned"] == [
        {"id": str(organisation.pk), "name": organisation.name}
    ]
    assert list(certificate.organisations.all()) == [organisation]
    assert certificate.deleted_at == obj.deleted_at


def test_a_derived_object_concerns_every_source_controller(member) -> None:
    organisation, actor = member
    district = OrganisationFactory(name="Ashford Borough Council")
    county = OrganisationFactory(name="Kent County Council")
    returned = store(actor, district, b"district return", name="District return")
    compiled = actions.store(
        by=actor,
        organisation=county,
        kind=ResourceKind.COLLECTION,
        name="County collection",
        source=[b"compiled"],
        sources=[returned],
    )
    linked = actions.store(
        by=actor,
        organisation=organisation,
        kind=ResourceKind.LINKED_DATASET,
        name="Linked view",
        source=[b"linked"],
        sources=[compiled],
    )
    assert [o.name for o in actions.organisations_concerned(linked)] == [
        organisation.name,
        "Ashford Borough Council",
        "Kent County Council",
    ]
    shred(actor, linked)
    for party in (organisation, district, county):
        assert [c.object_id for c in queries.certificates_for(party)] == [linked.id]
    stranger = OrganisationFactory()
    assert not queries.certificates_for(stranger).exists()
    with pytest.raises(CertificateNotFound):
        queries.certificate_for(stranger, linked.id)


def test_each_party_gets_a_notice_and_its_governance_roles_an_email(
    member, django_capture_on_commit_callbacks
) -> None:
    organisation, actor = member
    dpo = MembershipFactory(organisation=organisation, roles=[Role.DPO])
    admin = MembershipFactory(organisation=organisation, roles=[Role.ORGANISATION_ADMIN])
    MembershipFactory(organisation=organisation, roles=[Role.ANALYST])  # not emailed
    MembershipFactory(organisation=organisation, roles=[Role.DPO], is_active=False)
    MembershipFactory(roles=[Role.DPO])  # another organisation's DPO: not emailed
    obj = store(actor, organisation, b"rows", name="Care home status")
    with django_capture_on_commit_callbacks(execute=True):
        shred(actor, obj)
    notice = Notification.objects.get(organisation=organisation)
    assert notice.topic == Topic.DATA_DELETED
    assert notice.subject == "Data deleted: Care home status"
    assert REASON in notice.body
    assert "cannot be recovered" in notice.body
    assert notice.link == f"/organisation/deletions/{obj.id}/"
    assert notice.emailed_to == 2
    assert len(mail.outbox) == 1
    assert sorted(mail.outbox[0].to) == sorted([dpo.user.email, admin.user.email])
    assert notice.link in mail.outbox[0].body
    sent = AuditEvent.objects.get(action="notification.sent")
    assert sent.subject_organisation == str(organisation.pk)
    assert sent.details["emailed_to"] == 2


def test_no_email_is_sent_when_the_shred_rolls_back(member, monkeypatch) -> None:
    organisation, actor = member
    MembershipFactory(organisation=organisation, roles=[Role.DPO])
    obj = store(actor, organisation, b"rows")

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(DeletionCertificate.objects, "create", broken)
    with pytest.raises(RuntimeError):
        shred(actor, obj)
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_the_document_rehashes_to_the_chain_and_names_a_covering_checkpoint(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"rows")
    shred(actor, obj)
    certificate = DeletionCertificate.objects.get(object=obj)
    document = queries.certificate_document(certificate)
    assert document["covering_checkpoint"] is None  # none signed yet
    recomputed = hashlib.sha256(
        canonical_bytes(
            {
                **document["audit_event"],
                "occurred_at": AuditEvent.objects.get(seq=certificate.audit_seq).occurred_at,
            }
        )
    ).hexdigest()
    assert recomputed == document["audit_event_hash"]
    create_checkpoint(by=Actor.system("test"))
    document = queries.certificate_document(certificate)
    assert document["covering_checkpoint"]["seq"] >= certificate.audit_seq


def test_retention_counts_from_when_the_data_was_first_received(member) -> None:
    organisation, actor = member
    received = timezone.now() - timedelta(days=400)
    obj = actions.store(
        by=actor,
        organisation=organisation,
        kind=ResourceKind.SUBMISSION,
        name="Pilot return moved into Accord",
        source=[b"old rows"],
        retention="P1Y",
        retention_basis="pilot data sharing agreement, clause 9",
        received_at=received,
    )
    assert obj.retention_deadline is not None
    assert obj.retention_deadline < timezone.now()
    assert "counted from receipt on" in obj.retention_rule
    report = retention.run()
    assert [item.object_id for item in report.deleted] == [str(obj.id)]
    certificate = DeletionCertificate.objects.get(object=obj)
    assert "retention deadline" in certificate.object.deletion_reason


@pytest.mark.parametrize(
    "received",
    [
        pytest.param(timezone.now() + timedelta(days=2), id="future"),
        pytest.param(timezone.now().replace(tzinfo=None), id="naive"),
    ],
)
def test_received_at_must_be_a_past_aware_time(member, received) -> None:
    organisation, actor = member
    with pytest.raises(ValidationError, match="not in the future"):
        actions.store(
            by=actor,
            organisation=organisation,
            kind=ResourceKind.SUBMISSION,
            name="Bad",
            source=[b"x"],
            received_at=received,
        )
