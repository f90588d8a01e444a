"""Deletion certificates and notices: who may see them, that an organisation sees only those
that concern it, and the JSON download (audited)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accord.access.enums import ResourceKind
from accord.audit.actor import Actor
from accord.organisations.enums import Role
from accord.vault import actions
from accord.vault.models import VaultObject

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    join,
    last_seq,
    person,
    signed_in_client,
    texts,
)

LIST = "/organisation/deletions/"
NOTICES = "/organisation/notices/"


def page(obj: VaultObject) -> str:
    return f"/organisation/deletions/{obj.id}/"


def download(obj: VaultObject) -> str:
    return f"/organisation/deletions/{obj.id}.json"


@pytest.fixture
def deleted(council) -> VaultObject:
    """A council dataset that retention has deleted."""
    task = Actor.task("retention")
    obj = actions.store(
        by=task,
        organisation=council,
        kind=ResourceKind.SUBMISSION,
        name="Household risk index, pilot",
        source=[b"uprn,risk\n100012345678,high\n"],
    )
    return actions.crypto_shred(by=task, obj=obj, reason="its retention deadline passed")


@pytest.mark.parametrize(
    "role",
    [
        Role.DPO,
        Role.ORGANISATION_ADMIN,
        Role.SIRO,
        Role.INFORMATION_ASSET_OWNER,
        Role.DATA_OFFICER,
    ],
)
def test_governance_roles_see_the_list_the_page_and_the_download(council, deleted, role) -> None:
    client = signed_in_client(person(council, role), council)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "Household risk index, pilot" in texts(listing)
    shown = client.get(page(deleted))
    assert shown.status_code == 200
    body = texts(shown)
    assert deleted.sha256 in body
    assert "Its retention deadline passed" in body
    assert "cannot be recovered" in body
    before = last_seq()
    got = client.get(download(deleted))
    assert got.status_code == 200
    assert got["Content-Type"] == "application/json"
    assert "attachment" in got["Content-Disposition"]
    document = json.loads(got.content)
    assert document["object_id"] == str(deleted.id)
    assert document["audit_event"]["action"] == "vault.object.shredded"
    assert actions_after(before) == ["vault.certificate.downloaded"]


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER, Role.CALDICOTT_GUARDIAN])
def test_other_roles_are_refused(council, deleted, role) -> None:
    client = signed_in_client(person(council, role), council)
    for url in (LIST, page(deleted), download(deleted)):
        assert_forbidden_page(client.get(url))


def test_another_organisation_sees_none_of_it(council, other_council, deleted) -> None:
    client = signed_in_client(person(other_council, Role.DPO), other_council)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "Household risk index" not in texts(listing)
    before = last_seq()
    assert_not_found_page(client.get(page(deleted)))
    assert_not_found_page(client.get(download(deleted)))
    assert "vault.certificate.downloaded" not in actions_after(before)


def test_a_dpo_of_both_sees_it_only_while_acting_for_the_council(
    council, other_council, deleted
) -> None:
    user = person(other_council, Role.DPO)
    join(user, council, Role.DPO)
    client = signed_in_client(user, other_council)
    assert_not_found_page(client.get(page(deleted)))
    client = signed_in_client(user, council)
    assert client.get(page(deleted)).status_code == 200


def test_an_object_not_deleted_has_no_certificate(council) -> None:
    obj = actions.store(
        by=Actor.task("validation"),
        organisation=council,
        kind=ResourceKind.SUBMISSION,
        name="Still held",
        source=[b"rows"],
    )
    client = signed_in_client(person(council, Role.DPO), council)
    assert_not_found_page(client.get(page(obj)))
    assert_not_found_page(client.get(download(obj)))


def test_signed_out_people_are_sent_to_sign_in(deleted) -> None:
    client = Client()
    for url in (LIST, page(deleted), download(deleted), NOTICES):
        assert_redirects_to_sign_in(client.get(url), url)


def test_every_member_reads_their_own_notices_only(council, other_council, deleted) -> None:
    viewer = signed_in_client(person(council, Role.VIEWER), council)
    shown = viewer.get(NOTICES)
    assert shown.status_code == 200
    assert "Data deleted: Household risk index, pilot" in texts(shown)
    outsider = signed_in_client(person(other_council, Role.DPO), other_council)
    shown = outsider.get(NOTICES)
    assert shown.status_code == 200
    assert "Household risk index" not in texts(shown)


def test_people_without_an_organisation_are_refused_notices() -> None:
    client = signed_in_client(person(None))
    assert_forbidden_page(client.get(NOTICES))
