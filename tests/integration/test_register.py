"""The public register: open to anyone, only agreements in force, searchable, as a page and as
JSON, and never a person's name or contact details."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accord.agreements import actions
from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from tests.factories import MembershipFactory, OrganisationFactory
from tests.unit.agreements.builders import QUIET_DAY, london_fsm

pytestmark = pytest.mark.django_db
TITLE = "Cross-borough FSM eligibility sharing"


def person(organisation, *roles: Role) -> Actor:
    membership = MembershipFactory(organisation=organisation, roles=[str(r) for r in roles])
    return actor_for(membership.user, membership)


def agreement(status: str, title: str = TITLE) -> Agreement:
    """The London FSM agreement between two new boroughs, taken as far as ``status``."""
    hackney = OrganisationFactory(sector=Sector.LONDON_BOROUGH)
    islington = OrganisationFactory(sector=Sector.LONDON_BOROUGH)
    document = london_fsm().model_copy(update={"signatories": [], "title": title})
    dpo = person(hackney, Role.DPO, Role.SENIOR_MANAGER)
    made = actions.start_draft(
        by=dpo, document=document, parties={"lbh": hackney, "lbi": islington}, today=QUIET_DAY
    )
    if status == "draft":
        return made
    actions.submit(by=dpo, agreement=made)
    if status == "in_review":
        return made
    actions.sign(by=dpo, agreement=made, role="dpo", today=QUIET_DAY)
    actions.sign(by=dpo, agreement=made, role="senior_manager", today=QUIET_DAY)
    actions.sign(by=person(islington, Role.DPO), agreement=made, role="dpo", today=QUIET_DAY)
    actions.activate(by=dpo, agreement=made, today=QUIET_DAY)
    if status == "suspended":
        actions.suspend(by=dpo, agreement=made, reason="Investigating a breach")
    made.refresh_from_db()
    assert made.status == status
    return made


def test_anyone_reads_the_register_without_signing_in() -> None:
    active = agreement("active")
    page = Client().get("/register/")
    assert page.status_code == 200
    text = page.content.decode()
    assert TITLE in text
    assert "Information sharing protocol" in text or "information sharing" in text.lower()
    parties = sorted(p.organisation.name for p in active.parties.all())
    for name in parties:
        assert name in text
    listing = Client().get("/register.json").json()
    assert listing["count"] == 1
    entry = listing["agreements"][0]
    assert entry["id"] == str(active.pk)
    assert entry["parties"] == parties
    assert entry["start_date"] == "2025-09-01"
    assert entry["statutory_gateways"]


@pytest.mark.parametrize("status", ["draft", "in_review", "suspended"])
def test_only_agreements_in_force_are_listed(status) -> None:
    agreement(status, title="Not in force")
    assert "Not in force" not in Client().get("/register/").content.decode()
    assert Client().get("/register.json").json() == {"agreements": [], "count": 0}


def test_search_matches_every_word() -> None:
    agreement("active")
    agreement("active", title="Care home status to the combined authority")
    found = Client().get("/register.json", {"q": "cross-borough sharing"}).json()
    assert [a["title"] for a in found["agreements"]] == [TITLE]
    both = Client().get("/register.json", {"q": "auto-enrol pupils"}).json()  # both purposes
    assert both["count"] == 2
    none = Client().get("/register/", {"q": "immigration"})
    assert "No agreement in force matches" in none.content.decode()


def test_no_person_is_named_in_the_register() -> None:
    active = agreement("active")
    document = actions.document_of(active)
    names = {s.name for s in document.signatories} | {
        contact.name
        for party in document.parties
        if party.contacts
        for contact in (party.contacts.dpo, party.contacts.operational)
        if contact and contact.name
    }
    assert names
    page = Client().get("/register/").content.decode()
    data = json.dumps(Client().get("/register.json").json())
    for name in names:
        assert name not in page
        assert name not in data
