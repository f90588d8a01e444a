"""Reads of agreements with rules in them: what the public register shows."""

from __future__ import annotations

from dataclasses import dataclass

from .document import DataSharingAgreement
from .models import Agreement
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
