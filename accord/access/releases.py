"""Releases: a provider publishes a dataset once to every recipient an agreement's flow names,
and each recipient receives only its own slice.

The data is checked against the dataset's standard by the same engine as any return
(``frame_from_file``), stored once in the vault as the provider's data, and each recipient is
told. A recipient downloads its slice as an extract of the release (``extracts.request_extract``
with ``release=``), so the decision point applies the flow's row filter and field conditions to
it; its first download is its receipt. The provider sees who has and has not picked up each
release, and when the next is due by the flow's frequency.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.standards.schema import Standard
from accord.submissions.engine import validate_file
from accord.submissions.exceptions import UnusableFile
from accord.vault.parquet import store_frame

from .models import Grant, Release, ReleaseRecipient

PUBLISHING_ROLES = frozenset({Role.DATA_OFFICER, Role.ANALYST, Role.INFORMATION_ASSET_OWNER})

# How long after the last release the next one is due, by the flow's frequency.
FREQUENCY_DAYS = {
    "daily": 1,
    "weekly": 7,
    "monthly": 31,
    "quarterly": 92,
    "annually": 366,
}
SHOWN_PROBLEMS = 5


def _pk(organisation: Organisation | int | str) -> int:
    return int(organisation.pk if isinstance(organisation, Organisation) else organisation)


def _target(release: Release) -> str:
    return f"release:{release.pk}"


@dataclass(frozen=True)
class Outlet:
    """Somewhere a provider can publish: one dataset of one flow of an active agreement, and
    the recipients it reaches."""

    agreement: Agreement
    flow_id: str
    dataset_id: str
    dataset: str
    dataset_name: str
    frequency: str
    recipients: tuple[Organisation, ...]
    starts_on: dt.date | None = None

    @property
    def key(self) -> str:
        return f"{self.agreement.pk}|{self.flow_id}|{self.dataset_id}"

    @property
    def label(self) -> str:
        return f"{self.dataset_name}: {self.agreement.title} ({len(self.recipients)} recipients)"


def outlets_of(organisation: Organisation | int | str) -> list[Outlet]:
    """Where ``organisation`` may publish: active agreements' flows from it, one per dataset."""
    organisation_id = _pk(organisation)
    grants = (
        Grant.objects.filter(
            provider_id=organisation_id, agreement__status="active", agreement__isnull=False
        )
        .select_related("agreement", "recipient")
        .order_by("agreement__title", "flow_id", "dataset_id", "recipient__name")
    )
    found: dict[tuple[uuid.UUID, str, str], list[Grant]] = {}
    for grant in grants:
        assert grant.agreement_id is not None
        found.setdefault((grant.agreement_id, grant.flow_id, grant.dataset_id), []).append(grant)
    return [
        Outlet(
            agreement=items[0].agreement,  # type: ignore[arg-type]
            flow_id=flow_id,
            dataset_id=dataset_id,
            dataset=items[0].dataset,
            dataset_name=items[0].dataset_name,
            frequency=items[0].frequency,
            recipients=tuple(g.recipient for g in items),
            starts_on=items[0].starts_on,
        )
        for (_, flow_id, dataset_id), items in found.items()
    ]


def outlet_for(organisation: Organisation, key: str) -> Outlet | None:
    return next((o for o in outlets_of(organisation) if o.key == key), None)


def frame_from_file(standard: Standard, filename: str, content: bytes) -> pl.DataFrame:
    """The rows of an uploaded file, checked and typed to ``standard`` by the validation engine.
    Refused, naming the first problems (row, column, what to do), unless every row is valid."""
    suffix = Path(filename).suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            report = validate_file(path, standard, keep_rows=True, display_name=filename)
        except UnusableFile as exc:
            raise Refused(str(exc)) from exc
    if not report.is_valid:
        errors = report.errors.head(SHOWN_PROBLEMS)
        lines = [str(message) for message in errors["message"]]  # each names row and column
        more = report.errors.height - len(lines)
        raise Refused(
            f"{filename} has {report.errors.height} problems, so nothing was published. "
            + "; ".join(lines)
            + (f"; and {more} more." if more > 0 else ".")
            + " Check the file on the “Check a file” page to see them all."
        )
    frame = report.rows_frame
    assert frame is not None
    # The engine's own bookkeeping columns are not data.
    return frame.drop([c for c in frame.columns if c.startswith("__") and c.endswith("__")])


