"""A correction that arrives as a new return: when a contributor sends a return that replaces an
earlier one for the same period, the records it changes or drops may have gone out already in
extracts. Those recipients must update their copies, as after a targeted correction.

The old and the new accepted rows are compared in one anti-join (Polars): the old rows that the
new return does not hold as they were are the records it corrected or removed. Every extract
made from the collection before the new return was accepted, whose row filter let any of those
records through, is a copy that is now out of date: its file in Accord is destroyed (it holds
the old data; the recipient may ask again and get the corrected data) and its recipient is told,
with a notice tracked until it confirms, on the same page as erasures and corrections. The
``SubjectChange`` of kind "replacement" is the record of it, with the number of records and the
fields that changed, never their values.

Derived data needs nothing here: accepting the return compiles the collection again, which
remakes its outputs and has the derived-data sweep destroy the linked results made from the
compilation it replaces and link them again.
"""

from __future__ import annotations

import polars as pl
from django.db import transaction
from django.db.models import Q

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.models import Extract, ExtractState
from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.organisations.models import Organisation
from accord.submissions.models import CompiledDataset, Submission
from accord.vault.models import VaultObject
from accord.vault.parquet import read_frame
from accord.vault.queries import resource_for

from .models import ChangeKind, SubjectChange
from .notices import destroy, tell_recipient
from .recipients import passes
from .search import Recipient, rights_task

PURPOSE = "Tell recipients that data they received has been corrected"
# Columns Accord adds to a return's rows: never part of what a record says.
_OWN = ("__row__",)


def records_changed(old: pl.DataFrame, new: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """The rows of ``old`` that ``new`` does not hold exactly as they were (corrected or
    removed), and the fields seen corrected: those for which some changed row has a new
    version in ``new`` with only that field different (names only; a row changed in several
    fields at once, or removed, names none)."""
    shared = [c for c in old.columns if c in new.columns and c not in _OWN]
    if not shared:
        return old, []
    current = new.select(shared).unique()
    changed = old.join(current, on=shared, how="anti", nulls_equal=True)
    # The new return's rows that the old did not have: the corrected versions among them.
    added = current.join(old.select(shared).unique(), on=shared, how="anti", nulls_equal=True)
    fields = []
    if not changed.is_empty() and len(shared) > 1:
        for name in shared:
            others = [c for c in shared if c != name]
            if changed.join(added.select(others), on=others, how="semi", nulls_equal=True).height:
                fields.append(name)
    return changed, fields


def _read(obj: VaultObject, task: Actor) -> pl.DataFrame:
    decision = decide(actor=task, action=Action.VIEW, resource=resource_for(obj), purpose=PURPOSE)
    return read_frame(obj.pk, by=task, decision=decision, action=Action.VIEW)


def _out_of_date(
    submission: Submission, older: list[Submission], changed: pl.DataFrame
) -> list[Extract]:
    """Extracts made before ``submission`` was accepted, from its collection (any compilation of
    it) or from the returns it replaced, that let any of the ``changed`` records through their
    row filter."""
    compilations = CompiledDataset.objects.filter(collection_id=submission.collection_id)
    found = []
    for extract in (
        Extract.objects.filter(
            Q(collection_id=submission.collection_id)
            | Q(source_id__in=compilations.values("data_id"))
            | Q(source_id__in=[s.rows_object_id for s in older]),
            state=ExtractState.READY,
            built_at__lt=submission.checked_at,
            data__isnull=False,
            data__deleted_at__isnull=True,
        )
        .select_related("organisation", "data", "agreement")
        .order_by("built_at")
    ):
        if passes(changed, (extract.applied or {}).get("rows_limited_to", [])):
            found.append(extract)
    return found


def tell_recipients_of_replacement(submission_id: str) -> SubjectChange | None:
    """After ``submission`` replaced earlier returns: destroy the extracts holding records it
    corrected or removed, tell their recipients, and return the record of it (None when no
    extract holds a changed record, or nothing changed)."""
    submission = Submission.objects.select_related("collection", "organisation", "rows_object").get(
        pk=submission_id
    )
    older = [
        s
        for s in Submission.objects.filter(superseded_by=submission).select_related("rows_object")
        if s.rows_object is not None and s.rows_object.deleted_at is None
    ]
    if submission.rows_object is None or not older:
        return None
    organisation: Organisation = submission.organisation
    task = rights_task(organisation.pk, organisation.name)
    new = _read(submission.rows_object, task)
    found = [records_changed(_read(s.rows_object, task), new) for s in older]  # type: ignore[arg-type]
    changed = pl.concat([rows for rows, _ in found], how="diagonal_relaxed")
    fields = sorted({f for _, names in found for f in names})
    if changed.is_empty():
        return None
    extracts = _out_of_date(submission, older, changed)
    if not extracts:
        return None
    old_names = ", ".join(f"“{s.filename}”" for s in older)
    reason = (
        f"A new return, “{submission.filename}”, replaced {old_names} to "
        f"{submission.collection.name}: {changed.height:,} record"
        f"{'s' if changed.height != 1 else ''} corrected or removed"
    )
    with transaction.atomic():
        destroyed = [
            done
            for extract in extracts
            if (
                done := destroy(
                    extract.data,
                    f"Extract file “{extract.name}”",
                    task=task,
                    why=f"Out of date: {reason}",
                )
            )
            is not None
        ]
        change = SubjectChange.objects.create(
            kind=ChangeKind.REPLACEMENT,
            organisation=organisation,
            made_by=task.ref,
            made_by_label=task.label,
            reason=reason,
            method="A new return replacing an earlier one",
            rows=changed.height,
            fields=fields,
            rewritten=[],
            destroyed=destroyed,
        )
        for extract in extracts:
            tell_recipient(
                task,
                change,
                organisation,
                Recipient(
                    organisation=extract.organisation.name,
                    how="Extract",
                    when=extract.built_at,
                    purpose=extract.purpose,
                    agreement=extract.agreement.title if extract.agreement else "",
                    detail=f"{extract.name}: request a new extract for the corrected data",
                    organisation_id=extract.organisation_id,
                    extract_id=str(extract.pk),
                ),
            )
        record(
            by=task,
            action="rights.replacement_notified",
            target=f"subject_change:{change.pk}",
            subject_organisation_id=str(organisation.pk),
            purpose=PURPOSE,
            details={
                "submission": str(submission.pk),
                "replaced": [str(s.pk) for s in older],
                "records": changed.height,
                "fields": fields,
                "extracts": [str(e.pk) for e in extracts],
            },
        )
    return change
