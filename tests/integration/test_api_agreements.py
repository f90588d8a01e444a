"""The agreements API: every endpoint's permit and denials (no token, a non-party, the wrong
role, a move the lifecycle refuses, an invalid body), and a whole agreement's life through the
API — import, submit, every party signs, activate — ending on the public register with every
step in the audit log naming the person, organisation and roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from accord.agreements.document import DataSharingAgreement, Term
from accord.agreements.models import Agreement
from accord.audit.models import AuditEvent
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory
from tests.unit.agreements.builders import care_home_status

from .api_helpers import Api, detail, member, token_for, token_of
from .helpers import events_after, last_seq, only


def document(**changes: Any) -> dict[str, Any]:
    """The care home agreement, unsigned, in force from a month ago, reviewed in ten months."""
    today = timezone.localdate()
    agreement: DataSharingAgreement = care_home_status().model_copy(
        update={
            "signatories": [],
            "term": Term(
                start_date=today - dt.timedelta(days=30),
                review_date=today + dt.timedelta(days=300),
                review_frequency_months=12,
            ),
        }
    )
    body = agreement.model_dump(mode="json", by_alias=True)
    body.update(changes)
    return body


class Parties:
    def __init__(self) -> None:
        self.sunrise = OrganisationFactory(
            name="Sunrise Care Ltd", sector=Sector.CARE_PROVIDER, gss_code=""
        )
        self.oakview = OrganisationFactory(
            name="Oakview Care Homes", sector=Sector.CARE_PROVIDER, gss_code=""
        )
        self.gmca = OrganisationFactory(
            name="GM Combined Authority", sector=Sector.COMBINED_AUTHORITY, gss_code="E47000001"
        )
        self.outsider = OrganisationFactory(name="Bolton Council", gss_code="E08000001")


@pytest.fixture
def parties() -> Parties:
    return Parties()


@pytest.fixture
def drafter(parties) -> str:
    """A data officer at the combined authority (a drafting role, not a deciding one)."""
    return token_for(parties.gmca, Role.DATA_OFFICER)


def imported(secret: str, **changes: Any) -> str:
    response = Api(secret).post("/agreements", document(**changes))
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def sign_all(parties: Parties, agreement_id: str) -> None:
    for organisation, role in (
        (parties.sunrise, Role.CALDICOTT_GUARDIAN),
        (parties.oakview, Role.SENIOR_MANAGER),
        (parties.gmca, Role.DPO),
    ):
        response = Api(token_for(organisation, role)).post(
            f"/agreements/{agreement_id}/sign", {"role": str(role)}
        )
        assert response.status_code == 200, response.content


def in_status(parties: Parties, drafter: str, status: str) -> str:
    agreement_id = imported(drafter)
    if status == "draft":
        return agreement_id
    assert Api(drafter).post(f"/agreements/{agreement_id}/submit").status_code == 200
    if status == "in_review":
        return agreement_id
    sign_all(parties, agreement_id)
    if status == "approved":
        return agreement_id
    decider = token_for(parties.gmca, Role.SIRO)
    assert Api(decider).post(f"/agreements/{agreement_id}/activate").status_code == 200
    return agreement_id


def status_of(agreement_id: str) -> str:
    return Agreement.objects.get(pk=agreement_id).status


# The whole life through the API


def test_import_submit_sign_activate_then_on_the_public_register(parties, drafter) -> None:
    before = last_seq()
    response = Api(drafter).post("/agreements", document())
    assert response.status_code == 201, response.content
    body = response.json()
    agreement_id = body["id"]
    assert body["status"] == "draft"
    assert body["document"]["id"] == agreement_id
    matched = {p["party_id"]: p["organisation"] for p in body["parties"]}
    assert matched == {
        "gmca": "GM Combined Authority",  # by GSS code, though the names differ
        "oakview": "Oakview Care Homes",  # by name
        "sunrise": "Sunrise Care Ltd",
    }
    assert any(f["code"] == "PARTY_NOT_SIGNED" for f in body["findings"])

    submitted = Api(drafter).post(f"/agreements/{agreement_id}/submit")
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "in_review"

    sign_all(parties, agreement_id)
    assert status_of(agreement_id) == "approved"

    decider = token_for(parties.gmca, Role.DPO, Role.SIRO)
    activated = Api(decider).post(f"/agreements/{agreement_id}/activate")
    assert activated.status_code == 200, activated.content
    assert activated.json()["status"] == "active"
    assert [f for f in activated.json()["findings"] if f["severity"] == "blocker"] == []

    register = Api().get("/public/register").json()
    assert [a["id"] for a in register["agreements"]] == [agreement_id]
    assert register["agreements"][0]["parties"] == sorted(
        ["GM Combined Authority", "Oakview Care Homes", "Sunrise Care Ltd"]
    )
    assert Api().get("/public/register", q="nothing like this").json()["count"] == 0

    events = [e for e in events_after(before) if e.target == f"agreement:{agreement_id}"]
    assert [e.action for e in events] == [
        "agreement.drafted",
        "agreement.in_review",
        "agreement.signed",
        "agreement.signed",
        "agreement.signed",
        "agreement.approved",
        "agreement.active",
    ]
    drafted = events[0]
    assert drafted.organisation_name == "GM Combined Authority"
    assert drafted.actor.startswith("user:")
    signed_by = {(e.organisation_name, e.details["role"]) for e in events if e.details.get("role")}
    assert signed_by == {
        ("Sunrise Care Ltd", "caldicott_guardian"),
        ("Oakview Care Homes", "senior_manager"),
        ("GM Combined Authority", "dpo"),
    }


def test_suspend_resume_and_terminate(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "active")
    decider = Api(token_for(parties.sunrise, Role.CALDICOTT_GUARDIAN))
    before = last_seq()
    suspended = decider.post(f"/agreements/{agreement_id}/suspend", {"reason": "Breach review"})
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    assert Api().get("/public/register").json()["count"] == 0
    assert decider.post(f"/agreements/{agreement_id}/resume").json()["status"] == "active"
    ended = decider.post(f"/agreements/{agreement_id}/terminate", {"reason": "No longer needed"})
    assert ended.status_code == 200
    assert ended.json()["status"] == "terminated"
    moves = [e for e in events_after(before) if e.target == f"agreement:{agreement_id}"]
    assert [e.action for e in moves] == [
        "agreement.suspended",
        "agreement.active",
        "agreement.terminated",
    ]
    assert only(events_after(before, "agreement.suspended")).details["reason"] == "Breach review"


# Reading


def test_list_shows_only_your_organisations_agreements(parties, drafter) -> None:
    agreement_id = imported(drafter)
    listed = Api(token_for(parties.oakview, Role.VIEWER)).get("/agreements")
    assert listed.status_code == 200
    [summary] = listed.json()
    assert summary["id"] == agreement_id
    assert summary["status"] == "draft"
    assert summary["review_state"] == "not_due"
    assert summary["title"] == "Care home daily status to Greater Manchester"
    assert Api(token_for(parties.outsider, Role.DPO)).get("/agreements").json() == []


def test_list_says_when_review_is_due(parties, drafter) -> None:
    soon = (timezone.localdate() + dt.timedelta(days=10)).isoformat()
    start = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    imported(drafter, term={"start_date": start, "review_date": soon})
    [summary] = Api(drafter).get("/agreements").json()
    assert summary["review_state"] == "due"
    assert summary["review_date"] == soon


def test_a_party_reads_the_document_findings_and_jsonld(parties, drafter) -> None:
    agreement_id = imported(drafter)
    viewer = Api(token_for(parties.sunrise, Role.VIEWER))
    body = viewer.get(f"/agreements/{agreement_id}").json()
    assert body["status"] == "draft"
    assert body["document"]["title"] == "Care home daily status to Greater Manchester"
    assert {f["severity"] for f in body["findings"]} <= {"blocker", "warning"}
    assert body["findings"][0].keys() == {"code", "severity", "message", "path"}
    jsonld = viewer.get(f"/agreements/{agreement_id}/jsonld")
    assert jsonld.status_code == 200
    assert "@context" in jsonld.json()
    assert "@graph" in jsonld.json()


@pytest.mark.parametrize("suffix", ["", "/jsonld"])
def test_a_non_party_gets_404_and_no_token_gets_401(parties, drafter, suffix) -> None:
    agreement_id = imported(drafter)
    outsider = Api(token_for(parties.outsider, Role.DPO))
    response = outsider.get(f"/agreements/{agreement_id}{suffix}")
    assert response.status_code == 404
    assert detail(response) == "No agreement here that your organisation is a party to."
    assert Api().get(f"/agreements/{agreement_id}{suffix}").status_code == 401
    assert Api("acc_bad_token").get(f"/agreements/{agreement_id}{suffix}").status_code == 401


def test_an_unknown_or_malformed_id(parties, drafter) -> None:
    assert Api(drafter).get("/agreements/6f1c1c1e-0000-4000-8000-000000000000").status_code == 404
    response = Api(drafter).get("/agreements/not-an-id")
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "agreement_id"


def test_the_schema_and_register_are_public(parties) -> None:
    schema = Api().get("/agreements/schema")
    assert schema.status_code == 200
    assert schema.json()["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "parties" in schema.json()["properties"]
    register = Api().get("/public/register")
    assert register.status_code == 200
    assert register.json() == {"agreements": [], "count": 0}


def test_openapi_and_docs_work_offline_within_the_csp() -> None:
    openapi = Api().get("/openapi.json")
    assert openapi.status_code == 200
    spec = openapi.json()
    assert "/api/v1/agreements/{agreement_id}/sign" in spec["paths"]
    assert spec["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    docs = Api().get("/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "https://" not in page
    assert "script-src 'self'" in docs.headers["Content-Security-Policy"]
    assert Api().get("/").status_code == 404  # nothing at the API's root


# Importing


def test_import_names_the_parties_that_match_no_organisation(parties, drafter) -> None:
    Organisation.objects.filter(pk=parties.oakview.pk).update(name="Oakview Homes")
    before = last_seq()
    response = Api(drafter).post("/agreements", document())
    assert response.status_code == 422
    assert "oakview" in detail(response)
    assert response.json()["errors"] == [
        {
            "path": "parties[1]",
            "message": "No organisation on Accord matches party 'oakview' by its GSS code, ODS "
            "code, ICO registration number or exact name.",
        }
    ]
    assert not Agreement.objects.exists()
    assert events_after(before, "agreement.drafted") == []


def test_import_of_an_agreement_your_organisation_is_not_party_to_is_403(parties) -> None:
    before = last_seq()
    response = Api(token_for(parties.outsider, Role.DPO)).post("/agreements", document())
    assert response.status_code == 403
    assert "party to" in detail(response)
    assert only(events_after(before, "agreement.drafted")).outcome == "refused"


def test_import_needs_a_drafting_role(parties) -> None:
    before = last_seq()
    response = Api(token_for(parties.gmca, Role.VIEWER)).post("/agreements", document())
    assert response.status_code == 403
    assert detail(response).startswith("Only someone with one of these roles")
    refused = only(events_after(before, "api.request_refused"))
    assert refused.outcome == "refused"
    assert refused.organisation_name == "GM Combined Authority"
    assert not Agreement.objects.exists()


def test_an_invalid_document_is_422_with_readable_paths(parties, drafter) -> None:
    body = document(version="one")
    body["parties"][0]["roles"] = ["boss"]
    del body["agreement_type"]
    response = Api(drafter).post("/agreements", body)
    assert response.status_code == 422
    paths = {e["path"]: e["message"] for e in response.json()["errors"]}
    assert set(paths) == {"version", "parties[0].roles[0]", "agreement_type"}
    assert paths["version"] == "'one' is not a semantic version such as 1.0.0"
    assert "version" in detail(response)


def test_a_body_that_is_not_json_is_422(parties, drafter) -> None:
    api = Api(drafter)
    response = api.client.post(
        "/api/v1/agreements", "{not json", content_type="application/json", headers=api.headers
    )
    assert response.status_code in (400, 422)
    assert "detail" in response.json()


# Saving a draft


def test_a_drafter_saves_the_draft(parties, drafter) -> None:
    agreement_id = imported(drafter)
    before = last_seq()
    response = Api(drafter).put(f"/agreements/{agreement_id}", document(title="Renamed"))
    assert response.status_code == 200
    assert response.json()["document"]["title"] == "Renamed"
    assert Agreement.objects.get(pk=agreement_id).title == "Renamed"
    only(events_after(before, "agreement.draft_saved"))


def test_saving_denials(parties, drafter) -> None:
    agreement_id = imported(drafter)
    url = f"/agreements/{agreement_id}"
    assert Api().put(url, document()).status_code == 401
    assert Api(token_for(parties.outsider, Role.DPO)).put(url, document()).status_code == 404
    assert Api(token_for(parties.sunrise, Role.VIEWER)).put(url, document()).status_code == 403
    assert Api(drafter).put(url, document(status="nonsense")).status_code == 422
    fewer = document()
    fewer["parties"] = fewer["parties"][:2]
    assert Api(drafter).put(url, fewer).status_code == 409  # parties are fixed
    assert Api(drafter).post(f"{url}/submit").status_code == 200
    frozen = Api(drafter).put(url, document())
    assert frozen.status_code == 409
    assert "Only a draft can be edited" in detail(frozen)


# Lifecycle moves


def test_submit_denials(parties, drafter) -> None:
    agreement_id = imported(drafter)
    url = f"/agreements/{agreement_id}/submit"
    assert Api().post(url).status_code == 401
    assert Api(token_for(parties.outsider, Role.DPO)).post(url).status_code == 404
    assert Api(token_for(parties.oakview, Role.SENIOR_MANAGER)).post(url).status_code == 403
    assert Api(drafter).post(url).status_code == 200
    again = Api(drafter).post(url)
    assert again.status_code == 409
    assert "cannot be submitted" in detail(again)


def test_sign_denials(parties, drafter) -> None:
    agreement_id = imported(drafter)
    url = f"/agreements/{agreement_id}/sign"
    dpo = Api(token_for(parties.gmca, Role.DPO))
    early = dpo.post(url, {"role": "dpo"})
    assert early.status_code == 409  # still a draft
    assert Api(drafter).post(f"/agreements/{agreement_id}/submit").status_code == 200
    assert Api().post(url, {"role": "dpo"}).status_code == 401
    assert Api(token_for(parties.outsider, Role.DPO)).post(url, {"role": "dpo"}).status_code == 404
    before = last_seq()
    not_held = dpo.post(url, {"role": "siro"})
    assert not_held.status_code == 403
    assert "role you hold" in detail(not_held)
    assert only(events_after(before, "agreement.signed")).outcome == "refused"
    missing = dpo.post(url, {})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["path"] == "role"
    assert dpo.post(url, {"role": "dpo"}).status_code == 200
    twice = dpo.post(url, {"role": "dpo"})
    assert twice.status_code == 409
    assert "already signed" in detail(twice)


def test_activate_denials(parties, drafter) -> None:
    agreement_id = in_status(parties, drafter, "in_review")
    url = f"/agreements/{agreement_id}/activate"
    siro = Api(token_for(parties.gmca, Role.SIRO))
    assert Api().post(url).status_code == 401
    assert Api(token_for(parties.outsider, Role.SIRO)).post(url).status_code == 404
    # A data officer drafts but does not decide.
    assert Api(drafter).post(url).status_code == 403
    not_yet = siro.post(url)
    assert not_yet.status_code == 409
    assert not_yet.json()["detail"]
    sign_all(parties, agreement_id)
    assert siro.post(url).json()["status"] == "active"
    assert siro.post(url).status_code == 409


@pytest.mark.parametrize(
    ("move", "body"),
    [("suspend", {"reason": "Breach"}), ("resume", None), ("terminate", {"reason": "Ended"})],
)
def test_suspend_resume_terminate_denials(parties, drafter, move, body) -> None:
    agreement_id = in_status(parties, drafter, "approved")
    url = f"/agreements/{agreement_id}/{move}"
    decider = Api(token_for(parties.oakview, Role.SENIOR_MANAGER))
    assert Api().post(url, body).status_code == 401
    assert Api(token_for(parties.outsider, Role.SIRO)).post(url, body).status_code == 404
    assert Api(token_for(parties.oakview, Role.ANALYST)).post(url, body).status_code == 403
    before = last_seq()
    refused = decider.post(url, body)  # approved, not active: the lifecycle has no such move
    assert refused.status_code == 409
    assert "approved" in detail(refused)
    assert [e.outcome for e in events_after(before)] == ["refused"]
    assert status_of(agreement_id) == "approved"


@pytest.mark.parametrize("move", ["suspend", "terminate"])
def test_a_reason_is_needed(parties, drafter, move) -> None:
    agreement_id = in_status(parties, drafter, "active")
    decider = Api(token_for(parties.gmca, Role.DPO))
    for body in ({}, {"reason": ""}):
        response = decider.post(f"/agreements/{agreement_id}/{move}", body)
        assert response.status_code == 422
        assert response.json()["errors"][0]["path"] == "reason"
    assert status_of(agreement_id) == "active"


def test_audit_events_name_the_token_holder(parties) -> None:
    membership = member(parties.gmca, Role.DPO, Role.DATA_OFFICER, email="dpo@gmca.example")
    secret = token_of(membership)
    before = last_seq()
    agreement_id = imported(secret)
    event: AuditEvent = only(events_after(before, "agreement.drafted"))
    assert event.actor == f"user:{membership.user.pk}"
    assert event.actor_label == "dpo@gmca.example"
    assert event.organisation == str(parties.gmca.pk)
    assert event.target == f"agreement:{agreement_id}"
