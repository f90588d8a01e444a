"""Notices at each step of an agreement: every party organisation gets one, in plain English,
with what to do next and a link; email goes only to members holding the roles the step
concerns; no other organisation hears of it, and no person is named."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings

from accord.agreements import actions, notices
from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.notifications.models import Notification, Topic
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation, User
from tests.factories import MembershipFactory, OrganisationFactory

from .builders import QUIET_DAY, london_fsm

pytestmark = pytest.mark.django_db

# Every role a member can hold, one member each, so each test can say exactly who was emailed.
EVERY_ROLE = tuple(Role)


@dataclass
class Party:
    organisation: Organisation
    actors: dict[Role, Actor]  # one member per role
    emails: dict[Role, str]

    def emails_for(self, roles) -> set[str]:
        return {self.emails[Role(role)] for role in roles}

    def received(self, emailed: set[str]) -> set[str]:
        """Which of this organisation's members were among those emailed."""
        return emailed & set(self.emails.values())


def make_party(name: str, gss_code: str) -> Party:
    organisation = OrganisationFactory(name=name, sector=Sector.LONDON_BOROUGH, gss_code=gss_code)
    actors, emails = {}, {}
    for role in EVERY_ROLE:
        # No password: hashing one for each of these members would only slow the tests.
        email = f"{role.value}@{name.lower()}.example.org"
        user = User.objects.create(username=email, email=email)
        membership = MembershipFactory(user=user, organisation=organisation, roles=[role.value])
        actors[role] = actor_for(membership.user, membership)
        emails[role] = membership.user.email
    return Party(organisation, actors, emails)


def make_parties() -> tuple[Party, Party]:
    return make_party("Hackney", "E09000012"), make_party("Islington", "E09000019")


def drafted(hackney: Party, islington: Party) -> Agreement:
    return actions.start_draft(
        by=hackney.actors[Role.DATA_OFFICER],
        document=london_fsm().model_copy(update={"signatories": []}),
        parties={"lbh": hackney.organisation, "lbi": islington.organisation},
        today=QUIET_DAY,
    )


def approved(hackney: Party, islington: Party) -> Agreement:
    agreement = drafted(hackney, islington)
    actions.submit(by=hackney.actors[Role.DATA_OFFICER], agreement=agreement, today=QUIET_DAY)
    for party, role in ((hackney, Role.DPO), (hackney, Role.SENIOR_MANAGER), (islington, Role.DPO)):
        actions.sign(by=party.actors[role], agreement=agreement, role=role.value, today=QUIET_DAY)
    agreement.refresh_from_db()
    assert agreement.status == "approved"
    return agreement


def active(hackney: Party, islington: Party) -> Agreement:
    agreement = approved(hackney, islington)
    actions.activate(by=hackney.actors[Role.DPO], agreement=agreement, today=QUIET_DAY)
    agreement.refresh_from_db()
    return agreement


@pytest.fixture
def parties() -> tuple[Party, Party]:
    return make_parties()


@pytest.fixture
def step(mailoutbox, django_capture_on_commit_callbacks):
    """Run an action with its after-commit email sent; the notices it made and who was
    emailed."""

    def run(action, **kwargs) -> tuple[list[Notification], set[str]]:
        newest = Notification.objects.order_by("-id").first()
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            action(**kwargs)
        made = list(
            Notification.objects.filter(id__gt=newest.id if newest else 0)
            .select_related("organisation")
            .order_by("id")
        )
        assert len(mailoutbox) == len([n for n in made if n.emailed_to])
        return made, {address for message in mailoutbox for address in message.to}

    return run


def by_organisation(made: list[Notification]) -> dict[str, Notification]:
    names = [n.organisation.name for n in made]
    assert len(names) == len(set(names)), "one notice per organisation per step"
    return {n.organisation.name: n for n in made}


