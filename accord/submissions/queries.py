"""Reads of collections and submissions with rules in them: which agreement flow covers a
contributor, who has sent what for each period, who is late, and what is due next."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass

import polars as pl
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accord.access.decisions import Resource, decide
from accord.access.enums import Action
from accord.access.extracts import as_permitted
from accord.access.queries import purposes_open_to
from accord.agreements.actions import document_of
from accord.agreements.models import Agreement, Framework, FrameworkMember
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted
from accord.organisations.models import Organisation
from accord.vault.exceptions import ObjectDeleted
from accord.vault.parquet import read_frame
from accord.vault.queries import open_object, resource_for

from . import periods
from .models import Collection, CompiledDataset, Contributor, Submission


def covering_flow(
    collection: Collection, organisation: Organisation, agreement: Agreement | None = None
) -> tuple[Agreement, str] | None:
    """The active agreement and its flow that carry ``collection``'s standard from
    ``organisation`` to the collection's owner (only ``agreement``, if given), or None."""
    candidates = Agreement.objects.filter(status="active", parties__organisation=organisation)
    candidates = candidates.filter(parties__organisation=collection.owner)
    if agreement is not None:
        candidates = candidates.filter(pk=agreement.pk)
    for candidate in candidates.distinct().prefetch_related("parties"):
        ids = {p.organisation_id: p.party_id for p in candidate.parties.all()}
        sender, owner = ids.get(organisation.pk), ids.get(collection.owner_id)
        document = document_of(candidate)
        carries = {
            d.id
            for d in document.datasets
            if (d.standard or "").split("@")[0] == collection.standard_slug
        }
        for flow in document.flows:
            if (
                flow.from_party_id == sender
                and owner in flow.to_party_ids
                and carries & set(flow.dataset_ids)
            ):
                return candidate, flow.id
    return None


def both_members(framework: Framework, *organisations: Organisation) -> bool:
    members = set(
        FrameworkMember.objects.filter(framework=framework).values_list(
            "organisation_id", flat=True
        )
    )
    return all(o.pk in members for o in organisations)


def collections_for(organisation_id: int | str) -> QuerySet[Collection]:
    """Collections the organisation runs or contributes to."""
    return (
        Collection.objects.filter(
            Q(owner_id=organisation_id)
            | Q(contributors__organisation_id=organisation_id, contributors__is_active=True)
        )
        .distinct()
        .select_related("owner")
    )


def collection_for(organisation_id: int | str, collection_id: str | uuid.UUID) -> Collection:
    found = collections_for(organisation_id).filter(pk=collection_id).first()
    if found is None:
        raise Http404("No collection here that your organisation runs or sends returns to.")
    return found


def submission_for(organisation_id: int | str, submission_id: str | uuid.UUID) -> Submission:
    """A submission, to the organisation that sent it or the one that runs the collection."""
    found = (
        Submission.objects.filter(pk=submission_id)
        .filter(Q(organisation_id=organisation_id) | Q(collection__owner_id=organisation_id))
        .select_related("collection", "organisation", "collection__owner")
        .first()
    )
    if found is None:
        raise Http404("No submission here that your organisation sent or receives.")
    return found


def deadline_of(collection: Collection, period: dt.date) -> dt.datetime:
    return periods.deadline(
        collection.schedule,  # type: ignore[arg-type]
        period,
        days_after=collection.deadline_days,
        at=collection.deadline_time,
    )


@dataclass(frozen=True)
class Slot:
    """One contributor's position for one period."""

    organisation: Organisation
    status: str  # accepted, checking, rejected, late, due, not_due
    submission: Submission | None
    late: bool  # the accepted return came after the deadline, or none has come and it passed

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


STATUS_LABELS = {
    "accepted": "Sent",
    "checking": "Being checked",
    "rejected": "Sent, but rejected",
    "late": "Late: nothing accepted",
    "due": "Due",
    "not_due": "Not due yet",
}


@dataclass(frozen=True)
class PeriodStatus:
    period: dt.date
    label: str
    deadline: dt.datetime
    slots: tuple[Slot, ...]

    @property
    def expected(self) -> int:
        return len(self.slots)

    @property
    def received(self) -> int:
        return sum(1 for s in self.slots if s.status == "accepted")

    @property
    def completeness(self) -> float:
        return self.received / self.expected if self.expected else 0.0

    @property
    def late(self) -> int:
        return sum(1 for s in self.slots if s.status == "late")


def period_status(
    collection: Collection, period: dt.date, now: dt.datetime | None = None
) -> PeriodStatus:
    """Who has sent an accepted return for ``period``, who is checking, late or not yet due."""
    now = now or timezone.now()
    due = deadline_of(collection, period)
    contributors = list(
        Contributor.objects.filter(collection=collection, is_active=True).select_related(
            "organisation"
        )
    )
    latest: dict[int, Submission] = {}
    for sent in Submission.objects.filter(collection=collection, period=period).order_by(
        "received_at"
    ):
        current = latest.get(sent.organisation_id)
        # An accepted return wins over anything sent after it that was rejected or is checking.
        if current is None or current.state != "accepted" or sent.state == "accepted":
            latest[sent.organisation_id] = sent
    slots = []
    for contributor in contributors:
        submission = latest.get(contributor.organisation_id)
        if submission is not None and submission.state == "accepted":
            status, late = "accepted", submission.received_at > due
        elif submission is not None and submission.state in ("received", "validating"):
            status, late = "checking", now > due
        elif now > due:
            status, late = "late", True
        elif submission is not None and submission.state == "rejected":
            status, late = "rejected", False
        else:
            status, late = ("due" if period <= now.date() else "not_due"), False
        slots.append(Slot(contributor.organisation, status, submission, late))
    return PeriodStatus(
        period=period,
        label=periods.label(collection.schedule, period),  # type: ignore[arg-type]
        deadline=due,
        slots=tuple(slots),
    )


