"""The background work on submissions: checking an upload, and compiling a collection.

Both run as Accord's own tasks on the controllers' behalf (DESIGN.md): each read of the vault
takes a decision from the decision point, made for the task acting for the organisation whose
data it reads, and audited. Checking reads only the contributor's upload; compilation reads each
contributor's accepted rows and writes the compiled dataset for the collection's owner, recording
every source it was made from.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Callable

import polars as pl
from django.db import transaction
from django.utils import timezone

from accord.access.decisions import decide
from accord.access.enums import Action, ResourceKind, Task
from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.standards.schema import Standard
from accord.submissions import report as reports
from accord.submissions.engine import ValidationReport, validate_file
from accord.submissions.exceptions import UnusableFile
from accord.tasks.actions import advance, enqueue
from accord.tasks.models import TaskProgress
from accord.vault import actions as vault
from accord.vault.parquet import private_workspace, read_frame, store_frame
from accord.vault.queries import open_object, resource_for

from . import periods, transitions
from .actions import queue_compilation, standard_of
from .models import Collection, CompiledDataset, Submission

logger = logging.getLogger(__name__)

CHECK_PURPOSE = "Checking a return against its data standard for the organisation that sent it"
COMPILE_PURPOSE = "Compiling a collection's accepted returns for the organisation that runs it"
# A column missing in at least this share of accepted rows earns an automatic caveat.
CAVEAT_MISSING_SHARE = 0.05
CHECK_CRASHED = (
    "Accord could not finish checking this file: the fault is ours, not the file's. Send it "
    "again; if it happens again, contact support."
)
# Who hears a submission's outcome at the organisation that sent it.
SUBMITTER_ROLES = ("data_officer", "analyst", "organisation_admin", "information_asset_owner")


def _task(name: Task, organisation_id: int, organisation_name: str) -> Actor:
    return Actor.task(
        name.value, organisation_id=str(organisation_id), organisation_name=organisation_name
    )


def _move(submission: Submission, event: str) -> None:
    step = transitions.move(submission.state, event)
    submission.state = step.target


def _progress(progress: TaskProgress | None) -> Callable[[int, int | None], None] | None:
    """The engine's progress callback, writing to the check's progress record (throttled)."""
    if progress is None:
        return None

    def report(done: int, total: int | None) -> None:
        advance(progress, done=done, total=total)

    return report


def _summary(report: ValidationReport) -> dict[str, object]:
    """Counts by rule and column quality: nothing copied from the file's cells."""
    return {
        "rules": [
            {
                "severity": r["severity"],
                "rule": r["rule"],
                "label": reports.rule_label(r["rule"]),
                "field": r["field"],
                "column": r["column"],
                "count": r["count"],
                "first_row": r["first_row"],
            }
            for r in report.by_rule().to_dicts()
        ],
        "columns": [
            {
                "field": c.field,
                "title": c.title,
                "column": c.column,
                "completeness": c.completeness,
                "validity": c.validity,
            }
            for c in report.columns
        ],
    }


def automatic_caveats(frame: pl.DataFrame, standard: Standard, set_aside: int) -> list[str]:
    """What a reader of the data should know, worked out from the accepted rows."""
    caveats = []
    if set_aside:
        rows = "1 row with errors was" if set_aside == 1 else f"{set_aside:,} rows with errors were"
        caveats.append(f"{rows} set aside: not in this data until corrected.")
    if frame.height:
        titles = {f.name: f.title for f in standard.fields}
        missing = frame.select(
            [pl.col(f.name).null_count().alias(f.name) for f in standard.fields]
        ).row(0, named=True)
        for name, nulls in missing.items():
            share = nulls / frame.height
            if share >= CAVEAT_MISSING_SHARE and share < 1:
                caveats.append(f"{share:.0%} of rows have no {titles[name].lower()}.")
            elif share == 1 and not next(f for f in standard.fields if f.name == name).required:
                caveats.append(f"No row gives {titles[name].lower()}.")
    return caveats


