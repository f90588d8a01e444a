"""Who owes which outcome reports, when they are due, and what has been reported.

A commitment is one entry of an agreement's ``report_back``. The recipients of the agreement's
flows owe it (each recipient separately) to the parties named in its ``to_party_ids``; when it
names nobody, to the providers of the flows. A party never owes a report to itself.

When a commitment is due (decided here, and shown on the pages):

- ``due`` a date (2026-03-31): one report, due that day.
- ``due`` an ISO-8601 duration (P3M, P1Y, P30D, P2W): a report every period, counted from the
  agreement's start (its term's start date, or the day it came into force): the first due one
  period after the start, the n-th due at start + n times the period (counted from the start each
  time, so 31 January + P1M gives 28 February, then 31 March). A due date after the term's end
  date is not owed. The time part of a duration is ignored (PT12H counts as one day).

Each due date covers the period since the previous one (the first, since the start). A report
answers the earliest due date not yet reported. A due date is ``reported`` when a report answers
it, ``overdue`` once the day has passed without one, and ``due`` until then.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from accord.agreements.document import DataSharingAgreement, ReportBack
from accord.agreements.models import Agreement
from accord.organisations.models import Organisation

from .models import OutcomeReport

DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T.*)?$")
# No agreement runs long enough to need more due dates than this (a daily report for 27 years).
MAX_DUE_DATES = 10_000

DUE, OVERDUE, REPORTED = "due", "overdue", "reported"
STATUS_LABELS = {DUE: "Due", OVERDUE: "Overdue", REPORTED: "Reported"}
STATUS_TAGS = {DUE: "blue", OVERDUE: "red", REPORTED: "green"}


def _pk(organisation: Organisation | int | str) -> int:
    return int(organisation.pk if isinstance(organisation, Organisation) else organisation)


# Due dates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A duration as whole months and days (weeks are 7 days; the time part is ignored)."""

    months: int
    days: int

    @classmethod
    def parse(cls, text: str) -> Period | None:
        found = DURATION.match(text)
        if found is None:
            return None
        years, months, weeks, days = (int(x or 0) for x in found.groups())
        period = cls(months=years * 12 + months, days=weeks * 7 + days)
        return period if period.months or period.days else cls(months=0, days=1)

    def after(self, start: dt.date, times: int) -> dt.date:
        """``start`` plus ``times`` of this period, months first (the day kept, or the month's
        last day when it has no such day), then days."""
        month_index = start.month - 1 + self.months * times
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return dt.date(year, month, day) + dt.timedelta(days=self.days * times)


def start_of(agreement: Agreement, document: DataSharingAgreement) -> dt.date | None:
    """When the agreement's term started: its start date, or the day it came into force."""
    if document.term is not None and document.term.start_date is not None:
        return document.term.start_date
    if agreement.activated_at is not None:
        return timezone.localdate(agreement.activated_at)
    return None


def end_of(document: DataSharingAgreement) -> dt.date | None:
    return document.term.end_date if document.term is not None else None


@dataclass(frozen=True)
class DueDate:
    due_on: dt.date
    period_start: dt.date
    period_end: dt.date


def due_dates(
    report_back: ReportBack, start: dt.date, *, end: dt.date | None = None
) -> Iterator[DueDate]:
    """Every due date of ``report_back`` in order (endless for a duration with no ``end``)."""
    try:
        one_off = dt.date.fromisoformat(report_back.due)
    except ValueError:
        one_off = None
    if one_off is not None:
        yield DueDate(one_off, min(start, one_off), one_off)
        return
    period = Period.parse(report_back.due)
    if period is None:
        return
    previous = start
    for n in range(1, MAX_DUE_DATES + 1):
        due_on = period.after(start, n)
        if end is not None and due_on > end:
            return
        yield DueDate(due_on, previous, due_on - dt.timedelta(days=1))
        previous = due_on


# Commitments -----------------------------------------------------------------------------------


@dataclass
class Occurrence:
    """One due date of a commitment for one owing organisation, and the report answering it."""

    due: DueDate
    report: OutcomeReport | None
    today: dt.date

    @property
    def due_on(self) -> dt.date:
        return self.due.due_on

    @property
    def status(self) -> str:
        if self.report is not None:
            return REPORTED
        return OVERDUE if self.due.due_on < self.today else DUE

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tag(self) -> str:
        return STATUS_TAGS[self.status]


