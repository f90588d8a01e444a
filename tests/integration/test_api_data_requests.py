"""The data requests API: every endpoint's permit and denials (no token, an organisation not
involved, the wrong role, a move the request cannot make, an invalid body with a readable path),
and a request's whole life through the API — ask, discuss, one holder approves (drafting an
agreement from the framework's template), the other declines — with each step audited."""

from __future__ import annotations

from typing import Any

import pytest

from accord.agreements.models import Agreement, Framework
from accord.data_requests.models import DataRequest, RequestHolder
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory, framework_of

from .api_helpers import Api, detail, token_for
from .helpers import events_after, last_seq, only

MISSING = "6f1c1c1e-0000-4000-8000-000000000000"


class Orgs:
    def __init__(self) -> None:
        self.gmca = OrganisationFactory(
            name="GM Combined Authority", sector=Sector.COMBINED_AUTHORITY, gss_code="E47000001"
        )
        self.kent = OrganisationFactory(
            name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
        )
        self.surrey = OrganisationFactory(
            name="Surrey County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000030"
        )
        self.outsider = OrganisationFactory(name="Bolton Council", gss_code="E08000001")


@pytest.fixture
def orgs() -> Orgs:
    return Orgs()


@pytest.fixture
def framework(orgs) -> Framework:
    return framework_of(orgs.gmca, orgs.kent, orgs.surrey)


@pytest.fixture
def asker(orgs) -> Api:
    """An analyst at the combined authority: may ask for data, may not answer requests."""
    return Api(token_for(orgs.gmca, Role.ANALYST))


def request_body(orgs: Orgs, **changes: Any) -> dict[str, Any]:
    return {
        "title": "Care home status",
        "question": "Which care homes need help today?",
        "reason": "To send infection control support to the homes that need it first.",
        "holders": [orgs.kent.pk, orgs.surrey.pk],
        "frequency": "daily",
        "standards": ["care-home-daily-status"],
        **changes,
    }


def asked(asker: Api, orgs: Orgs, **changes: Any) -> str:
    response = asker.post("/requests", request_body(orgs, **changes))
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def approval(framework: Framework, agreement_type: str = "data_disclosure_agreement") -> dict:
    return {"framework": framework.slug, "agreement_type": agreement_type}


def paths(response) -> list[str]:
    assert response.status_code == 422, response.content
    return [e["path"] for e in response.json()["errors"]]


# The whole life through the API


def test_ask_discuss_approve_and_decline(orgs, framework, asker) -> None:
    before = last_seq()
    response = asker.post("/requests", request_body(orgs, framework=framework.slug))
    assert response.status_code == 201, response.content
    body = response.json()
    request_id = body["id"]
    assert body["status"] == "open"
    assert body["made_by_you"] is True
    assert body["framework"] == "test-accord"
    assert body["requester"] == "GM Combined Authority"
    assert [(h["organisation"], h["answer"]) for h in body["holders"]] == [
        ("Kent County Council", "awaiting"),
        ("Surrey County Council", "awaiting"),
    ]
    assert body["standards"] == ["care-home-daily-status"]

    kent_dpo = Api(token_for(orgs.kent, Role.DPO))
    [listed] = kent_dpo.get("/requests").json()
    assert listed["id"] == request_id
    assert listed["made_by_you"] is False

    comment = kent_dpo.post(f"/requests/{request_id}/comments", {"body": "Daily is fine."})
    assert comment.status_code == 201, comment.content
    assert comment.json()["organisation"] == "Kent County Council"

    approved = kent_dpo.post(f"/requests/{request_id}/approve", approval(framework))
    assert approved.status_code == 200, approved.content
    answer = approved.json()
    assert answer["agreement_status"] == "draft"
    assert answer["request_status"] == "open"  # Surrey has not answered yet
    agreement = Agreement.objects.get(pk=answer["agreement_id"])
    assert agreement.framework == framework
    assert {p.organisation for p in agreement.parties.all()} == {orgs.gmca, orgs.kent}

    declined = Api(token_for(orgs.surrey, Role.SIRO)).post(
        f"/requests/{request_id}/decline", {"reasons": "We do not hold this data."}
    )
    assert declined.status_code == 200, declined.content
    assert declined.json()["status"] == "approved"  # one holder approved

    read = asker.get(f"/requests/{request_id}").json()
    holders = {h["organisation"]: h for h in read["holders"]}
    assert holders["Kent County Council"]["answer"] == "approved"
    assert holders["Kent County Council"]["agreement_id"] == answer["agreement_id"]
    assert holders["Surrey County Council"]["answer"] == "declined"
    assert holders["Surrey County Council"]["reasons"] == "We do not hold this data."
    assert holders["Surrey County Council"]["agreement_id"] is None
    assert [c["body"] for c in read["comments"]] == ["Daily is fine."]
    assert read["status_label"] == "Approved"

    actions = [e.action for e in events_after(before) if e.target == f"data_request:{request_id}"]
    assert actions == [
        "data_request.posted",
        "data_request.commented",
        "data_request.approved",
        "data_request.declined",
    ]
    assert only(events_after(before, "data_request.approved")).organisation_name == (
        "Kent County Council"
    )


