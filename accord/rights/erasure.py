"""Erasure and correction of one person's data, everywhere their controller holds it in Accord.

Every record-level object the person is in (accepted rows of returns, compiled collections, the
controller's own linked datasets and kept datasets) is rewritten under a new data key, without
the person's rows (erasure) or with their fields corrected (rectification), and the old object
crypto-shredded. Files that cannot be rewritten row by row and would keep what must go are
destroyed whole: for an erasure the uploads and problem reports of the returns the person was
in, and for both the extract files whose rows included them (they hold the old data; a recipient
may ask again). Derived data follows: outputs of the collections are made again, and results
derived from the old objects anywhere (other organisations' linked datasets) are destroyed by
the derived-data sweep and linked again on the new data. Every organisation that received the
person's data is told to erase or correct them in its copy, and each notice is tracked until it
confirms. The ``SubjectChange`` record is the certificate: what was rewritten, destroyed and
notified, never who the person was or what their data said.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.models import Extract
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.linkage import columns as linkage_columns
from accord.linkage.models import LinkageJob
from accord.organisations.models import Organisation
from accord.submissions.models import CompiledDataset, Submission
from accord.vault import actions as vault
from accord.vault.parquet import read_frame, store_frame
from accord.vault.queries import resource_for
from accord.vault.retention import DERIVED_SWEEPS

from .actions import check_searcher
from .models import ChangeKind, SubjectChange
from .notices import destroy, tell_recipient
from .recipients import recipients
from .search import Holding, PersonQuery, candidates, mask_for, rights_task, scan

PURPOSES = {
    ChangeKind.ERASURE: "Erase a person's data where the law requires it",
    ChangeKind.RECTIFICATION: "Correct a person's inaccurate data",
}
# (frame, the person's rows, its standard) -> the frame as it should be, and how many rows
# changed.
Change = Callable[[pl.DataFrame, pl.Expr, str], tuple[pl.DataFrame, int]]


def _erased(frame: pl.DataFrame, mask: pl.Expr, standard: str) -> tuple[pl.DataFrame, int]:
    kept = frame.filter(~mask)
    return kept, frame.height - kept.height


def _typed(value: str, dtype: pl.DataType) -> Any:
    """``value`` (as the data standard writes it) as a value of ``dtype``; ValueError if not."""
    text = pl.Series([str(value).strip()])
    if dtype == pl.Date():
        return text.str.to_date("%Y-%m-%d", strict=True)[0]
    if isinstance(dtype, pl.Datetime):
        return text.str.to_datetime(strict=True, time_zone=dtype.time_zone)[0]
    if dtype == pl.Boolean():
        lowered = str(value).strip().lower()
        if lowered not in ("true", "false", "yes", "no"):
            raise ValueError(value)
        return lowered in ("true", "yes")
    return text.cast(dtype, strict=True)[0]


def columns_meaning(name: str, standard: str, columns: Sequence[str]) -> list[str]:
    """The columns of a dataset of ``standard`` that hold what the column ``name`` holds about
    the person: ``name`` itself, or the one field the standard gives the same part (free school
    meals keeps the parent's date of birth as ``parent_dob``)."""
    if name in columns:
        return [name]
    parts = [
        part
        for part in linkage_columns.PARTS
        if name == part
        or any(name in roles.get(part, ()) for roles in linkage_columns.ROLES.values())
    ]
    fields = [linkage_columns.fields_for(standard, part) for part in parts]
    return [f[0] for f in fields if len(f) == 1 and f[0] in columns]


def _corrected(values: Mapping[str, str]) -> Change:
    def change(frame: pl.DataFrame, mask: pl.Expr, standard: str) -> tuple[pl.DataFrame, int]:
        updates = []
        for name, value in values.items():
            for column in columns_meaning(name, standard, frame.columns):
                dtype = frame.schema[column]
                try:
                    new = _typed(value, dtype)
                except (pl.exceptions.PolarsError, ValueError) as exc:
                    raise Refused(
                        f"“{value}” is not a valid value for {name} ({dtype}): enter it as the "
                        "data standard has it."
                    ) from exc
                updates.append(
                    pl.when(mask)
                    .then(pl.lit(new, dtype=dtype))
                    .otherwise(pl.col(column))
                    .alias(column)
                )
        if not updates:  # the dataset does not hold that field: nothing to correct in it
            return frame, 0
        changed = frame.select(mask.sum()).item()
        return frame.with_columns(updates), int(changed or 0)

    return change


def _rewrite(
    holding: Holding, wanted: dict[str, Any], change: Change, *, task: Actor, why: str, purpose: str
) -> dict[str, Any] | None:
    """The object again as ``change`` makes it, under a new key; the old one shredded and every
    reference to it moved to the new one. None when there was nothing to change in it (a
    correction of a field it does not hold)."""
    old = holding.obj
    decision = decide(actor=task, action=Action.VIEW, resource=resource_for(old), purpose=purpose)
    frame = read_frame(old.pk, by=task, decision=decision, action=Action.VIEW)
    mask = mask_for(holding.standard, frame.columns, wanted)
    assert mask is not None  # it held the person, so it has the columns
    kept, rows = change(frame, mask, holding.standard)
    if rows == 0:
        return None
    new = store_frame(
        by=task,
        organisation=old.organisation,
        kind=old.kind,
        name=old.name,
        frame=kept,
        description=f"{old.description} (rewritten: {why})"[:2000],
        retention=(
            timezone.localtime(old.retention_deadline).date() if old.retention_deadline else None
        ),
        retention_basis=old.retention_rule,
        dataset=old.dataset,
    )
    Submission.objects.filter(rows_object=old).update(rows_object=new, valid_rows=kept.height)
    CompiledDataset.objects.filter(data=old).update(data=new, rows=kept.height)
    for field in ("linked", "view", "borderline"):
        LinkageJob.objects.filter(**{field: old}).update(**{field: new})
    vault.crypto_shred(by=task, obj=old, reason=why)
    return {"what": holding.what, "old": str(old.pk), "new": str(new.pk), "rows": rows}


def _apply(
    *,
    by: Actor,
    query: PersonQuery,
    reason: str,
    kind: ChangeKind,
    change: Change,
    fields: tuple[str, ...] = (),
) -> SubjectChange:
    check_searcher(by)
    reason = " ".join(str(reason).split())
    if not reason:
        raise Refused(
            "Say why the law requires this erasure (for example, Article 17(1)(d))."
            if kind == ChangeKind.ERASURE
            else "Say what was inaccurate and how you know (Article 16)."
        )
    wanted = query.normalised()
    organisation = Organisation.objects.get(pk=by.organisation_id)
    task = rights_task(organisation.pk, organisation.name)
    holdings, _ = scan(candidates(organisation.pk), wanted, by=task)
    if not holdings:
        raise Refused(
            "Nobody matching was found in your organisation's data, so nothing was changed. "
            "Check the details, or search first."
        )
    received = recipients(organisation.pk, holdings)
    purpose = PURPOSES[kind]
    label = "Erasure of one person's data" if kind == ChangeKind.ERASURE else "Correction"
    why = f"{label}: {reason}"
    with transaction.atomic():
        touched = {h.obj.pk for h in holdings}
        rewritten = [
            done
            for h in holdings
            if (done := _rewrite(h, wanted, change, task=task, why=why, purpose=purpose))
            is not None
        ]
        if not rewritten:
            raise Refused(
                f"No dataset that holds this person has the field {', '.join(fields)}, so "
                "nothing was changed. Choose one of the fields their records show."
            )
        destroyed: list[dict] = []
        if kind == ChangeKind.ERASURE:
            # The returns the person was in: their rows now point at the rewritten objects.
            held = {uuid.UUID(r["new"]) for r in rewritten} | set(touched)
            for submission in Submission.objects.filter(
                organisation=organisation, rows_object_id__in=held
            ).select_related("upload", "problems_object"):
                for obj, what in (
                    (submission.upload, f"Upload “{submission.filename}”"),
                    (submission.problems_object, f"Problems found in “{submission.filename}”"),
                ):
                    if (done := destroy(obj, what, task=task, why=why)) is not None:
                        destroyed.append(done)
        for recipient in received:
            if recipient.extract_id:
                extract = Extract.objects.select_related("data").get(pk=recipient.extract_id)
                what = f"Extract file “{extract.name}”"
                if (done := destroy(extract.data, what, task=task, why=why)) is not None:
                    destroyed.append(done)
        certificate = SubjectChange.objects.create(
            kind=kind,
            organisation=organisation,
            made_by=by.ref,
            made_by_label=by.label,
            reason=reason,
            method=query.method,
            rows=sum(r["rows"] for r in rewritten),
            fields=list(fields),
            rewritten=rewritten,
            destroyed=destroyed,
        )
        for recipient in received:
            tell_recipient(by, certificate, organisation, recipient)
        record(
            by=by,
            action=f"rights.person_{'erased' if kind == ChangeKind.ERASURE else 'corrected'}",
            target=f"subject_change:{certificate.pk}",
            purpose=purpose,
            reason=reason,
            details={
                "method": query.method,
                "rows": certificate.rows,
                "fields": list(fields),
                "rewritten": len(rewritten),
                "destroyed": len(destroyed),
                "recipients_notified": certificate.notices.count(),
            },
        )
        for compiled in CompiledDataset.objects.filter(
            data_id__in=[r["new"] for r in rewritten]
        ).select_related("collection"):
            from accord.outputs.actions import queue_outputs_of

            queue_outputs_of(compiled.collection)  # made again from the rewritten data
    # Results made from the old objects, anywhere (others' linked datasets), are made again.
    for path in DERIVED_SWEEPS:
        import_string(path)(by=task, rebuild=True)
    return certificate


@audited("rights.person_erased")
def erase_person(*, by: Actor, query: PersonQuery, reason: str) -> SubjectChange:
    """Erase the person ``query`` finds from everything ``by``'s organisation holds, notify
    every recipient, and return the certificate. ``Refused`` when nobody is found (nothing is
    changed) or no reason is given; ``NotPermitted`` for the wrong role."""
    return _apply(by=by, query=query, reason=reason, kind=ChangeKind.ERASURE, change=_erased)


@audited("rights.person_corrected")
def correct_person(
    *, by: Actor, query: PersonQuery, values: Mapping[str, str], reason: str
) -> SubjectChange:
    """Correct the person's ``values`` (field -> new value, as the data standard writes it)
    wherever ``by``'s organisation holds them, rebuild what was made from it, notify every
    recipient to correct its copy, and return the certificate."""
    values = {k: v for k, v in values.items() if str(k).strip()}
    if not values:
        raise Refused("Choose the field to correct and enter its right value.")
    return _apply(
        by=by,
        query=query,
        reason=reason,
        kind=ChangeKind.RECTIFICATION,
        change=_corrected(values),
        fields=tuple(sorted(values)),
    )
