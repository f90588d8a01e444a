"""The breach pages through the real client: the list (with overdue flags), reporting from the
agreement's page, the breach's page with its clocks and one-click suspension, and each step's
form with its error summary. Signed out goes to sign-in, another organisation gets "page not
found", the wrong role gets the 403 page, and every write is in the audit chain."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.agreements.actions import document_of
from accord.breaches import actions
from accord.breaches.models import Breach
from accord.notifications.models import Notification, Topic
from accord.organisations.enums import Role
from tests.unit.breaches.world import World, kent_shares

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    events_after,
    last_seq,
    person,
    signed_in_client,
    texts,
)

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def world() -> World:
    return kent_shares(partner_hours=12)


def _client(organisation, *roles: Role):
    return signed_in_client(person(organisation, *roles), organisation)


def _moment(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.day}/{local.month}/{local.year} {local:%H:%M}"


def _breach(world: World, hours_ago: int = 2) -> Breach:
    now = timezone.now()
    return actions.report(
        by=world.person(),
        agreement=world.agreement,
        what_happened="A spreadsheet was emailed to the wrong council.",
        discovered_at=now - dt.timedelta(hours=hours_ago),
        data=[world.dataset_id],
        now=now,
    )


def _report_form(world: World, **changes: object) -> dict[str, object]:
    return {
        "what_happened": "An extract was left on a shared drive.",
        "discovered_at": _moment(timezone.now() - dt.timedelta(hours=1)),
        "occurred_at": "",
        "involved": [world.dataset_id],
        **changes,
    }


# Signed out ------------------------------------------------------------------------------------


def test_signed_out_every_page_goes_to_sign_in(client, world) -> None:
    breach = _breach(world)
    for path in (
        "/breaches/",
        f"/breaches/report/{world.agreement.pk}/",
        f"/breaches/{breach.pk}/",
        f"/breaches/{breach.pk}/containment/",
    ):
        assert_redirects_to_sign_in(client.get(path), path)
    path = f"/breaches/{breach.pk}/suspend/"
    assert_redirects_to_sign_in(client.post(path), path)


# The list ----------------------------------------------------------------------------------------


def test_the_list_shows_breaches_with_overdue_flags(world) -> None:
    breach = _breach(world, hours_ago=80)
    page = texts(_client(world.district, Role.DPO).get("/breaches/"))
    assert breach.reference in page
    assert 'id="overdue-warning"' in page
    assert "ICO: Overdue" in page
    assert "Report a suspected breach" in page


def test_the_list_is_empty_for_another_organisation_and_refused_to_other_roles(world) -> None:
    _breach(world)
    page = texts(_client(world.stranger, Role.DPO).get("/breaches/"))
    assert 'id="no-breaches"' in page
    assert_forbidden_page(
        _client(world.county, Role.ANALYST).get("/breaches/"), reason="can see breaches"
    )


def test_the_nav_link_shows_only_for_data_protection_roles(world) -> None:
    assert 'href="/breaches/"' in texts(_client(world.county, Role.SIRO).get("/"))
    assert 'href="/breaches/"' not in texts(_client(world.county, Role.ANALYST).get("/"))


# Reporting ---------------------------------------------------------------------------------------


def test_the_agreement_page_links_to_reporting_for_parties(world) -> None:
    page = texts(_client(world.district, Role.ANALYST).get(f"/agreements/{world.agreement.pk}/"))
    assert f'href="/breaches/report/{world.agreement.pk}/"' in page
    viewer = texts(_client(world.district, Role.VIEWER).get(f"/agreements/{world.agreement.pk}/"))
    assert "Report a suspected breach" not in viewer


def test_a_dpo_reports_a_breach_and_sees_its_clocks(world) -> None:
    client = _client(world.district, Role.DPO)
    path = f"/breaches/report/{world.agreement.pk}/"
    form = texts(client.get(path))
    assert "12 hours" in form
    seq = last_seq()
    response = client.post(path, _report_form(world))
    breach = Breach.objects.get()
    assert response.status_code == 302
    assert response.url == f"/breaches/{breach.pk}/"
    page = texts(client.get(response.url))
    assert 'id="clock-partners"' in page
    assert 'id="clock-ico"' in page
    assert "Done in time" in page
    assert "left" in page
    assert "Suspend the agreement now" in page
    assert [e.action for e in events_after(seq, "breach.reported")] == ["breach.reported"]
    assert Notification.objects.filter(topic=Topic.BREACH_REPORTED).count() == 3


def test_an_analyst_reports_and_returns_to_the_agreement(world) -> None:
    client = _client(world.district, Role.ANALYST)
    response = client.post(f"/breaches/report/{world.agreement.pk}/", _report_form(world))
    assert response.status_code == 302
    assert response.url == f"/agreements/{world.agreement.pk}/"
    assert Breach.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"what_happened": ""}, "Say what happened"),
        ({"discovered_at": ""}, "Enter when the breach was discovered"),
        ({"discovered_at": "31/2/2026"}, "is not a real date and time"),
        ({"discovered_at": "1/1/2099 10:00"}, "cannot be in the future"),
        ({"involved": []}, "Choose which of the agreement&#x27;s data"),
        ({"involved": ["nonsense"]}, "Select a valid choice"),
    ],
)
def test_reporting_with_bad_answers_shows_the_error(world, changes, message) -> None:
    response = _client(world.district, Role.DPO).post(
        f"/breaches/report/{world.agreement.pk}/", _report_form(world, **changes)
    )
    assert response.status_code == 200
    page = texts(response)
    assert "govuk-error-summary" in page
    assert message in page
    assert not Breach.objects.exists()


def test_occurred_after_discovery_is_refused(world) -> None:
    now = timezone.now()
    response = _client(world.district, Role.DPO).post(
        f"/breaches/report/{world.agreement.pk}/",
        _report_form(
            world,
            discovered_at=_moment(now - dt.timedelta(hours=3)),
            occurred_at=_moment(now - dt.timedelta(hours=1)),
        ),
    )
    assert "must be on or before when it was discovered" in texts(response)


def test_reporting_is_refused_to_strangers_and_the_wrong_role(world) -> None:
    path = f"/breaches/report/{world.agreement.pk}/"
    assert_not_found_page(_client(world.stranger, *Role).get(path))
    assert_not_found_page(_client(world.county, Role.DPO).get(f"/breaches/report/{UNKNOWN}/"))
    assert_forbidden_page(
        _client(world.district, Role.VIEWER).get(path), reason="Tell your data protection officer"
    )
    assert_forbidden_page(_client(world.district, Role.VIEWER).post(path, _report_form(world)))
    assert not Breach.objects.exists()


# The breach's page and its steps -----------------------------------------------------------------


def test_the_breach_page_is_for_parties_with_a_data_protection_role(world) -> None:
    breach = _breach(world)
    path = f"/breaches/{breach.pk}/"
    assert _client(world.other_district, Role.SIRO).get(path).status_code == 200
    assert_not_found_page(_client(world.stranger, *Role).get(path))
    assert_not_found_page(_client(world.county, Role.DPO).get(f"/breaches/{UNKNOWN}/"))
    assert_forbidden_page(_client(world.district, Role.ANALYST).get(path))


def test_an_overdue_ico_deadline_is_flagged_on_the_page(world) -> None:
    breach = _breach(world, hours_ago=80)
    page = texts(_client(world.county, Role.DPO).get(f"/breaches/{breach.pk}/"))
    assert 'id="flags"' in page
    assert "govuk-tag--red" in page
    assert "overdue" in page


def test_suspend_now_stops_the_agreement(world) -> None:
    breach = _breach(world)
    client = _client(world.district, Role.DPO)
    page = texts(client.get(f"/breaches/{breach.pk}/"))
    assert f"Suspected personal data breach {breach.reference}" in page  # the reason prefilled
    seq = last_seq()
    response = client.post(
        f"/breaches/{breach.pk}/suspend/", {"reason": actions.suspension_reason(breach)}
    )
    assert response.status_code == 302
    world.agreement.refresh_from_db()
    assert world.agreement.status == "suspended"
    assert {e.action for e in events_after(seq)} >= {
        "agreement.suspended",
        "breach.agreement_suspended",
    }
    page = texts(client.get(f"/breaches/{breach.pk}/"))
    assert 'id="agreement-suspended"' in page
    assert "Suspend the agreement now" not in page
    # Again: refused with the reason.
    again = client.post(f"/breaches/{breach.pk}/suspend/", follow=True)
    assert "nothing to suspend" in texts(again)


def test_suspend_is_refused_to_strangers_and_the_wrong_role(world) -> None:
    breach = _breach(world)
    path = f"/breaches/{breach.pk}/suspend/"
    assert_not_found_page(_client(world.stranger, *Role).post(path))
    assert_forbidden_page(_client(world.district, Role.ANALYST).post(path))
    assert _client(world.district, Role.DPO).get(path).status_code == 405
    world.agreement.refresh_from_db()
    assert world.agreement.status == "active"


def test_each_step_through_its_form_to_closure(world) -> None:
    breach = _breach(world)
    client = _client(world.county, Role.DPO)
    base = f"/breaches/{breach.pk}"
    now = _moment(timezone.now())
    steps = [
        ("containment", {"containment": "Copy deleted", "contained_at": now}),
        ("assessment", {"risk": "unlikely", "reasoning": "Ten rows, no special category"}),
        ("ico", {"told": "no", "reason": "Unlikely to result in a risk"}),
        ("subjects", {"told": "no", "reason": "No risk to them"}),
        ("closure", {"lessons": "Check the address twice"}),
    ]
    for step, form in steps:
        assert client.get(f"{base}/{step}/").status_code == 200
        response = client.post(f"{base}/{step}/", form)
        assert response.status_code == 302, texts(response)
    breach.refresh_from_db()
    assert breach.status == "closed"
    page = texts(client.get(f"{base}/"))
    assert "Check the address twice" in page


@pytest.mark.parametrize(
    ("step", "form", "message"),
    [
        ("containment", {"containment": "", "contained_at": ""}, "Say what was done to contain"),
        ("containment", {"containment": "x", "contained_at": "yesterday"}, "not a real date"),
        ("assessment", {"reasoning": "x"}, "Choose how likely the breach is"),
        ("ico", {}, "Say whether the ICO has been told"),
        ("ico", {"told": "yes"}, "Enter the ICO&#x27;s reference"),
        ("ico", {"told": "no"}, "Say why the ICO need not be told"),
        ("subjects", {"told": "yes"}, "Say how the people were told"),
        ("closure", {"lessons": ""}, "Say what was learned"),
    ],
)
def test_step_forms_say_what_is_wrong(world, step, form, message) -> None:
    breach = _breach(world)
    response = _client(world.county, Role.DPO).post(f"/breaches/{breach.pk}/{step}/", form)
    assert response.status_code == 200
    assert "govuk-error-summary" in texts(response)
    assert message in texts(response)


def test_steps_out_of_order_show_the_reason(world) -> None:
    breach = _breach(world)
    response = _client(world.county, Role.DPO).post(
        f"/breaches/{breach.pk}/ico/", {"told": "no", "reason": "No risk"}
    )
    assert "govuk-error-summary" in texts(response)
    assert "The ICO must be told unless" in texts(response)


def test_step_pages_are_refused_to_strangers_and_the_wrong_role(world) -> None:
    breach = _breach(world)
    path = f"/breaches/{breach.pk}/containment/"
    assert_not_found_page(_client(world.stranger, *Role).get(path))
    assert_not_found_page(_client(world.county, Role.DPO).get(f"/breaches/{breach.pk}/nothing/"))
    assert_forbidden_page(_client(world.county, Role.ANALYST).get(path))
    assert_forbidden_page(_client(world.county, Role.ANALYST).post(path, {"containment": "x"}))
    breach.refresh_from_db()
    assert breach.status == "reported"


def test_the_report_form_lists_the_agreements_datasets_and_fields(world) -> None:
    page = texts(_client(world.county, Role.DPO).get(f"/breaches/report/{world.agreement.pk}/"))
    dataset = document_of(world.agreement).datasets[0]
    assert f'value="{world.dataset_id}.{dataset.fields[0].name}"' in page
