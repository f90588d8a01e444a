"""Linkage jobs: creating them, running them, and the analyst's clerical decisions.

A job links datasets the organisation may link: its own collections, and collections an
active agreement shares with it for linkage. The decision point is asked for every source
when the job is made (a refusal is shown at once), again when the task starts and once more
before the result is stored for use, so suspending an agreement stops a run in flight.

The task reads each source as its decision allows (its rows and fields only) and links on the
identifiers inside Accord, on the controllers' behalf; what it stores carries each source's
obligations in full (identifiers pseudonymised where the agreement says so). In keyed mode no
raw identifier is compared at all: NHS numbers and UPRNs are replaced by keyed hashes under a
linkage key that only Accord holds, one per set of agreements, before the engine sees them.

The result is derived data of its sources (``vault.store(sources=...)``): it takes the
earliest retention deadline among them, names every controller and dataset it came from (so
reading it needs a ground for each), and is destroyed when a source goes (``withdraw_stale``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from accord.access.decisions import Decision, decide
from accord.access.enums import Action
from accord.access.exceptions import AccessDenied
from accord.access.extracts import SourceNotFound, as_permitted, source_for
from accord.access.transform import apply_obligations, hmac_sha256_hex, pseudonymisation_key
from accord.agreements.actions import document_of
from accord.agreements.models import Agreement
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome
from accord.audit.exceptions import NotPermitted, Refused
from accord.optouts.queries import OptOutUnavailable, drop_opted_out
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import Membership, User
from accord.tasks.actions import advance, enqueue, fail
from accord.tasks.models import TaskProgress
from accord.vault import actions as vault
from accord.vault.models import VaultObject
from accord.vault.parquet import read_frame, store_frame
from accord.vault.queries import resource_for

from . import columns, engine, single_view
from .models import ClericalDecision, Entity, JobState, LinkageJob

LINKING_ROLES = frozenset({Role.ANALYST, Role.DATA_OFFICER, Role.INFORMATION_ASSET_OWNER, Role.DPO})
RUN_FAILED = (
    "The linkage stopped unexpectedly. Nothing was stored; run it again, and if this happens "
    "again, contact support."
)
LINKED_KIND = "linked_dataset"
# Provenance kept beside each linked record: which return and row it came from.
PROVENANCE = ("period", "organisation", "submission", "source_row")
# The parts of a record keyed mode hashes; everything else identifying stays out of the engine.
KEYED_PARTS = ("nhs_number", "uprn")
MAX_SOURCES = 8


def _target(job: LinkageJob) -> str:
    return f"linkage_job:{job.pk}"


@dataclass(frozen=True)
class ChosenSource:
    ref: str
    name: str
    standard: str
    data: VaultObject


def _check_role(by: Actor, doing: str, target: str = "") -> None:
    if not by.organisation_id:
        raise NotPermitted("Choose the organisation you are acting for first.", target=target)
    if not set(by.roles) & {str(role) for role in LINKING_ROLES}:
        raise NotPermitted(
            f"Only analysts, data officers, information asset owners and DPOs can {doing}.",
            target=target,
        )


def _sources(by: Actor, refs: Sequence[str]) -> list[ChosenSource]:
    chosen: list[ChosenSource] = []
    for ref in dict.fromkeys(refs):  # in order, once each
        try:
            source = source_for(by.organisation_id, ref)
        except SourceNotFound as exc:
            raise Refused(
                "One of the datasets chosen is not one your organisation can use. Choose from "
                "the list.",
                target=str(ref)[:200],
            ) from exc
        collection = source.collection
        standard = collection.standard_slug if collection is not None else source.data.dataset
        chosen.append(ChosenSource(source.ref, source.name, standard, source.data))
    return chosen


def _decide(by: Actor, source: VaultObject, purpose: str) -> Decision:
    return decide(actor=by, action=Action.LINK, resource=resource_for(source), purpose=purpose)


def _agreements(decisions: Iterable[Decision]) -> list[dict[str, str]]:
    seen: dict[str, str] = {}
    for decision in decisions:
        for agreement_id, title in decision.agreements:
            seen.setdefault(agreement_id, title)
    return [{"id": key, "title": title} for key, title in sorted(seen.items())]


def dpia_problem(agreement_ids: Iterable[str]) -> str | None:
    """Linking people's records is data matching, which needs a DPIA (ICO): each agreement
    the sources are linked under must record one as required and completed."""
    for agreement in Agreement.objects.filter(pk__in=list(agreement_ids)).order_by("title"):
        dpia = document_of(agreement).dpia
        if dpia is None or not dpia.required or dpia.completed_date is None or not dpia.outcome:
            return (
                f"The agreement “{agreement.title}” does not record a completed data protection "
                "impact assessment. Linking people's records is data matching, which needs one: "
                "ask the agreement's DPO to record it before linking."
            )
    return None


def create_job(
    *,
    by: Actor,
    name: str,
    entity: str,
    refs: Sequence[str],
    purpose: str,
    disabled: Iterable[str] = (),
    match_threshold: float | None = None,
    keyed: bool = False,
    recipe: str = "",
) -> LinkageJob:
    """Make a linkage job over ``refs`` (two or more datasets the organisation may link) for
    ``purpose`` and queue its first run.

    Raises ``NotPermitted`` for the wrong role, ``Refused`` for a bad choice (in plain words,
    saying what to change), ``AccessDenied`` with the decision point's reasons when any source
    may not be linked for that purpose (the denial is in the audit chain)."""
    _check_role(by, "link records")
    name = " ".join(str(name).split())
    purpose = " ".join(str(purpose).split())
    if not name or len(name) > 200:
        raise Refused("Give the job a name of 1 to 200 characters.", target="linkage_job:new")
    if not purpose:
        raise Refused("Choose the purpose you are linking the data for.", target="linkage_job:new")
    if entity not in Entity.values:
        raise Refused("Choose whether to link people or properties.", target="linkage_job:new")
    if len(set(refs)) < 2:
        raise Refused("Choose at least two datasets to link.", target="linkage_job:new")
    if len(set(refs)) > MAX_SOURCES:
        raise Refused(
            f"Choose at most {MAX_SOURCES} datasets for one job.", target="linkage_job:new"
        )
    chosen = _sources(by, refs)
    try:
        model = engine.template(entity).with_changes(  # type: ignore[arg-type]
            disabled=disabled, match_threshold=match_threshold
        )
    except ValueError as exc:
        raise Refused(str(exc), target="linkage_job:new") from exc
    # Decided outside the job's transaction, so each deny stays recorded.
    decisions = [_decide(by, source.data, purpose) for source in chosen]
    for source, decision in zip(chosen, decisions, strict=True):
        if decision.denied:
            raise AccessDenied(
                f"{source.name}: {decision.reason}", decision=decision, reasons=decision.reasons
            )
    agreements = _agreements(decisions)
    problem = dpia_problem(item["id"] for item in agreements)
    if problem:
        raise Refused(problem, target="linkage_job:new")
    return _create(
        by=by,
        name=name,
        entity=entity,
        chosen=chosen,
        purpose=decisions[0].purpose,
        model=model,
        keyed=keyed,
        recipe=recipe,
        agreements=agreements,
    )


@audited("linkage.job_created")
def _create(
    *,
    by: Actor,
    name: str,
    entity: str,
    chosen: list[ChosenSource],
    purpose: str,
    model: engine.LinkModel,
    keyed: bool,
    recipe: str,
    agreements: list[dict[str, str]],
) -> LinkageJob:
    job = LinkageJob.objects.create(
        organisation_id=int(by.organisation_id),
        name=name,
        entity=entity,
        purpose=purpose,
        recipe=recipe,
        sources=[{"ref": s.ref, "name": s.name, "standard": s.standard} for s in chosen],
        model=model.to_json(),
        keyed=keyed,
        created_by=User.objects.get(pk=by.user_id or 0),
        created_by_label=by.label,
        agreements=agreements,
    )
    record(
        by=by,
        action="linkage.job_created",
        target=_target(job),
        purpose=purpose,
        details={
            "name": name,
            "entity": entity,
            "sources": job.sources,
            "keyed": keyed,
            "agreements": agreements,
            "model": job.model,
        },
    )
    _queue(job)
    return job


def _queue(job: LinkageJob) -> None:
    from .tasks import run_job_task

    progress = enqueue(
        run_job_task,
        kind="linkage",
        label=f"Linking: {job.name}"[:200],
        owner=job.organisation,
        target=_target(job),
        args=[str(job.pk)],
    )
    LinkageJob.objects.filter(pk=job.pk).update(
        progress=progress, state=JobState.QUEUED, message=""
    )
    job.progress = progress
    job.state = JobState.QUEUED


@audited("linkage.run_queued")
def run_again(*, by: Actor, job: LinkageJob) -> LinkageJob:
    """Queue another run (after clerical decisions, or new returns)."""
    _check_role(by, "run linkage jobs", _target(job))
    if str(job.organisation_id) != str(by.organisation_id):
        raise NotPermitted("This job belongs to another organisation.", target=_target(job))
    if not job.is_finished:
        raise Refused("This job is already queued or running.", target=_target(job))
    record(by=by, action="linkage.run_queued", target=_target(job), purpose=job.purpose)
    _queue(job)
    return job


@audited("linkage.pair_decided")
def decide_pair(
    *,
    by: Actor,
    job: LinkageJob,
    source_l: str,
    record_l: str,
    source_r: str,
    record_r: str,
    is_match: bool,
    probability: float | None = None,
) -> ClericalDecision:
    """Record the analyst's verdict on a pair; it is applied from the next run on."""
    _check_role(by, "review pairs", _target(job))
    if str(job.organisation_id) != str(by.organisation_id):
        raise NotPermitted("This job belongs to another organisation.", target=_target(job))
    names = {source["ref"] for source in job.sources}
    if source_l not in names or source_r not in names:
        raise Refused("That pair is not from this job's datasets.", target=_target(job))
    decision, _ = ClericalDecision.objects.update_or_create(
        job=job,
        source_l=source_l,
        record_l=record_l,
        source_r=source_r,
        record_r=record_r,
        defaults={
            "is_match": bool(is_match),
            "probability": probability,
            "decided_by": User.objects.get(pk=by.user_id or 0),
            "decided_by_label": by.label,
            "decided_at": timezone.now(),
        },
    )
    record(
        by=by,
        action="linkage.pair_decided",
        target=_target(job),
        purpose=job.purpose,
        details={
            "pair": [source_l, record_l, source_r, record_r],
            "is_match": bool(is_match),
            "probability": probability,
        },
    )
    return decision


