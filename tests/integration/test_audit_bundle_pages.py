"""Downloading the organisation's audit bundle from the audit log page: who may, and that it
holds this organisation's events and never another's."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accord.audit.bundle import DOWNLOADED_ACTION
from accord.audit.offline import verify_bundle
from accord.audit.signing import public_key_pem
from accord.organisations.enums import Role

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_redirects_to_sign_in,
    last_seq,
    person,
    signed_in_client,
    texts,
)
from .usage_helpers import OUTSIDER_PURPOSE, make_uses

BUNDLE = "/organisation/audit/bundle.json"


@pytest.fixture
def uses(council, other_council):
    return make_uses(council, other_council)


def test_signed_out_goes_to_sign_in(client: Client) -> None:
    before = last_seq()
    assert_redirects_to_sign_in(client.get(BUNDLE), BUNDLE)
    assert actions_after(before) == []


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DATA_OFFICER, Role.VIEWER])
def test_members_without_an_audit_role_are_refused(council, uses, role) -> None:
    client = signed_in_client(person(council, role), council)
    before = last_seq()
    assert_forbidden_page(client.get(BUNDLE))
    assert DOWNLOADED_ACTION not in actions_after(before)


@pytest.mark.parametrize("role", [Role.ORGANISATION_ADMIN, Role.DPO, Role.SIRO])
def test_audit_readers_download_their_events(council, uses, role) -> None:
    client = signed_in_client(person(council, role), council)
    page = texts(client.get("/organisation/audit/"))
    assert f'href="{BUNDLE}"' in page
    assert "Download our audit events" in page
    before = last_seq()
    response = client.get(BUNDLE)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    document = json.loads(b"".join(response.streaming_content))
    assert actions_after(before) == [DOWNLOADED_ACTION]
    org = str(council.pk)
    assert all(org in (e["organisation"], e["subject_organisation"]) for e in document["events"])
    assert OUTSIDER_PURPOSE in {e["purpose"] for e in document["events"]}
    assert DOWNLOADED_ACTION in {e["action"] for e in document["events"]}  # its own record
    assert "Tunbridge Wells private data" not in json.dumps(document)
    assert verify_bundle(document, public_key_pem=public_key_pem()).ok


def test_another_organisation_gets_only_its_own(council, uses) -> None:
    third = uses.third
    client = signed_in_client(person(third, Role.DPO), third)
    document = json.loads(b"".join(client.get(BUNDLE).streaming_content))
    assert document["organisation"]["id"] == str(third.pk)
    text = json.dumps(document)
    assert OUTSIDER_PURPOSE not in text
    assert "Maidstone" not in text