def recent_periods(
    collection: Collection, today: dt.date | None = None, count: int = 7
) -> list[dt.date]:
    """The current period and the ones before it, newest first, never before the start."""
    today = today or timezone.localdate()
    schedule = collection.schedule
    current = periods.start_of(schedule, today)  # type: ignore[arg-type]
    found = [
        p
        for p in periods.between(schedule, collection.starts_on, current)  # type: ignore[arg-type]
    ]
    return list(reversed(found))[:count]


def history(collection: Collection, organisation_id: int | str) -> QuerySet[Submission]:
    return Submission.objects.filter(collection=collection, organisation_id=organisation_id)


@dataclass(frozen=True)
class Due:
    collection: Collection
    period: dt.date
    label: str
    deadline: dt.datetime
    overdue: bool


def due_next(organisation_id: int | str, now: dt.datetime | None = None) -> list[Due]:
    """For each collection the organisation sends to: the earliest period from the last few
    with no accepted return (late ones first), else the next period."""
    now = now or timezone.now()
    due: list[Due] = []
    for contributor in Contributor.objects.filter(
        organisation_id=organisation_id, is_active=True
    ).select_related("collection"):
        collection = contributor.collection
        accepted = set(
            Submission.objects.filter(
                collection=collection, organisation_id=organisation_id, state="accepted"
            ).values_list("period", flat=True)
        )
        missing = [p for p in reversed(recent_periods(collection, now.date())) if p not in accepted]
        period = (
            missing[0]
            if missing
            else periods.following(
                collection.schedule,  # type: ignore[arg-type]
                periods.start_of(collection.schedule, now.date()),  # type: ignore[arg-type]
            )
        )
        deadline = deadline_of(collection, period)
        due.append(
            Due(
                collection=collection,
                period=period,
                label=periods.label(collection.schedule, period),  # type: ignore[arg-type]
                deadline=deadline,
                overdue=now > deadline,
            )
        )
    return sorted(due, key=lambda d: d.deadline)


# Reading shared data back, always through the decision point -----------------------------------

PROBLEMS_PURPOSE = "Reading the problems found in a return my organisation sent"
COMPILED_PURPOSE = "Downloading the compiled collection my organisation runs"
# The columns compilation adds to every row: where it came from. They go with the rows.
PROVENANCE_COLUMNS = ("period", "organisation", "submission", "source_row")


def problems_of(submission: Submission, *, by: Actor) -> pl.DataFrame | None:
    """The problems the check found in ``submission`` (every column as text), read from the
    vault through the decision point for ``by``; None when the check found none. Only the
    organisation that sent it may read them: NotPermitted, with the reason, otherwise."""
    if by.organisation_id != str(submission.organisation_id):
        raise NotPermitted(
            f"Only {submission.organisation.name}, which sent this return, can read the "
            "problems found in it.",
            target=f"submission:{submission.pk}",
        )
    if submission.problems_object_id is None:
        return None
    decision = decide(
        actor=by,
        action=Action.VIEW,
        resource=resource_for(submission.problems_object),  # type: ignore[arg-type]
        purpose=PROBLEMS_PURPOSE,
    )
    if decision.denied:
        raise NotPermitted(decision.reason, target=f"submission:{submission.pk}")
    content = b"".join(open_object(submission.problems_object_id, by=by, decision=decision))
    return pl.read_csv(io.BytesIO(content.removeprefix(b"\xef\xbb\xbf")), infer_schema=False)


def latest_compilation(collection: Collection) -> CompiledDataset | None:
    return collection.compilations.order_by("-number").first()


def reading_purpose(by: Actor, resource: Resource, default: str) -> str:
    """The purpose a reader states without choosing one: for data that is all its own,
    ``default``; for data with other controllers, the first purpose their agreements all grant
    it (the decision point then checks it), else ``default`` (which it will refuse, saying
    why)."""
    purposes = purposes_open_to(by.organisation_id, resource)
    return purposes[0] if purposes else default


def compiled_rows(
    collection: Collection, *, by: Actor, purpose: str = ""
) -> tuple[CompiledDataset, pl.DataFrame] | None:
    """The newest compiled dataset of ``collection`` and its rows (with their provenance
    columns), extracted through the decision point for ``by``; None before the first
    compilation. Only the organisation that runs the collection may have them: NotPermitted,
    with the reason, otherwise."""
    if by.organisation_id != str(collection.owner_id):
        raise NotPermitted(
            f"Only {collection.owner.name}, which runs this collection, can download the "
            "compiled dataset.",
            target=f"collection:{collection.pk}",
        )
    compilation = latest_compilation(collection)
    if compilation is None:
        return None
    resource = resource_for(compilation.data)
    decision = decide(
        actor=by,
        action=Action.EXTRACT,
        resource=resource,
        purpose=purpose or reading_purpose(by, resource, COMPILED_PURPOSE),
    )
    if decision.denied:
        raise NotPermitted(decision.reason, target=f"collection:{collection.pk}")
    try:
        frame = read_frame(compilation.data_id, by=by, decision=decision, action=Action.EXTRACT)
    except ObjectDeleted as gone:
        raise NotPermitted(str(gone), target=f"collection:{collection.pk}") from gone
    return compilation, as_permitted(frame, decision, keep_columns=PROVENANCE_COLUMNS)