# --- running ------------------------------------------------------------------------------------


def _refuse(job: LinkageJob, progress: TaskProgress | None, reason: str) -> LinkageJob:
    LinkageJob.objects.filter(pk=job.pk).update(
        state=JobState.REFUSED, message=reason, finished_at=timezone.now()
    )
    record(
        by=Actor.task("linkage"),
        action="linkage.run_refused",
        target=_target(job),
        purpose=job.purpose,
        outcome=Outcome.REFUSED,
        reason=reason,
    )
    if progress is not None and not progress.is_finished:
        fail(progress, message=f"Refused: {reason}")
    return LinkageJob.objects.get(pk=job.pk)


def _linkable(frame: pl.DataFrame, decision: Decision) -> pl.DataFrame:
    """The rows and fields the decision lets the task link: its row filter and field limits,
    but identifiers as they are, since matching happens inside Accord (on the controller's
    behalf); they leave only as the obligations say (``_linked_records``)."""
    obligations = dataclasses.replace(
        decision.obligations, pseudonymise_fields=(), generalise_fields=()
    )
    return apply_obligations(
        frame,
        obligations,
        key=None,
        identifier_types={},
        today=timezone.localdate(),
        keep_columns=PROVENANCE,
    )


def linkage_key(agreements: Iterable[str]) -> bytes:
    """The keyed-hash mode's key for links under these agreements: held only by Accord, the
    same for the same set of agreements (so runs agree), unlinkable with any other set."""
    ids = sorted({str(a) for a in agreements}) or ["own-data"]
    return pseudonymisation_key("linkage:" + "+".join(ids))


