"""The agreement pages through the real client: the list, starting one from a framework, the
agreement's page, every drafting step (read and saved), the lifecycle buttons, and the framework
pages. For each: signed out goes to sign-in, another organisation gets "page not found", the
wrong role gets the styled 403 page or a refusal banner, and the right role gets its way."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accord.agreements import actions, rules
from accord.agreements.document import DataSharingAgreement
from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor
from accord.audit.models import AuditEvent
from accord.demo.frameworks import CLAUSES
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.web import drafting
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
LIFECYCLE = ("submit", "sign", "activate", "suspend", "resume", "terminate", "return", "amend")


def text_of(response) -> str:
    return html.unescape(response.content.decode())


member = member_actor


@pytest.fixture
def kent() -> Organisation:
    return OrganisationFactory(
        name="Lancashire County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000017"
    )


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def framework(kent, gmca) -> Framework:
    return framework_of(kent, gmca)


def care_home_draft(framework, kent, gmca, agreement_type="data_disclosure_agreement"):
    return actions.draft_from_framework(
        by=member(gmca, Role.ANALYST),
        framework=framework,
        agreement_type=agreement_type,
        provider=kent,
        recipient=gmca,
        title="Care home status for Greater Manchester",
        question="Which care homes need help today?",
        reason="To send support where it is needed first.",
        standards=[get_standard("care-home-daily-status")],
        frequency="daily",
    )


@pytest.fixture
def draft(framework, kent, gmca) -> Agreement:
    return care_home_draft(framework, kent, gmca)


def to_review(agreement: Agreement, by_org: Organisation) -> Agreement:
    actions.submit(by=member(by_org, Role.DATA_OFFICER), agreement=agreement)
    agreement.refresh_from_db()
    return agreement


def to_approved(agreement: Agreement, kent: Organisation, gmca: Organisation) -> Agreement:
    to_review(agreement, gmca)
    for organisation in (kent, gmca):
        signer = member(organisation, Role.DPO, Role.SENIOR_MANAGER)
        for role in ("dpo", "senior_manager"):
            agreement.refresh_from_db()
            if agreement.status == "in_review":
                actions.sign(by=signer, agreement=agreement, role=role)
    agreement.refresh_from_db()
    assert agreement.status == "approved"
    return agreement


def to_active(agreement: Agreement, kent: Organisation, gmca: Organisation) -> Agreement:
    to_approved(agreement, kent, gmca)
    actions.activate(by=member(kent, Role.DPO), agreement=agreement)
    agreement.refresh_from_db()
    return agreement


def urls_of(agreement: Agreement) -> dict[str, str]:
    base = f"/agreements/{agreement.pk}"
    return {
        "detail": f"{base}/",
        "step": f"{base}/draft/about/",
        **{name: f"{base}/{name}/" for name in LIFECYCLE},
    }


def options(page: str, name: str) -> set[str]:
    """The values offered by the select called ``name`` (less its empty prompt)."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
    assert select, name
    return set(re.findall(r'<option value="([^"]+)"', select.group(0)))


def post_and_follow(client: Client, url: str, data: dict | None = None):
    response = client.post(url, data or {})
    assert response.status_code == 302, text_of(response)[:2000]
    return response, client.get(response.url)


# --- signed out, another organisation ---------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(draft) -> None:
    client = Client()
    for url in ("/agreements/", "/agreements/new/", "/frameworks/", "/frameworks/test-accord/"):
        assert_redirects_to_sign_in(client.get(url), url)
    urls = urls_of(draft)
    for name in ("detail", "step"):
        assert_redirects_to_sign_in(client.get(urls[name]), urls[name])
    assert_redirects_to_sign_in(client.post(urls["step"], {"title": "x"}), urls["step"])
    for name in LIFECYCLE:
        assert_redirects_to_sign_in(client.post(urls[name], {"reason": "x"}), urls[name])
    draft.refresh_from_db()
    assert (draft.status, draft.title) == ("draft", "Care home status for Greater Manchester")


