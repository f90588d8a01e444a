"""Drafting from a framework, returning for changes, amending and reading the changes through the
API: each endpoint's permit and denials (no token, a non-party, the wrong role, a move the
lifecycle refuses, an invalid body with a readable path)."""

from __future__ import annotations

from typing import Any

import pytest

from accord.agreements import actions as agreement_actions
from accord.agreements.models import Agreement, AgreementVersion, Framework
from accord.audit.actor import Actor
from accord.demo.frameworks import CLAUSES
from accord.organisations.enums import Role

from .api_helpers import Api, detail, token_for
from .helpers import events_after, last_seq, only
from .test_api_agreements import Parties, in_status, status_of

MISSING = "6f1c1c1e-0000-4000-8000-000000000000"


@pytest.fixture
def parties() -> Parties:
    return Parties()


@pytest.fixture
def drafter(parties) -> str:
    """A data officer at the combined authority (a drafting role, not a deciding one)."""
    return token_for(parties.gmca, Role.DATA_OFFICER)


@pytest.fixture
def framework(parties) -> Framework:
    created = agreement_actions.create_framework(
        by=Actor.system(),
        slug="test-accord",
        name="Test Accord",
        description="",
        clauses=CLAUSES,
        template_types=["data_disclosure_agreement", "memorandum_of_understanding"],
    )
    for organisation in (parties.gmca, parties.oakview, parties.sunrise):
        agreement_actions.add_framework_member(
            by=Actor.system(), framework=created, organisation=organisation
        )
    return created


def from_framework(parties: Parties, **changes: Any) -> dict[str, Any]:
    return {
        "framework": "test-accord",
        "agreement_type": "data_disclosure_agreement",
        "other_organisation_id": parties.oakview.pk,
        "direction": "receive",
        "title": "Oakview bed status to Greater Manchester",
        "standards": ["care-home-daily-status"],
        **changes,
    }


def paths(response) -> list[str]:
    assert response.status_code == 422, response.content
    return [e["path"] for e in response.json()["errors"]]


# Drafting from a framework


def test_draft_from_a_framework_template(parties, framework, drafter) -> None:
    before = last_seq()
    response = Api(drafter).post("/agreements/from-framework", from_framework(parties))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert {p["organisation"] for p in body["parties"]} == {
        "GM Combined Authority",
        "Oakview Care Homes",
    }
    document = body["document"]
    assert document["title"] == "Oakview bed status to Greater Manchester"
    assert document["agreement_type"] == "data_disclosure_agreement"
    assert document["datasets"], "the standard's fields fill in a dataset"
    oakview = next(p["party_id"] for p in body["parties"] if p["organisation"].startswith("Oak"))
    assert {flow["from_party_id"] for flow in document["flows"]} == {oakview}
    agreement = Agreement.objects.get(pk=body["id"])
    assert agreement.framework == framework
    drafted = only(events_after(before, "agreement.drafted"))
    assert drafted.organisation_name == "GM Combined Authority"
    assert drafted.details["framework"] == "test-accord"
    # The path is not read as an agreement id.
    assert Api(drafter).get("/agreements/from-framework").status_code == 405


def test_drafting_from_a_framework_denials(parties, framework, drafter) -> None:
    url = "/agreements/from-framework"
    api = Api(drafter)
    assert Api().post(url, from_framework(parties)).status_code == 401
    before = last_seq()
    viewer = Api(token_for(parties.gmca, Role.VIEWER)).post(url, from_framework(parties))
    assert viewer.status_code == 403
    assert detail(viewer).startswith("Only someone with one of these roles")
    assert only(events_after(before, "api.request_refused")).outcome == "refused"

    assert paths(api.post(url, from_framework(parties, framework="nope"))) == ["framework"]
    unknown = api.post(url, from_framework(parties, other_organisation_id=999999))
    assert paths(unknown) == ["other_organisation_id"]
    assert "999999" in detail(unknown)
    assert paths(api.post(url, from_framework(parties, direction="both"))) == ["direction"]
    assert paths(api.post(url, from_framework(parties, agreement_type="x"))) == ["agreement_type"]
    assert paths(api.post(url, from_framework(parties, standards=["nope"]))) == ["standards[0]"]
    assert paths(api.post(url, from_framework(parties, title=""))) == ["title"]
    assert paths(api.post(url, {})) == [
        "framework",
        "agreement_type",
        "other_organisation_id",
        "direction",
        "title",
    ]

    # Refused by the action, as on the new-agreement page.
    outsider = api.post(url, from_framework(parties, other_organisation_id=parties.outsider.pk))
    assert outsider.status_code == 409
    assert "Bolton Council is not a member of Test Accord" in detail(outsider)
    not_ours = Api(token_for(parties.outsider, Role.DATA_OFFICER)).post(
        url, from_framework(parties)
    )
    assert not_ours.status_code == 409
    no_template = api.post(
        url, from_framework(parties, agreement_type="joint_controller_arrangement")
    )
    assert no_template.status_code == 409
    assert "no template" in detail(no_template)
    ourselves = api.post(url, from_framework(parties, other_organisation_id=parties.gmca.pk))
    assert ourselves.status_code == 409
    assert "two different organisations" in detail(ourselves)
    assert not Agreement.objects.exists()