def _keyed(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Only the record id and keyed hashes of the normalised strong identifiers (null where a
    record has none, or one that fails its check)."""
    out = frame.select(columns.RECORD_ID)
    for part in KEYED_PARTS:
        if part not in frame.columns:
            continue
        normal = engine.normalise_nhs_number if part == "nhs_number" else engine.normalise_uprn
        clean = frame.select(normal(pl.col(part)).alias(part)).to_series()
        hashed = hmac_sha256_hex(clean.fill_null(""), key)
        out = out.with_columns(pl.when(clean.is_null()).then(None).otherwise(hashed).alias(part))
    return out


def run_job(
    job_id: str,
    *,
    progress: TaskProgress | None = None,
    on_progress: Callable[[int, str], None] | None = None,
) -> LinkageJob:
    """One run of a job: decide, read, link, store, decide again, publish. ``progress`` is
    the page's progress record; ``on_progress(percent, message)`` is told too (the command
    line's bar)."""
    with transaction.atomic():
        job = LinkageJob.objects.select_for_update().get(pk=job_id)
        if job.state != JobState.QUEUED:
            return job  # another run has it
        job.state = JobState.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["state", "started_at"])
    started = time.perf_counter()
    by = requester_of(job)
    chosen = [_stored_source(item) for item in job.sources]
    if any(source is None for source in chosen):
        return _refuse(
            job, progress, "A dataset this job links has no data any more (it was deleted)."
        )
    sources = [s for s in chosen if s is not None]
    decisions = []
    for source in sources:
        decision = _decide(by, source.data, job.purpose)
        if decision.denied:
            return _refuse(job, progress, f"{source.name}: {decision.reason}")
        decisions.append(decision)
    agreements = _agreements(decisions)
    problem = dpia_problem(item["id"] for item in agreements)
    if problem:
        return _refuse(job, progress, problem)

    def step(done: int, message: str, *, force: bool = False) -> None:
        if progress is not None:
            advance(progress, done=done, total=100, message=message, force=force)
        if on_progress is not None:
            on_progress(done, message)

    def report(fraction: float, message: str) -> None:
        step(10 + int(fraction * 70), message)

    step(1, "Reading the datasets", force=True)
    frames: dict[str, pl.DataFrame] = {}
    inputs: dict[str, pl.DataFrame] = {}
    key = linkage_key(item["id"] for item in agreements) if job.keyed else None
    opted_out: dict[str, int] = {}
    for source, decision in zip(sources, decisions, strict=True):
        frame = read_frame(source.data.pk, by=by, decision=decision, action=Action.LINK)
        if decision.obligations.opt_out_for:
            # People who opted out never reach the engine, nor the stored result (ADR 0015).
            try:
                frame, opted_out[source.ref] = drop_opted_out(frame, decision.obligations)
            except OptOutUnavailable as exc:
                return _refuse(job, progress, f"{source.name}: {exc.reason}")
        frames[source.ref] = frame
        standard = columns.standardise(_linkable(frame, decision), source.standard)
        if key is not None:
            standard = _keyed(standard, key)
        inputs[source.ref] = standard
    model = engine.LinkModel.from_json(job.model)
    clerical = [
        engine.ClericalDecision(d.source_l, d.record_l, d.source_r, d.record_r, d.is_match)
        for d in job.decisions.all()
    ]
    result = engine.link(
        [engine.Source(name=ref, frame=frame) for ref, frame in inputs.items()],
        model,
        clerical=clerical,
        keyed=job.keyed,
        progress=report,
    )
    step(82, "Storing the linked dataset", force=True)
    linked = _linked_records(sources, decisions, frames, inputs, result.clusters, job.keyed)
    stored = _store_results(job, by, sources, linked, result)
    step(95, "Checking it may still be used", force=True)
    # Decide again before the result is published: a suspension meanwhile stops it here.
    for source in sources:
        again = _decide(by, source.data, job.purpose)
        if again.denied:
            for obj in stored.values():
                if obj is not None:
                    vault.crypto_shred(
                        by=by, obj=obj, reason=f"Linkage refused before use: {again.reason}"
                    )
            return _refuse(job, progress, f"{source.name}: {again.reason}")
    stats = dict(result.stats)
    stats["seconds"] = round(time.perf_counter() - started, 2)
    if opted_out:
        stats["opted_out"] = opted_out  # by source: counts only
    published = _publish(
        job=job, by=by, stored=stored, stats=stats, agreements=agreements, progress=progress
    )
    _report_opt_outs(by, published, sources, opted_out)
    return published


