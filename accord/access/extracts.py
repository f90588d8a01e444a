"""Extracts: record-level data released to a recipient, for a purpose an agreement names, with
the decision's obligations applied (fields dropped, identifiers pseudonymised, values
generalised, only the recipient's rows).

The decision point is asked three times, so a change to an agreement stops an extract wherever
it is:

1. when the extract is requested (``request_extract``): a refusal is shown at once;
2. when the background task starts building it (``build_extract``), and again when it has built
   it, before it is made available: if the agreement was suspended meanwhile, the built file is
   crypto-shredded and the extract refused;
3. at every download (``open_extract``): the extract must still be permitted, under the same
   agreement, to the organisation that asked for it.

A built extract is kept in the vault as the provider's data (it is the provider's data, made
smaller), derived from its source, so it takes the earliest retention deadline of its own and
its source's. The first download records the copy now held outside Accord
(``vault.copies.record_release``), whose deletion the recipient must later attest; for a release,
it is also the recipient's receipt.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.actors import actor_for
from accord.organisations.models import Membership, Organisation, User
from accord.tasks.actions import advance, enqueue
from accord.tasks.models import TaskProgress
from accord.vault import actions as vault
from accord.vault.copies import record_release
from accord.vault.models import VaultObject
from accord.vault.parquet import private_workspace, read_frame
from accord.vault.queries import VaultReader, open_object, resource_for

from .decisions import Decision, decide
from .enums import Action
from .exceptions import AccessDenied
from .models import Extract, ExtractFormat, ExtractState, Grant, Release, ReleaseRecipient
from .transform import apply_obligations, pseudonymisation_key, write_extract

# Provenance columns of a compiled collection that travel with its rows: which period and which
# contributor each row came from. (Submission ids and source rows are Accord's own.)
PROVENANCE_KEPT = ("period", "organisation")
# ... and those that stay behind, as Accord's own bookkeeping rather than data withheld.
ACCORD_COLUMNS = ("submission", "source_row")

BUILD_FAILED = (
    "Building the extract stopped unexpectedly. Nothing was released; request it again, and if "
    "this happens again, contact support."
)


def _target(extract: Extract) -> str:
    return f"extract:{extract.pk}"


def _decide(by: Actor, source: VaultObject, purpose: str) -> Decision:
    return decide(actor=by, action=Action.EXTRACT, resource=resource_for(source), purpose=purpose)


def request_extract(
    *,
    by: Actor,
    source: VaultObject,
    purpose: str,
    fmt: str,
    collection: Any = None,
    release: Release | None = None,
) -> Extract:
    """Ask for an extract of ``source`` (a compiled collection or a release) for ``purpose``.

    Raises ``AccessDenied`` with the decision point's reasons when it is not permitted (the
    deny is in the audit chain), ``Refused`` for an unknown format; otherwise the extract is
    queued for building and returned."""
    if fmt not in ExtractFormat.values:
        raise Refused(
            f"Choose a format: {', '.join(ExtractFormat.values)}.", target=f"vault:{source.pk}"
        )
    # Decided outside the action's transaction, so a deny stays recorded (decide's docstring).
    decision = _decide(by, source, purpose)
    if decision.denied:
        raise AccessDenied(decision.reason, decision=decision, reasons=decision.reasons)
    return _queue_extract(
        by=by,
        source=source,
        decision=decision,
        fmt=fmt,
        collection=collection,
        release=release,
    )


@audited("extract.requested")
def _queue_extract(
    *,
    by: Actor,
    source: VaultObject,
    decision: Decision,
    fmt: str,
    collection: Any,
    release: Release | None,
) -> Extract:
    user = User.objects.get(pk=by.user_id or 0)
    name = release.label if release is not None else source.name
    extract = Extract.objects.create(
        organisation_id=int(by.organisation_id),
        requested_by=user,
        requested_by_label=by.label,
        provider_id=source.organisation_id,
        source=source,
        collection=collection,
        release=release,
        name=f"Extract of {name}"[:200],
        purpose=decision.purpose,
        format=fmt,
        agreement_id=_agreement_id(decision),
    )
    record(
        by=by,
        action="extract.requested",
        target=_target(extract),
        purpose=decision.purpose,
        subject_organisation_id=str(source.organisation_id),
        details={
            "source": str(source.pk),
            "format": fmt,
            "decision_id": str(decision.decision_id),
            "agreement": _agreement_details(decision),
        },
    )
    from .tasks import build_extract_task

    progress = enqueue(
        build_extract_task,
        kind="extract_build",
        label=f"Building {extract.name}"[:200],
        owner=extract.organisation,
        target=_target(extract),
        args=[str(extract.pk)],
    )
    Extract.objects.filter(pk=extract.pk).update(progress=progress)
    extract.progress = progress
    return extract


def _agreement_id(decision: Decision) -> uuid.UUID | None:
    for agreement_id, _ in decision.agreements:
        try:
            return uuid.UUID(agreement_id)
        except ValueError:
            continue
    return None


def _agreement_details(decision: Decision) -> list[dict[str, str]]:
    return [{"id": i, "title": t} for i, t in decision.agreements]


def requester(extract: Extract) -> Actor:
    """The person who asked for ``extract``, acting for its organisation, as they are now."""
    membership = (
        Membership.objects.filter(user=extract.requested_by, organisation=extract.organisation)
        .select_related("organisation")
        .first()
    )
    return actor_for(extract.requested_by, membership)


def as_permitted(
    frame: pl.DataFrame, decision: Decision, *, keep_columns: Iterable[str] = ()
) -> pl.DataFrame:
    """``frame`` with the decision's obligations applied: people who have opted out removed
    (when an agreement behind the decision applies the National Data Opt-out), only its rows
    and fields, identifiers pseudonymised under the agreement's key, values generalised.
    ``keep_columns`` are provenance columns that go with the rows."""
    return as_permitted_counted(frame, decision, keep_columns=keep_columns)[0]


def as_permitted_counted(
    frame: pl.DataFrame, decision: Decision, *, keep_columns: Iterable[str] = ()
) -> tuple[pl.DataFrame, int]:
    """``as_permitted``, and how many rows the opt-out removed (counts only: ADR 0015). The
    opt-out is applied first, on the NHS numbers as they are, before anything is
    pseudonymised or dropped."""
    from accord.optouts.queries import drop_opted_out

    frame, opted_out = drop_opted_out(frame, decision.obligations)
    return _obliged(frame, decision, keep_columns=keep_columns), opted_out


def _obliged(
    frame: pl.DataFrame, decision: Decision, *, keep_columns: Iterable[str] = ()
) -> pl.DataFrame:
    obligations = decision.obligations
    key = (
        pseudonymisation_key(obligations.pseudonym_agreement)
        if obligations.pseudonymise_fields
        else None
    )
    return apply_obligations(
        frame,
        obligations,
        key=key,
        identifier_types=dict(obligations.identifier_types),
        today=timezone.localdate(),
        keep_columns=keep_columns,
    )


def _refuse(extract: Extract, progress: TaskProgress | None, reason: str) -> None:
    from accord.tasks.actions import fail

    Extract.objects.filter(pk=extract.pk).update(state=ExtractState.REFUSED, message=reason)
    if progress is not None and not progress.is_finished:
        fail(progress, message=f"Refused: {reason}")


def build_extract(extract_id: str, *, progress: TaskProgress | None = None) -> Extract:
    """Build a queued extract: decide again, read the source, apply the obligations, write the
    file, store it in the vault, decide once more, and make it available."""
    with transaction.atomic():
        extract = Extract.objects.select_for_update().get(pk=extract_id)
        if extract.state != ExtractState.QUEUED:
            return extract  # another run has it
        extract.state = ExtractState.BUILDING
        extract.save(update_fields=["state"])
    by = requester(extract)
    decision = _decide(by, extract.source, extract.purpose)
    if decision.denied:
        _refuse(extract, progress, decision.reason)
        return Extract.objects.get(pk=extract.pk)
    if progress is not None:
        advance(progress, done=1, total=5, message="Reading the data", force=True)
    frame = read_frame(extract.source_id, by=by, decision=decision, action=Action.EXTRACT)
    if progress is not None:
        advance(progress, done=2, message="Applying the agreement's conditions", force=True)
    from accord.optouts.queries import OptOutUnavailable

    try:
        shaped, opted_out = as_permitted_counted(frame, decision, keep_columns=PROVENANCE_KEPT)
    except OptOutUnavailable as exc:
        _refuse(extract, progress, exc.reason)
        return Extract.objects.get(pk=extract.pk)
    caveats = _caveats(extract)
    metadata = _metadata(extract, decision, shaped.height, caveats)
    if progress is not None:
        advance(progress, done=3, message="Writing the file", force=True)
    retention, retention_basis = _retention(extract, decision)
    with private_workspace() as folder:
        written = write_extract(
            shaped, folder / f"extract.{extract.format}", fmt=extract.format, metadata=metadata
        )
        with written.open("rb") as handle:
            stored = vault.store(
                by=by,
                organisation=extract.provider,
                kind="extract",
                name=extract.name,
                source=handle,
                description=f"For {extract.organisation.name}: {extract.purpose}"[:2000],
                retention=retention,
                retention_basis=retention_basis,
                sources=[extract.source],
                dataset=extract.source.dataset,
            )
    if progress is not None:
        advance(progress, done=4, message="Checking it may still be released", force=True)
    # Decide again before delivering: a suspension while it was built stops it here.
    delivery = _decide(by, extract.source, extract.purpose)
    if delivery.denied:
        vault.crypto_shred(
            by=by, obj=stored, reason=f"Extract refused before delivery: {delivery.reason}"
        )
        _refuse(extract, progress, delivery.reason)
        return Extract.objects.get(pk=extract.pk)
    return _deliver(
        by=by,
        extract=extract,
        stored=stored,
        rows=shaped.height,
        fields=shaped.columns,
        # What the source had that did not leave (Accord's own bookkeeping columns aside).
        withheld=sorted(set(frame.columns) - set(shaped.columns) - set(ACCORD_COLUMNS)),
        decision=delivery,
        caveats=caveats,
        opted_out=opted_out,
    )


@audited("extract.built")
def _deliver(
    *,
    by: Actor,
    extract: Extract,
    stored: VaultObject,
    rows: int,
    fields: list[str],
    withheld: list[str],
    decision: Decision,
    caveats: str,
    opted_out: int = 0,
) -> Extract:
    obligations = decision.obligations
    applied: dict[str, Any] = {
        "pseudonymised": [f for f in obligations.pseudonymise_fields if f in fields],
        "generalised": [[f, level] for f, level in obligations.generalise_fields if f in fields],
        "rows_limited_to": [[c, list(v)] for c, v in obligations.row_filter],
        "fields_withheld": withheld,
    }
    if obligations.opt_out_for:
        # How many people the National Data Opt-out removed: a count, never who.
        applied["opted_out"] = opted_out
    Extract.objects.filter(pk=extract.pk).update(
        state=ExtractState.READY,
        data=stored,
        rows=rows,
        fields=fields,
        applied=applied,
        caveats=caveats,
        built_at=timezone.now(),
        message="",
    )
    extract.refresh_from_db()
    record(
        by=by,
        action="extract.built",
        target=_target(extract),
        purpose=extract.purpose,
        subject_organisation_id=str(extract.provider_id),
        details={
            "extract_id": str(extract.pk),
            "object_id": str(stored.pk),
            "rows": rows,
            "fields": fields,
            "format": extract.format,
            "applied": applied,
            "agreement": _agreement_details(decision),
        },
    )
    notify(
        by=by,
        organisation=extract.organisation,
        topic=Topic.EXTRACT_READY,
        subject=f"Ready to download: {extract.name}"[:200],
        body=(
            f"The extract you asked for ({rows} rows, for “{extract.purpose}”) is ready. "
            "Download it from Accord; once downloaded, delete it by its deadline and say so."
        ),
        link=reverse("web:extract", args=[extract.pk]),
        roles=(),
    )
    return extract


def _caveats(extract: Extract) -> str:
    """What the recipient must know about the data: the release's caveats, or those of the
    compiled collection's returns."""
    if extract.release is not None:
        return extract.release.caveats
    collection = extract.collection
    if collection is None:
        return ""
    compilation = collection.compilations.filter(data=extract.source).first()
    if compilation is None:
        return ""
    return "\n".join(
        f"{c.get('organisation', '')}: {c.get('caveat', '')}".strip(": ")
        for c in compilation.caveats or []
    )