def check_submission(submission_id: str, *, progress: TaskProgress | None = None) -> Submission:
    """Check an upload against the collection's standard; accept or reject it."""
    submission = Submission.objects.select_related(
        "collection", "organisation", "upload", "collection__owner"
    ).get(pk=submission_id)
    collection = submission.collection
    actor = _task(Task.VALIDATION, submission.organisation_id, submission.organisation.name)
    with transaction.atomic():
        state = Submission.objects.select_for_update().values_list("state", flat=True)
        if state.get(pk=submission.pk) != "received":
            return submission  # already taken by another run: a task run twice does no harm
        _move(submission, "start")
        submission.save(update_fields=["state"])
        record(
            by=actor,
            action="submission.validating",
            target=f"submission:{submission.pk}",
            subject_organisation_id=str(submission.organisation_id),
        )
    decision = decide(
        actor=actor,
        action=Action.VIEW,
        resource=resource_for(submission.upload),
        purpose=CHECK_PURPOSE,
    )
    if decision.denied:
        return _reject(submission, actor, f"Accord could not read the file: {decision.reason}")
    standard = standard_of(collection)
    try:
        with private_workspace() as folder:
            path = folder / ("upload" + os.path.splitext(submission.filename)[1].lower()[:8])
            reader = open_object(submission.upload_id, by=actor, decision=decision)
            with open(path, "wb") as handle:
                for chunk in reader:
                    handle.write(chunk)
            report = validate_file(
                path,
                standard,
                progress=_progress(progress),
                display_name=submission.filename,
                keep_rows=True,
            )
    except UnusableFile as unusable:
        return _reject(submission, actor, unusable.message)
    except Exception:
        # Our fault, not the sender's: say so, keep nothing half-done, and log the detail.
        logger.exception("Checking submission %s failed", submission.pk)
        return _reject(submission, actor, CHECK_CRASHED)
    return _conclude(submission, actor, standard, report)


def _reject(submission: Submission, actor: Actor, reason: str, **extra: object) -> Submission:
    with transaction.atomic():
        _move(submission, "reject")
        submission.reason = reason
        submission.checked_at = timezone.now()
        for field, value in extra.items():
            setattr(submission, field, value)
        submission.save()
        record(
            by=actor,
            action="submission.rejected",
            target=f"submission:{submission.pk}",
            outcome=Outcome.SUCCESS,
            subject_organisation_id=str(submission.organisation_id),
            details={"reason": reason, "rows": submission.rows, "errors": submission.errors},
        )
        _tell(submission, actor, f"Your return was rejected: {submission.filename}", reason)
    return submission


def _tell(submission: Submission, actor: Actor, subject: str, body: str) -> None:
    collection = submission.collection
    period = periods.label(collection.schedule, submission.period)  # type: ignore[arg-type]
    notify(
        by=actor,
        organisation=submission.organisation,
        topic=Topic.SUBMISSION,
        subject=subject,
        body=f"{collection.name}, {period}.\n\n{body}",
        link=f"/submissions/{submission.pk}/",
        roles=SUBMITTER_ROLES,
    )


def _problems_csv(report: ValidationReport) -> bytes:
    buffer = io.BytesIO()
    reports.write_csv(report, buffer)
    return buffer.getvalue()


def _conclude(
    submission: Submission, actor: Actor, standard: Standard, report: ValidationReport
) -> Submission:
    collection = submission.collection
    errors, warnings = report.errors.height, report.warnings.height
    counts = {
        "rows": report.rows,
        "valid_rows": report.valid_rows,
        "errors": errors,
        "warnings": warnings,
        "summary": _summary(report),
    }
    problems = None
    if report.problems.height:
        problems = vault.store(
            by=actor,
            organisation=submission.organisation,
            kind=ResourceKind.SUBMISSION,
            name=f"Problems found in {submission.filename}"[:200],
            description="Every problem the check found, by row and column (CSV)",
            source=[_problems_csv(report)],
            sources=[submission.upload],
        )
    counts["problems_object"] = problems
    invalid = report.rows - report.valid_rows
    if report.rows == 0:
        return _reject(submission, actor, "The file has no rows of data.", **counts)
    if errors and collection.invalid_rows == "reject":
        return _reject(
            submission,
            actor,
            f"{invalid:,} of {report.rows:,} rows have errors ({errors:,} in all). This "
            "collection accepts a return only when every row is right: correct the rows the "
            "report lists and send the file again.",
            **counts,
        )
    if report.valid_rows == 0:
        return _reject(
            submission, actor, "No row is free of errors, so nothing could be accepted.", **counts
        )
    frame = report.rows_frame
    assert frame is not None
    kept = frame.filter(pl.col("__valid__")).drop("__valid__")
    rows_object = store_frame(
        by=actor,
        organisation=submission.organisation,
        kind=ResourceKind.SUBMISSION,
        name=f"Accepted rows of {submission.filename}"[:200],
        frame=kept,
        description="The return's accepted rows, cleaned and typed to the standard",
        sources=[submission.upload],
        dataset=submission.collection.standard_slug,
    )
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission.pk)
        _move(submission, "accept")
        for field, value in counts.items():
            setattr(submission, field, value)
        submission.rows_object = rows_object
        submission.checked_at = timezone.now()
        submission.automatic_caveats = automatic_caveats(kept, standard, invalid)
        submission.save()
        replaced = list(
            Submission.objects.select_for_update()
            .filter(
                collection=collection,
                organisation=submission.organisation,
                period=submission.period,
                state="accepted",
            )
            .exclude(pk=submission.pk)
        )
        for older in replaced:
            _move(older, "supersede")
            older.superseded_by = submission
            older.save(update_fields=["state", "superseded_by"])
        record(
            by=actor,
            action="submission.accepted",
            target=f"submission:{submission.pk}",
            subject_organisation_id=str(submission.organisation_id),
            details={
                "rows": report.rows,
                "accepted_rows": kept.height,
                "set_aside": invalid,
                "warnings": warnings,
                "supersedes": [str(s.pk) for s in replaced],
            },
        )
        set_aside = f" {invalid:,} rows with errors were set aside." if invalid else ""
        _tell(
            submission,
            actor,
            f"Your return was accepted: {submission.filename}",
            f"{kept.height:,} rows accepted, with {warnings:,} warnings.{set_aside}",
        )
        queue_compilation(collection)  # queued only if this transaction commits
        if replaced:
            # Records the new return corrects may have gone out in extracts already.
            from accord.rights.tasks import KIND, tell_recipients_of_replacement_task

            enqueue(
                tell_recipients_of_replacement_task,
                kind=KIND,
                label=f"Checking extracts of {collection.name} for corrected records",
                owner=submission.organisation,
                target=f"submission:{submission.pk}",
                args=[str(submission.pk)],
            )
    return submission