@dataclass
class Commitment:
    """A report-back an organisation owes under an agreement, with its due dates up to and
    including the first one not yet reported (past or next)."""

    agreement: Agreement
    index: int
    what: str
    due_text: str
    owed_by: Organisation
    owed_to: tuple[Organisation, ...]
    start: dt.date
    occurrences: list[Occurrence] = field(default_factory=list)
    # The due date after the last one listed, when every listed one is reported.
    following: dt.date | None = None

    @property
    def key(self) -> str:
        return f"{self.agreement.pk}|{self.index}"

    @property
    def repeats(self) -> bool:
        return Period.parse(self.due_text) is not None

    @property
    def next(self) -> Occurrence | None:
        """The earliest due date with no report: what the next report answers."""
        return next((o for o in self.occurrences if o.report is None), None)

    @property
    def overdue(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.status == OVERDUE]

    @property
    def reported(self) -> list[Occurrence]:
        return [o for o in self.occurrences if o.status == REPORTED]

    @property
    def status(self) -> str:
        nxt = self.next
        return REPORTED if nxt is None else nxt.status

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def tag(self) -> str:
        return STATUS_TAGS[self.status]

    @property
    def owed_to_names(self) -> str:
        return ", ".join(o.name for o in self.owed_to)


def document_of(agreement: Agreement) -> DataSharingAgreement:
    from accord.agreements.actions import document_of as current

    return current(agreement)


def _organisations(agreement: Agreement) -> dict[str, Organisation]:
    """The document's party id → the organisation."""
    return {p.party_id: p.organisation for p in agreement.parties.select_related("organisation")}


def owing_party_ids(document: DataSharingAgreement, report_back: ReportBack) -> list[str]:
    """The recipients of the agreement's flows, but not those the report is owed to."""
    to = set(owed_to_party_ids(document, report_back))
    recipients = [p for flow in document.flows for p in flow.to_party_ids]
    return [p for p in dict.fromkeys(recipients) if p not in to]


def owed_to_party_ids(document: DataSharingAgreement, report_back: ReportBack) -> list[str]:
    """Who the report is owed to: those the commitment names, or the flows' providers."""
    named = report_back.to_party_ids or [
        flow.from_party_id for flow in document.flows if flow.from_party_id
    ]
    return list(dict.fromkeys(named))


def _commitments_of_agreement(
    agreement: Agreement,
    *,
    owed_by: int | None,
    today: dt.date,
    reports: dict[tuple[int, int, dt.date], OutcomeReport],
) -> Iterator[Commitment]:
    document = document_of(agreement)
    if not document.report_back:
        return
    start = start_of(agreement, document)
    if start is None:
        return
    end = end_of(document)
    organisations = _organisations(agreement)
    for index, report_back in enumerate(document.report_back):
        owed_to = tuple(
            organisations[p] for p in owed_to_party_ids(document, report_back) if p in organisations
        )
        for party_id in owing_party_ids(document, report_back):
            organisation = organisations.get(party_id)
            if organisation is None or (owed_by is not None and organisation.pk != owed_by):
                continue
            commitment = Commitment(
                agreement=agreement,
                index=index,
                what=report_back.what,
                due_text=report_back.due,
                owed_by=organisation,
                owed_to=owed_to,
                start=start,
            )
            for due in due_dates(report_back, start, end=end):
                report = reports.get((index, organisation.pk, due.due_on))
                if commitment.occurrences and commitment.occurrences[-1].due_on > today:
                    if commitment.next is not None:
                        break
                    commitment.following = due.due_on  # every one listed is reported
                    break
                commitment.occurrences.append(Occurrence(due, report, today))
            yield commitment


def _reports_by_due(agreement: Agreement) -> dict[tuple[int, int, dt.date], OutcomeReport]:
    found: dict[tuple[int, int, dt.date], OutcomeReport] = {}
    for report in OutcomeReport.objects.filter(agreement=agreement).order_by("submitted_at"):
        found.setdefault((report.commitment_index, report.organisation_id, report.due_on), report)
    return found


def _active_agreements_of(organisation_id: int | None) -> QuerySet[Agreement]:
    agreements = Agreement.objects.filter(status="active")
    if organisation_id is not None:
        agreements = agreements.filter(parties__organisation_id=organisation_id)
    return agreements.distinct().order_by("title", "pk")


def commitments_owed_by(
    organisation: Organisation | int | str, *, today: dt.date | None = None
) -> list[Commitment]:
    """What ``organisation`` owes under every active agreement it is a recipient of."""
    organisation_id = _pk(organisation)
    today = today or timezone.localdate()
    found: list[Commitment] = []
    for agreement in _active_agreements_of(organisation_id):
        found.extend(
            _commitments_of_agreement(
                agreement, owed_by=organisation_id, today=today, reports=_reports_by_due(agreement)
            )
        )
    return found


