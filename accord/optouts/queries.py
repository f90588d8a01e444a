"""Which opt-out lists there are, and removing the people on them from data about to flow.

``drop_opted_out`` is the filter every path applies (extracts and other record reads through
``access.extracts.as_permitted``, linkage before standardising, outputs before the recipe
computes): one anti-join on normalised NHS numbers, never a loop per row. It reads the lists
from the vault as Accord's ``opt_outs`` task, through the decision point like every read, and
fails closed: a list that cannot be read stops the data, it is never skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
from django.db.models import Q

from accord.access.decisions import Obligations, decide
from accord.access.enums import Action, Task
from accord.access.transform import row_filter as permitted_rows
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.linkage.normalise import normalise_nhs_number
from accord.organisations.models import Organisation
from accord.vault.parquet import read_frame
from accord.vault.queries import resource_for

from .enums import ListKind
from .models import OptOutList

APPLY_PURPOSE = "Remove people who have opted out from data about to flow"
NHS_NUMBER = "nhs_number"
_KEY = "__opt_out_key__"


class OptOutListNotFound(LookupError):
    """No such list managed by the organisation (a page answers 404)."""


class OptOutUnavailable(Refused):
    """An opt-out list that applies could not be read: the data must not flow without it."""


def lists_seen_by(organisation: Organisation | int | str) -> list[OptOutList]:
    """The lists an organisation sees on its opt-outs page: every national list (they apply to
    every agreement that applies the opt-out) and its own objection lists. Sizes and dates
    only; never contents."""
    pk = organisation.pk if isinstance(organisation, Organisation) else organisation
    return list(
        OptOutList.objects.filter(Q(kind=ListKind.NATIONAL) | Q(owner_id=pk))
        .select_related("owner")
        .order_by("kind", "name")
    )


def managed_list(organisation_id: int | str, list_id: Any) -> OptOutList:
    """The list ``list_id`` if ``organisation_id`` owns it, else ``OptOutListNotFound``."""
    found = (
        OptOutList.objects.filter(pk=list_id, owner_id=int(organisation_id))
        .select_related("owner")
        .first()
    )
    if found is None:
        raise OptOutListNotFound(str(list_id))
    return found


def lists_applying_for(controllers: Iterable[str]) -> list[OptOutList]:
    """The lists that apply when these controllers' agreements apply the opt-out: every
    national list, and each controller's own objection list."""
    owners = [c for c in controllers if str(c).isdigit()]
    return list(
        OptOutList.objects.filter(data__isnull=False)
        .filter(Q(kind=ListKind.NATIONAL) | Q(kind=ListKind.LOCAL, owner_id__in=owners))
        .select_related("data")
        .order_by("name")
    )


def opted_out_numbers(controllers: Iterable[str]) -> pl.DataFrame:
    """The NHS numbers (one column, unique) on every list that applies for ``controllers``,
    read through the decision point as the ``opt_outs`` task. Raises ``OptOutUnavailable`` if
    any cannot be read."""
    by = Actor.task(Task.OPT_OUTS.value)
    frames = []
    for opt_out_list in lists_applying_for(controllers):
        data = opt_out_list.data
        assert data is not None
        if data.deleted_at is not None:
            raise OptOutUnavailable(
                f"The opt-out list {opt_out_list.name} has no current version, so data it "
                "applies to cannot flow. Ask its owner to upload it again.",
                target=f"opt_out_list:{opt_out_list.pk}",
            )
        decision = decide(
            actor=by, action=Action.VIEW, resource=resource_for(data), purpose=APPLY_PURPOSE
        )
        if decision.denied:
            raise OptOutUnavailable(decision.reason, target=f"opt_out_list:{opt_out_list.pk}")
        frames.append(read_frame(data.pk, by=by, decision=decision, columns=[NHS_NUMBER]))
    if not frames:
        return pl.DataFrame({NHS_NUMBER: []}, schema={NHS_NUMBER: pl.String})
    return pl.concat(frames).unique()


