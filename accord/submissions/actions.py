"""Writes to collections and submissions, each with its audit event in the same transaction.

Receiving an upload stores it encrypted in the vault and queues its check; the check
(``processing.check_submission``) and compilation (``processing.compile_collection``) run as
background tasks. Personal data enters a collection only under an agreement flow: each
contributor is covered by a flow of an active agreement from it to the collection's owner for
the collection's standard, or — for non-personal data only — by both belonging to the
collection's framework (its memorandum-of-understanding track).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import IO

from django.db import transaction
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.access.grants import write_framework_grant
from accord.agreements.models import Agreement, Framework
from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.standards.schema import Standard
from accord.tasks.actions import enqueue
from accord.tasks.enums import ProgressState
from accord.tasks.models import TaskProgress
from accord.vault import actions as vault

from . import periods, queries
from .models import Collection, Contributor, Submission

# Who may set up and run a collection for its owner.
RUNNING_ROLES: frozenset[Role] = frozenset(
    {Role.ORGANISATION_ADMIN, Role.DATA_OFFICER, Role.ANALYST, Role.DPO}
)
# Who may send returns for a contributor.
SUBMITTING_ROLES: frozenset[Role] = frozenset(
    {Role.ORGANISATION_ADMIN, Role.DATA_OFFICER, Role.ANALYST, Role.INFORMATION_ASSET_OWNER}
)
MAX_CAVEATS = 2000
COMPILE_KIND = "collection_compile"


def _target(thing: Collection | Submission) -> str:
    kind = "collection" if isinstance(thing, Collection) else "submission"
    return f"{kind}:{thing.pk}"


def _require_roles(by: Actor, roles: Iterable[Role], doing: str, target: str = "") -> None:
    allowed = {str(r) for r in roles}
    if not set(by.roles) & allowed:
        names = ", ".join(Role(r).label for r in Role.values if r in allowed)
        raise NotPermitted(
            f"Only someone with one of these roles can {doing}: {names}.", target=target
        )


def _require_owner(by: Actor, collection: Collection, doing: str) -> None:
    if by.kind is ActorKind.SYSTEM:  # set-up commands, such as loading the demo
        return
    if by.organisation_id != str(collection.owner_id):
        raise NotPermitted(
            f"Only {collection.owner.name}, which runs this collection, can {doing}.",
            target=_target(collection),
        )
    _require_roles(by, RUNNING_ROLES, doing, _target(collection))


@audited("collection.created")
def create_collection(
    *,
    by: Actor,
    slug: str,
    name: str,
    standard: Standard,
    schedule: periods.Schedule,
    starts_on: dt.date,
    deadline_days: int = 0,
    deadline_time: dt.time = dt.time(12, 0),
    invalid_rows: str = "reject",
    framework: Framework | None = None,
    description: str = "",
    owner: Organisation | None = None,
) -> Collection:
    """Start collecting returns to ``standard`` for the organisation ``by`` acts for (or, for
    a set-up command, for ``owner``)."""
    if by.kind is ActorKind.SYSTEM:
        if owner is None:
            raise Refused("Say which organisation runs the collection.")
    else:
        _require_roles(by, RUNNING_ROLES, "set up a collection")
        owner = Organisation.objects.get(pk=by.organisation_id)
    if schedule not in periods.SCHEDULES:
        raise Refused("Choose how often returns are due: daily, weekly, monthly or annual.")
    if invalid_rows not in ("reject", "set_aside"):
        raise Refused("Say whether invalid rows reject the file or are set aside.")
    if Collection.objects.filter(slug=slug).exists():
        raise Refused(f"There is already a collection called {slug}; choose another short name.")
    collection = Collection.objects.create(
        slug=slug,
        name=name,
        description=description,
        owner=owner,
        standard_slug=standard.slug,
        standard_version=standard.version,
        schedule=schedule,
        starts_on=periods.start_of(schedule, starts_on),
        deadline_days=deadline_days,
        deadline_time=deadline_time,
        invalid_rows=invalid_rows,
        framework=framework,
        created_by=by.label,
    )
    record(
        by=by,
        action="collection.created",
        target=_target(collection),
        details={
            "name": name,
            "standard": collection.standard_ref,
            "schedule": schedule,
            "invalid_rows": invalid_rows,
        },
    )
    return collection


def standard_of(collection: Collection) -> Standard:
    return get_standard(collection.standard_slug, collection.standard_version)


def _covered(
    collection: Collection, organisation: Organisation, agreement: Agreement | None
) -> tuple[Agreement | None, str]:
    """The agreement and flow that let ``organisation`` send to ``collection``, or Refused."""
    standard = standard_of(collection)
    if organisation.pk == collection.owner_id and agreement is None:
        # Its own data, into its own collection: a controller needs no agreement with itself.
        return None, ""
    found = queries.covering_flow(collection, organisation, agreement)
    if found is not None:
        return found
    if standard.personal_data:
        raise Refused(
            f"{standard.title} is personal data, so {organisation.name} can send it to "
            f"{collection.owner.name} only under an active agreement with a flow from "
            f"{organisation.name} to {collection.owner.name} for this standard. There is none: "
            "agree one first (Data requests or Agreements).",
            target=_target(collection),
        )
    if collection.framework is not None and queries.both_members(
        collection.framework, organisation, collection.owner
    ):
        return None, ""
    raise Refused(
        f"{organisation.name} has no agreement to send {standard.title} to "
        f"{collection.owner.name}. For non-personal data, membership of the collection's "
        "framework is enough; otherwise agree a memorandum of understanding first.",
        target=_target(collection),
    )


@audited("collection.contributor_added")
def add_contributor(
    *,
    by: Actor,
    collection: Collection,
    organisation: Organisation,
    agreement: Agreement | None = None,
) -> Contributor:
    """Expect returns from ``organisation``, covered by ``agreement`` (or, if not given, the
    active agreement flow that covers it, or the framework for non-personal data)."""
    _require_owner(by, collection, "add contributors")
    covering, flow_id = _covered(collection, organisation, agreement)
    contributor, created = Contributor.objects.get_or_create(
        collection=collection,
        organisation=organisation,
        defaults={"agreement": covering, "flow_id": flow_id},
    )
    if not created:
        if contributor.is_active:
            raise Refused(
                f"{organisation.name} already contributes to {collection.name}.",
                target=_target(collection),
            )
        contributor.is_active = True
        contributor.agreement, contributor.flow_id = covering, flow_id
        contributor.save(update_fields=["is_active", "agreement", "flow_id"])
    own = organisation.pk == collection.owner_id
    if covering is None and collection.framework is not None and not own:
        write_framework_grant(
            framework=collection.framework,
            provider=organisation,
            recipient=collection.owner,
            standard=standard_of(collection),
            purpose=f"Running the collection “{collection.name}”",
        )
    record(
        by=by,
        action="collection.contributor_added",
        target=_target(collection),
        subject_organisation_id=str(organisation.pk),
        details={
            "organisation": organisation.name,
            "agreement": str(covering.pk) if covering else None,
            "flow": flow_id or None,
            "basis": (
                "agreement flow"
                if covering
                else "its own data"
                if own
                else "framework (non-personal data)"
            ),
        },
    )
    return contributor


@audited("submission.received")
def receive(
    *,
    by: Actor,
    collection: Collection,
    period: dt.date,
    filename: str,
    source: IO[bytes] | Iterable[bytes] | bytes,
    caveats: str = "",
    via: str = "web",
    today: dt.date | None = None,
) -> Submission:
    """Take one upload for ``collection``, the organisation ``by`` acts for and ``period``:
    store it encrypted and queue its check. Nothing accepted before is touched."""
    today = today or timezone.localdate()
    _require_roles(by, SUBMITTING_ROLES, "send returns", _target(collection))
    contributor = (
        Contributor.objects.select_related("organisation")
        .filter(collection=collection, organisation_id=by.organisation_id, is_active=True)
        .first()
    )
    if contributor is None:
        raise NotPermitted(
            f"{by.organisation_name} is not expected to send returns to {collection.name}.",
            target=_target(collection),
        )
    schedule = collection.schedule
    period = periods.start_of(schedule, period)  # type: ignore[arg-type]
    if period < collection.starts_on:
        raise Refused(
            f"{collection.name} starts with {periods.label(schedule, collection.starts_on)}; "  # type: ignore[arg-type]
            "choose that period or a later one.",
            target=_target(collection),
        )
    if period > periods.start_of(schedule, today):  # type: ignore[arg-type]
        raise Refused(
            f"The period {periods.label(schedule, period)} has not started yet.",  # type: ignore[arg-type]
            target=_target(collection),
        )
    if len(caveats) > MAX_CAVEATS:
        raise Refused(f"Keep caveats under {MAX_CAVEATS} characters.", target=_target(collection))
    agreement, flow_id = _covered(collection, contributor.organisation, contributor.agreement)
    filename = (filename or "upload").replace("/", "_").replace("\\", "_")[-255:]
    upload = vault.store(
        by=by,
        organisation=contributor.organisation,
        kind=ResourceKind.SUBMISSION,
        name=f"Return to {collection.name} for {periods.label(schedule, period)}",  # type: ignore[arg-type]
        description=f"The file {filename} as uploaded",
        source=[source] if isinstance(source, bytes) else source,
    )
    submission = Submission.objects.create(
        collection=collection,
        organisation=contributor.organisation,
        period=period,
        via=via,
        agreement=agreement,
        flow_id=flow_id,
        filename=filename,
        submitted_by=by.label,
        upload=upload,
        caveats=caveats.strip(),
    )
    record(
        by=by,
        action="submission.received",
        target=_target(submission),
        subject_organisation_id=str(collection.owner_id),
        details={
            "collection": collection.slug,
            "period": period.isoformat(),
            "filename": filename,
            "via": via,
            "agreement": str(agreement.pk) if agreement else None,
            "flow": flow_id or None,
        },
    )
    # Queued in this transaction (database backend): if the receipt rolls back, so does the task.
    queue_check(submission)
    return submission


def queue_check(submission: Submission) -> None:
    """Queue the check with a progress record the pages and ``accord submit`` follow."""
    from .tasks import check_submission_task

    progress = enqueue(
        check_submission_task,
        kind="submission_check",
        label=f"Checking {submission.filename}",
        owner=submission.organisation,
        target=f"submission:{submission.pk}",
        args=[str(submission.pk)],
    )
    Submission.objects.filter(pk=submission.pk, progress__isnull=True).update(progress=progress)


def queue_compilation(collection: Collection) -> None:
    """Queue a compilation of ``collection``, unless one is already waiting to start: that one
    will read every return accepted by then, this one's included. (Its progress row is locked,
    so a worker cannot start it between this check and the commit of what was accepted.)"""
    from .tasks import compile_collection_task

    target = f"collection:{collection.pk}"
    with transaction.atomic():
        waiting = (
            TaskProgress.objects.select_for_update()
            .filter(kind=COMPILE_KIND, target=target, state=ProgressState.QUEUED)
            .first()
        )
        if waiting is not None:
            return
        enqueue(
            compile_collection_task,
            kind=COMPILE_KIND,
            label=f"Compiling {collection.name}",
            owner=collection.owner,
            target=target,
            args=[str(collection.pk)],
        )
