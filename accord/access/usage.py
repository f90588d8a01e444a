"""Who used shared data: the audit log's access events, read back for the parties.

Every read of shared data passes the decision point, which records ``access.decided`` with the
organisation the reader acted for (``organisation``), the controller of the data
(``subject_organisation``), the purpose, the outcome and the details of the decision. Extracts
delivered to a recipient are recorded as ``extract.downloaded`` with the provider as subject.

- ``uses_of_data_of(organisation_id, filters)``: the access events on data the organisation
  controls. By default only those made by *other* organisations and by Accord's own tasks
  (``who="others"``); ``who="ours"`` gives the organisation's own reads of its own data and
  ``who="all"`` both.
- ``access_history_of(organisation_id, filters)``: the access events where the organisation
  was the reader, on anyone's data.

Both are filtered by the database (the audit table is indexed on ``organisation``,
``subject_organisation`` and ``action``), newest first; ``rows_of`` turns a page of events into
``UsageRow`` values and ``summary_of`` counts permitted and refused accesses per organisation
and per week for the chart. The ``details`` of an event are read defensively (``.get``): events
written before a key was added simply lack it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from accord.audit.enums import Outcome
from accord.audit.models import AuditEvent
from accord.audit.queries import csv_cell
from accord.organisations.enums import Role
from accord.organisations.models import Organisation

from .decisions import AUDIT_ACTION
from .enums import Action

EXTRACT_DOWNLOADED = "extract.downloaded"
USAGE_ACTIONS = (AUDIT_ACTION, EXTRACT_DOWNLOADED)
# Recorded when someone downloads a record of uses as CSV (accord/audit/labels.py).
DOWNLOADED_ACTION = "access.usage.downloaded"

# Who may see who used the organisation's data. The pages name the people (of any
# organisation) who read or tried to read it, with their purposes, so only roles that already
# see personal data (two-factor sign-in; never "viewer") and answer for the data's use: the
# governance roles that oversee sharing (DPO, SIRO, information asset owner, Caldicott
# Guardian), the organisation admin (who reads the whole audit log already), and the data
# officer, who sends the data and should see what became of it (reciprocity).
USAGE_READERS = (
    Role.DPO,
    Role.SIRO,
    Role.INFORMATION_ASSET_OWNER,
    Role.CALDICOTT_GUARDIAN,
    Role.ORGANISATION_ADMIN,
    Role.DATA_OFFICER,
)
# The organisation's own reads: the same roles, and analysts, who make most of those reads and
# need to show what they did and under which agreement.
HISTORY_READERS = (*USAGE_READERS, Role.ANALYST)

PERMITTED_OUTCOMES = (Outcome.PERMIT, Outcome.SUCCESS)
REFUSED_OUTCOMES = (Outcome.DENY, Outcome.REFUSED, Outcome.FAILED)
TASKS = "tasks"  # the reader filter's value for Accord's own tasks
TASK_PREFIX = "task:"
SUMMARY_WEEKS = 12
SUMMARY_ORGANISATIONS = 15

Who = Literal["others", "ours", "all"]
OutcomeFilter = Literal["", "permitted", "refused"]

DOWNLOAD = "download"  # the action filter's value for an extract delivered
ACTION_CHOICES: tuple[tuple[str, str], ...] = (
    *((str(a.value), str(a.label)) for a in Action),
    (DOWNLOAD, "Download a delivered extract"),
)


@dataclass(frozen=True)
class UsageFilters:
    """What to narrow the events to. Empty values do not filter.

    ``organisation``: for uses, the reading organisation's id (or ``"tasks"`` for Accord's
    tasks); for the history, the providing organisation's id. ``since``/``until`` are days in
    the site's time zone, both included.
    """

    who: Who = "others"
    organisation: str = ""
    agreement: str = ""
    outcome: OutcomeFilter = ""
    action: str = ""
    since: date | None = None
    until: date | None = None


@dataclass(frozen=True)
class UsageRow:
    """One access, as the pages, the CSV and the API show it."""

    seq: int
    when: datetime
    reader_organisation_id: str
    reader_organisation: str
    provider_organisation_id: str
    provider_organisation: str
    person: str
    by_task: bool
    roles: tuple[str, ...]
    action: str
    action_label: str
    purpose: str
    agreement_id: str
    agreement_title: str
    permitted: bool
    outcome_label: str
    what: str
    resource: str
    fields: tuple[str, ...]
    rows: int | None
    reason: str

    @property
    def roles_label(self) -> str:
        return ", ".join(_role_label(r) for r in self.roles)


@dataclass(frozen=True)
class Bar:
    key: str
    label: str
    permitted: int
    refused: int
    # Each count as a share (0-1) of the largest total on the chart, for the <meter> bars.
    permitted_share: float = 0.0
    refused_share: float = 0.0

    @property
    def total(self) -> int:
        return self.permitted + self.refused


@dataclass(frozen=True)
class Summary:
    by_organisation: list[Bar] = field(default_factory=list)
    by_week: list[Bar] = field(default_factory=list)
    permitted: int = 0
    refused: int = 0
    other_organisations: int = 0  # organisations left off the chart (fewest accesses)


# The queries -----------------------------------------------------------------------------------


def uses_of_data_of(
    organisation_id: int | str, filters: UsageFilters | None = None
) -> QuerySet[AuditEvent]:
    """Access events on data ``organisation_id`` controls, newest first."""
    org = str(organisation_id or "").strip()
    if not org:
        return AuditEvent.objects.none()  # "" would match every event about no organisation
    filters = filters or UsageFilters()
    found = AuditEvent.objects.filter(subject_organisation=org, action__in=USAGE_ACTIONS)
    by_task = Q(actor__startswith=TASK_PREFIX)
    if filters.who == "others":
        found = found.filter(~Q(organisation=org) | by_task)
    elif filters.who == "ours":
        found = found.filter(organisation=org).exclude(by_task)
    if filters.organisation == TASKS:
        found = found.filter(by_task)
    elif filters.organisation:
        found = found.filter(organisation=filters.organisation).exclude(by_task)
    return _common(found, filters)


def access_history_of(
    organisation_id: int | str, filters: UsageFilters | None = None
) -> QuerySet[AuditEvent]:
    """Access events in which ``organisation_id`` was the reader, newest first."""
    org = str(organisation_id or "").strip()
    if not org:
        return AuditEvent.objects.none()
    filters = filters or UsageFilters()
    found = AuditEvent.objects.filter(organisation=org, action__in=USAGE_ACTIONS)
    if filters.organisation:
        found = found.filter(subject_organisation=filters.organisation)
    return _common(found, filters)


def _common(found: QuerySet[AuditEvent], filters: UsageFilters) -> QuerySet[AuditEvent]:
    if filters.agreement:
        found = found.filter(details__agreement__id=str(filters.agreement))
    if filters.outcome == "permitted":
        found = found.filter(outcome__in=PERMITTED_OUTCOMES)
    elif filters.outcome == "refused":
        found = found.filter(outcome__in=REFUSED_OUTCOMES)
    if filters.action == DOWNLOAD:
        found = found.filter(action=EXTRACT_DOWNLOADED)
    elif filters.action:
        found = found.filter(action=AUDIT_ACTION, details__action=filters.action)
    if filters.since is not None:
        found = found.filter(occurred_at__gte=_start_of(filters.since))
    if filters.until is not None:
        found = found.filter(occurred_at__lt=_start_of(filters.until + timedelta(days=1)))
    return found.order_by("-seq")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


# Rows ------------------------------------------------------------------------------------------


def rows_of(events: Iterable[AuditEvent]) -> list[UsageRow]:
    """The events as rows, with the providers' names looked up in one query."""
    events = list(events)
    names = organisation_names({e.subject_organisation for e in events})
    return [row_of(e, names) for e in events]


