"""The audit bundle and the signed checkpoints through the API: the caller's organisation's own
events only, checkable offline, and refused without a usable token or an audit role."""

from __future__ import annotations

import json

import pytest

from accord.audit.actor import Actor
from accord.audit.bundle import DOWNLOADED_ACTION
from accord.audit.checkpoints import create_checkpoint
from accord.audit.offline import verify_bundle
from accord.audit.signing import public_key_pem
from accord.organisations import actions
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role

from .api_helpers import Api, detail, member, stored, token_for, token_of
from .helpers import actions_after, last_seq
from .usage_helpers import OUTSIDER_PURPOSE, make_uses


@pytest.fixture
def uses(council, other_council):
    made = make_uses(council, other_council)
    create_checkpoint(by=Actor.system("test"))
    return made


def bundle_of(response) -> dict:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    return json.loads(b"".join(response.streaming_content))


def test_no_token_and_revoked_tokens_are_refused(council, uses) -> None:
    for path in ("/audit/bundle/", "/audit/checkpoints/"):
        assert Api().get(path).status_code == 401
    membership = member(council, Role.DPO)
    secret = token_of(membership)
    actions.revoke_api_token(by=actor_for(membership.user, membership), token=stored(secret))
    response = Api(secret).get("/audit/bundle/")
    assert response.status_code == 401
    assert detail(response) == "This API token has been revoked."


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DATA_OFFICER, Role.VIEWER])
def test_roles_without_the_audit_log_are_refused(council, uses, role) -> None:
    before = last_seq()
    response = Api(token_for(council, role)).get("/audit/bundle/")
    assert response.status_code == 403
    assert DOWNLOADED_ACTION not in actions_after(before)


def test_the_bundle_holds_the_organisations_events_and_verifies(council, other_council, uses):
    before = last_seq()
    document = bundle_of(Api(token_for(council, Role.DPO)).get("/audit/bundle/"))
    assert DOWNLOADED_ACTION in actions_after(before)
    assert document["format"] == "accord-audit-bundle"
    assert document["organisation"] == {"id": str(council.pk), "name": council.name}
    org = str(council.pk)
    assert document["events"]
    for event in document["events"]:
        assert org in (event["organisation"], event["subject_organisation"])
    assert OUTSIDER_PURPOSE in {e["purpose"] for e in document["events"]}  # a use by Kent
    assert "Tunbridge Wells private data" not in json.dumps(document)
    assert document["checkpoints"]
    result = verify_bundle(document, public_key_pem=public_key_pem())
    assert result.ok, result.problems
    assert result.events_checked == len(document["events"])


def test_another_organisations_events_never_appear(uses) -> None:
    document = bundle_of(Api(token_for(uses.third, Role.SIRO)).get("/audit/bundle/"))
    org = str(uses.third.pk)
    assert all(org in (e["organisation"], e["subject_organisation"]) for e in document["events"])
    text = json.dumps(document)
    assert OUTSIDER_PURPOSE not in text
    assert "Maidstone" not in text
    assert "Kent County Council" not in text
    assert verify_bundle(document, public_key_pem=public_key_pem()).ok


def test_any_token_lists_the_checkpoints(council, uses) -> None:
    response = Api(token_for(council, Role.VIEWER)).get("/audit/checkpoints/")
    assert response.status_code == 200
    checkpoints = response.json()
    assert len(checkpoints) == 1
    assert set(checkpoints[0]) >= {"chain", "seq", "hash", "signed_at", "key_id", "signature"}
