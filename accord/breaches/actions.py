"""Reporting a breach and recording each step, each with its audit event in the same
transaction; telling every party; and suspending the agreement from the breach."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone

from accord.agreements import actions as agreement_actions
from accord.agreements.enums import DECIDING_ROLES
from accord.agreements.models import Agreement
from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind
from accord.audit.exceptions import NotPermitted, Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.enums import Role
from accord.organisations.models import Organisation

from . import deadlines, queries, transitions
from .enums import BREACH_ROLES, REPORTING_ROLES, TOLD_ROLES, Risk, Status
from .models import Breach

MAX_TEXT = 10_000
MAX_REFERENCE = 100
NOT_YET_SHARED = ("draft", "in_review", "approved")


def _target(breach: Breach) -> str:
    return f"breach:{breach.pk}"


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(Role(r).label.lower() for r in Role if r in set(roles))


def _require(by: Actor, agreement: Agreement, roles: Iterable[Role], doing: str) -> None:
    """Only members of the agreement's parties holding one of ``roles`` (and set-up commands)."""
    if by.kind is ActorKind.SYSTEM:
        return
    if not by.organisation_id or not queries.is_party(by.organisation_id, agreement):
        raise NotPermitted(
            f"Only members of the organisations that are parties to “{agreement.title}” can "
            f"{doing}.",
            target=f"agreement:{agreement.pk}",
        )
    if not set(by.roles) & {str(r) for r in roles}:
        raise NotPermitted(
            f"Only someone with one of these roles can {doing}: {_names(roles)}.",
            target=f"agreement:{agreement.pk}",
        )


def _text(value: str, missing: str, what: str) -> str:
    value = str(value or "").strip()
    if not value:
        raise Refused(missing)
    if len(value) > MAX_TEXT:
        raise Refused(f"Shorten {what} to {MAX_TEXT:,} characters.")
    return value


def _past(moment: dt.datetime | None, now: dt.datetime, what: str) -> None:
    if moment is not None and moment > now:
        raise Refused(f"{what} cannot be in the future.")


def _move(breach: Breach, event: str) -> transitions.Move:
    try:
        step = transitions.move(breach.status, event)
    except transitions.NotAllowed as exc:
        raise Refused(str(exc), target=_target(breach)) from exc
    breach.status = step.target
    return step


def _locked(breach: Breach) -> Breach:
    return Breach.objects.select_for_update().select_related("agreement").get(pk=breach.pk)


def _tell_parties(
    by: Actor, breach: Breach, *, topic: Topic, subject: str, body: str
) -> list[dict[str, Any]]:
    told = []
    link = reverse("web:breach", args=[breach.pk])
    for organisation in queries.parties(breach.agreement):
        notify(
            by=by,
            organisation=organisation,
            topic=topic,
            subject=subject[:200],
            body=body,
            link=link,
            roles=TOLD_ROLES,
        )
        told.append({"id": str(organisation.pk), "name": organisation.name})
    return told


def _when(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%-d %B %Y at %H:%M}"


@audited("breach.reported")
def report(
    *,
    by: Actor,
    agreement: Agreement,
    what_happened: str,
    discovered_at: dt.datetime,
    data: Iterable[str],
    occurred_at: dt.datetime | None = None,
    organisation: Organisation | None = None,
    now: dt.datetime | None = None,
) -> Breach:
    """Report a suspected breach under ``agreement``; start the partner and ICO clocks from
    ``discovered_at`` and tell every party's DPO and SIRO (which is the partner notification).
    A set-up command (the system actor) says which ``organisation`` reports."""
    now = now or timezone.now()
    _require(by, agreement, REPORTING_ROLES, "report a breach under this agreement")
    if by.kind is ActorKind.SYSTEM:
        if organisation is None or not queries.is_party(organisation.pk, agreement):
            raise Refused("Say which party is reporting.")
        reporter = organisation
    else:
        reporter = Organisation.objects.get(pk=by.organisation_id)
    if agreement.status in NOT_YET_SHARED:
        raise Refused(
            f"No data has been shared under “{agreement.title}” yet (it is not yet in force), "
            "so there is nothing to report against it.",
            target=f"agreement:{agreement.pk}",
        )
    what_happened = _text(what_happened, "Say what happened.", "what happened")
    _past(discovered_at, now, "When it was discovered")
    _past(occurred_at, now, "When it happened")
    if occurred_at is not None and occurred_at > discovered_at:
        raise Refused("When it happened must be on or before when it was discovered.")
    known = dict(queries.data_choices(agreement))
    codes = list(dict.fromkeys(str(c).strip() for c in data if str(c).strip()))
    if not codes:
        raise Refused("Choose which of the agreement's data the breach involves.")
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Refused(
            f"The agreement has no data called {', '.join(unknown[:5])}; choose from its "
            "datasets and fields."
        )
    hours, source = deadlines.partner_hours(agreement, agreement_actions.document_of(agreement))
    breach = Breach.objects.create(
        agreement=agreement,
        reported_by_organisation=reporter,
        reported_by=by.ref,
        reported_by_label=by.label,
        reported_at=now,
        what_happened=what_happened,
        discovered_at=discovered_at,
        occurred_at=occurred_at,
        data=codes,
        status=Status.REPORTED,
        partner_hours=hours,
        partner_hours_from=source,
        partner_deadline=discovered_at + dt.timedelta(hours=hours),
        ico_deadline=discovered_at + dt.timedelta(hours=deadlines.ICO_HOURS),
        partners_notified_at=now,
    )
    told = _tell_parties(
        by,
        breach,
        topic=Topic.BREACH_REPORTED,
        subject=f"Suspected breach under {agreement.title}",
        body=(
            f"{reporter.name} has reported a suspected personal data breach ({breach.reference}) "
            f"under the agreement “{agreement.title}”, discovered {_when(discovered_at)}. "
            f"The agreement asks the parties to be told within {hours} hours (by "
            f"{_when(breach.partner_deadline)}); the ICO must be told within 72 hours of "
            f"discovery (by {_when(breach.ico_deadline)}) unless the breach is unlikely to "
            "result in a risk to people. See the breach, record each step, and suspend the "
            "agreement if sharing must stop."
        ),
    )
    record(
        by=by,
        action="breach.reported",
        target=_target(breach),
        subject_organisation_id=str(reporter.pk),
        details={
            "agreement": {"id": str(agreement.pk), "title": agreement.title},
            "reference": breach.reference,
            "discovered_at": discovered_at.isoformat(),
            "occurred_at": occurred_at.isoformat() if occurred_at else None,
            "data": codes,
            "partner_hours": hours,
            "partner_hours_from": source,
            "partner_deadline": breach.partner_deadline.isoformat(),
            "ico_deadline": breach.ico_deadline.isoformat(),
            "told": told,
        },
    )
    return breach