def compile_collection(collection_id: str) -> CompiledDataset | None:
    """Compile the latest accepted return of every contributor for every period into one
    dataset owned by the collection's owner, with row provenance; destroy the one it replaces."""
    collection = Collection.objects.select_related("owner").get(pk=collection_id)
    accepted = list(
        Submission.objects.filter(collection=collection, state="accepted")
        .select_related("organisation", "rows_object")
        .order_by("period", "organisation__name")
    )
    frames = []
    caveats = []
    for submission in accepted:
        actor = _task(Task.COMPILATION, submission.organisation_id, submission.organisation.name)
        assert submission.rows_object is not None
        decision = decide(
            actor=actor,
            action=Action.VIEW,
            resource=resource_for(submission.rows_object),
            purpose=COMPILE_PURPOSE,
        )
        frame = read_frame(submission.rows_object.id, by=actor, decision=decision)
        frames.append(
            frame.rename({"__row__": "source_row"}).with_columns(
                pl.lit(submission.period).alias("period"),
                pl.lit(submission.organisation.name).alias("organisation"),
                pl.lit(str(submission.pk)).alias("submission"),
            )
        )
        period = periods.label(collection.schedule, submission.period)  # type: ignore[arg-type]
        for caveat in [submission.caveats, *submission.automatic_caveats]:
            if caveat:
                caveats.append(
                    {
                        "organisation": submission.organisation.name,
                        "period": period,
                        "submission": str(submission.pk),
                        "caveat": caveat,
                        "automatic": caveat != submission.caveats,
                    }
                )
    provenance = ["period", "organisation", "submission", "source_row"]
    compiled = (
        pl.concat(frames, how="diagonal_relaxed").select(*provenance, pl.exclude(*provenance))
        if frames
        else pl.DataFrame(schema={name: pl.Utf8 for name in provenance})
    )
    owner_actor = _task(Task.COMPILATION, collection.owner_id, collection.owner.name)
    data = store_frame(
        by=owner_actor,
        organisation=collection.owner,
        kind=ResourceKind.COLLECTION,
        name=f"{collection.name}, compiled"[:200],
        frame=compiled,
        description=f"Every accepted return to {collection.name}, with row provenance",
        sources=[s.rows_object for s in accepted if s.rows_object is not None],
        dataset=collection.standard_slug,
    )
    with transaction.atomic():
        previous = list(
            CompiledDataset.objects.select_for_update()
            .filter(collection=collection)
            .select_related("data")
        )
        number = max((c.number for c in previous), default=0) + 1
        compilation = CompiledDataset.objects.create(
            collection=collection, number=number, data=data, rows=compiled.height, caveats=caveats
        )
        compilation.submissions.set(accepted)
        record(
            by=owner_actor,
            action="collection.compiled",
            target=f"collection:{collection.pk}",
            subject_organisation_id=str(collection.owner_id),
            details={
                "number": number,
                "rows": compiled.height,
                "submissions": len(accepted),
                "object": str(data.id),
            },
        )
    for old in previous:
        if old.data.deleted_at is None:
            vault.crypto_shred(
                by=owner_actor,
                obj=old.data,
                reason=f"Replaced by compilation {number} of {collection.name}",
            )
    # Every output made from the collection is made again, so contributors get back what was
    # made from their latest returns; and linked results made from the compilation replaced
    # are destroyed and linked again on this one.
    from django.utils.module_loading import import_string

    from accord.outputs.actions import queue_outputs_of
    from accord.vault.retention import DERIVED_SWEEPS

    queue_outputs_of(collection)
    if previous:
        for path in DERIVED_SWEEPS:
            import_string(path)(by=owner_actor, rebuild=True)
    return compilation
