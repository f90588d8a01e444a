"""Data request actions on the real database: posting (with every problem named), routing to the
holders' DPO, information asset owner and SIRO, the discussion, each holder's answer (approving
drafts an agreement, declining needs reasons), the request settling once every holder has
answered, and withdrawing. Each refusal is audited."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements import actions as agreement_actions
from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.data_requests import actions
from accord.data_requests.models import DataRequest, RequestComment, RequestHolder
from accord.demo.frameworks import CLAUSES
from accord.notifications.models import Notification, Topic
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import (
    OrganisationFactory,
    combined_authority,
    framework_of,
    member_actor,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


member = member_actor


def last_seq() -> int:
    newest = AuditEvent.objects.order_by("-seq").first()
    return newest.seq if newest else 0


def events_since(seq: int, action: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(seq__gt=seq)
    if action:
        found = found.filter(action=action)
    return list(found.order_by("seq"))


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def kent() -> Organisation:
    return OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )


@pytest.fixture
def surrey() -> Organisation:
    return OrganisationFactory(
        name="Surrey County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000030"
    )


@pytest.fixture
def framework(gmca, kent, surrey) -> Framework:
    return framework_of(gmca, kent, surrey)


def ask(by: Actor, holders: list[Organisation], **changes) -> DataRequest:
    fields = {
        "title": "Care home status",
        "question": "Which care homes need help today?",
        "reason": "To send infection control support to the homes that need it first.",
        "holders": holders,
        "frequency": "daily",
        "standards": ["care-home-daily-status"],
        "today": TODAY,
        **changes,
    }
    return actions.post(by=by, **fields)


@pytest.fixture
def analyst(gmca) -> Actor:
    return member(gmca, Role.ANALYST)


@pytest.fixture
def request_to_kent(analyst, kent) -> DataRequest:
    return ask(analyst, [kent])


# --- posting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"title": "  "}, "Give the request a short title."),
        ({"question": ""}, "Say what question the data would answer."),
        ({"reason": " "}, "Say why you need it: the benefit and the function it serves."),
        (
            {"standards": [], "data_description": "  "},
            "Choose a data standard, or describe the data you need in words.",
        ),
        ({"holders": []}, "Choose at least one organisation that holds the data."),
        ({"frequency": "hourly"}, "Choose how often you need the data."),
        (
            {"needed_by": TODAY - dt.timedelta(days=1)},
            "The date you need the data by must be today or later.",
        ),
        ({"question": "x" * 5001}, "Keep each answer under 5000 characters."),
        ({"data_description": "x" * 5001}, "Keep each answer under 5000 characters."),
    ],
)
def test_each_problem_with_a_request_is_named(analyst, kent, changes, problem) -> None:
    before = last_seq()
    holders = changes.pop("holders", [kent])
    with pytest.raises(Refused) as refusal:
        ask(analyst, holders, **changes)
    assert refusal.value.reason == problem
    assert not DataRequest.objects.exists()
    (refused,) = events_since(before)
    assert (refused.action, refused.outcome, refused.reason) == (
        "data_request.posted",
        "refused",
        problem,
    )


def test_asking_your_own_organisation_is_refused(analyst, gmca, kent) -> None:
    with pytest.raises(Refused, match="You cannot ask your own organisation for data here"):
        ask(analyst, [kent, gmca])


def test_every_problem_is_named_at_once(analyst) -> None:
    with pytest.raises(Refused) as refusal:
        ask(analyst, [], title="", question="", reason="", standards=[], frequency="")
    assert refusal.value.reason == (
        "Give the request a short title. Say what question the data would answer. "
        "Say why you need it: the benefit and the function it serves. "
        "Choose a data standard, or describe the data you need in words. "
        "Choose at least one organisation that holds the data. "
        "Choose how often you need the data."
    )


def test_an_unknown_standard_is_refused(analyst, kent) -> None:
    with pytest.raises(Refused, match="no published data standard called 'bus-timetables'"):
        ask(analyst, [kent], standards=["bus-timetables"])
    assert not DataRequest.objects.exists()


def test_data_described_in_words_and_a_date_today_are_enough(analyst, kent) -> None:
    found = ask(
        analyst,
        [kent],
        standards=[],
        data_description="Daily bed counts per home",
        needed_by=TODAY,
    )
    assert (found.standards, found.data_description, found.needed_by) == (
        [],
        "Daily bed counts per home",
        TODAY,
    )


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CHIEF_EXECUTIVE, Role.SENIOR_MANAGER])
def test_only_drafting_roles_may_ask(gmca, kent, role) -> None:
    before = last_seq()
    with pytest.raises(NotPermitted, match="can ask for data"):
        ask(member(gmca, role), [kent])
    assert [(e.action, e.outcome) for e in events_since(before)] == [
        ("data_request.posted", "refused")
    ]


def test_a_request_is_recorded_and_routed_to_the_answering_roles(
    gmca, kent, surrey, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    analyst = member(gmca, Role.ANALYST, email="analyst@gmca.test")
    addressed = {
        member(kent, Role.DPO, email="dpo@kent.test"),
        member(kent, Role.INFORMATION_ASSET_OWNER, email="iao@kent.test"),
        member(kent, Role.SIRO, email="siro@kent.test"),
        member(surrey, Role.DPO, email="dpo@surrey.test"),
    }
    member(kent, Role.ANALYST, email="analyst@kent.test")
    member(kent, Role.ORGANISATION_ADMIN, email="admin@kent.test")
    member(gmca, Role.DPO, email="dpo@gmca.test")
    before = last_seq()
    with django_capture_on_commit_callbacks(execute=True):
        found = ask(analyst, [kent, surrey], needed_by=dt.date(2026, 4, 1))
    assert found.status == "open"
    assert (found.requester_id, found.requested_by) == (gmca.pk, analyst.label)
    assert sorted(h.organisation.name for h in found.holders.all()) == [
        "Kent County Council",
        "Surrey County Council",
    ]
    assert set(found.holders.values_list("answer", flat=True)) == {"awaiting"}

    posted = events_since(before, "data_request.posted")[0]
    assert posted.target == f"data_request:{found.pk}"
    assert posted.details["holders"] == ["Kent County Council", "Surrey County Council"]
    assert posted.details["standards"] == ["care-home-daily-status"]

    notices = Notification.objects.filter(topic=Topic.DATA_REQUEST)
    assert sorted(n.organisation.name for n in notices) == [
        "Kent County Council",
        "Surrey County Council",
    ]
    kent_notice = notices.get(organisation=kent)
    assert kent_notice.subject == (
        "Data request from Greater Manchester Combined Authority: Care home status"
    )
    assert kent_notice.link == f"/requests/{found.pk}/"
    assert "Which care homes need help today?" in kent_notice.body
    assert kent_notice.emailed_to == 3
    emailed = {address for message in mailoutbox for address in message.to}
    assert emailed == {"dpo@kent.test", "iao@kent.test", "siro@kent.test", "dpo@surrey.test"}
    assert len(addressed) == 4


# --- the discussion ---------------------------------------------------------------------------


def test_requester_and_holders_discuss_and_the_others_hear(
    request_to_kent, gmca, kent, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    member(gmca, Role.ANALYST, email="colleague@gmca.test")
    member(kent, Role.DPO, email="dpo@kent.test")
    kent_iao = member(kent, Role.INFORMATION_ASSET_OWNER)
    Notification.objects.all().delete()
    before = last_seq()
    with django_capture_on_commit_callbacks(execute=True):
        note = actions.comment(
            by=kent_iao, request=request_to_kent, body="  We can share all but the UPRN.  "
        )
    assert (note.body, note.organisation_id) == ("We can share all but the UPRN.", kent.pk)
    commented = events_since(before, "data_request.commented")[0]
    assert commented.details == {"comment": note.pk, "organisation": "Kent County Council"}
    (notice,) = Notification.objects.all()
    assert notice.organisation_id == gmca.pk  # the author's own organisation is not told
    assert "We can share all but the UPRN." in notice.body
    emailed = {a for m in mailoutbox for a in m.to}
    assert "colleague@gmca.test" in emailed
    assert not {a for a in emailed if a.endswith("@kent.test")}

    reply = actions.comment(by=member(gmca, Role.DATA_OFFICER), request=request_to_kent, body="OK")
    assert list(RequestComment.objects.values_list("pk", flat=True)) == [note.pk, reply.pk]


def test_an_outsider_may_not_comment_and_the_refusal_is_audited(request_to_kent) -> None:
    outsider = member(OrganisationFactory(name="Camden", gss_code="E09000007"), Role.DPO)
    before = last_seq()
    with pytest.raises(NotPermitted, match="Only the requesting organisation"):
        actions.comment(by=outsider, request=request_to_kent, body="Can we have it too?")
    assert not RequestComment.objects.exists()
    (refused,) = events_since(before)
    assert (refused.action, refused.outcome, refused.target) == (
        "data_request.commented",
        "refused",
        f"data_request:{request_to_kent.pk}",
    )


def test_an_empty_or_overlong_comment_is_refused(request_to_kent, analyst) -> None:
    with pytest.raises(Refused, match="Write a comment before posting it"):
        actions.comment(by=analyst, request=request_to_kent, body="   ")
    with pytest.raises(Refused, match="Keep a comment under 5000 characters"):
        actions.comment(by=analyst, request=request_to_kent, body="x" * 5001)
    assert not RequestComment.objects.exists()


def test_a_viewer_may_not_join_the_discussion(request_to_kent, kent) -> None:
    with pytest.raises(NotPermitted, match="join the discussion"):
        actions.comment(by=member(kent, Role.VIEWER), request=request_to_kent, body="Hello")
    assert not RequestComment.objects.exists()


# --- answering --------------------------------------------------------------------------------


def test_approving_drafts_an_agreement_from_holder_to_requester(
    request_to_kent, framework, gmca, kent, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    member(gmca, Role.DATA_OFFICER, email="officer@gmca.test")
    kent_dpo = member(kent, Role.DPO)
    before = last_seq()
    with django_capture_on_commit_callbacks(execute=True):
        agreement = actions.approve(
            by=kent_dpo,
            request=request_to_kent,
            framework=framework,
            agreement_type="data_disclosure_agreement",
            today=TODAY,
        )
    assert (agreement.status, agreement.framework_id, agreement.title) == (
        "draft",
        framework.pk,
        "Care home status",
    )
    document = agreement_actions.document_of(agreement)
    provider, recipient = document.parties
    assert (provider.name, recipient.name) == (kent.name, gmca.name)
    assert "data_provider" in provider.roles
    assert "data_recipient" in recipient.roles
    assert {(p.party_id, p.organisation_id) for p in agreement.parties.all()} == {
        (provider.id, kent.pk),
        (recipient.id, gmca.pk),
    }
    (dataset,) = document.datasets
    assert dataset.standard.startswith("care-home-daily-status@")
    assert dataset.provider_party_id == provider.id
    assert document.flows[0].frequency == "daily"
    purpose = document.purposes[0]
    assert purpose.description == "Which care homes need help today?"
    assert purpose.benefits.startswith("To send infection control support")

    holder = RequestHolder.objects.get(request=request_to_kent, organisation=kent)
    assert (holder.answer, holder.agreement_id, holder.answered_by) == (
        "approved",
        agreement.pk,
        kent_dpo.label,
    )
    request_to_kent.refresh_from_db()
    assert request_to_kent.status == "approved"
    assert request_to_kent.closed_at is not None
    actions_written = [e.action for e in events_since(before)]
    assert "agreement.drafted" in actions_written
    approved = events_since(before, "data_request.approved")[0]
    assert approved.details == {
        "holder": "Kent County Council",
        "agreement": str(agreement.pk),
        "framework": "test-accord",
        "agreement_type": "data_disclosure_agreement",
    }
    told = Notification.objects.filter(organisation=gmca, topic=Topic.DATA_REQUEST)
    assert [n.subject for n in told] == ["Data request approved: Care home status"]
    assert "officer@gmca.test" in {a for m in mailoutbox for a in m.to}


def test_declining_needs_reasons_and_tells_the_requester(request_to_kent, gmca, kent) -> None:
    kent_siro = member(kent, Role.SIRO)
    before = last_seq()
    with pytest.raises(Refused, match="Give your reasons for declining"):
        actions.decline(by=kent_siro, request=request_to_kent, reasons="  ")
    assert RequestHolder.objects.get(request=request_to_kent).answer == "awaiting"
    assert [(e.action, e.outcome) for e in events_since(before)] == [
        ("data_request.declined", "refused")
    ]
    actions.decline(by=kent_siro, request=request_to_kent, reasons="No lawful basis yet.")
    holder = RequestHolder.objects.get(request=request_to_kent)
    assert (holder.answer, holder.reasons) == ("declined", "No lawful basis yet.")
    request_to_kent.refresh_from_db()
    assert request_to_kent.status == "declined"
    notice = Notification.objects.get(organisation=gmca, topic=Topic.DATA_REQUEST)
    assert "No lawful basis yet." in notice.body


def test_the_request_settles_only_when_every_holder_has_answered(
    analyst, framework, kent, surrey
) -> None:
    found = ask(analyst, [kent, surrey])
    actions.approve(
        by=member(kent, Role.DPO),
        request=found,
        framework=framework,
        agreement_type="data_disclosure_agreement",
        today=TODAY,
    )
    found.refresh_from_db()
    assert (found.status, found.closed_at) == ("open", None)
    actions.decline(by=member(surrey, Role.DPO), request=found, reasons="We do not hold it.")
    found.refresh_from_db()
    assert found.status == "approved"  # one holder said yes
    answers = dict(found.holders.values_list("organisation__name", "answer"))
    assert answers == {"Kent County Council": "approved", "Surrey County Council": "declined"}


def test_all_holders_declining_declines_the_request(analyst, kent, surrey) -> None:
    found = ask(analyst, [kent, surrey])
    actions.decline(by=member(kent, Role.DPO), request=found, reasons="No.")
    actions.decline(by=member(surrey, Role.CALDICOTT_GUARDIAN), request=found, reasons="No.")
    found.refresh_from_db()
    assert found.status == "declined"


def test_a_holder_answers_only_once(analyst, framework, kent, surrey) -> None:
    found = ask(analyst, [kent, surrey])
    kent_dpo = member(kent, Role.DPO)
    actions.decline(by=kent_dpo, request=found, reasons="Not now.")
    before = last_seq()
    with pytest.raises(Refused, match="Kent County Council has already answered"):
        actions.approve(
            by=member(kent, Role.SIRO),
            request=found,
            framework=framework,
            agreement_type="data_disclosure_agreement",
        )
    with pytest.raises(Refused, match="already answered"):
        actions.decline(by=kent_dpo, request=found, reasons="Still no.")
    assert not Agreement.objects.exists()
    holder = RequestHolder.objects.get(request=found, organisation=kent)
    assert (holder.answer, holder.reasons) == ("declined", "Not now.")
    assert [(e.action, e.outcome) for e in events_since(before)] == [
        ("data_request.approved", "refused"),
        ("data_request.declined", "refused"),
    ]


def test_a_closed_request_can_no_longer_be_answered(analyst, framework, kent, surrey) -> None:
    found = ask(analyst, [kent, surrey])
    actions.withdraw(by=analyst, request=found)
    with pytest.raises(Refused, match="This request is withdrawn and can no longer be answered"):
        actions.decline(by=member(kent, Role.DPO), request=found, reasons="No.")
    with pytest.raises(Refused, match="can no longer be answered"):
        actions.approve(
            by=member(surrey, Role.DPO),
            request=found,
            framework=framework,
            agreement_type="data_disclosure_agreement",
        )
    assert set(found.holders.values_list("answer", flat=True)) == {"awaiting"}


@pytest.mark.parametrize("role", [Role.ANALYST, Role.DATA_OFFICER, Role.VIEWER])
def test_only_deciding_roles_answer(request_to_kent, framework, kent, role) -> None:
    someone = member(kent, role)
    before = last_seq()
    with pytest.raises(NotPermitted, match="can answer a data request"):
        actions.approve(
            by=someone,
            request=request_to_kent,
            framework=framework,
            agreement_type="data_disclosure_agreement",
        )
    with pytest.raises(NotPermitted, match="can answer a data request"):
        actions.decline(by=someone, request=request_to_kent, reasons="No.")
    assert RequestHolder.objects.get(request=request_to_kent).answer == "awaiting"
    assert not Agreement.objects.exists()
    assert [(e.action, e.outcome) for e in events_since(before)] == [
        ("data_request.approved", "refused"),
        ("data_request.declined", "refused"),
    ]


def test_only_an_organisation_asked_answers(request_to_kent, framework, gmca, surrey) -> None:
    for someone in (member(surrey, Role.DPO), member(gmca, Role.DPO)):
        with pytest.raises(NotPermitted, match="Only an organisation the request was made to"):
            actions.approve(
                by=someone,
                request=request_to_kent,
                framework=framework,
                agreement_type="data_disclosure_agreement",
            )
        with pytest.raises(NotPermitted, match="Only an organisation the request was made to"):
            actions.decline(by=someone, request=request_to_kent, reasons="No.")
    request_to_kent.refresh_from_db()
    assert request_to_kent.status == "open"


def test_approval_that_cannot_draft_records_no_answer(analyst, framework, kent) -> None:
    """The template must exist and be offered by a framework both organisations are in; when
    the draft is refused, the answer is rolled back with it."""
    found = ask(analyst, [kent])
    kent_dpo = member(kent, Role.DPO)
    with pytest.raises(Refused, match="Choose a kind of agreement"):
        actions.approve(by=kent_dpo, request=found, framework=framework, agreement_type="nope")
    with pytest.raises(Refused, match="has no template for that kind of agreement"):
        actions.approve(
            by=kent_dpo,
            request=found,
            framework=framework,
            agreement_type="joint_controller_arrangement",
        )
    elsewhere = agreement_actions.create_framework(
        by=Actor.system(),
        slug="elsewhere",
        name="Elsewhere",
        description="",
        clauses=CLAUSES,
        template_types=["data_disclosure_agreement"],
    )
    with pytest.raises(Refused, match="not members of Elsewhere"):
        actions.approve(
            by=kent_dpo,
            request=found,
            framework=elsewhere,
            agreement_type="data_disclosure_agreement",
        )
    found.refresh_from_db()
    assert found.status == "open"
    assert RequestHolder.objects.get(request=found).answer == "awaiting"
    assert not Agreement.objects.exists()


# --- withdrawing ------------------------------------------------------------------------------


def test_the_requester_withdraws_an_open_request_and_the_holders_hear(analyst, gmca, kent) -> None:
    found = ask(analyst, [kent])
    Notification.objects.all().delete()
    before = last_seq()
    actions.withdraw(
        by=member(gmca, Role.DATA_OFFICER), request=found, reason="Found it on the register."
    )
    found.refresh_from_db()
    assert (found.status, found.closed_at is not None) == ("withdrawn", True)
    withdrawn = events_since(before, "data_request.withdrawn")[0]
    assert withdrawn.details == {"reason": "Found it on the register."}
    (notice,) = Notification.objects.all()
    assert notice.organisation_id == kent.pk
    assert "Found it on the register." in notice.body
    with pytest.raises(Refused, match="This request is withdrawn and can no longer be withdrawn"):
        actions.withdraw(by=analyst, request=found)


def test_only_the_requester_withdraws_and_only_while_open(analyst, gmca, kent) -> None:
    found = ask(analyst, [kent])
    before = last_seq()
    with pytest.raises(NotPermitted, match="Only the organisation that made the request"):
        actions.withdraw(by=member(kent, Role.DPO), request=found)
    with pytest.raises(NotPermitted, match="can withdraw a data request"):
        actions.withdraw(by=member(gmca, Role.VIEWER), request=found)
    found.refresh_from_db()
    assert found.status == "open"
    assert [(e.action, e.outcome) for e in events_since(before)] == [
        ("data_request.withdrawn", "refused"),
        ("data_request.withdrawn", "refused"),
    ]
    actions.decline(by=member(kent, Role.DPO), request=found, reasons="No.")
    with pytest.raises(Refused, match="This request is declined and can no longer be withdrawn"):
        actions.withdraw(by=analyst, request=found)