def _report_opt_outs(
    by: Actor, job: LinkageJob, sources: list[ChosenSource], opted_out: dict[str, int]
) -> None:
    """Tell each provider, in its audit log, how many people the opt-out removed from its data
    before linking (counts only; the linking organisation sees them on the job's page)."""
    for source in sources:
        if source.ref not in opted_out:
            continue
        record(
            by=by,
            action="optouts.applied",
            target=_target(job),
            purpose=job.purpose,
            subject_organisation_id=str(source.data.organisation_id),
            details={
                "where": "linkage",
                "dataset": source.name,
                "source": source.ref,
                "run": job.runs,
                "removed": opted_out[source.ref],
            },
        )


def requester_of(job: LinkageJob) -> Actor:
    """The person who made the job, acting for its organisation, as they are now."""
    membership = (
        Membership.objects.filter(user=job.created_by, organisation=job.organisation)
        .select_related("organisation")
        .first()
    )
    return actor_for(job.created_by, membership)


def _stored_source(item: dict[str, Any]) -> ChosenSource | None:
    """The current data of a job's source: a collection's latest compilation."""
    from accord.submissions.models import Collection

    kind, _, key = str(item["ref"]).partition(":")
    if kind != "collection":
        return None
    collection = Collection.objects.filter(pk=key).first()
    if collection is None:
        return None
    compilation = collection.compilations.order_by("-number").select_related("data").first()
    if compilation is None or compilation.data.deleted_at is not None:
        return None
    return ChosenSource(item["ref"], collection.name, collection.standard_slug, compilation.data)


