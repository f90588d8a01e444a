"""Telling the parties what happened to an agreement: a notice (and email) at each step.

Every party organisation gets its own notice, saying in plain English what happened, what it
must do next and where to do it. Email goes only to members whose roles the step concerns:
signatories and governance leads while an agreement is reviewed and signed; data protection
leads and the people who send and use the data once it is in force, suspended or ended.

Notices name organisations and roles, never people, and hold no shared data. Nothing here
notifies the public: the public register is where the public sees agreements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from django.utils import timezone

from accord.audit.actor import Actor
from accord.notifications.actions import DATA_PROTECTION_ROLES, notify
from accord.notifications.models import Topic
from accord.organisations.enums import GOVERNANCE_ROLES, Role

from . import rules
from .document import DataSharingAgreement
from .enums import DRAFTING_ROLES
from .lifecycle import ReviewState
from .models import Agreement, AgreementParty
from .vocabularies import load

# Who signs, and so who is told about review and signature.
SIGNING_ROLES: frozenset[str] = frozenset({*GOVERNANCE_ROLES, Role.ORGANISATION_ADMIN})
# Who prepares agreements for signature and activation, as well as those who sign them.
PREPARING_ROLES: frozenset[str] = SIGNING_ROLES | {str(r) for r in DRAFTING_ROLES}
# Who must know when sharing may start or must stop: data protection leads and the people who
# send, receive and analyse the data.
DATA_ROLES: frozenset[str] = frozenset(
    {
        *DATA_PROTECTION_ROLES,
        Role.SIRO,
        Role.CALDICOTT_GUARDIAN,
        Role.DATA_OFFICER,
        Role.ANALYST,
    }
)
# Who must carry out a review.
REVIEW_ROLES: frozenset[str] = SIGNING_ROLES


@dataclass(frozen=True)
class Notice:
    topic: Topic
    subject: str
    body: str
    roles: frozenset[str]


def link_to(agreement: Agreement) -> str:
    return f"/agreements/{agreement.pk}/"


def describe(day: dt.date) -> str:
    """1 September 2025."""
    return f"{day.day} {day:%B %Y}"


def _role_label(code: str) -> str:
    roles = load("signatory_roles")
    return roles.get(code).label if code in roles else code.replace("_", " ")


def _names(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class _Signing:
    """What signatures are still missing, from the legal rule checks (run once per event)."""

    needed: Mapping[str, list[str]]  # party id → the signatures it still has to give, in words
    caldicott_missing: bool

    @classmethod
    def of(cls, document: DataSharingAgreement) -> _Signing:
        findings = rules.blockers(rules.check(document, today=timezone.localdate()))
        needed: dict[str, list[str]] = {}
        for index, party in enumerate(document.parties):
            codes = {f.code for f in findings if f.path == f"parties[{index}]"}
            # A DPO's signature is also the party's signature, so it answers both findings.
            if "DPO_NOT_CONSULTED" in codes:
                needed[party.id] = ["its Data Protection Officer (DPO)"]
            elif "PARTY_NOT_SIGNED" in codes:
                needed[party.id] = ["a senior manager or other approver, such as its SIRO or DPO"]
        missing = any(f.code == "CALDICOTT_GUARDIAN_SIGNATURE_MISSING" for f in findings)
        return cls(needed=needed, caldicott_missing=missing)

    def instructions(self, party: AgreementParty) -> str:
        name = party.organisation.name
        wants = self.needed.get(party.party_id)
        if wants:
            text = f"Read it and sign for {name}: it needs a signature from {_names(wants)}."
        else:
            text = (
                f"{name} has given the signatures its part requires. Read the agreement and "
                "add any further signature your organisation's own rules ask for."
            )
        if self.caldicott_missing:
            text += (
                " It covers confidential health or care information, so a Caldicott Guardian "
                "must also sign it."
            )
        return text


def _compose(
    *,
    by: Actor,
    agreement: Agreement,
    action: str,
    details: Mapping[str, object],
    party: AgreementParty,
    document: DataSharingAgreement,
    names: Mapping[str, str],
    signing: _Signing | None,
) -> Notice | None:
    title = f"“{agreement.title}”"
    term = document.term
    reason = str(details.get("reason") or "").strip()
    by_whom = f" by {by.organisation_name}" if by.organisation_name else ""
    if action == "agreement.in_review":
        return Notice(
            Topic.AGREEMENT_STEP,
            f"Review and sign {title}",
            f"{title} has been sent to {_names(sorted(names.values()))} for review and "
            f"signature. {signing.instructions(party) if signing else ''} If it needs changing, "
            "return it for changes instead of signing.",
            SIGNING_ROLES,
        )
    if action == "agreement.draft":
        return Notice(
            Topic.AGREEMENT_STEP,
            f"Returned for changes: {title}",
            f"{title} has been returned to draft for changes{by_whom}. What needs to change: "
            f"{reason or 'not given'}. Signatures given so far no longer count. Agree the "
            "changes with the other parties; it will then be sent to every party for review "
            "and signature again.",
            PREPARING_ROLES,
        )
    if action == "agreement.signed":
        signer = names.get(str(details.get("party", "")), "A party")
        role = _role_label(str(details.get("role", "")))
        needed = signing.needed if signing else {}
        waiting = [name for party_id, name in names.items() if party_id in needed]
        if signing and party.party_id in needed:
            next_step = signing.instructions(party)
        elif waiting:
            next_step = f"Still waiting for signatures from {_names(sorted(waiting))}."
        else:
            next_step = (
                "Every party has now given the signatures its part requires; it is approved "
                "once the checks find no other problem."
            )
        return Notice(
            Topic.AGREEMENT_STEP,
            f"{signer} signed {title}",
            f"{signer} signed {title} as {role}. {next_step}",
            SIGNING_ROLES,
        )
    if action == "agreement.approved":
        start = term.start_date if term else None
        when = f"from {describe(start)}" if start else "now"
        return Notice(
            Topic.AGREEMENT_STEP,
            f"Approved: {title}",
            f"Every party's required signatories have signed {title}, so it is approved. It "
            f"can be made active {when} by a DPO, SIRO or other accountable person of any "
            "party. Nothing may be shared under it until it is active.",
            PREPARING_ROLES,
        )
    if action == "agreement.active":
        end = term.end_date if term else None
        review = term.review_date if term else None
        if details.get("from") == "suspended":
            opening = f"{title} has been resumed and is active again. Sharing under it may restart"
        else:
            opening = f"{title} is now active. Data may be shared under it"
        text = f"{opening}, only as it sets out: the datasets, fields and purposes it names" + (
            f", until {describe(end)}." if end else "."
        )
        if review:
            text += f" Its next review is due by {describe(review)}."
        return Notice(Topic.AGREEMENT_STEP, f"In force: {title}", text, DATA_ROLES)
    if action == "agreement.suspended":
        return Notice(
            Topic.AGREEMENT_STEP,
            f"Suspended: {title}",
            f"{title} has been suspended{by_whom}. Reason given: {reason or 'none'}. Nothing may "
            "be shared under it until it is resumed: stop sending, receiving and using data "
            "under it now.",
            DATA_ROLES,
        )
    ended = (
        " Deal with data already received as its retention and termination terms say: "
        "delete it, return it or keep it only where the agreement allows."
    )
    if action == "agreement.terminated":
        return Notice(
            Topic.AGREEMENT_STEP,
            f"Ended: {title}",
            f"{title} has been ended early{by_whom}. Reason given: {reason or 'none'}. Nothing "
            "more may be shared under it." + ended,
            DATA_ROLES,
        )
    if action == "agreement.expired":
        end = term.end_date if term else None
        on = f" on {describe(end)}" if end else ""
        return Notice(
            Topic.AGREEMENT_EXPIRED,
            f"Expired: {title}",
            f"{title} reached its end date{on} and has expired. Nothing more may be shared "
            "under it. If the sharing must go on, agree a new agreement with the other "
            "parties." + ended,
            DATA_ROLES,
        )
    if action == "agreement.superseded":
        return Notice(
            Topic.AGREEMENT_STEP,
            f"Replaced: {title}",
            f"{title} has been replaced by a newer signed version. Share only under the new "
            "version from now on.",
            DATA_ROLES,
        )
    return None


def _parties(agreement: Agreement) -> list[AgreementParty]:
    return list(agreement.parties.select_related("organisation").order_by("party_id"))


def on_agreement_event(
    *, by: Actor, agreement: Agreement, action: str, details: Mapping[str, object]
) -> None:
    """Called by the actions after each audited step of ``agreement``: notify every party."""
    parties = _parties(agreement)
    names = {p.party_id: p.organisation.name for p in parties}
    document = DataSharingAgreement.model_validate(agreement.current.document)
    signing = (
        _Signing.of(document) if action in ("agreement.in_review", "agreement.signed") else None
    )
    for party in parties:
        notice = _compose(
            by=by,
            agreement=agreement,
            action=action,
            details=details,
            party=party,
            document=document,
            names=names,
            signing=signing,
        )
        if notice is None:
            return
        notify(
            by=by,
            organisation=party.organisation,
            topic=notice.topic,
            subject=notice.subject,
            body=notice.body,
            link=link_to(agreement),
            roles=notice.roles,
        )


def review_notice(agreement: Agreement, state: ReviewState, review_date: dt.date) -> Notice:
    """The reminder that ``agreement``'s review is due soon or overdue."""
    title = f"“{agreement.title}”"
    if state == "overdue":
        return Notice(
            Topic.AGREEMENT_REVIEW_OVERDUE,
            f"Review overdue: {title}",
            f"The review of {title} was due on {describe(review_date)} and has not been "
            "done. Review it with the other parties now: check that the sharing is still "
            "needed, lawful and working as agreed, then amend it with a new review date, or "
            "suspend or end it.",
            REVIEW_ROLES,
        )
    return Notice(
        Topic.AGREEMENT_REVIEW_DUE,
        f"Review due by {describe(review_date)}: {title}",
        f"The review of {title} is due by {describe(review_date)}. Plan it with the other "
        "parties: check that the sharing is still needed, lawful and working as agreed, then "
        "amend it with a new review date, or end it.",
        REVIEW_ROLES,
    )


def remind_review(
    *, by: Actor, agreement: Agreement, state: ReviewState, review_date: dt.date
) -> int:
    """Send every party the review reminder; the number of organisations notified."""
    notice = review_notice(agreement, state, review_date)
    parties = _parties(agreement)
    for party in parties:
        notify(
            by=by,
            organisation=party.organisation,
            topic=notice.topic,
            subject=notice.subject,
            body=notice.body,
            link=link_to(agreement),
            roles=notice.roles,
        )
    return len(parties)