# Reading


def test_list_shows_only_requests_made_by_or_to_you(orgs, asker) -> None:
    request_id = asked(asker, orgs)
    assert [r["id"] for r in asker.get("/requests").json()] == [request_id]
    assert [r["id"] for r in Api(token_for(orgs.surrey)).get("/requests").json()] == [request_id]
    assert Api(token_for(orgs.outsider, Role.DPO)).get("/requests").json() == []
    assert Api().get("/requests").status_code == 401


def test_reading_one_request(orgs, asker) -> None:
    request_id = asked(asker, orgs, data_description="Beds free", needed_by=None)
    viewer = Api(token_for(orgs.kent, Role.VIEWER))
    body = viewer.get(f"/requests/{request_id}").json()
    assert body["question"] == "Which care homes need help today?"
    assert body["frequency"] == "daily"
    assert body["data_description"] == "Beds free"
    assert body["comments"] == []
    outsider = Api(token_for(orgs.outsider, Role.DPO)).get(f"/requests/{request_id}")
    assert outsider.status_code == 404
    assert detail(outsider) == "No data request here that involves your organisation."
    assert viewer.get(f"/requests/{MISSING}").status_code == 404
    assert Api().get(f"/requests/{request_id}").status_code == 401
    assert paths(viewer.get("/requests/not-an-id")) == ["request_id"]


# What may already answer it


def test_suggestions_before_asking(orgs, asker) -> None:
    earlier = asked(asker, orgs)
    body = {"title": "Care home status", "question": "Which care homes need help today?"}
    response = asker.post("/requests/suggestions", {**body, "standards": []})
    assert response.status_code == 200, response.content
    found = response.json()
    assert ("request", f"/requests/{earlier}/") in {(s["kind"], s["link"]) for s in found}
    by_standard = asker.post(
        "/requests/suggestions", {**body, "standards": ["care-home-daily-status"]}
    )
    assert "standard" in {s["kind"] for s in by_standard.json()}
    # Nobody learns of requests their organisation is not part of.
    outsider = Api(token_for(orgs.outsider, Role.VIEWER)).post("/requests/suggestions", body)
    assert outsider.status_code == 200
    assert "request" not in {s["kind"] for s in outsider.json()}


def test_suggestions_denials(orgs, asker) -> None:
    body = {"title": "Care home status", "question": "Which homes?"}
    assert Api().post("/requests/suggestions", body).status_code == 401
    assert paths(asker.post("/requests/suggestions", {"question": "Which?"})) == ["title"]
    unknown = asker.post("/requests/suggestions", {**body, "standards": ["no-such-standard"]})
    assert paths(unknown) == ["standards[0]"]
    assert "no-such-standard" in detail(unknown)


# Asking