def _linked_records(
    sources: list[ChosenSource],
    decisions: list[Decision],
    frames: dict[str, pl.DataFrame],
    inputs: dict[str, pl.DataFrame],
    clusters: pl.DataFrame,
    keyed: bool,
) -> dict[str, pl.DataFrame]:
    """Each source's records as released under its obligations, with the entity each joined,
    by which stage and with what probability. In keyed mode nothing identifying is kept but
    the keyed hashes of the strong identifiers, as ``nhs_number_hash`` and ``uprn_hash``."""
    out: dict[str, pl.DataFrame] = {}
    for source, decision in zip(sources, decisions, strict=True):
        released = as_permitted(frames[source.ref], decision, keep_columns=PROVENANCE)
        released = released.with_columns(columns.record_ids(released).alias(columns.RECORD_ID))
        if keyed:
            released = released.select(
                c for c in released.columns if c in PROVENANCE or c not in _IDENTIFYING
            ).join(
                inputs[source.ref].rename(
                    {p: f"{p}_hash" for p in KEYED_PARTS if p in inputs[source.ref].columns}
                ),
                on=columns.RECORD_ID,
                how="left",
            )
        membership = clusters.filter(pl.col("source") == source.ref).drop("source")
        out[source.ref] = membership.join(released, on=columns.RECORD_ID, how="left").with_columns(
            source=pl.lit(source.ref),
            source_name=pl.lit(source.name),
            standard=pl.lit(source.standard),
        )
    return out


# Fields that identify a person or a home: in keyed mode none of them is kept.
_IDENTIFYING = frozenset(
    {
        "nhs_number",
        "given_name",
        "family_name",
        "date_of_birth",
        "address_line_1",
        "address_line_2",
        "address_line_3",
        "address_line_4",
        "postcode",
        "uprn",
        "telephone_landline",
        "telephone_mobile",
        "email",
        "nino",
        "parent_nino",
        "partner_nino",
        "parent_family_name",
        "parent_dob",
        "home_postcode",
        "child_upn",
        "child_given_name",
        "child_family_name",
        "child_dob",
        "person_id",
    }
)