@audited("release.published")
def publish(
    *,
    by: Actor,
    agreement: Agreement,
    flow_id: str,
    dataset_id: str,
    label: str,
    frame: pl.DataFrame,
    caveats: str = "",
) -> Release:
    """Publish ``frame`` once to every recipient of the flow; each is told."""
    label = " ".join(str(label).split())
    if not label or len(label) > 200:
        raise Refused("Give the release a name of 1 to 200 characters, e.g. “Week ending …”.")
    if not set(by.roles) & PUBLISHING_ROLES:
        raise NotPermitted(
            "Only a data officer, analyst or information asset owner can publish data.",
            target=f"agreement:{agreement.pk}",
        )
    grants = list(
        Grant.objects.filter(
            agreement=agreement,
            flow_id=flow_id,
            dataset_id=dataset_id,
            provider_id=int(by.organisation_id or 0),
        ).select_related("recipient", "provider")
    )
    if not grants:
        raise NotPermitted(
            "Your organisation provides no such dataset under this agreement.",
            target=f"agreement:{agreement.pk}",
        )
    if agreement.status != "active":
        raise Refused(
            f"The agreement “{agreement.title}” is not active, so nothing can be published "
            "under it.",
            target=f"agreement:{agreement.pk}",
        )
    provider = grants[0].provider
    standard_slug = grants[0].dataset
    data = store_frame(
        by=by,
        organisation=provider,
        kind="dataset",
        name=f"{label} ({grants[0].dataset_name})"[:200],
        frame=frame,
        description=f"Published under “{agreement.title}” to {len(grants)} recipients",
        dataset=standard_slug,
    )
    release = Release.objects.create(
        agreement=agreement,
        flow_id=flow_id,
        dataset_id=dataset_id,
        dataset=standard_slug,
        provider=provider,
        label=label,
        caveats=caveats.strip(),
        data=data,
        rows=frame.height,
        published_by=by.ref,
        published_by_label=by.label,
    )
    now = timezone.now()
    link = reverse("web:release", args=[release.pk])
    for grant in grants:
        rows = _slice_rows(frame, grant)
        ReleaseRecipient.objects.create(
            release=release, organisation=grant.recipient, rows=rows, notified_at=now
        )
        notify(
            by=by,
            organisation=grant.recipient,
            topic=Topic.RELEASE_PUBLISHED,
            subject=f"New from {provider.name}: {label}"[:200],
            body=(
                f"{provider.name} has published “{label}” under the agreement "
                f"“{agreement.title}”. Your slice has {rows} rows. Download it from Accord."
            ),
            link=link,
            roles=(),
        )
    record(
        by=by,
        action="release.published",
        target=_target(release),
        subject_organisation_id=str(provider.pk),
        details={
            "agreement": {"id": str(agreement.pk), "title": agreement.title},
            "flow": flow_id,
            "dataset": dataset_id,
            "rows": frame.height,
            "recipients": [{"id": str(g.recipient_id), "name": g.recipient.name} for g in grants],
        },
    )
    return release


def _slice_rows(frame: pl.DataFrame, grant: Grant) -> int:
    """How many rows the grant's row filter gives its recipient (vectorised)."""
    row_filter = grant.row_filter
    if not row_filter:
        return frame.height
    column = row_filter["column"]
    if column not in frame.columns:
        return 0
    values = [str(v) for v in row_filter["values"]]
    return int(frame.select(pl.col(column).cast(pl.Utf8).is_in(values).sum()).item() or 0)


# Reading ---------------------------------------------------------------------------------------


def releases_by(organisation: Organisation | int | str) -> QuerySet[Release]:
    organisation_id = _pk(organisation)
    return Release.objects.filter(provider_id=organisation_id).select_related("agreement")


def releases_to(organisation: Organisation | int | str) -> QuerySet[ReleaseRecipient]:
    organisation_id = _pk(organisation)
    return (
        ReleaseRecipient.objects.filter(organisation_id=organisation_id)
        .select_related("release", "release__provider", "release__agreement")
        .order_by("-release__published_at")
    )


def release_for(organisation: Organisation | int | str, release_id: uuid.UUID | str) -> Release:
    """A release the organisation published or receives; ``Release.DoesNotExist`` otherwise,
    alike whether it does not exist or is someone else's."""
    organisation_id = _pk(organisation)
    try:
        key = uuid.UUID(str(release_id))
    except ValueError as exc:
        raise Release.DoesNotExist(str(release_id)) from exc
    release = Release.objects.select_related("agreement", "provider", "data").get(pk=key)
    if (
        str(release.provider_id) == str(organisation_id)
        or release.recipients.filter(organisation_id=organisation_id).exists()
    ):
        return release
    raise Release.DoesNotExist(str(release_id))


@dataclass(frozen=True)
class Schedule:
    """When an outlet's next release is due, by its flow's frequency."""

    outlet: Outlet
    last: Release | None
    due: dt.datetime | None

    def overdue(self, now: dt.datetime | None = None) -> bool:
        return self.due is not None and (now or timezone.now()) > self.due


def schedules_of(organisation: Organisation) -> list[Schedule]:
    schedules = []
    for outlet in outlets_of(organisation):
        last = (
            Release.objects.filter(
                agreement=outlet.agreement, flow_id=outlet.flow_id, dataset_id=outlet.dataset_id
            )
            .order_by("-published_at")
            .first()
        )
        days = FREQUENCY_DAYS.get(outlet.frequency)
        due = None
        if days and last is not None:
            due = last.published_at + dt.timedelta(days=days)
        elif days and outlet.starts_on is not None:
            # Nothing published yet: the first release is due one period after the start.
            start = dt.datetime.combine(outlet.starts_on, dt.time(), tzinfo=dt.UTC)
            due = start + dt.timedelta(days=days)
        schedules.append(Schedule(outlet=outlet, last=last, due=due))
    return schedules


def standard_of(outlet: Outlet) -> Standard:
    return get_standard(outlet.dataset)
