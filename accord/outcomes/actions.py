"""Reporting outcomes back, with the audit event in the same transaction, and telling the
organisations the report is owed to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.urls import reverse
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind
from accord.audit.exceptions import NotPermitted, Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.enums import GOVERNANCE_ROLES, Role
from accord.organisations.models import Organisation

from . import queries
from .models import OutcomeReport

# Who may report outcomes for a recipient.
REPORTING_ROLES: frozenset[Role] = frozenset(
    {Role.ANALYST, Role.DATA_OFFICER, Role.SENIOR_MANAGER, Role.DPO}
)
# Who may see outcome reports: those who may make them, governance leads and admins.
READING_ROLES: tuple[Role, ...] = tuple(
    r for r in Role if r in {*REPORTING_ROLES, *GOVERNANCE_ROLES, Role.ORGANISATION_ADMIN}
)
# Who hears that outcomes were reported, or are overdue.
TOLD_ROLES: tuple[str, ...] = (
    Role.DPO,
    Role.SENIOR_MANAGER,
    Role.ANALYST,
    Role.DATA_OFFICER,
    Role.INFORMATION_ASSET_OWNER,
)
MAX_FIGURES = 50
MAX_MEASURE = 200
MAX_NOTE = 1000
MAX_NARRATIVE = 10_000
MAX_VALUE = 10**12


def _target(agreement: Agreement) -> str:
    return f"agreement:{agreement.pk}"


def _figures(figures: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The figures as stored, each checked; rows with nothing in them are left out."""
    cleaned: list[dict[str, Any]] = []
    for number, figure in enumerate(figures, start=1):
        measure = " ".join(str(figure.get("measure") or "").split())
        note = str(figure.get("note") or "").strip()
        value = figure.get("value")
        if not measure and value in (None, "") and not note:
            continue
        if not measure:
            raise Refused(f"Say what figure {number} counts, for example “Residents contacted”.")
        if len(measure) > MAX_MEASURE:
            raise Refused(f"Shorten what “{measure[:40]}…” counts to {MAX_MEASURE} characters.")
        if value in (None, ""):
            raise Refused(f"Enter how many for “{measure}”.")
        if isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(str(value).strip().replace(",", ""))
            except ValueError:
                raise Refused(
                    f"Enter how many for “{measure}” as a whole number, like 412."
                ) from None
        if value < 0:
            raise Refused(f"“{measure}” cannot be a negative number. Enter 0 or more.")
        if value > MAX_VALUE:
            raise Refused(f"“{measure}” is too large; check the number.")
        if len(note) > MAX_NOTE:
            raise Refused(f"Shorten the note on “{measure}” to {MAX_NOTE} characters.")
        cleaned.append({"measure": measure, "value": value, "note": note})
    if len(cleaned) > MAX_FIGURES:
        raise Refused(f"A report can have up to {MAX_FIGURES} figures.")
    measures = [f["measure"].lower() for f in cleaned]
    repeated = next((m for m in measures if measures.count(m) > 1), None)
    if repeated is not None:
        raise Refused("Each figure counts something different: combine the repeated ones.")
    return cleaned


def _reporting_organisation(by: Actor, organisation: Organisation | None) -> Organisation:
    if by.kind is ActorKind.SYSTEM:  # set-up commands, such as loading the demo
        if organisation is None:
            raise Refused("Say which organisation is reporting.")
        return organisation
    if not set(by.roles) & {str(r) for r in REPORTING_ROLES}:
        raise NotPermitted(
            "Only an analyst, data officer, senior manager or data protection officer can "
            "report outcomes."
        )
    return Organisation.objects.get(pk=by.organisation_id)


@audited("outcome.reported")
def report_outcomes(
    *,
    by: Actor,
    agreement: Agreement,
    commitment_index: int,
    period: tuple[dt.date, dt.date],
    figures: Iterable[Mapping[str, Any]],
    narrative: str = "",
    organisation: Organisation | None = None,
    today: dt.date | None = None,
) -> OutcomeReport:
    """Report the outcomes ``by``'s organisation (or, for a set-up command, ``organisation``)
    committed to under ``agreement``'s report-back ``commitment_index``, for ``period`` (first
    and last day). The report answers the earliest due date not yet reported; the organisations
    it is owed to are told."""
    today = today or timezone.localdate()
    reporter = _reporting_organisation(by, organisation)
    commitment = queries.commitment_for(reporter, agreement, commitment_index, today=today)
    if commitment is None:
        raise NotPermitted(
            f"{reporter.name} owes no such report under the agreement “{agreement.title}”.",
            target=_target(agreement),
        )
    if agreement.status != "active":
        raise Refused(
            f"The agreement “{agreement.title}” is not in force, so outcomes cannot be "
            "reported under it.",
            target=_target(agreement),
        )
    end = queries.end_of(queries.document_of(agreement))
    if end is not None and end < today:
        raise Refused(
            f"The agreement “{agreement.title}” ended on {end:%-d %B %Y}, so outcomes cannot "
            "be reported under it.",
            target=_target(agreement),
        )
    occurrence = commitment.next
    if occurrence is None:
        following = (
            f" The next is due on {commitment.following:%-d %B %Y}." if commitment.following else ""
        )
        raise Refused(
            f"{reporter.name} has already reported “{commitment.what}” for every due date so "
            f"far.{following}",
            target=_target(agreement),
        )
    start, finish = period
    if start > finish:
        raise Refused("The period's first day must be on or before its last day.")
    if finish > today:
        raise Refused("The period cannot end in the future: report on what has happened.")
    cleaned = _figures(figures)
    narrative = str(narrative or "").strip()
    if len(narrative) > MAX_NARRATIVE:
        raise Refused(f"Shorten what happened to {MAX_NARRATIVE} characters.")
    if not cleaned and not narrative:
        raise Refused("The report is empty. Enter at least one figure or say what happened.")
    report = OutcomeReport.objects.create(
        agreement=agreement,
        commitment_index=commitment_index,
        commitment=commitment.what[:500],
        organisation=reporter,
        due_on=occurrence.due_on,
        period_start=start,
        period_end=finish,
        figures=cleaned,
        narrative=narrative,
        submitted_by=by.ref,
        submitted_by_label=by.label,
    )
    report.reported_to.set(commitment.owed_to)
    link = reverse("web:outcome_report", args=[report.pk])
    counts = "; ".join(f"{f['measure']}: {f['value']:,}" for f in cleaned[:5])
    for provider in commitment.owed_to:
        notify(
            by=by,
            organisation=provider,
            topic=Topic.OUTCOMES_REPORTED,
            subject=f"Outcomes from {reporter.name}: {commitment.what}"[:200],
            body=(
                f"{reporter.name} has reported “{commitment.what}” under the agreement "
                f"“{agreement.title}”, for {start:%-d %B %Y} to {finish:%-d %B %Y}."
                + (f" {counts}." if counts else "")
                + " See the report beside the data you gave."
            ),
            link=link,
            roles=TOLD_ROLES,
        )
    record(
        by=by,
        action="outcome.reported",
        target=f"outcome_report:{report.pk}",
        subject_organisation_id=str(reporter.pk),
        details={
            "agreement": {"id": str(agreement.pk), "title": agreement.title},
            "commitment": {"index": commitment_index, "what": commitment.what},
            "due_on": occurrence.due_on.isoformat(),
            "period": [start.isoformat(), finish.isoformat()],
            "figures": len(cleaned),
            "reported_to": [{"id": str(o.pk), "name": o.name} for o in commitment.owed_to],
        },
    )
    return report