def test_another_organisation_gets_page_not_found_for_everything(
    framework, draft, kent, gmca, other_council
) -> None:
    active = to_active(care_home_draft(framework, kent, gmca), kent, gmca)
    client = signed_in_client(person(other_council, Role.DPO, Role.DATA_OFFICER))
    before = last_seq()
    for agreement in (draft, active):
        urls = urls_of(agreement)
        assert_not_found_page(client.get(urls["detail"]))
        assert_not_found_page(client.get(urls["step"]))
        assert_not_found_page(client.post(urls["step"], {"title": "Hijacked"}))
        for name in LIFECYCLE:
            assert_not_found_page(client.post(urls[name], {"reason": "x", "role": "dpo"}))
    assert_not_found_page(client.get(f"/agreements/{UNKNOWN}/"))
    assert_not_found_page(client.get(f"/agreements/{UNKNOWN}/draft/about/"))
    assert_not_found_page(client.post(f"/agreements/{UNKNOWN}/submit/"))
    draft.refresh_from_db()
    active.refresh_from_db()
    assert (draft.status, active.status) == ("draft", "active")
    assert draft.title == "Care home status for Greater Manchester"
    assert not AuditEvent.objects.filter(seq__gt=before, action__startswith="agreement.").exists()
    listing = text_of(client.get("/agreements/"))
    assert "Care home status for Greater Manchester" not in listing


def test_the_lifecycle_buttons_take_only_post(draft, kent) -> None:
    client = signed_in_client(person(kent, Role.DPO))
    urls = urls_of(draft)
    for name in LIFECYCLE:
        assert client.get(urls[name]).status_code == 405, name


# --- the list and the agreement's page --------------------------------------------------------