def test_sent_for_review_tells_each_party_what_it_must_sign(parties, step) -> None:
    hackney, islington = parties
    agreement = drafted(hackney, islington)
    made, emailed = step(
        actions.submit, by=hackney.actors[Role.DATA_OFFICER], agreement=agreement, today=QUIET_DAY
    )
    notices_ = by_organisation(made)
    assert set(notices_) == {"Hackney", "Islington"}
    for notice in made:
        assert notice.topic == Topic.AGREEMENT_STEP
        assert notice.subject == f"Review and sign “{agreement.title}”"
        assert notice.link == f"/agreements/{agreement.pk}/"
        assert "sent to Hackney and Islington for review and signature" in notice.body
        assert "return it for changes" in notice.body
    for name in ("Hackney", "Islington"):
        # Public bodies sharing personal data: their DPO must sign.
        assert (
            f"sign for {name}: it needs a signature from its Data Protection Officer (DPO)."
            in notices_[name].body
        )
    # Signatories and governance leads, not those who only handle or read the data.
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.SIGNING_ROLES)
        for role in (Role.DATA_OFFICER, Role.ANALYST, Role.VIEWER):
            assert party.emails[role] not in emailed
        assert notices_[party.organisation.name].emailed_to == len(notices.SIGNING_ROLES)


def test_each_signature_is_announced_with_who_is_still_to_sign(parties, step) -> None:
    hackney, islington = parties
    agreement = drafted(hackney, islington)
    actions.submit(by=hackney.actors[Role.DPO], agreement=agreement, today=QUIET_DAY)

    made, emailed = step(
        actions.sign,
        by=hackney.actors[Role.SENIOR_MANAGER],
        agreement=agreement,
        role="senior_manager",
        today=QUIET_DAY,
    )
    notices_ = by_organisation(made)
    assert {n.subject for n in made} == {f"Hackney signed “{agreement.title}”"}
    assert "Hackney signed" in notices_["Islington"].body
    assert "as Senior manager" in notices_["Islington"].body
    # A senior manager's signature is not the DPO's: each party still needs its DPO.
    for name in ("Hackney", "Islington"):
        assert f"sign for {name}: it needs a signature from its Data Protection Officer" in (
            notices_[name].body
        )
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.SIGNING_ROLES)

    made, _ = step(
        actions.sign, by=hackney.actors[Role.DPO], agreement=agreement, role="dpo", today=QUIET_DAY
    )
    notices_ = by_organisation(made)
    assert "Still waiting for signatures from Islington." in notices_["Hackney"].body
    assert "sign for Islington" in notices_["Islington"].body

    made, emailed = step(
        actions.sign,
        by=islington.actors[Role.DPO],
        agreement=agreement,
        role="dpo",
        today=QUIET_DAY,
    )
    # The last signature approves it: both steps are told to both parties.
    assert [(n.organisation.name, n.subject.split(" ")[0].rstrip(":")) for n in made] == [
        ("Hackney", "Islington"),
        ("Islington", "Islington"),
        ("Hackney", "Approved"),
        ("Islington", "Approved"),
    ]
    assert "Every party has now given the signatures its part requires" in made[0].body
    assert "It can be made active from 1 September 2025 by a DPO, SIRO" in made[2].body
    assert "Nothing may be shared under it until it is active" in made[2].body
    # The approval also reaches those who prepare agreements (data officers and analysts draft
    # them), so they know it can come into force; viewers hear nothing.
    for party in parties:
        assert party.emails[Role.DATA_OFFICER] in emailed
        assert party.emails[Role.ANALYST] in emailed
        assert party.emails[Role.VIEWER] not in emailed
        assert party.received(emailed) == party.emails_for(notices.PREPARING_ROLES)