def _metadata(extract: Extract, decision: Decision, rows: int, caveats: str) -> dict[str, str]:
    agreements = "; ".join(f"{t} ({i})" for i, t in decision.agreements) or "none"
    return {
        "extract_id": str(extract.pk),
        "title": extract.name,
        "provider": extract.provider.name,
        "recipient": extract.organisation.name,
        "requested_by": extract.requested_by_label,
        "purpose": extract.purpose,
        "agreement": agreements,
        "rows": str(rows),
        "created": timezone.now().isoformat(timespec="seconds"),
        "caveats": caveats or "None recorded.",
        "conditions": (
            "Use only for the purpose above, under the agreement named. Do not try to "
            "re-identify anyone. Delete every copy by the deadline Accord gives and say so."
        ),
    }


def _retention(extract: Extract, decision: Decision) -> tuple[str | None, str]:
    """How long the built extract is kept: the period the agreement sets for the recipient's
    copy (and where it comes from), else the vault's default."""
    agreement = _agreement_id(decision)
    grant = (
        Grant.objects.filter(agreement_id=agreement, recipient=extract.organisation)
        .exclude(retention="")
        .select_related("agreement")
        .first()
        if agreement is not None
        else None
    )
    if grant is None or grant.agreement is None:
        return None, ""
    return grant.retention, f"the agreement “{grant.agreement.title}”, for the recipient"