def commitment_for(
    organisation: Organisation | int | str,
    agreement: Agreement,
    index: int,
    *,
    today: dt.date | None = None,
) -> Commitment | None:
    """The commitment ``index`` of ``agreement`` as ``organisation`` owes it, whatever the
    agreement's status; None if it does not owe it (or there is no such commitment)."""
    organisation_id = _pk(organisation)
    today = today or timezone.localdate()
    return next(
        (
            c
            for c in _commitments_of_agreement(
                agreement, owed_by=organisation_id, today=today, reports=_reports_by_due(agreement)
            )
            if c.index == index
        ),
        None,
    )


def commitments_owed_to(
    organisation: Organisation | int | str, *, today: dt.date | None = None
) -> list[Commitment]:
    """What others owe ``organisation`` under every active agreement."""
    organisation_id = _pk(organisation)
    today = today or timezone.localdate()
    found: list[Commitment] = []
    for agreement in _active_agreements_of(organisation_id):
        for commitment in _commitments_of_agreement(
            agreement, owed_by=None, today=today, reports=_reports_by_due(agreement)
        ):
            if any(o.pk == organisation_id for o in commitment.owed_to):
                found.append(commitment)
    return found


def every_commitment(*, today: dt.date | None = None) -> Iterable[Commitment]:
    """Every commitment owed under every active agreement (for the reminders)."""
    today = today or timezone.localdate()
    for agreement in _active_agreements_of(None):
        yield from _commitments_of_agreement(
            agreement, owed_by=None, today=today, reports=_reports_by_due(agreement)
        )


def measures_for(agreement: Agreement) -> list[str]:
    """What a report might count, proposed from the purposes' success measures (or, if none
    are named, their expected outcomes); the person reporting may change them and add others."""
    document = document_of(agreement)
    measures = [t.strip() for p in document.purposes for t in p.success_measures if t.strip()]
    if not measures:  # no measures named: the outcomes the agreement expects
        measures = [t.strip() for p in document.purposes for t in p.expected_outcomes if t.strip()]
    return list(dict.fromkeys(measures))


# Reports ---------------------------------------------------------------------------------------


def reports_by(organisation: Organisation | int | str) -> QuerySet[OutcomeReport]:
    """The reports ``organisation`` has made, newest first."""
    return OutcomeReport.objects.filter(organisation_id=_pk(organisation)).select_related(
        "agreement", "organisation"
    )


def reports_to(organisation: Organisation | int | str) -> QuerySet[OutcomeReport]:
    """The reports made to ``organisation``, newest first."""
    return OutcomeReport.objects.filter(reported_to__pk=_pk(organisation)).select_related(
        "agreement", "organisation"
    )


def report_for(organisation: Organisation | int | str, report_id: uuid.UUID | str) -> OutcomeReport:
    """A report ``organisation`` made or received; ``OutcomeReport.DoesNotExist`` otherwise,
    alike whether it does not exist or is someone else's."""
    organisation_id = _pk(organisation)
    try:
        key = uuid.UUID(str(report_id))
    except ValueError as exc:
        raise OutcomeReport.DoesNotExist(str(report_id)) from exc
    report = OutcomeReport.objects.select_related("agreement", "organisation").get(pk=key)
    if (
        report.organisation_id == organisation_id
        or report.reported_to.filter(pk=organisation_id).exists()
    ):
        return report
    raise OutcomeReport.DoesNotExist(str(report_id))


@dataclass(frozen=True)
class GivenData:
    """A dataset a provider gave a recipient under an agreement, and how often it published."""

    dataset_id: str
    name: str
    frequency: str
    releases: int


def data_given(report: OutcomeReport, provider: Organisation | int | str) -> list[GivenData]:
    """The datasets ``provider`` shares with the report's organisation under the report's
    agreement (its flows), each with how many releases it has published to it."""
    from accord.access.models import ReleaseRecipient

    provider_id = _pk(provider)
    document = document_of(report.agreement)
    organisations = _organisations(report.agreement)
    party_of = {o.pk: p for p, o in organisations.items()}
    provider_party, recipient_party = (
        party_of.get(provider_id),
        party_of.get(report.organisation_id),
    )
    names = {d.id: d.name or d.id for d in document.datasets}
    given: dict[str, GivenData] = {}
    for flow in document.flows:
        if flow.from_party_id != provider_party or recipient_party not in flow.to_party_ids:
            continue
        for dataset_id in flow.dataset_ids:
            releases = ReleaseRecipient.objects.filter(
                release__agreement=report.agreement,
                release__provider_id=provider_id,
                release__dataset_id=dataset_id,
                organisation_id=report.organisation_id,
            ).count()
            given.setdefault(
                dataset_id,
                GivenData(
                    dataset_id=dataset_id,
                    name=names.get(dataset_id, dataset_id),
                    frequency=flow.frequency or "",
                    releases=releases,
                ),
            )
    return list(given.values())