def test_in_force_suspended_resumed_and_ended_reach_the_data_roles(parties, step) -> None:
    hackney, islington = parties
    agreement = approved(hackney, islington)
    dpo = hackney.actors[Role.DPO]

    made, emailed = step(actions.activate, by=dpo, agreement=agreement, today=QUIET_DAY)
    notices_ = by_organisation(made)
    assert notices_["Islington"].subject == f"In force: “{agreement.title}”"
    assert "is now active" in notices_["Islington"].body
    assert "until 31 August 2027" in notices_["Islington"].body
    assert "next review is due by 1 September 2026" in notices_["Islington"].body
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.DATA_ROLES)
        assert party.emails[Role.ANALYST] in party.received(emailed)
        assert party.emails[Role.DATA_OFFICER] in party.received(emailed)
        assert party.emails[Role.VIEWER] not in party.received(emailed)
        assert party.emails[Role.CHIEF_EXECUTIVE] not in party.received(emailed)

    made, emailed = step(
        actions.suspend, by=dpo, agreement=agreement, reason="Breach under investigation"
    )
    for notice in made:
        assert notice.subject == f"Suspended: “{agreement.title}”"
        assert "suspended by Hackney" in notice.body
        assert "Reason given: Breach under investigation." in notice.body
        assert "Nothing may be shared under it until it is resumed" in notice.body
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.DATA_ROLES)

    made, _ = step(actions.resume, by=dpo, agreement=agreement, today=QUIET_DAY)
    assert all("resumed and is active again" in n.body for n in made)

    made, emailed = step(
        actions.terminate, by=dpo, agreement=agreement, reason="Service decommissioned"
    )
    assert len(made) == 2
    for notice in made:
        assert notice.subject == f"Ended: “{agreement.title}”"
        assert "Reason given: Service decommissioned." in notice.body
        assert "Nothing more may be shared under it" in notice.body
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.DATA_ROLES)


def test_returned_for_changes_says_why_and_that_signatures_are_void(parties, step) -> None:
    hackney, islington = parties
    agreement = drafted(hackney, islington)
    actions.submit(by=hackney.actors[Role.DPO], agreement=agreement, today=QUIET_DAY)
    made, emailed = step(
        actions.return_for_changes,
        by=islington.actors[Role.DPO],
        agreement=agreement,
        reason="Add the school census fields",
    )
    assert len(made) == 2
    for notice in made:
        assert notice.subject == f"Returned for changes: “{agreement.title}”"
        assert "by Islington" in notice.body
        assert "Add the school census fields" in notice.body
        assert "Signatures given so far no longer count" in notice.body
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.PREPARING_ROLES)


def test_no_other_organisation_hears_and_no_person_is_named(parties, step) -> None:
    hackney, islington = parties
    camden = make_party("Camden", "E09000007")
    agreement = drafted(hackney, islington)
    made, _ = step(actions.submit, by=hackney.actors[Role.DPO], agreement=agreement)
    made += step(
        actions.sign, by=hackney.actors[Role.DPO], agreement=agreement, role="dpo", today=QUIET_DAY
    )[0]
    assert not Notification.objects.filter(organisation=camden.organisation).exists()
    signer = hackney.actors[Role.DPO].label
    for notice in made:
        assert signer not in notice.subject
        assert signer not in notice.body


def test_the_email_links_to_the_agreement(parties, mailoutbox, django_capture_on_commit_callbacks):
    hackney, islington = parties
    agreement = drafted(hackney, islington)
    with django_capture_on_commit_callbacks(execute=True):
        actions.submit(by=hackney.actors[Role.DPO], agreement=agreement)
    assert mailoutbox
    for message in mailoutbox:
        assert f"{settings.SITE_URL}/agreements/{agreement.pk}/" in message.body
        assert message.subject == f"Review and sign “{agreement.title}”"


def test_an_unknown_step_sends_nothing(parties) -> None:
    hackney, islington = parties
    agreement = drafted(hackney, islington)
    before = Notification.objects.count()
    notices.on_agreement_event(
        by=hackney.actors[Role.DPO], agreement=agreement, action="agreement.mystery", details={}
    )
    assert Notification.objects.count() == before
