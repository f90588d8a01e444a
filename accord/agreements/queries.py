"""Reads of agreements with rules in them: what the public register shows."""

from __future__ import annotations

import re
import statistics
import uuid
from dataclasses import dataclass

from django.http import Http404

from accord.audit.models import AuditEvent
from accord.organisations.models import Organisation

from .document import DataSharingAgreement, Party
from .models import Agreement, Framework
from .vocabularies import load

# The public register shows active agreements only: drafts are not agreed yet, and ended or
# suspended ones are not in force.
REGISTER_STATUSES = ("active",)


@dataclass(frozen=True)
class RegisterEntry:
    """What anyone may see of an agreement in force: no names of people, no contacts."""

    id: str
    title: str
    agreement_type: str
    parties: tuple[str, ...]
    purposes: tuple[str, ...]
    legal_bases: tuple[str, ...]
    gateways: tuple[str, ...]
    datasets: tuple[str, ...]
    start_date: str | None
    end_date: str | None
    review_date: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "agreement_type": self.agreement_type,
            "parties": list(self.parties),
            "purposes": list(self.purposes),
            "legal_bases": list(self.legal_bases),
            "statutory_gateways": list(self.gateways),
            "datasets": list(self.datasets),
            "start_date": self.start_date,
            "end_date": self.end_date,
            "review_date": self.review_date,
        }

    def matches(self, words: list[str]) -> bool:
        haystack = " ".join(
            (self.title, *self.parties, *self.purposes, *self.datasets, *self.legal_bases)
        ).casefold()
        return all(word in haystack for word in words)


def public_register(search: str = "") -> list[RegisterEntry]:
    """Active agreements, newest first, optionally only those matching every word searched."""
    agreements = (
        Agreement.objects.filter(status__in=REGISTER_STATUSES)
        .prefetch_related("versions", "parties__organisation")
        .order_by("-activated_at", "title")
    )
    entries = [_entry(agreement) for agreement in agreements]
    words = search.casefold().split()
    return [entry for entry in entries if entry.matches(words)] if words else entries


def _entry(agreement: Agreement) -> RegisterEntry:
    version = max(agreement.versions.all(), key=lambda v: v.number)
    document = DataSharingAgreement.model_validate(version.document)
    article6 = load("article6")
    article9 = load("article9")
    labels = [article6.get(code).label for code in document.legal_basis.article6]
    labels += [article9.get(code).label for code in document.legal_basis.article9]
    term = document.term
    return RegisterEntry(
        id=str(agreement.pk),
        title=agreement.title,
        agreement_type=load("agreement_types").get(agreement.agreement_type).label,
        parties=tuple(sorted(p.organisation.name for p in agreement.parties.all())),
        purposes=tuple(p.title for p in document.purposes if p.title),
        legal_bases=tuple(labels),
        gateways=tuple(g.code for g in document.legal_basis.statutory_gateways),
        datasets=tuple(d.name or d.id for d in document.datasets),
        start_date=term.start_date.isoformat() if term and term.start_date else None,
        end_date=term.end_date.isoformat() if term and term.end_date else None,
        review_date=term.review_date.isoformat() if term and term.review_date else None,
    )


def agreements_of(organisation_id: int | str) -> list[Agreement]:
    """Every agreement ``organisation_id`` is a party to, newest first."""
    return list(
        Agreement.objects.filter(parties__organisation_id=organisation_id)
        .prefetch_related("parties__organisation")
        .order_by("-created_at")
    )


def agreement_for(organisation_id: int | str, agreement_id: str | uuid.UUID) -> Agreement:
    """The agreement, if ``organisation_id`` is a party to it; otherwise 404, so an outsider
    cannot even learn that a draft exists (active ones are on the public register anyway)."""
    agreement = (
        Agreement.objects.filter(pk=agreement_id, parties__organisation_id=organisation_id)
        .prefetch_related("parties__organisation")
        .first()
    )
    if agreement is None:
        raise Http404("No agreement here that your organisation is a party to.")
    return agreement


# Document identifier schemes that name an organisation's own field on Accord.
PARTY_IDENTIFIER_FIELDS = {
    "gss": "gss_code",
    "ods": "ods_code",
    "ico_registration": "ico_registration",
}


def _party_organisation(party: Party) -> Organisation | None:
    active = Organisation.objects.filter(is_active=True)
    for identifier in party.org_identifiers:
        field = PARTY_IDENTIFIER_FIELDS.get(identifier.scheme)
        value = re.sub(r"\s+", "", identifier.value).upper()
        if field and value:
            found = active.filter(**{field: value}).first()
            if found is not None:
                return found
    name = party.name.strip()
    return active.filter(name__iexact=name).first() if name else None


def match_parties(document: DataSharingAgreement) -> tuple[dict[str, Organisation], list[str]]:
    """Match each party of ``document`` to an active organisation on Accord: by its
    identifiers first (GSS code, ODS code, ICO registration number), else by its exact name,
    ignoring case. Returns (party id → organisation, ids of parties left unmatched, in the
    document's order). A party that would match an organisation already matched to an earlier
    party is left unmatched: one organisation cannot be two parties."""
    matched: dict[str, Organisation] = {}
    unmatched: list[str] = []
    for party in document.parties:
        organisation = _party_organisation(party)
        taken = {org.pk for org in matched.values()}
        if organisation is None or organisation.pk in taken or party.id in matched:
            unmatched.append(party.id)
        else:
            matched[party.id] = organisation
    return matched, unmatched


def history(agreement: Agreement) -> list[AuditEvent]:
    """The agreement's audit events, oldest first: its own trail, shown to its parties."""
    return list(AuditEvent.objects.filter(target=f"agreement:{agreement.pk}").order_by("seq"))


@dataclass(frozen=True)
class Durations:
    """How long agreements under a framework took from first draft to coming into force."""

    days: tuple[int, ...]

    @property
    def median(self) -> float | None:
        return statistics.median(self.days) if self.days else None


def durations(framework: Framework) -> Durations:
    activated = Agreement.objects.filter(framework=framework, activated_at__isnull=False)
    return Durations(tuple(sorted(a.days_to_active or 0 for a in activated)))


def frameworks_of(organisation_id: int | str) -> list[Framework]:
    return list(Framework.objects.filter(members__organisation_id=organisation_id))


def framework_members(framework: Framework) -> list[Organisation]:
    return [m.organisation for m in framework.members.select_related("organisation")]