def _step(by: Actor, breach: Breach, event: str, doing: str) -> tuple[Breach, transitions.Move]:
    breach = _locked(breach)
    _require(by, breach.agreement, BREACH_ROLES, doing)
    if event == "assess" and breach.status == Status.ASSESSED:
        event = "reassess"
    return breach, _move(breach, event)


def _recorded(
    by: Actor, breach: Breach, action: str, step: transitions.Move, **details: Any
) -> None:
    record(
        by=by,
        action=action,
        target=_target(breach),
        subject_organisation_id=str(breach.reported_by_organisation_id or ""),
        details={
            "agreement": {"id": str(breach.agreement_id), "title": breach.agreement.title},
            "from": str(step.source),
            "to": str(step.target),
            **details,
        },
    )


@audited("breach.contained")
def record_containment(
    *,
    by: Actor,
    breach: Breach,
    containment: str,
    contained_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Breach:
    """Record what was done to contain the breach, and when."""
    now = now or timezone.now()
    breach, step = _step(by, breach, "contain", "record containment")
    containment = _text(containment, "Say what was done to contain the breach.", "what was done")
    contained_at = contained_at or now
    _past(contained_at, now, "When it was contained")
    if contained_at < breach.discovered_at:
        raise Refused("When it was contained must be after it was discovered.")
    breach.contained_at, breach.containment, breach.contained_by_label = (
        contained_at,
        containment,
        by.label,
    )
    breach.save()
    _recorded(by, breach, "breach.contained", step, contained_at=contained_at.isoformat())
    return breach


@audited("breach.assessed")
def record_assessment(
    *, by: Actor, breach: Breach, risk: str, reasoning: str, now: dt.datetime | None = None
) -> Breach:
    """Assess the risk to the people whose data it was (again, if it changes)."""
    now = now or timezone.now()
    breach, step = _step(by, breach, "assess", "assess the risk")
    if risk not in Risk.values:
        raise Refused("Choose how likely the breach is to result in a risk to people.")
    reasoning = _text(reasoning, "Say why you judged the risk that way.", "the reasoning")
    if breach.ico_told is False and risk != Risk.UNLIKELY:
        raise Refused(
            "You recorded that the ICO need not be told because a risk is unlikely; with a "
            "risk, the ICO must be told. Record telling the ICO first."
        )
    previous = breach.risk
    breach.risk, breach.risk_reasoning = risk, reasoning
    breach.assessed_at, breach.assessed_by_label = now, by.label
    breach.save()
    _recorded(by, breach, "breach.assessed", step, risk=risk, previous_risk=previous or None)
    return breach


@audited("breach.ico_decided")
def record_ico(
    *,
    by: Actor,
    breach: Breach,
    told: bool,
    told_at: dt.datetime | None = None,
    reference: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> Breach:
    """Record that the ICO was told (when, its reference), or why it need not be: only when
    the breach has been assessed as unlikely to result in a risk (Article 33(1))."""
    now = now or timezone.now()
    breach, step = _step(by, breach, "tell_ico", "record the decision about the ICO")
    if breach.ico_told is not None:
        raise Refused("The decision about the ICO is already recorded.", target=_target(breach))
    if told:
        told_at = told_at or now
        _past(told_at, now, "When the ICO was told")
        if told_at < breach.discovered_at:
            raise Refused("When the ICO was told must be after the breach was discovered.")
        reference = str(reference or "").strip()
        if not reference:
            raise Refused("Enter the ICO's reference for the report, like IC-123456-A1B2.")
        if len(reference) > MAX_REFERENCE:
            raise Refused(f"Shorten the ICO's reference to {MAX_REFERENCE} characters.")
        breach.ico_told, breach.ico_told_at, breach.ico_reference = True, told_at, reference
    else:
        if breach.risk != Risk.UNLIKELY:
            raise Refused(
                "The ICO must be told unless the breach is assessed as unlikely to result in a "
                "risk to people. Record that assessment first, or tell the ICO."
            )
        reason = _text(reason, "Say why the ICO need not be told.", "the reason")
        breach.ico_told, breach.ico_not_told_reason = False, reason
    breach.ico_decided_at, breach.ico_decided_by_label = now, by.label
    breach.save()
    late = breach.ico_deadline < (deadlines.ico_done_at(breach) or now)
    _recorded(
        by,
        breach,
        "breach.ico_decided",
        step,
        told=told,
        told_at=told_at.isoformat() if told and told_at else None,
        reference=breach.ico_reference or None,
        late=late,
    )
    return breach


@audited("breach.subjects_decided")
def record_subjects(
    *,
    by: Actor,
    breach: Breach,
    told: bool,
    told_at: dt.datetime | None = None,
    how: str = "",
    reason: str = "",
    now: dt.datetime | None = None,
) -> Breach:
    """Record that the people whose data it was were told (when, how) or why not. When the
    risk is high they must be told (Article 34(1))."""
    now = now or timezone.now()
    breach, step = _step(by, breach, "tell_subjects", "record the decision about the people")
    if breach.subjects_told is not None:
        raise Refused(
            "The decision about the people affected is already recorded.", target=_target(breach)
        )
    if told:
        told_at = told_at or now
        _past(told_at, now, "When the people were told")
        how = _text(how, "Say how the people were told, for example by letter.", "how")
        breach.subjects_told, breach.subjects_told_at, breach.subjects_how = True, told_at, how
    else:
        if breach.risk == Risk.HIGH:
            raise Refused(
                "The risk is high, so the people affected must be told without undue delay "
                "(UK GDPR Article 34)."
            )
        reason = _text(reason, "Say why the people affected need not be told.", "the reason")
        breach.subjects_told, breach.subjects_not_told_reason = False, reason
    breach.subjects_decided_at, breach.subjects_decided_by_label = now, by.label
    breach.save()
    _recorded(by, breach, "breach.subjects_decided", step, told=told, risk=breach.risk)
    return breach


@audited("breach.closed")
def close(*, by: Actor, breach: Breach, lessons: str, now: dt.datetime | None = None) -> Breach:
    """Close the breach with the lessons learned, once every decision is recorded."""
    now = now or timezone.now()
    breach, step = _step(by, breach, "close", "close the breach")
    if breach.ico_told is None:
        raise Refused("Record whether the ICO was told, or why not, before closing.")
    if breach.subjects_told is None:
        raise Refused("Record whether the people affected were told, or why not, before closing.")
    lessons = _text(lessons, "Say what was learned and what will change.", "the lessons")
    breach.lessons, breach.closed_at, breach.closed_by_label = lessons, now, by.label
    breach.save()
    _recorded(by, breach, "breach.closed", step)
    return breach


def suspension_reason(breach: Breach) -> str:
    """The reason offered when suspending from the breach (the parties read it)."""
    summary = " ".join(breach.what_happened.split())
    if len(summary) > 300:
        summary = summary[:297] + "…"
    return (
        f"Suspected personal data breach {breach.reference}, discovered "
        f"{_when(breach.discovered_at)}: {summary}"
    )


@audited("breach.agreement_suspended")
def suspend_agreement(*, by: Actor, breach: Breach, reason: str) -> Breach:
    """Stop all sharing under the breach's agreement at once (``agreements.actions.suspend``):
    the decision point refuses every read under it from now, extracts in flight included."""
    breach = _locked(breach)
    agreement = breach.agreement
    _require(by, agreement, DECIDING_ROLES, "suspend the agreement")
    if agreement.status != "active":
        raise Refused(
            f"The agreement “{agreement.title}” is {agreement.status.replace('_', ' ')}, not in "
            "force, so there is nothing to suspend.",
            target=_target(breach),
        )
    agreement_actions.suspend(by=by, agreement=agreement, reason=reason)
    breach.suspended_at, breach.suspended_by_label = timezone.now(), by.label
    breach.save(update_fields=["suspended_at", "suspended_by_label"])
    record(
        by=by,
        action="breach.agreement_suspended",
        target=_target(breach),
        details={"agreement": {"id": str(agreement.pk), "title": agreement.title}},
    )
    return breach
