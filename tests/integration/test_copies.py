"""Copies held outside Accord: who sees the page, who may attest deletion, and that nobody can
attest for another organisation's copy."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.access.enums import ResourceKind
from accord.audit.actor import Actor
from accord.organisations.enums import Role
from accord.vault import actions, copies
from accord.vault.models import ExtractCopy

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    last_seq,
    person,
    signed_in_client,
    texts,
)

PAGE = "/organisation/copies/"
STATEMENT = "Deleted from the analysts' shared drive; recycle bin emptied"


def attest_url(copy: ExtractCopy) -> str:
    return f"/organisation/copies/{copy.pk}/attest/"


@pytest.fixture
def copy(council, other_council) -> ExtractCopy:
    """A copy of the council's data held by the other council."""
    task = Actor.task("extract_build")
    obj = actions.store(
        by=task,
        organisation=council,
        kind=ResourceKind.EXTRACT,
        name="Free school meals eligibility extract",
        source=[b"upn,eligible\n"],
    )
    return copies.record_release(by=task, obj=obj, recipient=other_council)


@pytest.mark.parametrize("role", [Role.DPO, Role.INFORMATION_ASSET_OWNER, Role.ORGANISATION_ADMIN])
def test_the_recipients_governance_roles_attest(other_council, copy, role) -> None:
    client = signed_in_client(person(other_council, role), other_council)
    listing = client.get(PAGE)
    assert listing.status_code == 200
    assert "Free school meals eligibility extract" in texts(listing)
    assert "Confirm deleted" in texts(listing)
    assert client.get(attest_url(copy)).status_code == 200
    before = last_seq()
    response = client.post(attest_url(copy), {"statement": STATEMENT, "confirm": "on"})
    assert response.status_code == 302
    assert response.url == PAGE
    copy.refresh_from_db()
    assert copy.is_attested
    assert copy.statement == STATEMENT
    assert actions_after(before) == ["vault.copy.deletion_attested"]
    assert_not_found_page(client.get(attest_url(copy)))  # nothing left to attest


def test_the_form_says_what_is_missing(other_council, copy) -> None:
    client = signed_in_client(person(other_council, Role.DPO), other_council)
    before = last_seq()
    response = client.post(attest_url(copy), {"statement": ""})
    assert response.status_code == 200
    body = texts(response)
    assert "Say how the copies were deleted" in body
    assert "Confirm that every copy has been deleted" in body
    assert actions_after(before) == []
    copy.refresh_from_db()
    assert not copy.is_attested


def test_the_controller_sees_the_copy_but_cannot_attest_for_the_recipient(council, copy) -> None:
    client = signed_in_client(person(council, Role.DPO), council)
    listing = client.get(PAGE)
    assert listing.status_code == 200
    assert "Kent County Council" in texts(listing)  # who holds it
    assert "Confirm deleted" not in texts(listing)
    assert_not_found_page(client.get(attest_url(copy)))
    assert_not_found_page(client.post(attest_url(copy), {"statement": STATEMENT, "confirm": "on"}))
    copy.refresh_from_db()
    assert not copy.is_attested


@pytest.mark.parametrize("role", [Role.DATA_OFFICER, Role.SIRO])
def test_readers_who_may_not_attest_see_the_page_only(other_council, copy, role) -> None:
    client = signed_in_client(person(other_council, role), other_council)
    listing = client.get(PAGE)
    assert listing.status_code == 200
    assert "Confirm deleted" not in texts(listing)
    assert_forbidden_page(client.get(attest_url(copy)))
    assert_forbidden_page(client.post(attest_url(copy), {"statement": STATEMENT, "confirm": "on"}))


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER])
def test_other_roles_are_refused(other_council, copy, role) -> None:
    client = signed_in_client(person(other_council, role), other_council)
    assert_forbidden_page(client.get(PAGE))
    assert_forbidden_page(client.get(attest_url(copy)))


def test_signed_out_people_are_sent_to_sign_in(copy) -> None:
    client = Client()
    for url in (PAGE, attest_url(copy)):
        assert_redirects_to_sign_in(client.get(url), url)
    response = client.post(attest_url(copy), {"statement": STATEMENT, "confirm": "on"})
    assert_redirects_to_sign_in(response, attest_url(copy))
    copy.refresh_from_db()
    assert not copy.is_attested