def iter_rows(found: QuerySet[AuditEvent], chunk_size: int = 500) -> Iterator[UsageRow]:
    """Every row of ``found``, a chunk at a time (for downloads of long histories)."""
    chunk: list[AuditEvent] = []
    for event in found.iterator(chunk_size=chunk_size):
        chunk.append(event)
        if len(chunk) >= chunk_size:
            yield from rows_of(chunk)
            chunk = []
    if chunk:
        yield from rows_of(chunk)


def organisation_names(ids: Iterable[str]) -> dict[str, str]:
    pks = {int(i) for i in ids if i and i.isascii() and i.isdigit()}
    if not pks:
        return {}
    return {
        str(pk): name
        for pk, name in Organisation.objects.filter(pk__in=pks).values_list("pk", "name")
    }


def row_of(event: AuditEvent, names: dict[str, str] | None = None) -> UsageRow:
    details = event.details if isinstance(event.details, dict) else {}
    resource = _dict(details.get("resource"))
    agreement = _dict(details.get("agreement"))
    by_task = event.actor.startswith(TASK_PREFIX)
    action, action_label = _action_of(event, details)
    permitted = event.outcome in PERMITTED_OUTCOMES
    fields = details.get("fields") if event.action == EXTRACT_DOWNLOADED else None
    if not isinstance(fields, list):
        fields = resource.get("fields")
    rows = details.get("rows")
    provider = event.subject_organisation
    return UsageRow(
        seq=event.seq,
        when=event.occurred_at,
        reader_organisation_id=event.organisation,
        reader_organisation=event.organisation_name
        or ("Accord (a task)" if by_task else "No organisation"),
        provider_organisation_id=provider,
        provider_organisation=(names or {}).get(provider, "") or provider,
        person=_person(event, by_task),
        by_task=by_task,
        roles=tuple(str(r) for r in details.get("roles") or () if isinstance(r, str)),
        action=action,
        action_label=action_label,
        purpose=event.purpose,
        agreement_id=str(agreement.get("id") or ""),
        agreement_title=str(agreement.get("title") or ""),
        permitted=permitted,
        outcome_label="Permitted" if permitted else "Refused",
        what=str(resource.get("description") or "") or _what_of_extract(event, details),
        resource=event.target,
        fields=tuple(str(f) for f in fields or () if isinstance(f, str | int)),
        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
        reason=event.reason,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _person(event: AuditEvent, by_task: bool) -> str:
    if by_task:
        return f"Accord's {event.actor.removeprefix(TASK_PREFIX)} task"
    return event.actor_label or event.actor


def _action_of(event: AuditEvent, details: dict[str, Any]) -> tuple[str, str]:
    if event.action == EXTRACT_DOWNLOADED:
        return DOWNLOAD, "Download a delivered extract"
    code = str(details.get("action") or "")
    return code, dict(ACTION_CHOICES).get(code, code or "Read shared data")


def _what_of_extract(event: AuditEvent, details: dict[str, Any]) -> str:
    if event.action == EXTRACT_DOWNLOADED:
        extract = details.get("extract_id")
        fmt = details.get("format")
        text = f"Extract {extract}" if extract else "An extract"
        text = f"{text} ({fmt})" if fmt else text
        opted_out = details.get("opted_out")
        if isinstance(opted_out, int) and not isinstance(opted_out, bool):
            text += f"; National Data Opt-out applied: {opted_out} removed"
        return text
    return event.target


def _role_label(role: str) -> str:
    try:
        return str(Role(role).label)
    except ValueError:
        return role


# The chart -------------------------------------------------------------------------------------


def summary_of(found: QuerySet[AuditEvent], *, by: Literal["reader", "provider"]) -> Summary:
    """Permitted and refused accesses in ``found``, per organisation (the reader's for uses,
    the provider's for a history) and per week (the most recent weeks), counted by the
    database."""
    permitted_q = Q(outcome__in=PERMITTED_OUTCOMES)
    counts = {
        "permitted": Count("pk", filter=permitted_q),
        "refused": Count("pk", filter=~permitted_q),
    }
    unordered = found.order_by()
    party: Any
    if by == "reader":
        party = Case(
            When(actor__startswith=TASK_PREFIX, then=Value(TASKS)),
            default=F("organisation"),
            output_field=CharField(),
        )
    else:
        party = F("subject_organisation")
    per_party: list[dict[str, Any]] = [
        dict(r)
        for r in unordered.annotate(party=party)
        .values("party")
        .annotate(**counts)
        .order_by("party")
    ]
    per_party.sort(key=lambda r: (-(r["permitted"] + r["refused"]), str(r["party"])))
    shown, hidden = per_party[:SUMMARY_ORGANISATIONS], per_party[SUMMARY_ORGANISATIONS:]
    names = organisation_names(str(r["party"]) for r in shown)
    if by == "reader":
        # The name the reader had when it read, as the log recorded it.
        recorded = dict(
            unordered.filter(organisation__in=[r["party"] for r in shown])
            .values_list("organisation", "organisation_name")
            .distinct()
        )
        names = {**recorded, **names}

    def label(key: str) -> str:
        if key == TASKS:
            return "Accord's own tasks"
        return names.get(key) or (key and f"Organisation {key}") or "No organisation"

    weeks: list[dict[str, Any]] = [
        dict(r)
        for r in unordered.annotate(week=TruncWeek("occurred_at"))
        .values("week")
        .annotate(**counts)
        .order_by("-week")[:SUMMARY_WEEKS]
    ]
    weeks.reverse()
    most = _largest(per_party)
    busiest = _largest(weeks)
    return Summary(
        by_organisation=[_bar(str(r["party"]), label(str(r["party"])), r, most) for r in shown],
        by_week=[_bar(_week_key(r["week"]), _week_label(r["week"]), r, busiest) for r in weeks],
        permitted=sum(r["permitted"] for r in per_party),
        refused=sum(r["refused"] for r in per_party),
        other_organisations=len(hidden),
    )


def _largest(counts: list[dict[str, Any]]) -> int:
    return max([int(r["permitted"]) + int(r["refused"]) for r in counts] or [0]) or 1


def _bar(key: str, label: str, counts: dict[str, Any], largest: int) -> Bar:
    permitted, refused = int(counts["permitted"]), int(counts["refused"])
    return Bar(
        key=key,
        label=label,
        permitted=permitted,
        refused=refused,
        permitted_share=round(permitted / largest, 4),
        refused_share=round(refused / largest, 4),
    )


def _week_key(week: date | datetime | None) -> str:
    return _as_date(week).isoformat() if week else ""


def _week_label(week: date | datetime | None) -> str:
    if not week:
        return "Unknown week"
    return f"Week of {_as_date(week):%-d %b %Y}"


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# Filter choices --------------------------------------------------------------------------------


def reader_choices(organisation_id: int | str) -> list[tuple[str, str]]:
    """The organisations that read (or tried to read) the organisation's data, by name, then
    Accord's tasks if any did."""
    org = str(organisation_id)
    about = AuditEvent.objects.filter(subject_organisation=org, action__in=USAGE_ACTIONS)
    pairs = dict(
        about.exclude(actor__startswith=TASK_PREFIX)
        .exclude(organisation="")
        .order_by()
        .values_list("organisation", "organisation_name")
        .distinct()
    )
    pairs.update(organisation_names(pairs))
    choices = sorted(pairs.items(), key=lambda p: p[1].lower())
    if about.filter(actor__startswith=TASK_PREFIX).exists():
        choices.append((TASKS, "Accord's own tasks"))
    return choices


def provider_choices(organisation_id: int | str) -> list[tuple[str, str]]:
    """The organisations whose data the organisation read (or tried to), by name."""
    ids = (
        AuditEvent.objects.filter(organisation=str(organisation_id), action__in=USAGE_ACTIONS)
        .exclude(subject_organisation="")
        .order_by()
        .values_list("subject_organisation", flat=True)
        .distinct()
    )
    names = organisation_names(ids)
    return sorted(
        ((i, names.get(i) or f"Organisation {i}") for i in ids), key=lambda p: p[1].lower()
    )


def agreement_choices(organisation_id: int | str) -> list[tuple[str, str]]:
    """Agreements the organisation is a party to, newest first."""
    from accord.agreements.queries import agreements_of

    return [(str(a.pk), a.title) for a in agreements_of(organisation_id)]


# CSV -------------------------------------------------------------------------------------------

CSV_HEADER = (
    "When (UTC)",
    "Reading organisation",
    "Providing organisation",
    "Person or task",
    "Roles",
    "Action",
    "Purpose",
    "Agreement",
    "Agreement id",
    "Outcome",
    "What",
    "Resource",
    "Fields",
    "Rows",
    "Reason",
    "Audit event",
)


def csv_values(row: UsageRow) -> list[str]:
    """A row as CSV cells, each safe to open in a spreadsheet (no formula runs)."""
    values: list[Any] = [
        _utc(row.when),
        row.reader_organisation,
        row.provider_organisation,
        row.person,
        row.roles_label,
        row.action_label,
        row.purpose,
        row.agreement_title,
        row.agreement_id,
        row.outcome_label,
        row.what,
        row.resource,
        "; ".join(row.fields),
        "" if row.rows is None else row.rows,
        row.reason,
        row.seq,
    ]
    return [csv_cell(v) for v in values]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def csv_lines(found: QuerySet[AuditEvent]) -> Iterator[str]:
    """The CSV text of every row of ``found``, a line at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values: Iterable[str]) -> str:
        writer.writerow(values)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(CSV_HEADER)
    for row in iter_rows(found):
        yield line(csv_values(row))
