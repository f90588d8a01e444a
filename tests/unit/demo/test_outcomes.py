"""The demo's outcome report: Maidstone reports to Kent, under the housing benefit agreement's
report-back, the residents it contacted and referred for support; Kent's DPO sees it beside the
data Kent gave. Loading again adds nothing."""

from __future__ import annotations

import pytest

from accord.agreements.actions import document_of
from accord.agreements.models import Agreement
from accord.audit.models import AuditEvent
from accord.demo import housing_benefit
from accord.demo.loader import load_demo
from accord.notifications.models import Notification, Topic
from accord.organisations.models import Organisation, User
from accord.outcomes import queries
from accord.outcomes.models import OutcomeReport

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

WHAT = "Residents contacted and referred for support"


def test_the_agreement_asks_each_district_to_report_back_monthly() -> None:
    load_demo(password=DEMO_PASSWORD)
    agreement = Agreement.objects.get(title=housing_benefit.SHARING.title)
    (report_back,) = document_of(agreement).report_back
    assert (report_back.what, report_back.due) == (WHAT, "P1M")
    kent = Organisation.objects.get(name="Kent County Council")
    owing = {c.owed_by.name for c in queries.commitments_owed_to(kent)}
    assert owing == {
        "Maidstone Borough Council",
        "Canterbury City Council",
        "Tunbridge Wells Borough Council",
    }


def test_maidstone_has_reported_and_kent_is_told() -> None:
    load_demo(password=DEMO_PASSWORD)
    report = OutcomeReport.objects.get()
    assert report.organisation.name == "Maidstone Borough Council"
    assert report.commitment == WHAT
    assert [(f["measure"], f["value"]) for f in report.figures] == [
        ("Residents contacted", 412),
        ("Residents referred for food support", 38),
    ]
    assert [o.name for o in report.reported_to.all()] == ["Kent County Council"]
    assert AuditEvent.objects.filter(action="outcome.reported").count() == 1
    notice = Notification.objects.get(topic=Topic.OUTCOMES_REPORTED)
    assert notice.organisation.name == "Kent County Council"


def test_kents_dpo_sees_the_report_beside_the_data_kent_gave() -> None:
    load_demo(password=DEMO_PASSWORD)
    dpo = User.objects.get(username="dpo@kent.demo.accord.test")
    (membership,) = dpo.memberships.filter(organisation__name="Kent County Council")
    assert "dpo" in membership.roles
    (report,) = queries.reports_to(membership.organisation)
    (given,) = queries.data_given(report, membership.organisation)
    assert given.frequency == "monthly"
    assert queries.report_for(membership.organisation, report.pk) == report


def test_loading_again_reports_nothing_twice() -> None:
    load_demo(password=DEMO_PASSWORD)
    summary = load_demo(password=DEMO_PASSWORD)
    assert not [c for c in summary.created if "outcome" in c]
    assert OutcomeReport.objects.count() == 1
    assert AuditEvent.objects.filter(action="outcome.reported").count() == 1