def test_asking_denials(orgs, framework, asker) -> None:
    before = last_seq()
    assert Api().post("/requests", request_body(orgs)).status_code == 401
    viewer = Api(token_for(orgs.gmca, Role.VIEWER)).post("/requests", request_body(orgs))
    assert viewer.status_code == 403
    assert detail(viewer).startswith("Only someone with one of these roles can ask for data")
    assert only(events_after(before, "data_request.posted")).outcome == "refused"

    unknown = asker.post("/requests", request_body(orgs, holders=[orgs.kent.pk, 999999]))
    assert paths(unknown) == ["holders[1]"]
    assert "999999" in detail(unknown)
    Organisation.objects.filter(pk=orgs.surrey.pk).update(is_active=False)
    assert paths(asker.post("/requests", request_body(orgs))) == ["holders[1]"]
    fine = [orgs.kent.pk]
    assert paths(asker.post("/requests", request_body(orgs, holders=fine, framework="nope"))) == [
        "framework"
    ]
    assert paths(
        asker.post("/requests", request_body(orgs, holders=fine, standards=["no-such"]))
    ) == ["standards[0]"]
    assert paths(asker.post("/requests", request_body(orgs, holders=fine, standards=[]))) == [
        "standards"
    ]
    assert paths(asker.post("/requests", request_body(orgs, holders=fine, frequency="hourly"))) == [
        "frequency"
    ]
    assert paths(asker.post("/requests", request_body(orgs, holders=[]))) == ["holders"]
    assert paths(asker.post("/requests", request_body(orgs, holders=fine, title=""))) == ["title"]
    assert paths(asker.post("/requests", request_body(orgs, holders=fine, needed_by="soon"))) == [
        "needed_by"
    ]

    own = asker.post("/requests", request_body(orgs, holders=[orgs.gmca.pk]))
    assert own.status_code == 409
    assert "your own organisation" in detail(own)
    past = asker.post("/requests", request_body(orgs, holders=fine, needed_by="2020-01-01"))
    assert past.status_code == 409
    assert not DataRequest.objects.exists()


# Commenting


def test_commenting_denials(orgs, asker) -> None:
    request_id = asked(asker, orgs)
    url = f"/requests/{request_id}/comments"
    assert Api().post(url, {"body": "Hello"}).status_code == 401
    assert Api(token_for(orgs.outsider, Role.DPO)).post(url, {"body": "Hello"}).status_code == 404
    assert paths(asker.post(url, {"body": ""})) == ["body"]
    assert paths(asker.post(url, {})) == ["body"]
    blank = asker.post(url, {"body": "   "})
    assert blank.status_code == 409
    assert "Write a comment" in detail(blank)
    # A viewer of an organisation involved may read the discussion but not join it.
    viewer = Api(token_for(orgs.surrey, Role.VIEWER)).post(url, {"body": "Noted"})
    assert viewer.status_code == 403
    assert "join the discussion" in detail(viewer)
    assert Api(token_for(orgs.surrey, Role.ANALYST)).post(url, {"body": "Noted"}).status_code == 201


# Answering


def test_approving_denials(orgs, framework, asker) -> None:
    request_id = asked(asker, orgs)
    url = f"/requests/{request_id}/approve"
    kent_dpo = Api(token_for(orgs.kent, Role.DPO))
    assert Api().post(url, approval(framework)).status_code == 401
    assert Api(token_for(orgs.outsider, Role.DPO)).post(url, approval(framework)).status_code == 404
    before = last_seq()
    requester = Api(token_for(orgs.gmca, Role.DPO)).post(url, approval(framework))
    assert requester.status_code == 403
    assert "Only an organisation the request was made to" in detail(requester)
    wrong_role = Api(token_for(orgs.kent, Role.ANALYST)).post(url, approval(framework))
    assert wrong_role.status_code == 403
    assert detail(wrong_role).startswith("Only someone with one of these roles")
    assert [e.outcome for e in events_after(before, "data_request.approved")] == [
        "refused",
        "refused",
    ]
    assert paths(kent_dpo.post(url, {"framework": "nope", "agreement_type": "x"})) == [
        "agreement_type"
    ]
    assert paths(kent_dpo.post(url, {**approval(framework), "framework": "nope"})) == ["framework"]
    assert paths(kent_dpo.post(url, {"agreement_type": "data_disclosure_agreement"})) == [
        "framework"
    ]
    # A kind of agreement the framework has no template for: refused, and nothing is answered.
    no_template = kent_dpo.post(url, approval(framework, "joint_controller_arrangement"))
    assert no_template.status_code == 409
    assert "no template" in detail(no_template)
    holder = RequestHolder.objects.get(request_id=request_id, organisation=orgs.kent)
    assert holder.answer == "awaiting"
    assert not Agreement.objects.exists()

    assert kent_dpo.post(url, approval(framework)).status_code == 200
    twice = kent_dpo.post(url, approval(framework))
    assert twice.status_code == 409
    assert "already answered" in detail(twice)