# Downloading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    extract: Extract
    reader: VaultReader
    filename: str
    content_type: str


CONTENT_TYPES = {
    ExtractFormat.CSV: "application/zip",
    ExtractFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExtractFormat.PARQUET: "application/vnd.apache.parquet",
}


def open_extract(extract: Extract, *, by: Actor) -> Download:
    """Open a ready extract for its recipient, deciding again; the first download records the
    copy released (and, for a release, the recipient's receipt). Raises ``NotPermitted``
    (``AccessDenied`` for the decision point's refusals) saying why not."""
    target = _target(extract)
    if str(extract.organisation_id) != by.organisation_id:
        raise NotPermitted(
            f"This extract was made for {extract.organisation.name}; only it can download it.",
            target=target,
        )
    if extract.state != ExtractState.READY or extract.data is None:
        raise NotPermitted(
            f"This extract is not ready to download: {extract.get_state_display().lower()}.",
            target=target,
        )
    decision = decide(
        actor=by,
        action=Action.EXTRACT,
        resource=resource_for(extract.data),
        purpose=extract.purpose,
    )
    if decision.denied:
        raise AccessDenied(decision.reason, decision=decision, reasons=decision.reasons)
    if extract.agreement_id is not None and str(extract.agreement_id) not in {
        i for i, _ in decision.agreements
    }:
        raise NotPermitted(
            "The agreement this extract was made under is no longer in force; request a new "
            "extract.",
            target=target,
        )
    reader = open_object(extract.data.pk, by=by, decision=decision, action=Action.EXTRACT)
    _downloaded(by=by, extract=extract, decision=decision)
    extract.refresh_from_db()
    return Download(
        extract=extract,
        reader=reader,
        filename=extract.filename,
        content_type=CONTENT_TYPES[ExtractFormat(extract.format)],
    )


