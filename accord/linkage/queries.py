"""What the linkage pages read: the datasets an organisation may link, its jobs, and a job's
results, each read through the decision point."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db.models import QuerySet

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.exceptions import AccessDenied
from accord.access.models import Grant
from accord.audit.actor import Actor
from accord.organisations.models import Organisation
from accord.submissions.models import Collection
from accord.vault.models import VaultObject
from accord.vault.parquet import read_frame
from accord.vault.queries import resource_for

from . import columns, single_view
from .models import ClericalDecision, LinkageJob


class JobNotFound(LookupError):
    """No such job, or one of another organisation (alike)."""


@dataclass(frozen=True)
class LinkableSource:
    """A dataset an organisation may choose to link."""

    ref: str
    name: str
    standard: str
    provider: str
    own: bool
    purposes: tuple[str, ...]  # the purposes it may be linked for ("" for own data: any)
    parts: tuple[str, ...]  # what it can be compared on


def _compiled(collection: Collection) -> Any:
    return collection.compilations.order_by("-number").select_related("data").first()


def linkable_sources(organisation: Organisation) -> list[LinkableSource]:
    """Its own compiled collections, and those an active agreement shares with it for
    linkage. (Offering one is not permitting it: the decision point decides each run.)"""
    found: list[LinkableSource] = []
    for collection in Collection.objects.filter(owner=organisation).order_by("name"):
        compiled = _compiled(collection)
        if compiled is None or compiled.data.deleted_at is not None:
            continue
        found.append(
            LinkableSource(
                ref=f"collection:{collection.pk}",
                name=collection.name,
                standard=collection.standard_slug,
                provider=organisation.name,
                own=True,
                purposes=(),
                parts=tuple(columns.parts_of(collection.standard_slug, _fields(collection))),
            )
        )
    grants = (
        Grant.objects.filter(recipient=organisation, agreement__status="active")
        .select_related("provider")
        .order_by("provider__name", "dataset_name")
    )
    seen = {item.ref for item in found}
    for grant in grants:
        if "link" not in (grant.actions or []):
            continue
        purposes = tuple(str(title) for _, title in grant.purposes or [] if title)
        granted = [f.get("name", "") for f in grant.fields or [] if isinstance(f, dict)]
        for collection in Collection.objects.filter(
            owner=grant.provider, standard_slug=grant.dataset
        ).order_by("name"):
            ref = f"collection:{collection.pk}"
            compiled = _compiled(collection)
            if ref in seen or compiled is None or compiled.data.deleted_at is not None:
                continue
            seen.add(ref)
            found.append(
                LinkableSource(
                    ref=ref,
                    name=collection.name,
                    standard=collection.standard_slug,
                    provider=grant.provider.name,
                    own=False,
                    purposes=purposes,
                    parts=tuple(columns.parts_of(collection.standard_slug, granted)),
                )
            )
    return found


def _fields(collection: Collection) -> list[str]:
    from accord.standards.queries import get_standard

    try:
        standard = get_standard(collection.standard_slug, collection.standard_version)
    except Exception:
        return list(columns.PARTS)
    return [field.name for field in standard.fields]


def link_purposes(sources: list[LinkableSource]) -> list[str]:
    """Every purpose some shared dataset may be linked for, for the form's choice."""
    return sorted({purpose for source in sources for purpose in source.purposes})


def single_view_sources(sources: list[LinkableSource]) -> list[LinkableSource]:
    """The datasets the ready-made single view of vulnerability would link, one of each
    standard it uses (own data first), if at least two are available."""
    chosen: dict[str, LinkableSource] = {}
    for source in sorted(sources, key=lambda s: (not s.own, s.name)):
        if source.standard in single_view.STANDARDS and source.standard not in chosen:
            chosen[source.standard] = source
    ordered = [chosen[s] for s in single_view.STANDARDS if s in chosen]
    return ordered if len(ordered) >= 2 else []