# Returning for changes


def test_return_for_changes(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "in_review")
    dpo = Api(token_for(parties.gmca, Role.DPO))
    assert dpo.post(f"/agreements/{agreement_id}/sign", {"role": "dpo"}).status_code == 200
    before = last_seq()
    response = Api(drafter).post(
        f"/agreements/{agreement_id}/return", {"reason": "The retention period is wrong."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
    returned = only(events_after(before, "agreement.draft"))
    assert returned.details["signatures_voided"] == 1
    assert returned.details["reason"] == "The retention period is wrong."


def test_return_denials(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "draft")
    url = f"/agreements/{agreement_id}/return"
    reason = {"reason": "Fix it"}
    assert Api().post(url, reason).status_code == 401
    assert Api(token_for(parties.outsider, Role.DPO)).post(url, reason).status_code == 404
    assert Api(token_for(parties.sunrise, Role.VIEWER)).post(url, reason).status_code == 403
    assert paths(Api(drafter).post(url, {"reason": ""})) == ["reason"]
    assert paths(Api(drafter).post(url, {})) == ["reason"]
    draft = Api(drafter).post(url, reason)  # a draft has nothing to return from
    assert draft.status_code == 409
    assert status_of(agreement_id) == "draft"


# Amending


def test_amend_an_agreement_in_force(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "active")
    response = Api(drafter).post(f"/agreements/{agreement_id}/amend")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["id"] != agreement_id
    assert body["document"]["version"] == "1.1.0"
    amendment = Agreement.objects.get(pk=body["id"])
    assert str(amendment.amends_id) == agreement_id
    assert status_of(agreement_id) == "active"  # in force until the amendment is


def test_amend_denials(parties, drafter) -> None:
    draft_id = in_status(parties, drafter, "draft")
    assert Api(drafter).post(f"/agreements/{draft_id}/amend").status_code == 409
    agreement_id = in_status(parties, drafter, "active")
    url = f"/agreements/{agreement_id}/amend"
    assert Api().post(url).status_code == 401
    assert Api(token_for(parties.outsider, Role.DPO)).post(url).status_code == 404
    assert Api(token_for(parties.oakview, Role.VIEWER)).post(url).status_code == 403
    assert Api(drafter).post(url).status_code == 201
    twice = Api(drafter).post(url)
    assert twice.status_code == 409
    assert "already an amendment under way" in detail(twice)
    assert Agreement.objects.filter(amends_id=agreement_id).count() == 1


# What changed


def test_changes_of_an_amendment_against_what_it_amends(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "active")
    amendment_id = Api(drafter).post(f"/agreements/{agreement_id}/amend").json()["id"]
    document = Api(drafter).get(f"/agreements/{amendment_id}").json()["document"]
    document["title"] = "Care home daily status, amended"
    assert Api(drafter).put(f"/agreements/{amendment_id}", document).status_code == 200

    response = Api(token_for(parties.sunrise, Role.VIEWER)).get(
        f"/agreements/{amendment_id}/changes"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["compared_agreement_id"] == agreement_id
    assert body["compared_version"] == 1
    assert body["compared_with"].startswith("the agreement it amends")
    changes = {c["path"]: c for c in body["changes"]}
    assert changes["title"]["kind"] == "changed"
    assert changes["title"]["new"] == "“Care home daily status, amended”"
    assert changes["version"]["old"] == "“1.0.0”"
    assert set(changes["title"]) == {"path", "kind", "where", "old", "new"}
    assert body["counts"]["changed"] == len(body["changes"])


def test_changes_against_the_version_before(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "draft")
    plain = Api(drafter).get(f"/agreements/{agreement_id}/changes").json()
    assert plain["compared_with"] is None
    assert plain["changes"] == []
    assert plain["counts"] == {"added": 0, "removed": 0, "changed": 0}

    first = Agreement.objects.get(pk=agreement_id).current
    document = dict(first.document, title="Second version")
    AgreementVersion.objects.create(
        agreement_id=agreement_id, number=2, document=document, digest="x", created_by="test"
    )
    body = Api(drafter).get(f"/agreements/{agreement_id}/changes").json()
    assert body["version"] == 2
    assert body["compared_version"] == 1
    assert body["compared_with"] == "version 1"
    assert body["compared_agreement_id"] is None
    assert [(c["path"], c["kind"]) for c in body["changes"]] == [("title", "changed")]


def test_changes_denials(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "draft")
    url = f"/agreements/{agreement_id}/changes"
    assert Api().get(url).status_code == 401
    outsider = Api(token_for(parties.outsider, Role.DPO)).get(url)
    assert outsider.status_code == 404
    assert detail(outsider) == "No agreement here that your organisation is a party to."
    assert Api(drafter).get(f"/agreements/{MISSING}/changes").status_code == 404
    assert paths(Api(drafter).get("/agreements/not-an-id/changes")) == ["agreement_id"]
