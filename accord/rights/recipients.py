"""Who received a person's data: extracts whose rows included them, and linkage jobs of other
organisations over a collection they are in. Worked out from the person's rows in the provider's
own data and each release's recorded conditions (its row filter), never by reading another
organisation's data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl
from django.urls import reverse

from accord.access.models import Extract, ExtractState, Grant
from accord.access.transform import row_filter
from accord.linkage.models import LinkageJob
from accord.submissions.models import CompiledDataset

from .search import Holding, Recipient


def passes(rows: pl.DataFrame, limits: Iterable[Sequence[Any]]) -> bool:
    """Whether any of ``rows`` passes a release's row filter (its (column, values) limits)."""
    return row_filter(rows, [(column, values) for column, values in limits]).height > 0


def _collections(holdings: Sequence[Holding]) -> dict[str, tuple[Any, pl.DataFrame]]:
    """collection id -> (collection, the person's rows in its current compilation)."""
    by_data = {str(h.obj.pk): h for h in holdings}
    found: dict[str, tuple[Any, pl.DataFrame]] = {}
    for compiled in CompiledDataset.objects.filter(data_id__in=list(by_data)).select_related(
        "collection"
    ):
        holding = by_data[str(compiled.data_id)]
        found[str(compiled.collection_id)] = (compiled.collection, holding.rows)
    return found


def recipients(organisation_id: int, holdings: Sequence[Holding]) -> list[Recipient]:
    collections = _collections(holdings)
    by_data = {str(h.obj.pk): h for h in holdings}
    found: list[Recipient] = []
    extracts = (
        Extract.objects.filter(provider_id=organisation_id, state=ExtractState.READY)
        .select_related("organisation", "agreement", "collection", "release")
        .order_by("created_at")
    )
    # Every compilation of those collections, the replaced ones too: an extract made from one
    # replaced since is stood for by the current compilation.
    collection_of = {
        str(data_id): str(collection_id)
        for data_id, collection_id in CompiledDataset.objects.filter(
            collection_id__in=list(collections)
        ).values_list("data_id", "collection_id")
    }
    for extract in extracts:
        rows = None
        collection_id = str(extract.collection_id or collection_of.get(str(extract.source_id), ""))
        if str(extract.source_id) in by_data:
            rows = by_data[str(extract.source_id)].rows
        elif collection_id in collections:
            rows = collections[collection_id][1]
        if rows is None or not passes(rows, (extract.applied or {}).get("rows_limited_to", [])):
            continue
        fields = ", ".join(extract.fields or []) or "none recorded"
        downloaded = (
            f"downloaded {extract.downloads} time{'s' if extract.downloads != 1 else ''}, first "
            f"on {extract.first_downloaded_at:%-d %B %Y}"
            if extract.first_downloaded_at
            else "not downloaded"
        )
        pseudonymised = (extract.applied or {}).get("pseudonymised") or []
        found.append(
            Recipient(
                organisation=extract.organisation.name,
                how="Extract",
                when=extract.built_at or extract.created_at,
                purpose=extract.purpose,
                agreement=extract.agreement.title if extract.agreement else "",
                detail=f"{extract.name}: fields {fields}"
                + (f" (pseudonymised: {', '.join(pseudonymised)})" if pseudonymised else "")
                + f"; {downloaded}",
                link=reverse("web:extract", args=[extract.pk]),
                organisation_id=extract.organisation_id,
                extract_id=str(extract.pk),
            )
        )
    refs = {f"collection:{key}": value for key, value in collections.items()}
    for job in (
        LinkageJob.objects.exclude(organisation_id=organisation_id)
        .select_related("organisation")
        .order_by("created_at")
    ):
        for source in job.sources:
            if source.get("ref") not in refs or not job.runs:
                continue
            collection, rows = refs[source["ref"]]
            grants = Grant.objects.filter(
                provider_id=organisation_id,
                recipient_id=job.organisation_id,
                dataset=collection.standard_slug,
            )
            filters = [
                [(g.row_filter["column"], g.row_filter["values"])] if g.row_filter else []
                for g in grants
            ]
            if not any(passes(rows, limits) for limits in filters):
                continue
            titles = "; ".join(a.get("title", "") for a in job.agreements)
            found.append(
                Recipient(
                    organisation=job.organisation.name,
                    how="Linkage",
                    when=job.finished_at,
                    purpose=job.purpose,
                    agreement=titles,
                    detail=f"Linked {collection.name} in “{job.name}” ({job.runs} run"
                    f"{'s' if job.runs != 1 else ''})",
                    organisation_id=job.organisation_id,
                )
            )
    return found
