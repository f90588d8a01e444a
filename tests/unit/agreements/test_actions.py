"""Agreement actions on the real database: draft, save, submit, sign by role, approve when no
blocker remains, activate from the start date, suspend, resume, terminate — each audited, and
each refusal (wrong organisation, wrong role, wrong status, a blocker) recorded."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements import actions
from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from tests.factories import MembershipFactory, OrganisationFactory

from .builders import QUIET_DAY, london_fsm

pytestmark = pytest.mark.django_db


@pytest.fixture
def boroughs():
    hackney = OrganisationFactory(
        name="Hackney", sector=Sector.LONDON_BOROUGH, gss_code="E09000012"
    )
    islington = OrganisationFactory(
        name="Islington", sector=Sector.LONDON_BOROUGH, gss_code="E09000019"
    )
    return hackney, islington


def person(organisation, *roles: Role) -> Actor:
    membership = MembershipFactory(organisation=organisation, roles=[str(r) for r in roles])
    return actor_for(membership.user, membership)


def unsigned():
    document = london_fsm()
    return document.model_copy(update={"signatories": []})


def actions_since(seq: int) -> list[tuple[str, str]]:
    """The agreement's own events (the notices each step sends are audited too, and tested in
    test_notices)."""
    events = AuditEvent.objects.filter(seq__gt=seq, action__startswith="agreement.")
    return [(e.action, e.outcome) for e in events.order_by("seq")]


def last_seq() -> int:
    last = AuditEvent.objects.order_by("-seq").first()
    return last.seq if last else 0


def draft(boroughs, by: Actor | None = None) -> Agreement:
    hackney, islington = boroughs
    return actions.start_draft(
        by=by or person(hackney, Role.DATA_OFFICER),
        document=unsigned(),
        parties={"lbh": hackney, "lbi": islington},
        today=QUIET_DAY,
    )


def test_from_draft_to_active_with_every_step_audited(boroughs) -> None:
    hackney, islington = boroughs
    before = last_seq()
    agreement = draft(boroughs)
    assert agreement.status == "draft"
    assert actions.document_of(agreement).id == str(agreement.pk)
    drafted = AuditEvent.objects.get(seq__gt=before, action="agreement.drafted")
    assert drafted.details["parties"] == ["Hackney", "Islington"]
    assert drafted.details["blockers"] > 0  # nobody has signed yet

    actions.submit(by=person(islington, Role.ANALYST), agreement=agreement)
    hackney_dpo = person(hackney, Role.DPO, Role.SENIOR_MANAGER)
    actions.sign(by=hackney_dpo, agreement=agreement, role="dpo", today=QUIET_DAY)
    actions.sign(by=hackney_dpo, agreement=agreement, role="senior_manager", today=QUIET_DAY)
    agreement.refresh_from_db()
    assert agreement.status == "in_review"  # Islington has not signed
    actions.sign(by=person(islington, Role.DPO), agreement=agreement, role="dpo", today=QUIET_DAY)
    agreement.refresh_from_db()
    assert agreement.status == "approved"
    signed = actions.document_of(agreement).signatories
    assert [(s.party_id, s.role) for s in signed] == [
        ("lbh", "dpo"),
        ("lbh", "senior_manager"),
        ("lbi", "dpo"),
    ]

    actions.activate(by=hackney_dpo, agreement=agreement, today=QUIET_DAY)
    agreement.refresh_from_db()
    assert agreement.status == "active"
    assert agreement.activated_at is not None
    assert actions.document_of(agreement).status == "active"
    assert [a for a, _ in actions_since(before)] == [
        "agreement.drafted",
        "agreement.in_review",
        "agreement.signed",
        "agreement.signed",
        "agreement.signed",
        "agreement.approved",
        "agreement.active",
    ]


def test_only_a_party_may_draft_edit_or_move_it(boroughs) -> None:
    outsider = person(OrganisationFactory(name="Camden"), Role.DPO)
    before = last_seq()
    with pytest.raises(NotPermitted):
        draft(boroughs, by=outsider)
    agreement = draft(boroughs)
    with pytest.raises(NotPermitted):
        actions.save_draft(by=outsider, agreement=agreement, document=unsigned())
    with pytest.raises(NotPermitted):
        actions.submit(by=outsider, agreement=agreement)
    refusals = [a for a, outcome in actions_since(before) if outcome == "refused"]
    assert refusals == ["agreement.drafted", "agreement.draft_saved", "agreement.in_review"]


def test_every_party_must_be_an_organisation(boroughs) -> None:
    hackney, _ = boroughs
    with pytest.raises(Refused, match="matched to an organisation"):
        actions.start_draft(
            by=person(hackney, Role.DPO), document=unsigned(), parties={"lbh": hackney}
        )


def test_drafts_are_saved_and_then_frozen_by_submission(boroughs) -> None:
    hackney, _ = boroughs
    officer = person(hackney, Role.DATA_OFFICER)
    agreement = draft(boroughs, by=officer)
    renamed = unsigned().model_copy(update={"title": "FSM auto-enrolment, Hackney and Islington"})
    actions.save_draft(by=officer, agreement=agreement, document=renamed, today=QUIET_DAY)
    agreement.refresh_from_db()
    assert agreement.title == "FSM auto-enrolment, Hackney and Islington"
    assert agreement.versions.count() == 1
    actions.submit(by=officer, agreement=agreement)
    with pytest.raises(Refused, match="Only a draft can be edited"):
        actions.save_draft(by=officer, agreement=agreement, document=renamed)


def test_signing_needs_the_role_held_review_status_and_only_once(boroughs) -> None:
    hackney, _ = boroughs
    agreement = draft(boroughs)
    dpo = person(hackney, Role.DPO)
    with pytest.raises(Refused, match="Only an agreement in review can be signed"):
        actions.sign(by=dpo, agreement=agreement, role="dpo")
    actions.submit(by=dpo, agreement=agreement)
    with pytest.raises(NotPermitted, match="a role you hold"):
        actions.sign(by=dpo, agreement=agreement, role="siro")
    with pytest.raises(NotPermitted):
        actions.sign(by=person(hackney, Role.ANALYST), agreement=agreement, role="analyst")
    actions.sign(by=dpo, agreement=agreement, role="dpo", today=QUIET_DAY)
    with pytest.raises(Refused, match="already signed as dpo"):
        actions.sign(by=person(hackney, Role.DPO), agreement=agreement, role="dpo")


def test_a_drafting_blocker_stops_it_going_for_signature_until_fixed(boroughs) -> None:
    hackney, islington = boroughs
    document = unsigned().model_copy(
        update={"children_data": True, "children_compelling_reason": None}
    )
    agreement = actions.start_draft(
        by=person(hackney, Role.DPO),
        document=document,
        parties={"lbh": hackney, "lbi": islington},
    )
    with pytest.raises(Refused, match="compelling reason"):
        actions.submit(by=person(hackney, Role.DPO), agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    fixed = document.model_copy(update={"children_compelling_reason": "Safeguarding."})
    actions.save_draft(by=person(hackney, Role.DPO), agreement=agreement, document=fixed)
    actions.submit(by=person(hackney, Role.DPO), agreement=agreement)
    agreement.refresh_from_db()
    assert agreement.status == "in_review"


def test_not_before_the_start_date(boroughs) -> None:
    hackney, islington = boroughs
    agreement = draft(boroughs)
    dpo = person(hackney, Role.DPO, Role.SENIOR_MANAGER)
    actions.submit(by=dpo, agreement=agreement)
    actions.sign(by=dpo, agreement=agreement, role="dpo", today=QUIET_DAY)
    actions.sign(by=dpo, agreement=agreement, role="senior_manager", today=QUIET_DAY)
    actions.sign(by=person(islington, Role.DPO), agreement=agreement, role="dpo", today=QUIET_DAY)
    with pytest.raises(Refused, match="starts on 1 September 2025"):
        actions.activate(by=dpo, agreement=agreement, today=dt.date(2025, 8, 1))


def test_suspend_resume_terminate_and_nothing_after(boroughs) -> None:
    hackney, islington = boroughs
    agreement = draft(boroughs)
    dpo = person(hackney, Role.DPO, Role.SENIOR_MANAGER)
    actions.submit(by=dpo, agreement=agreement)
    actions.sign(by=dpo, agreement=agreement, role="dpo", today=QUIET_DAY)
    actions.sign(by=dpo, agreement=agreement, role="senior_manager", today=QUIET_DAY)
    actions.sign(by=person(islington, Role.DPO), agreement=agreement, role="dpo", today=QUIET_DAY)
    actions.activate(by=dpo, agreement=agreement, today=QUIET_DAY)
    with pytest.raises(Refused, match="Say why"):
        actions.suspend(by=dpo, agreement=agreement, reason=" ")
    actions.suspend(by=dpo, agreement=agreement, reason="Breach under investigation")
    agreement.refresh_from_db()
    assert agreement.status == "suspended"
    actions.resume(by=dpo, agreement=agreement, today=QUIET_DAY)
    actions.terminate(by=dpo, agreement=agreement, reason="Service decommissioned")
    agreement.refresh_from_db()
    assert (agreement.status, agreement.ended_at is not None) == ("terminated", True)
    with pytest.raises(Refused, match="cannot change any more"):
        actions.resume(by=dpo, agreement=agreement, today=QUIET_DAY)


def test_each_draft_gets_its_own_id_even_from_the_same_document(boroughs) -> None:
    first = draft(boroughs)
    second = draft(boroughs)
    assert first.pk != second.pk
    assert actions.document_of(second).id == str(second.pk)


def _active(boroughs) -> Agreement:
    hackney, islington = boroughs
    agreement = draft(boroughs)
    dpo = person(hackney, Role.DPO, Role.SENIOR_MANAGER)
    actions.submit(by=dpo, agreement=agreement)
    actions.sign(by=dpo, agreement=agreement, role="dpo", today=QUIET_DAY)
    actions.sign(by=dpo, agreement=agreement, role="senior_manager", today=QUIET_DAY)
    actions.sign(by=person(islington, Role.DPO), agreement=agreement, role="dpo", today=QUIET_DAY)
    return agreement


@pytest.mark.parametrize(
    ("action", "kwargs", "audited_as"),
    [
        (actions.sign, {"role": "dpo", "today": QUIET_DAY}, "agreement.signed"),
        (actions.activate, {"today": QUIET_DAY}, "agreement.active"),
        (actions.suspend, {"reason": "I say so"}, "agreement.suspended"),
        (actions.resume, {"today": QUIET_DAY}, "agreement.active"),
        (actions.terminate, {"reason": "I say so"}, "agreement.terminated"),
    ],
)
def test_another_organisation_can_never_move_an_agreement(
    boroughs, action, kwargs, audited_as
) -> None:
    """Even a DPO, and whatever the agreement's status: only its parties act on it."""
    agreement = _active(boroughs)
    outsider = person(OrganisationFactory(name="Camden"), Role.DPO)
    before = last_seq()
    with pytest.raises(NotPermitted, match="parties to this agreement"):
        action(by=outsider, agreement=agreement, **kwargs)
    assert actions_since(before) == [(audited_as, "refused")]
    agreement.refresh_from_db()
    assert agreement.status == "approved"


def test_a_reason_too_long_to_read_is_refused(boroughs) -> None:
    hackney, _islington = boroughs
    agreement = draft(boroughs)
    with pytest.raises(Refused, match="under 2000 characters"):
        actions.return_for_changes(
            by=person(hackney, Role.DPO), agreement=agreement, reason="x" * 2001
        )