def jobs_for(organisation: Organisation | int | str) -> QuerySet[LinkageJob]:
    key = organisation.pk if isinstance(organisation, Organisation) else organisation
    return LinkageJob.objects.filter(organisation_id=key).select_related("progress")


def job_for(organisation: Organisation | int | str, job_id: Any) -> LinkageJob:
    try:
        return jobs_for(organisation).get(pk=uuid.UUID(str(job_id)))
    except (LinkageJob.DoesNotExist, ValueError) as exc:
        raise JobNotFound(str(job_id)) from exc


def read_result(job: LinkageJob, which: str, *, by: Actor) -> pl.DataFrame:
    """One of the job's stored results — ``linked`` records, ``view`` (households) or
    ``borderline`` pairs — if the decision point permits ``by`` to use it for the job's
    purpose: viewing for the first two, linking (clerical review is part of linking) for the
    pairs. Raises ``AccessDenied`` (audited) or ``JobNotFound`` when there is none."""
    obj: VaultObject | None = getattr(job, which)
    if obj is None or obj.deleted_at is not None:
        raise JobNotFound(f"{job.pk}:{which}")
    action = Action.LINK if which == "borderline" else Action.VIEW
    decision = decide(actor=by, action=action, resource=resource_for(obj), purpose=job.purpose)
    if decision.denied:
        raise AccessDenied(decision.reason, decision=decision, reasons=decision.reasons)
    return read_frame(obj.pk, by=by, decision=decision, action=action)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    percent: float  # of the tallest bar, for the chart's height


@dataclass(frozen=True)
class Quality:
    """A run's quality report, from its figures."""

    records: list[tuple[str, int]]
    stages: list[tuple[str, int]]
    entities: int
    matched_records: int
    total_records: int
    histogram: list[Bar]
    precision: float | None
    recall: float | None
    reviewed: int
    confirmed: int
    rejected: int
    clerical_precision: float | None
    households: int | None
    seconds: float | None


def percent(value: Any) -> str:
    """0.9731 -> "97.3%"; nothing known -> "not known"."""
    if value is None or value == "":
        return "not known"
    return f"{100 * float(value):.1f}%"


STAGE_LABELS = {
    "exact": "Exact match on a strong identifier",
    "probabilistic": "Probabilistic match",
    "clerical": "Confirmed by a reviewer",
}


def quality(job: LinkageJob) -> Quality | None:
    stats = job.stats or {}
    if not stats:
        return None
    names = {s["ref"]: s["name"] for s in job.sources}
    records = [(names.get(k, k), int(v)) for k, v in (stats.get("records") or {}).items()]
    stages = [(STAGE_LABELS.get(k, k), int(v)) for k, v in (stats.get("stages") or {}).items()]
    bins = stats.get("histogram") or []
    top = max([int(b.get("pairs", 0)) for b in bins] or [0]) or 1
    histogram = [
        Bar(
            f"{float(b['from']):.1f} to {float(b['to']):.1f}",
            int(b.get("pairs", 0)),
            round(100 * int(b.get("pairs", 0)) / top, 1),
        )
        for b in bins
    ]
    clerical = stats.get("clerical") or {}
    return Quality(
        records=records,
        stages=stages,
        entities=int(stats.get("entities") or 0),
        matched_records=int(stats.get("matched_records") or 0),
        total_records=sum(n for _, n in records),
        histogram=histogram,
        precision=stats.get("estimated_precision"),
        recall=stats.get("estimated_recall"),
        reviewed=int(clerical.get("reviewed") or 0),
        confirmed=int(clerical.get("confirmed") or 0),
        rejected=int(clerical.get("rejected") or 0),
        clerical_precision=clerical.get("precision"),
        households=stats.get("households"),
        seconds=stats.get("seconds"),
    )


def decisions_on(job: LinkageJob) -> dict[tuple[str, str, str, str], ClericalDecision]:
    return {(d.source_l, d.record_l, d.source_r, d.record_r): d for d in job.decisions.all()}