@audited("extract.downloaded")
def _downloaded(*, by: Actor, extract: Extract, decision: Decision) -> None:
    now = timezone.now()
    first = Extract.objects.filter(pk=extract.pk, first_downloaded_at__isnull=True).update(
        first_downloaded_at=now
    )
    Extract.objects.filter(pk=extract.pk).update(downloads=F("downloads") + 1)
    if first:
        assert extract.data is not None
        record_release(by=by, obj=extract.data, recipient=extract.organisation)
        if extract.release_id is not None:
            ReleaseRecipient.objects.filter(
                release_id=extract.release_id,
                organisation=extract.organisation,
                received_at__isnull=True,
            ).update(received_at=now, received_by_label=by.label)
    record(
        by=by,
        action="extract.downloaded",
        target=_target(extract),
        purpose=extract.purpose,
        subject_organisation_id=str(extract.provider_id),
        details={
            "extract_id": str(extract.pk),
            "first": bool(first),
            "rows": extract.rows,
            "fields": extract.fields,
            "format": extract.format,
            "agreement": (
                {"id": decision.agreements[0][0], "title": decision.agreements[0][1]}
                if decision.agreements
                else None
            ),
            "release": str(extract.release_id) if extract.release_id else None,
            # People the National Data Opt-out removed (a count; absent when it did not apply).
            "opted_out": (extract.applied or {}).get("opted_out"),
        },
    )


# Reading ---------------------------------------------------------------------------------------