def test_approving_needs_both_organisations_in_the_framework(orgs, framework, asker) -> None:
    framework.members.filter(organisation=orgs.gmca).delete()
    request_id = asked(asker, orgs)
    refused = Api(token_for(orgs.kent, Role.DPO)).post(
        f"/requests/{request_id}/approve", approval(framework)
    )
    assert refused.status_code == 409
    assert "GM Combined Authority is not a member of Test Accord" in detail(refused)


def test_declining_denials(orgs, asker) -> None:
    request_id = asked(asker, orgs)
    url = f"/requests/{request_id}/decline"
    reasons = {"reasons": "We do not hold it."}
    assert Api().post(url, reasons).status_code == 401
    assert Api(token_for(orgs.outsider, Role.DPO)).post(url, reasons).status_code == 404
    assert Api(token_for(orgs.kent, Role.ANALYST)).post(url, reasons).status_code == 403
    assert Api(token_for(orgs.gmca, Role.DPO)).post(url, reasons).status_code == 403
    kent = Api(token_for(orgs.kent, Role.INFORMATION_ASSET_OWNER))
    assert paths(kent.post(url, {"reasons": ""})) == ["reasons"]
    assert paths(kent.post(url, {})) == ["reasons"]
    assert kent.post(url, {"reasons": "   "}).status_code == 409
    done = kent.post(url, reasons)
    assert done.status_code == 200
    assert done.json()["status"] == "open"  # Surrey still to answer
    again = kent.post(url, reasons)
    assert again.status_code == 409
    assert "already answered" in detail(again)


def test_withdrawing_denials(orgs, framework, asker) -> None:
    request_id = asked(asker, orgs)
    url = f"/requests/{request_id}/withdraw"
    assert Api().post(url).status_code == 401
    assert Api(token_for(orgs.outsider, Role.DPO)).post(url).status_code == 404
    holder = Api(token_for(orgs.kent, Role.DPO)).post(url)
    assert holder.status_code == 403
    assert "Only the organisation that made the request" in detail(holder)
    assert Api(token_for(orgs.gmca, Role.VIEWER)).post(url).status_code == 403
    assert paths(asker.post(url, {"reason": "x" * 5001})) == ["reason"]
    before = last_seq()
    withdrawn = asker.post(url, {"reason": "No longer needed."})
    assert withdrawn.status_code == 200
    assert withdrawn.json()["status"] == "withdrawn"
    assert only(events_after(before, "data_request.withdrawn")).details["reason"] == (
        "No longer needed."
    )
    assert asker.post(url).status_code == 409
    late = Api(token_for(orgs.kent, Role.DPO)).post(
        f"/requests/{request_id}/approve", approval(framework)
    )
    assert late.status_code == 409
    assert "withdrawn" in detail(late)


def test_withdrawing_needs_no_body(orgs, asker) -> None:
    request_id = asked(asker, orgs)
    response = asker.client.post(
        f"/api/v1/requests/{request_id}/withdraw",
        "",
        content_type="application/json",
        headers=asker.headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
