"""The data request pages through the real client: the list, asking (the form, then the check
page with what may already answer it, then posting), the request's page, and the comment,
approve, decline and withdraw buttons. For each: signed out goes to sign-in, an organisation
not involved gets "page not found", the wrong role gets the 403 page or a refusal banner."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from accord.agreements import actions as agreement_actions
from accord.agreements.models import Agreement, Framework
from accord.audit.models import AuditEvent
from accord.data_requests import actions
from accord.data_requests.models import DataRequest, RequestComment, RequestHolder
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory, combined_authority, framework_of, member_actor

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    last_seq,
    person,
    signed_in_client,
)

UNKNOWN = "00000000-0000-4000-8000-000000000000"
BUTTONS = ("comment", "approve", "decline", "withdraw")
TITLE = "Care home status for the dashboard"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


member = member_actor


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def lancashire() -> Organisation:
    return OrganisationFactory(
        name="Lancashire County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000017"
    )


@pytest.fixture
def framework(gmca, lancashire) -> Framework:
    return framework_of(gmca, lancashire)


@pytest.fixture
def data_request(gmca, lancashire) -> DataRequest:
    return actions.post(
        by=member(gmca, Role.ANALYST),
        title=TITLE,
        question="Which care homes need help today?",
        reason="To send infection control support where it is needed first.",
        holders=[lancashire],
        frequency="daily",
        standards=["care-home-daily-status"],
    )


def urls_of(found: DataRequest) -> dict[str, str]:
    base = f"/requests/{found.pk}"
    return {"detail": f"{base}/", **{name: f"{base}/{name}/" for name in BUTTONS}}


def post_and_follow(client: Client, url: str, data: dict | None = None):
    response = client.post(url, data or {})
    assert response.status_code == 302, text_of(response)[:2000]
    return response, client.get(response.url)


def approve_data(framework: Framework) -> dict[str, str]:
    return {"framework": str(framework.pk), "agreement_type": "data_disclosure_agreement"}


def ask_form(holder: Organisation, **changes) -> dict:
    return {
        "title": TITLE,
        "question": "Which care homes need help today: free beds, outbreaks, PPE?",
        "reason": "To send support to the homes that need it first.",
        "standards": ["care-home-daily-status"],
        "data_description": "",
        "holders": [str(holder.pk)],
        "frequency": "daily",
        "needed_by": "",
        "framework": "",
        **changes,
    }


# --- signed out, not involved -----------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(data_request) -> None:
    client = Client()
    for url in ("/requests/", "/requests/new/", "/requests/new/check/"):
        assert_redirects_to_sign_in(client.get(url), url)
    urls = urls_of(data_request)
    assert_redirects_to_sign_in(client.get(urls["detail"]), urls["detail"])
    for name in BUTTONS:
        assert_redirects_to_sign_in(client.post(urls[name], {"body": "x"}), urls[name])
    data_request.refresh_from_db()
    assert data_request.status == "open"
    assert not RequestComment.objects.exists()


def test_an_organisation_not_involved_gets_page_not_found(
    framework, data_request, other_council
) -> None:
    client = signed_in_client(person(other_council, Role.DPO, Role.DATA_OFFICER))
    urls = urls_of(data_request)
    before = last_seq()
    assert_not_found_page(client.get(urls["detail"]))
    assert_not_found_page(client.post(urls["comment"], {"body": "Can we join?"}))
    assert_not_found_page(client.post(urls["approve"], approve_data(framework)))
    assert_not_found_page(client.post(urls["decline"], {"reasons": "No"}))
    assert_not_found_page(client.post(urls["withdraw"], {"reason": "No"}))
    assert_not_found_page(client.get(f"/requests/{UNKNOWN}/"))
    assert TITLE not in text_of(client.get("/requests/"))
    data_request.refresh_from_db()
    assert data_request.status == "open"
    assert not RequestComment.objects.exists()
    assert not AuditEvent.objects.filter(seq__gt=before, action__startswith="data_request.")


def test_the_buttons_take_only_post(data_request, gmca) -> None:
    client = signed_in_client(person(gmca, Role.DPO))
    for name in BUTTONS:
        assert client.get(urls_of(data_request)[name]).status_code == 405, name


# --- the list ---------------------------------------------------------------------------------


def test_both_sides_see_the_request_in_their_list(data_request, gmca, lancashire) -> None:
    mine = text_of(signed_in_client(person(gmca, Role.ANALYST)).get("/requests/"))
    assert TITLE in mine
    assert f'href="/requests/{data_request.pk}/"' in mine
    assert 'href="/requests/new/"' in mine
    theirs = text_of(signed_in_client(person(lancashire, Role.VIEWER)).get("/requests/"))
    assert TITLE in theirs
    assert "Greater Manchester Combined Authority" in theirs
    assert 'href="/requests/new/"' not in theirs  # a viewer cannot ask


# --- asking -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CHIEF_EXECUTIVE])
def test_only_drafting_roles_may_ask(gmca, lancashire, role) -> None:
    client = signed_in_client(person(gmca, role))
    assert_forbidden_page(client.get("/requests/new/"))
    assert_forbidden_page(client.post("/requests/new/", ask_form(lancashire)))
    assert_forbidden_page(client.get("/requests/new/check/"))
    assert_forbidden_page(client.post("/requests/new/check/"))
    assert not DataRequest.objects.exists()


def test_asking_checks_first_then_posts(gmca, lancashire, other_council) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    # Nothing pending yet: the check page sends you to the form.
    response = client.get("/requests/new/check/")
    assert (response.status_code, response.url) == (302, "/requests/new/")
    page = client.get("/requests/new/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Lancashire County Council" in text
    assert "Kent County Council" in text
    assert (
        f'value="{gmca.pk}"' not in re.search(r'id="div_id_holders".*?</fieldset>', text, re.S)[0]
    )

    response = client.post("/requests/new/", ask_form(lancashire, needed_by="27/3/2099"))
    assert (response.status_code, response.url) == (302, "/requests/new/check/")
    assert not DataRequest.objects.exists()  # not sent yet

    check = client.get("/requests/new/check/")
    assert check.status_code == 200
    text = text_of(check)
    assert "Before you send your request" in text
    suggestions = re.search(r'id="suggestions".*?</ul>', text, re.S)[0]
    assert "Care home daily status" in suggestions
    assert 'href="/standards/care-home-daily-status/"' in suggestions
    assert "Lancashire County Council" in text

    before = last_seq()
    response = client.post("/requests/new/check/")
    found = DataRequest.objects.get()
    assert (response.status_code, response.url) == (302, f"/requests/{found.pk}/")
    assert (found.title, found.requester_id, found.frequency) == (TITLE, gmca.pk, "daily")
    assert found.needed_by.isoformat() == "2099-03-27"
    assert list(found.holders.values_list("organisation_id", flat=True)) == [lancashire.pk]
    assert AuditEvent.objects.filter(seq__gt=before, action="data_request.posted").count() == 1
    page = text_of(client.get(response.url))
    assert "Your request has been sent to the organisations asked." in page
    assert 'id="request-status">Open<' in page
    # The pending request is gone: posting again sends nothing more.
    assert client.post("/requests/new/check/").url == "/requests/new/"
    assert DataRequest.objects.count() == 1


def test_the_check_page_shows_a_similar_request_the_organisation_can_see(
    data_request, gmca, lancashire
) -> None:
    client = signed_in_client(person(gmca, Role.DATA_OFFICER))
    client.post("/requests/new/", ask_form(lancashire, title="Care home status again"))
    text = text_of(client.get("/requests/new/check/"))
    assert f'href="/requests/{data_request.pk}/"' in text
    assert "Similar request" in text


def test_the_form_names_what_is_missing_or_wrong(gmca, lancashire) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    response = client.post(
        "/requests/new/",
        ask_form(
            lancashire,
            title="",
            question="",
            standards=[],
            holders=[],
            frequency="",
            needed_by="32/13/2026",
        ),
    )
    assert response.status_code == 200
    text = text_of(response)
    for message in (
        "Give the request a short title",
        "Say what question the data would answer",
        "Choose a data standard, or describe the data in words",
        "Choose at least one organisation that holds the data",
        "Say how often you need the data",
        "'32/13/2026' is not a real date. Write it like 27/3/2027.",
    ):
        assert message in text, message
    assert "accord.pending_request" not in client.session
    assert not DataRequest.objects.exists()


def test_a_refusal_at_posting_is_shown_on_the_check_page(gmca, lancashire) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    client.post("/requests/new/", ask_form(lancashire, needed_by="1/1/2020"))
    response = client.post("/requests/new/check/")
    assert response.status_code == 200
    text = text_of(response)
    assert "The date you need the data by must be today or later." in text
    assert "<title>Error:" in text
    assert not DataRequest.objects.exists()


# --- the request's page -----------------------------------------------------------------------


def test_the_requester_reads_it_and_may_withdraw_but_not_answer(data_request, gmca) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    page = client.get(f"/requests/{data_request.pk}/")
    assert page.status_code == 200
    text = text_of(page)
    assert TITLE in text
    assert "Which care homes need help today?" in text
    assert "Lancashire County Council" in text
    assert f'action="/requests/{data_request.pk}/withdraw/"' in text
    assert 'id="approve-form"' not in text


def test_a_holder_viewer_reads_it_but_cannot_answer(framework, data_request, lancashire) -> None:
    client = signed_in_client(person(lancashire, Role.VIEWER))
    page = client.get(f"/requests/{data_request.pk}/")
    assert page.status_code == 200
    text = text_of(page)
    assert TITLE in text
    assert 'id="approve-form"' not in text
    assert f"/requests/{data_request.pk}/decline/" not in text
    assert f"/requests/{data_request.pk}/withdraw/" not in text
    urls = urls_of(data_request)
    _response, page = post_and_follow(client, urls["approve"], approve_data(framework))
    assert "Only someone with one of these roles can answer a data request" in text_of(page)
    _response, page = post_and_follow(client, urls["decline"], {"reasons": "No"})
    assert "Only someone with one of these roles can answer a data request" in text_of(page)
    assert RequestHolder.objects.get(request=data_request).answer == "awaiting"
    assert not Agreement.objects.exists()


def test_a_holder_dpo_approves_and_lands_on_the_drafted_agreement(
    framework, data_request, gmca, lancashire
) -> None:
    client = signed_in_client(person(lancashire, Role.DPO))
    page = text_of(client.get(f"/requests/{data_request.pk}/"))
    assert 'id="approve-form"' in page
    assert f'action="/requests/{data_request.pk}/decline/"' in page
    before = last_seq()
    response, page = post_and_follow(
        client, f"/requests/{data_request.pk}/approve/", approve_data(framework)
    )
    agreement = Agreement.objects.get()
    assert response.url == f"/agreements/{agreement.pk}/"
    text = text_of(page)
    assert "Approved. An agreement has been drafted from the framework's template." in text
    assert TITLE in text
    assert 'id="status">Draft<' in text
    document = agreement_actions.document_of(agreement)
    assert [p.name for p in document.parties] == [lancashire.name, gmca.name]
    holder = RequestHolder.objects.get(request=data_request)
    assert (holder.answer, holder.agreement_id) == ("approved", agreement.pk)
    assert AuditEvent.objects.filter(seq__gt=before, action="data_request.approved").exists()
    # Answered: no second answer, on the page or by posting.
    page = text_of(client.get(f"/requests/{data_request.pk}/"))
    assert 'id="approve-form"' not in page
    _response, page = post_and_follow(
        client, f"/requests/{data_request.pk}/decline/", {"reasons": "Changed my mind"}
    )
    assert "can no longer be answered" in text_of(page)
    assert RequestHolder.objects.get(request=data_request).answer == "approved"


def test_approving_needs_a_framework_and_a_kind(framework, data_request, lancashire) -> None:
    client = signed_in_client(person(lancashire, Role.SIRO))
    _response, page = post_and_follow(client, f"/requests/{data_request.pk}/approve/", {})
    assert "Choose a framework and a kind of agreement to approve it." in text_of(page)
    _response, page = post_and_follow(
        client,
        f"/requests/{data_request.pk}/approve/",
        {"framework": str(framework.pk), "agreement_type": "joint_controller_arrangement"},
    )
    assert "Test Accord has no template for that kind of agreement." in text_of(page)
    assert RequestHolder.objects.get(request=data_request).answer == "awaiting"
    assert not Agreement.objects.exists()


def test_the_requester_cannot_answer_its_own_request(framework, data_request, gmca) -> None:
    client = signed_in_client(person(gmca, Role.DPO))
    _response, page = post_and_follow(
        client, f"/requests/{data_request.pk}/approve/", approve_data(framework)
    )
    assert "Only an organisation the request was made to can answer it." in text_of(page)
    assert not Agreement.objects.exists()


def test_declining_needs_reasons(data_request, lancashire) -> None:
    client = signed_in_client(person(lancashire, Role.INFORMATION_ASSET_OWNER))
    url = f"/requests/{data_request.pk}/decline/"
    _response, page = post_and_follow(client, url, {"reasons": "  "})
    assert "Give your reasons for declining." in text_of(page)
    assert RequestHolder.objects.get(request=data_request).answer == "awaiting"
    _response, page = post_and_follow(client, url, {"reasons": "We do not hold it."})
    text = text_of(page)
    assert "Declined. The requester has been told your reasons." in text
    assert 'id="request-status">Declined<' in text
    assert RequestHolder.objects.get(request=data_request).reasons == "We do not hold it."


def test_only_the_requester_withdraws(data_request, gmca, lancashire) -> None:
    url = f"/requests/{data_request.pk}/withdraw/"
    holder = signed_in_client(person(lancashire, Role.DPO))
    _response, page = post_and_follow(holder, url, {"reason": "Not yours"})
    assert "Only the organisation that made the request can withdraw it." in text_of(page)
    viewer = signed_in_client(person(gmca, Role.VIEWER))
    assert f'action="{url}"' not in text_of(viewer.get(f"/requests/{data_request.pk}/"))
    _response, page = post_and_follow(viewer, url)
    assert "can withdraw a data request" in text_of(page)
    data_request.refresh_from_db()
    assert data_request.status == "open"
    requester = signed_in_client(person(gmca, Role.DATA_OFFICER))
    _response, page = post_and_follow(requester, url, {"reason": "Found it elsewhere"})
    text = text_of(page)
    assert "Withdrawn." in text
    assert 'id="request-status">Withdrawn<' in text
    assert f'action="{url}"' not in text
    _response, page = post_and_follow(requester, url)
    assert "This request is withdrawn and can no longer be withdrawn." in text_of(page)


def test_both_sides_comment_and_an_empty_comment_is_refused(data_request, gmca, lancashire) -> None:
    url = f"/requests/{data_request.pk}/comment/"
    holder = signed_in_client(person(lancashire, Role.DPO))
    response, page = post_and_follow(holder, url, {"body": "We can share all but the UPRN."})
    assert response.url == f"/requests/{data_request.pk}/"
    assert "We can share all but the UPRN." in text_of(page)
    requester = signed_in_client(person(gmca, Role.ANALYST))
    _response, page = post_and_follow(requester, url, {"body": "That works for us."})
    assert "That works for us." in text_of(page)
    _response, page = post_and_follow(requester, url, {"body": "   "})
    assert "Write a comment before posting it." in text_of(page)
    assert list(RequestComment.objects.values_list("organisation_id", flat=True)) == [
        lancashire.pk,
        gmca.pk,
    ]