def drop_numbers(
    frame: pl.DataFrame,
    numbers: pl.DataFrame,
    columns: Iterable[str],
    *,
    only: pl.Expr | None = None,
) -> tuple[pl.DataFrame, int]:
    """``frame`` without the rows whose NHS number (in any of ``columns``, normalised) is in
    ``numbers``; with ``only``, just rows meeting it are checked. Also how many were dropped."""
    present = [c for c in dict.fromkeys(columns) if c in frame.columns]
    if not present or numbers.height == 0 or frame.height == 0:
        return frame, 0
    listed = numbers.select(pl.col(NHS_NUMBER).alias(_KEY)).with_columns(
        pl.lit(True).alias("__listed__")
    )
    marked = frame.with_columns(pl.lit(False).alias("__hit__"))
    for column in present:
        marked = (
            marked.with_columns(normalise_nhs_number(pl.col(column)).alias(_KEY))
            .join(listed, on=_KEY, how="left", maintain_order="left")
            .with_columns(
                (pl.col("__hit__") | pl.col("__listed__").fill_null(False)).alias("__hit__")
            )
            .drop(_KEY, "__listed__")
        )
    drop = pl.col("__hit__") if only is None else (pl.col("__hit__") & only.fill_null(False))
    kept = marked.filter(~drop).drop("__hit__")
    return kept, frame.height - kept.height


def nhs_columns(obligations: Obligations) -> tuple[str, ...]:
    return (*obligations.nhs_number_fields, NHS_NUMBER)


def drop_opted_out(frame: pl.DataFrame, obligations: Obligations) -> tuple[pl.DataFrame, int]:
    """``frame`` without the people on the opt-out lists its decision's obligations apply (none
    when no agreement behind it applies the opt-out), and how many rows were removed.

    The decision's row filter is applied first, so the count is of the reader's own rows only:
    it says nothing about rows the reader may not see."""
    if not obligations.opt_out_for:
        return frame, 0
    frame = permitted_rows(frame, list(obligations.row_filter))
    if not any(c in frame.columns for c in nhs_columns(obligations)):
        return frame, 0
    numbers = opted_out_numbers(obligations.opt_out_for)
    return drop_numbers(frame, numbers, nhs_columns(obligations))


# --- outputs ------------------------------------------------------------------------------------


def contributors_applying(collection: Any) -> list[str]:
    """The contributors to ``collection`` whose agreements apply the National Data Opt-out.
    An output is statistics, never individual care, so the agreement's flag alone decides."""
    from accord.agreements.actions import document_of
    from accord.submissions.models import Contributor

    applying: list[str] = []
    for contributor in Contributor.objects.filter(
        collection=collection, agreement__isnull=False
    ).select_related("agreement"):
        assert contributor.agreement is not None
        rights = document_of(contributor.agreement).rights_handling
        if rights is not None and rights.national_data_opt_out_applied:
            applying.append(str(contributor.organisation_id))
    return sorted(set(applying))


def drop_for_output(frame: pl.DataFrame, compilation: Any) -> tuple[pl.DataFrame, int | None]:
    """The compiled ``frame`` without the people on the opt-out lists that apply to the returns
    of contributors whose agreements apply the opt-out (only their rows are checked), and how
    many rows were removed (None when no contributor's agreement applies it)."""
    from accord.standards.queries import get_standard

    collection = compilation.collection
    controllers = contributors_applying(collection)
    if not controllers:
        return frame, None
    standard = get_standard(collection.standard_slug)
    columns = [f.name for f in standard.fields if f.identifier == NHS_NUMBER] + [NHS_NUMBER]
    if not any(c in frame.columns for c in columns):
        return frame, 0
    submissions = [
        str(s.pk) for s in compilation.submissions.all() if str(s.organisation_id) in controllers
    ]
    only = (
        pl.col("submission").cast(pl.String).is_in(submissions)
        if "submission" in frame.columns
        else None
    )
    return drop_numbers(frame, opted_out_numbers(controllers), columns, only=only)