def test_a_viewer_reads_the_list_and_the_agreement_but_cannot_draft(draft, kent) -> None:
    client = signed_in_client(person(kent, Role.VIEWER))
    listing = client.get("/agreements/")
    assert listing.status_code == 200
    text = text_of(listing)
    assert "Care home status for Greater Manchester" in text
    assert f'href="/agreements/{draft.pk}/"' in text
    assert 'href="/agreements/new/"' not in text
    page = client.get(f"/agreements/{draft.pk}/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Care home status for Greater Manchester" in text
    assert 'id="status">Draft<' in text
    assert "under Test Accord" in text
    assert f"/agreements/{draft.pk}/draft/about/" not in text  # no links to edit
    assert f"/agreements/{draft.pk}/submit/" not in text
    assert_forbidden_page(client.get("/agreements/new/"))
    assert_forbidden_page(client.get(f"/agreements/{draft.pk}/draft/about/"))
    assert_forbidden_page(client.post(f"/agreements/{draft.pk}/draft/about/", {"title": "No"}))
    draft.refresh_from_db()
    assert draft.title == "Care home status for Greater Manchester"


def test_a_drafter_sees_the_steps_and_the_send_button(draft, gmca) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    assert 'href="/agreements/new/"' in text_of(client.get("/agreements/"))
    text = text_of(client.get(f"/agreements/{draft.pk}/"))
    for step in drafting.steps_for(actions.document_of(draft)):
        assert f'href="/agreements/{draft.pk}/draft/{step.slug}/"' in text, step.slug
    assert f'action="/agreements/{draft.pk}/submit/"' in text
    assert "/draft/handling/" not in text  # not a memorandum


def test_the_list_shows_only_the_organisations_agreements(framework, draft, kent, gmca) -> None:
    third = OrganisationFactory(name="Surrey County Council", gss_code="E10000030")
    actions.add_framework_member(by=Actor.system(), framework=framework, organisation=third)
    actions.draft_from_framework(
        by=member(third, Role.DPO),
        framework=framework,
        agreement_type="data_disclosure_agreement",
        provider=third,
        recipient=gmca,
        title="Surrey to Manchester",
    )
    kent_list = text_of(signed_in_client(person(kent, Role.VIEWER)).get("/agreements/"))
    assert "Care home status for Greater Manchester" in kent_list
    assert "Surrey to Manchester" not in kent_list


# --- starting from a framework ----------------------------------------------------------------


def test_the_new_agreement_form_offers_only_the_organisations_frameworks(
    framework, kent, gmca
) -> None:
    elsewhere = actions.create_framework(
        by=Actor.system(),
        slug="elsewhere",
        name="Elsewhere Accord",
        description="",
        clauses=CLAUSES,
        template_types=["data_disclosure_agreement"],
    )
    stranger = OrganisationFactory(name="Stranger District Council", gss_code="E07000999")
    actions.add_framework_member(by=Actor.system(), framework=elsewhere, organisation=stranger)
    client = signed_in_client(person(kent, Role.DATA_OFFICER))
    page = client.get("/agreements/new/")
    assert page.status_code == 200
    text = text_of(page)
    assert f'value="{framework.pk}"' in text
    assert "Test Accord" in text
    assert "Elsewhere Accord" not in text
    assert "Greater Manchester Combined Authority" in text  # a fellow member
    assert "Stranger District Council" not in text
    assert options(text, "other") == {str(gmca.pk)}  # a fellow member, not itself
    assert options(text, "framework") == {str(framework.pk)}
    # Posting a framework it is not a member of is refused by the form.
    response = client.post(
        "/agreements/new/",
        {
            "framework": elsewhere.pk,
            "agreement_type": "data_disclosure_agreement",
            "other": stranger.pk,
            "direction": "provide",
            "title": "Should not exist",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in text_of(response)
    assert not Agreement.objects.exists()


def test_a_drafter_starts_an_agreement_from_the_framework(framework, kent, gmca) -> None:
    client = signed_in_client(person(kent, Role.DATA_OFFICER))
    before = last_seq()
    response = client.post(
        "/agreements/new/",
        {
            "framework": framework.pk,
            "agreement_type": "data_disclosure_agreement",
            "other": gmca.pk,
            "direction": "receive",
            "title": "Manchester homes to Kent",
            "standards": ["care-home-daily-status"],
        },
    )
    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response.url == f"/agreements/{agreement.pk}/draft/about/"
    assert (agreement.title, agreement.framework_id, agreement.drafted_by_id) == (
        "Manchester homes to Kent",
        framework.pk,
        kent.pk,
    )
    document = actions.document_of(agreement)
    provider, recipient = document.parties
    assert (provider.name, recipient.name) == (gmca.name, kent.name)  # they provide to us
    assert document.datasets[0].standard.startswith("care-home-daily-status@")
    assert AuditEvent.objects.filter(seq__gt=before, action="agreement.drafted").count() == 1
    assert "Draft started from the framework" in text_of(client.get(response.url))


def test_the_new_agreement_form_says_what_is_missing(framework, kent) -> None:
    client = signed_in_client(person(kent, Role.DATA_OFFICER))
    text = text_of(client.post("/agreements/new/", {"title": ""}))
    for message in (
        "Choose the framework the agreement is under",
        "Choose a kind of agreement",
        "Choose the other organisation",
        "Say who provides the data",
    ):
        assert message in text
    assert not Agreement.objects.exists()


def test_a_template_the_framework_lacks_is_refused_on_the_form(framework, kent, gmca) -> None:
    client = signed_in_client(person(kent, Role.DPO))
    response = client.post(
        "/agreements/new/",
        {
            "framework": framework.pk,
            "agreement_type": "joint_controller_arrangement",
            "other": gmca.pk,
            "direction": "provide",
            "title": "Joint",
        },
    )
    assert response.status_code == 200
    assert "Test Accord has no template for that kind of agreement." in text_of(response)
    assert not Agreement.objects.exists()


# --- drafting steps ---------------------------------------------------------------------------


def form_data(form: drafting.StepForm) -> dict[str, Any]:
    """What the browser would send back for an untouched step form."""
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field.widget, drafting.forms.CheckboxInput):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = list(value)
        else:
            data[name] = "" if value is None else str(value)
    return data


def first_choice(form: drafting.StepForm, name: str) -> str:
    return next(code for code, _ in form.fields[name].choices if code)


Check = Callable[[DataSharingAgreement], object]
# Each step: the answers changed, and what the saved document then says.
STEP_CHANGES: dict[str, Callable[[drafting.StepForm], tuple[dict[str, Any], Check]]] = {
    "about": lambda form: (
        {"title": "Renamed on the about step"},
        lambda d: d.title == "Renamed on the about step",
    ),
    "parties": lambda form: (
        {"p0_dpo_name": "Dee Pio", "p0_dpo_email": "dpo@kent.example"},
        lambda d: (
            bool(d.parties[0].contacts and d.parties[0].contacts.dpo)
            and d.parties[0].contacts.dpo.name == "Dee Pio"
        ),
    ),
    "purpose": lambda form: (
        {"function_or_power": "Care Act 2014 section 5"},
        lambda d: d.purposes[0].function_or_power == "Care Act 2014 section 5",
    ),
    "data": lambda form: (
        {"d0f0_necessity": "Needed to know which day"},
        lambda d: d.datasets[0].fields[0].necessity_justification == "Needed to know which day",
    ),
    "flows": lambda form: (
        {"f0_actions": ["view", "aggregate_only"]},
        lambda d: d.flows[0].actions == ["view", "aggregate_only"],
    ),
    "legal-basis": lambda form: (
        {"article6": [first_choice(form, "article6")]},
        lambda d: d.legal_basis.article6 == [first_choice(form, "article6")],
    ),
    "dpia": lambda form: (
        {"reference": "DPIA-42"},
        lambda d: bool(d.dpia) and d.dpia.reference == "DPIA-42",
    ),
    "retention": lambda form: (
        {"r0_period": "P2Y"},
        lambda d: [r.period for r in d.retention] == ["P2Y"],
    ),
    "safeguards": lambda form: (
        {"breach_hours": "12"},
        lambda d: d.breach_handling.notify_parties_within_hours == 12,
    ),
    "handling": lambda form: (
        {"commercially_sensitive": "on", "embargo_until": "1/6/2026"},
        lambda d: (
            d.handling_caveats.commercially_sensitive
            and d.handling_caveats.embargo_until == dt.date(2026, 6, 1)
        ),
    ),
    "term": lambda form: (
        {"review_date": "27/3/2027"},
        lambda d: d.term.review_date == dt.date(2027, 3, 27),
    ),
    "commitments": lambda form: (
        {"report_what": "How many homes were helped", "report_due": "P3M"},
        lambda d: (
            [(r.what, r.due) for r in d.report_back] == [("How many homes were helped", "P3M")]
        ),
    ),
}


@pytest.mark.parametrize(
    ("agreement_type", "slugs"),
    [
        (
            "data_disclosure_agreement",
            [
                "about",
                "parties",
                "purpose",
                "data",
                "flows",
                "legal-basis",
                "dpia",
                "retention",
                "safeguards",
                "term",
                "commitments",
            ],
        ),
        (
            "memorandum_of_understanding",
            ["about", "parties", "purpose", "data", "flows", "handling", "term", "commitments"],
        ),
    ],
)
def test_each_step_reads_and_saves_the_draft(framework, kent, gmca, agreement_type, slugs) -> None:
    agreement = care_home_draft(framework, kent, gmca, agreement_type)
    steps = drafting.steps_for(actions.document_of(agreement))
    assert [s.slug for s in steps] == slugs
    client = signed_in_client(person(gmca, Role.DATA_OFFICER))
    for number, step in enumerate(steps):
        url = f"/agreements/{agreement.pk}/draft/{step.slug}/"
        page = client.get(url)
        assert page.status_code == 200, step.slug
        assert step.title in text_of(page)
        document = actions.document_of(agreement)
        form = step.form(document)
        changes, check = STEP_CHANGES[step.slug](form)
        assert not check(document), f"{step.slug}: the change is already there"
        before = last_seq()
        response = client.post(url, {**form_data(form), **changes})
        assert response.status_code == 302, (step.slug, text_of(response)[:3000])
        following = steps[number + 1] if number + 1 < len(steps) else None
        assert response.url == (
            f"/agreements/{agreement.pk}/draft/{following.slug}/"
            if following
            else f"/agreements/{agreement.pk}/"
        )
        saved = actions.document_of(agreement)
        assert check(saved), step.slug
        event = AuditEvent.objects.get(seq__gt=before, action="agreement.draft_saved")
        assert (event.outcome, event.target) == ("success", f"agreement:{agreement.pk}")
        assert event.details["digest"] == Agreement.objects.get(pk=agreement.pk).current.digest
    agreement.refresh_from_db()
    assert agreement.title == "Renamed on the about step"


def test_a_date_that_does_not_exist_is_named_and_nothing_is_saved(draft, gmca) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    document = actions.document_of(draft)
    digest = draft.current.digest
    form = drafting.step_named(document, "term").form(document)
    before = last_seq()
    response = client.post(
        f"/agreements/{draft.pk}/draft/term/", {**form_data(form), "review_date": "32/13/2026"}
    )
    assert response.status_code == 200
    text = text_of(response)
    assert "'32/13/2026' is not a real date. Write it like 27/3/2027." in text
    assert "<title>Error:" in text
    assert not AuditEvent.objects.filter(seq__gt=before).exists()
    assert Agreement.objects.get(pk=draft.pk).current.digest == digest
    assert actions.document_of(draft).term == document.term


def test_a_step_with_a_blocker_shows_it(draft, gmca) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    document = actions.document_of(draft)
    form = drafting.step_named(document, "term").form(document)
    start = document.term.start_date
    too_late = f"{start.day}/{start.month}/{start.year + 4}"
    client.post(f"/agreements/{draft.pk}/draft/term/", {**form_data(form), "review_date": too_late})
    findings = rules.drafting_blockers(rules.check(actions.document_of(draft), today=start))
    assert findings
    page = text_of(client.get(f"/agreements/{draft.pk}/draft/term/"))
    assert 'id="blockers"' in page
    assert "more than 36 months" in page


def test_an_unknown_step_is_not_found(framework, draft, kent, gmca) -> None:
    client = signed_in_client(person(gmca, Role.ANALYST))
    assert_not_found_page(client.get(f"/agreements/{draft.pk}/draft/nonsense/"))
    assert_not_found_page(client.get(f"/agreements/{draft.pk}/draft/handling/"))  # not an MoU
    mou = care_home_draft(framework, kent, gmca, "memorandum_of_understanding")
    assert_not_found_page(client.get(f"/agreements/{mou.pk}/draft/legal-basis/"))


@pytest.mark.parametrize("status", ["in_review", "active"])
def test_editing_an_agreement_that_is_not_a_draft_redirects_with_a_message(
    draft, kent, gmca, status
) -> None:
    if status == "in_review":
        to_review(draft, gmca)
    else:
        to_active(draft, kent, gmca)
    client = signed_in_client(person(gmca, Role.DATA_OFFICER))
    before = last_seq()
    url = f"/agreements/{draft.pk}/draft/about/"
    for send in (
        lambda: client.get(url),
        lambda: client.post(url, {"title": "Changed afterwards"}),
    ):
        response = send()
        assert response.status_code == 302
        assert response.url == f"/agreements/{draft.pk}/"
        assert "Only a draft can be edited." in text_of(client.get(response.url))
    draft.refresh_from_db()
    assert (draft.status, draft.title) == (status, "Care home status for Greater Manchester")
    assert not AuditEvent.objects.filter(seq__gt=before, action="agreement.draft_saved").exists()


# --- lifecycle buttons ------------------------------------------------------------------------


def test_send_for_signature_needs_a_drafting_role(draft, gmca) -> None:
    viewer = signed_in_client(person(gmca, Role.VIEWER))
    _response, page = post_and_follow(viewer, f"/agreements/{draft.pk}/submit/")
    assert "Only someone with one of these roles can do this" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "draft"
    drafter = signed_in_client(person(gmca, Role.ANALYST))
    _response, page = post_and_follow(drafter, f"/agreements/{draft.pk}/submit/")
    assert "Sent to every party for signature." in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "in_review"


def test_a_drafting_blocker_stops_sending_with_a_banner(draft, gmca) -> None:
    document = actions.document_of(draft)
    late = document.term.model_copy(
        update={"review_date": document.term.start_date + dt.timedelta(days=4 * 366)}
    )
    actions.save_draft(
        by=member(gmca, Role.ANALYST),
        agreement=draft,
        document=document.model_copy(update={"term": late}),
    )
    client = signed_in_client(person(gmca, Role.ANALYST))
    _response, page = post_and_follow(client, f"/agreements/{draft.pk}/submit/")
    assert "cannot be sent for signature" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_signing_in_a_role_held_and_not_in_another(draft, kent, gmca) -> None:
    to_review(draft, gmca)
    client = signed_in_client(person(kent, Role.DPO))
    page = text_of(client.get(f"/agreements/{draft.pk}/"))
    assert 'id="sign-form"' in page
    assert 'value="dpo"' in page
    _response, page = post_and_follow(client, f"/agreements/{draft.pk}/sign/", {"role": "siro"})
    assert "You can only sign in a role you hold for Lancashire County Council." in text_of(page)
    assert draft.current.signatures.count() == 0
    _response, page = post_and_follow(client, f"/agreements/{draft.pk}/sign/", {"role": "dpo"})
    assert "Signed." in text_of(page)
    assert list(draft.current.signatures.values_list("organisation_id", "role")) == [
        (kent.pk, "dpo")
    ]
    viewer = signed_in_client(person(kent, Role.VIEWER))
    assert 'id="sign-form"' not in text_of(viewer.get(f"/agreements/{draft.pk}/"))


def test_activate_needs_a_deciding_role(draft, kent, gmca) -> None:
    to_approved(draft, kent, gmca)
    analyst = signed_in_client(person(kent, Role.ANALYST))
    assert f"/agreements/{draft.pk}/activate/" not in text_of(
        analyst.get(f"/agreements/{draft.pk}/")
    )
    before = last_seq()
    _response, page = post_and_follow(analyst, f"/agreements/{draft.pk}/activate/")
    assert "Only someone with one of these roles can do this" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "approved"
    refused = AuditEvent.objects.get(seq__gt=before, action="agreement.active")
    assert refused.outcome == "refused"
    dpo = signed_in_client(person(kent, Role.DPO))
    assert f'action="/agreements/{draft.pk}/activate/"' in text_of(
        dpo.get(f"/agreements/{draft.pk}/")
    )
    _response, page = post_and_follow(dpo, f"/agreements/{draft.pk}/activate/")
    assert "The agreement is in force." in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "active"


def test_suspend_resume_and_end_need_a_deciding_role(draft, kent, gmca) -> None:
    to_active(draft, kent, gmca)
    url = f"/agreements/{draft.pk}"
    analyst = signed_in_client(person(gmca, Role.ANALYST, Role.DATA_OFFICER))
    for action in ("suspend", "terminate"):
        _response, page = post_and_follow(analyst, f"{url}/{action}/", {"reason": "Because"})
        assert "Only someone with one of these roles can do this" in text_of(page)
        draft.refresh_from_db()
        assert draft.status == "active"
    siro = signed_in_client(person(gmca, Role.SIRO))
    _response, page = post_and_follow(siro, f"{url}/suspend/", {"reason": " "})
    assert "Say why the agreement is suspended." in text_of(page)
    _response, page = post_and_follow(siro, f"{url}/suspend/", {"reason": "Breach reported"})
    assert "Suspended: nothing may be shared under it" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "suspended"
    _response, page = post_and_follow(analyst, f"{url}/resume/")
    assert "Only someone with one of these roles can do this" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "suspended"
    _response, page = post_and_follow(siro, f"{url}/resume/")
    assert "Resumed: sharing is allowed again." in text_of(page)
    _response, page = post_and_follow(siro, f"{url}/terminate/", {"reason": ""})
    assert "Say why the agreement is ended." in text_of(page)
    _response, page = post_and_follow(siro, f"{url}/terminate/", {"reason": "No longer needed"})
    assert "The agreement has ended." in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "terminated"
    _response, page = post_and_follow(siro, f"{url}/resume/")
    draft.refresh_from_db()
    assert draft.status == "terminated"


def test_a_button_for_the_wrong_status_is_refused_with_a_banner(draft, kent) -> None:
    dpo = signed_in_client(person(kent, Role.DPO))
    _response, page = post_and_follow(dpo, f"/agreements/{draft.pk}/resume/")
    assert "govuk-notification-banner" in text_of(page)
    _response, page = post_and_follow(dpo, f"/agreements/{draft.pk}/activate/")
    assert "govuk-notification-banner" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_returning_for_changes_voids_signatures(draft, kent, gmca) -> None:
    to_review(draft, gmca)
    actions.sign(by=member(kent, Role.DPO), agreement=draft, role="dpo")
    viewer = signed_in_client(person(kent, Role.VIEWER))
    _response, page = post_and_follow(viewer, f"/agreements/{draft.pk}/return/", {"reason": "x"})
    assert "Only someone with one of these roles can do this" in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "in_review"
    drafter = signed_in_client(person(kent, Role.DATA_OFFICER))
    assert f'action="/agreements/{draft.pk}/return/"' in text_of(
        drafter.get(f"/agreements/{draft.pk}/")
    )
    _response, page = post_and_follow(drafter, f"/agreements/{draft.pk}/return/", {"reason": ""})
    assert "Say what needs to change." in text_of(page)
    _response, page = post_and_follow(
        drafter, f"/agreements/{draft.pk}/return/", {"reason": "Add the UPRN"}
    )
    assert "Returned to draft. Signatures given so far no longer count." in text_of(page)
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert draft.current.signatures.count() == 0


def test_amending_goes_to_the_new_draft_and_only_once(draft, kent, gmca) -> None:
    to_active(draft, kent, gmca)
    viewer = signed_in_client(person(gmca, Role.VIEWER))
    _response, page = post_and_follow(viewer, f"/agreements/{draft.pk}/amend/")
    assert "Only someone with one of these roles can do this" in text_of(page)
    assert not draft.amendments.exists()
    drafter = signed_in_client(person(gmca, Role.DATA_OFFICER))
    assert f'action="/agreements/{draft.pk}/amend/"' in text_of(
        drafter.get(f"/agreements/{draft.pk}/")
    )
    response, page = post_and_follow(drafter, f"/agreements/{draft.pk}/amend/")
    amendment = draft.amendments.get()
    assert response.url == f"/agreements/{amendment.pk}/"
    text = text_of(page)
    assert "Amendment started." in text
    assert 'id="status">Draft<' in text
    assert f'href="/agreements/{draft.pk}/"' in text  # "Amends" links back
    original = text_of(drafter.get(f"/agreements/{draft.pk}/"))
    assert "Amendment under way" in original
    assert f'action="/agreements/{draft.pk}/amend/"' not in original
    _response, page = post_and_follow(drafter, f"/agreements/{draft.pk}/amend/")
    assert "There is already an amendment under way" in text_of(page)
    assert draft.amendments.count() == 1


@pytest.mark.django_db(transaction=True)
def test_amending_outside_a_test_transaction(kent, gmca) -> None:
    """As in production: no test transaction around the request, so the action must open its
    own (select_for_update outside one fails on PostgreSQL)."""
    framework = actions.create_framework(
        by=Actor.system(),
        slug="tx-accord",
        name="Tx Accord",
        description="",
        clauses=CLAUSES,
        template_types=["data_disclosure_agreement"],
    )
    for organisation in (kent, gmca):
        actions.add_framework_member(
            by=Actor.system(), framework=framework, organisation=organisation
        )
    agreement = to_active(care_home_draft(framework, kent, gmca), kent, gmca)
    client = signed_in_client(person(gmca, Role.DATA_OFFICER))
    client.raise_request_exception = True
    response = client.post(f"/agreements/{agreement.pk}/amend/")
    assert response.status_code == 302
    assert agreement.amendments.count() == 1


# --- frameworks -------------------------------------------------------------------------------


def test_frameworks_are_listed_and_described_to_anyone_signed_in(
    framework, draft, kent, gmca, other_council
) -> None:
    to_active(draft, kent, gmca)
    draft.activated_at = timezone.now()
    client = signed_in_client(person(other_council, Role.VIEWER))
    listing = client.get("/frameworks/")
    assert listing.status_code == 200
    assert 'href="/frameworks/test-accord/"' in text_of(listing)
    page = client.get("/frameworks/test-accord/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Test Accord" in text
    assert "Lancashire County Council" in text
    assert "Greater Manchester Combined Authority" in text
    assert "One-way disclosure" in text
    assert "Memorandum of understanding" in text
    assert "Immigration enforcement" in text or "immigration" in text.lower()
    assert_not_found_page(client.get("/frameworks/no-such-framework/"))