def _store_results(
    job: LinkageJob,
    by: Actor,
    sources: list[ChosenSource],
    linked: dict[str, pl.DataFrame],
    result: engine.LinkResult,
) -> dict[str, VaultObject | None]:
    """Store the linked records, the pairs to review and (for the single view) the household
    view, each as derived data of every source."""
    data = [source.data for source in sources]
    common: dict[str, Any] = {
        "by": by,
        "organisation": job.organisation,
        "kind": LINKED_KIND,
        "sources": data,
        "retention_basis": "the earliest deadline of the linked datasets",
    }
    everything = pl.concat(list(linked.values()), how="diagonal_relaxed")
    stored: dict[str, VaultObject | None] = {"linked": None, "borderline": None, "view": None}
    stored["linked"] = store_frame(
        name=f"{job.name}: linked records"[:200],
        description=f"Run {job.runs + 1} of linkage job {job.pk}, for: {job.purpose}"[:2000],
        frame=everything,
        **common,
    )
    stored["borderline"] = store_frame(
        name=f"{job.name}: pairs to review"[:200],
        description=f"Borderline pairs of run {job.runs + 1} of linkage job {job.pk}",
        frame=result.borderline,
        **common,
    )
    if job.recipe == single_view.RECIPE:
        by_standard: dict[str, list[pl.DataFrame]] = {}
        for source in sources:
            by_standard.setdefault(source.standard, []).append(linked[source.ref])
        records = {
            standard: pl.concat(frames, how="diagonal_relaxed")
            for standard, frames in by_standard.items()
        }
        view = single_view.households(records, refreshed=timezone.localdate())
        result.stats["households"] = view.height
        stored["view"] = store_frame(
            name=f"{job.name}: households"[:200],
            description="One row per household (UPRN) with flags from each source",
            frame=view,
            **common,
        )
    return stored


@audited("linkage.run_finished")
def _publish(
    *,
    job: LinkageJob,
    by: Actor,
    stored: dict[str, VaultObject | None],
    stats: dict[str, Any],
    agreements: list[dict[str, str]],
    progress: TaskProgress | None,
) -> LinkageJob:
    old = [job.linked, job.borderline, job.view]
    job.linked = stored["linked"]
    job.borderline = stored["borderline"]
    job.view = stored["view"]
    job.state = JobState.DONE
    job.message = ""
    job.runs += 1
    job.finished_at = timezone.now()
    job.stats = stats
    job.agreements = agreements
    job.save()
    for obj in old:  # the last run's results go: only the newest is ever used
        if obj is not None and obj.deleted_at is None:
            vault.crypto_shred(by=by, obj=obj, reason="Replaced by a newer run of the linkage job")
    record(
        by=by,
        action="linkage.run_finished",
        target=_target(job),
        purpose=job.purpose,
        details={
            "run": job.runs,
            "linked": str(job.linked_id),
            "stages": stats.get("stages", {}),
            "entities": stats.get("entities"),
            "agreements": agreements,
            "opted_out": stats.get("opted_out", {}),
        },
    )
    if progress is not None and not progress.is_finished:
        from accord.tasks.actions import finish

        finish(progress, message=f"Linked: {stats.get('entities', 0)} entities")
    return job


def withdraw_stale(*, by: Actor, rebuild: bool = False) -> int:
    """Destroy the results of jobs a source of which has been deleted since (derived data goes
    when a source goes); the job stays, to be run again on the sources' new data. With
    ``rebuild`` (a source was replaced by a corrected one: compiled again, or rewritten by a
    correction or an erasure), each such job is queued to run again at once, on the data as it
    is now, with the authority of the analyst who made it."""
    count = 0
    for job in LinkageJob.objects.filter(linked__isnull=False, linked__deleted_at__isnull=True):
        assert job.linked is not None
        if not resource_for(job.linked).sources_deleted:
            continue
        for obj in (job.linked, job.borderline, job.view):
            if obj is not None and obj.deleted_at is None:
                vault.crypto_shred(
                    by=by, obj=obj, reason="A dataset it was linked from has been deleted"
                )
        LinkageJob.objects.filter(pk=job.pk).update(
            message="A dataset it was linked from has been deleted, so its result was destroyed. "
            "Run it again to link the current data."
        )
        count += 1
        job.refresh_from_db()
        if rebuild and job.is_finished:
            record(
                by=by,
                action="linkage.run_queued",
                target=_target(job),
                purpose=job.purpose,
                subject_organisation_id=str(job.organisation_id),
                reason="A dataset it was linked from was replaced by corrected data",
            )
            _queue(job)
    return count
