"""Reads of data requests with rules in them: who may see a request, and what may already
answer a question before anyone is asked for data."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import Http404

from accord.agreements.actions import document_of
from accord.agreements.models import Agreement
from accord.standards.queries import latest_versions

from .models import DataRequest

# Words that say nothing about what a request is for.
STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "data", "do", "does", "each",
        "every", "for", "from", "has", "have", "how", "i", "in", "is", "it", "its", "know",
        "many", "much", "need", "needs", "of", "on", "or", "our", "per", "that", "the", "their",
        "them", "there", "these", "they", "this", "to", "us", "want", "we", "what", "when",
        "where", "which", "who", "why", "will", "with", "would", "your",
    }
)  # fmt: skip
SIMILAR_THRESHOLD = 0.2
MAX_SUGGESTIONS = 5


def requests_for(organisation_id: int | str) -> QuerySet[DataRequest]:
    """Requests ``organisation_id`` made or was asked, newest first."""
    return (
        DataRequest.objects.filter(
            Q(requester_id=organisation_id) | Q(holders__organisation_id=organisation_id)
        )
        .distinct()
        .select_related("requester", "framework")
        .prefetch_related("holders__organisation")
        .order_by("-created_at")
    )


def request_for(organisation_id: int | str, request_id: str | uuid.UUID) -> DataRequest:
    """The request if ``organisation_id`` made it or was asked; otherwise 404."""
    found = requests_for(organisation_id).filter(pk=request_id).first()
    if found is None:
        raise Http404("No data request here that involves your organisation.")
    return found


def words(text: str) -> frozenset[str]:
    return frozenset(
        word for word in re.findall(r"[a-z0-9]+", text.casefold()) if word not in STOPWORDS
    )


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two bags of words (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Suggestion:
    kind: str  # "standard", "agreement", "request"
    title: str
    detail: str
    link: str


def may_already_answer(
    text: str, standards: list[str], organisation_id: int | str
) -> list[Suggestion]:
    """What might answer the question without a new share: published standards about it,
    agreements in force for the same data that could be extended, and similar requests
    (only ones ``organisation_id`` can see, so nobody learns of others' private requests)."""
    asked = words(text)
    wanted = set(standards)
    found: list[Suggestion] = []
    for standard in latest_versions():
        overlap = similarity(asked, words(f"{standard.title} {standard.description}"))
        named = words(standard.title) <= asked  # the question names the standard's subject
        if standard.slug in wanted or named or overlap >= SIMILAR_THRESHOLD / 2:
            found.append(
                Suggestion(
                    "standard",
                    standard.title,
                    "A published data standard: organisations may already send data to it.",
                    f"/standards/{standard.slug}/",
                )
            )
    for agreement in Agreement.objects.filter(status="active").prefetch_related(
        "parties__organisation", "versions"
    ):
        document = document_of(agreement)
        uses = {(d.standard or "").split("@")[0] for d in document.datasets} & wanted
        text_of = " ".join([agreement.title, *(p.title for p in document.purposes)])
        if uses or similarity(asked, words(text_of)) >= SIMILAR_THRESHOLD:
            parties = ", ".join(sorted(p.organisation.name for p in agreement.parties.all()))
            found.append(
                Suggestion(
                    "agreement",
                    agreement.title,
                    f"An agreement in force between {parties}; it could be extended to you.",
                    f"/register/?q={agreement.title[:60]}",
                )
            )
    for request in requests_for(organisation_id)[:200]:
        score = similarity(asked, words(f"{request.title} {request.question}"))
        if score >= SIMILAR_THRESHOLD or (wanted & set(request.standards)):
            found.append(
                Suggestion(
                    "request",
                    request.title,
                    f"A request by {request.requester.name} ({request.status}).",
                    f"/requests/{request.pk}/",
                )
            )
    return found[: MAX_SUGGESTIONS * 3]