def extracts_of(organisation: Organisation | int | str) -> Iterable[Extract]:
    organisation_id = organisation.pk if isinstance(organisation, Organisation) else organisation
    return Extract.objects.filter(organisation_id=organisation_id).select_related(
        "provider", "agreement", "progress", "release", "collection", "data"
    )


def extract_for(organisation_id: int | str, extract_id: uuid.UUID | str) -> Extract:
    """One of the organisation's extracts; ``Extract.DoesNotExist`` for anyone else's."""
    try:
        key = uuid.UUID(str(extract_id))
    except ValueError as exc:
        raise Extract.DoesNotExist(str(extract_id)) from exc
    return Extract.objects.select_related(
        "provider", "agreement", "progress", "release", "collection", "data", "organisation"
    ).get(pk=key, organisation_id=organisation_id)


def delete_by(extract: Extract) -> datetime | None:
    return extract.data.retention_deadline if extract.data is not None else None


@dataclass(frozen=True)
class Source:
    """What an extract can be made of: a collection's newest compilation, or a release."""

    ref: str  # "collection:<id>" or "release:<id>"
    name: str
    data: VaultObject
    provider: Organisation
    collection: Any = None
    release: Release | None = None


class SourceNotFound(LookupError):
    """No such source, or one the organisation has no grant or release for (alike)."""


def source_for(organisation_id: int | str, ref: str) -> Source:
    """The source ``ref`` names, if the organisation could be granted it: it controls it, it
    has a grant on its dataset from the provider, or (for a release) it is a recipient.
    ``SourceNotFound`` otherwise, the same for data that does not exist, so the answer says
    nothing about others' data. Whether it may actually be read is the decision point's."""
    from accord.submissions.models import Collection

    kind, _, key = str(ref).partition(":")
    try:
        pk = uuid.UUID(key)
    except ValueError as exc:
        raise SourceNotFound(ref) from exc
    if kind == "release":
        from .releases import release_for

        try:
            release = release_for(organisation_id, pk)
        except Release.DoesNotExist as exc:
            raise SourceNotFound(ref) from exc
        if release.data is None:
            raise SourceNotFound(ref)
        return Source(ref, release.label, release.data, release.provider, release=release)
    if kind != "collection":
        raise SourceNotFound(ref)
    collection = Collection.objects.select_related("owner").filter(pk=pk).first()
    if collection is None:
        raise SourceNotFound(ref)
    own = str(collection.owner_id) == str(organisation_id)
    granted = Grant.objects.filter(
        recipient_id=int(organisation_id),
        provider_id=collection.owner_id,
        dataset=collection.standard_slug,
    ).exists()
    compilation = collection.compilations.order_by("-number").select_related("data").first()
    if not (own or granted) or compilation is None:
        raise SourceNotFound(ref)
    return Source(ref, collection.name, compilation.data, collection.owner, collection=collection)


@dataclass(frozen=True)
class Shared:
    """One grant to an organisation as a page shows it, and what it can take under it."""

    grant: Grant
    sources: list[Source]


def shared_with(organisation: Organisation) -> list[Shared]:
    """What active agreements share with ``organisation``: each grant, and the compiled
    collections and releases of its dataset it can ask an extract of."""
    from accord.submissions.models import Collection

    from .releases import releases_to

    grants = (
        Grant.objects.filter(recipient=organisation, agreement__status="active")
        .select_related("agreement", "provider")
        .order_by("provider__name", "dataset_name")
    )
    received = list(releases_to(organisation))
    shared = []
    for grant in grants:
        sources = []
        for collection in Collection.objects.filter(
            owner=grant.provider, standard_slug=grant.dataset
        ):
            compilation = collection.compilations.order_by("-number").first()
            if compilation is not None:
                sources.append(
                    Source(
                        f"collection:{collection.pk}",
                        collection.name,
                        compilation.data,
                        grant.provider,
                        collection=collection,
                    )
                )
        for item in received:
            release = item.release
            same = (release.agreement_id, release.dataset_id) == (
                grant.agreement_id,
                grant.dataset_id,
            )
            if same and release.data is not None:
                sources.append(
                    Source(
                        f"release:{release.pk}",
                        release.label,
                        release.data,
                        release.provider,
                        release=release,
                    )
                )
        shared.append(Shared(grant=grant, sources=sources))
    return shared
