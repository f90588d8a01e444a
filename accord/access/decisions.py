"""The decision point: the one place that decides every read of shared data.

Two functions, one rule book:

- ``evaluate(facts, action, resource, purpose, now)`` holds every rule. It is pure: no database,
  no clock, no randomness in the outcome, so it can be tested exhaustively.
- ``decide(actor=..., action=..., resource=..., purpose=...)`` reads the facts about the actor
  from the database (``queries.facts_about``), calls ``evaluate`` and writes the decision —
  permit or deny — to the audit chain, then returns it.

A ``Decision`` can be made only here (a module-private sentinel is checked when one is built,
and ``dataclasses.replace`` cannot copy it), is bound to the actor, the organisation it acted
for, the action, the resource and the purpose, and expires after ``DECISION_LIFETIME``. Code
that reads the vault takes a decision and calls ``decision.require(...)`` before reading.

This guards against mistakes — code that builds, edits or reuses a decision it was not given —
not against hostile code running inside the process, which could do anything.

The grounds are DESIGN.md's "Who may read shared data": an organisation reading its own data,
as its controller; a recipient reading what an active agreement's flow grants it (fields,
rows, actions, for a purpose the agreement names, within its term); the owner of derived data
(a compiled collection) reading it as the agreements with each of its sources grant; and
Accord's own tasks processing data on the controller's behalf. Platform staff read metadata
only. Everything else is denied.

Derived data names the controllers of everything it was made from (``Resource.sources``): a
reader needs a ground for every one of them, for the same action and purpose, and the
obligations of all of them apply together (the strictest wins).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from accord.audit.actions import record
from accord.audit.actor import Actor, ActorKind
from accord.audit.enums import Outcome
from accord.organisations.enums import DATA_READING_ROLES

from .enums import (
    PURPOSE_MAX_LENGTH,
    RESOURCE_ID_MAX_LENGTH,
    TASK_NEEDS,
    Action,
    ResourceKind,
    Task,
)
from .exceptions import AccessDenied

# How long a decision may be used. Short, so a suspended agreement or a removed membership
# takes effect within minutes; long jobs decide again when they start and when they deliver.
DECISION_LIFETIME = timedelta(minutes=5)

AUDIT_ACTION = "access.decided"

# Only this module holds it; Decision.__post_init__ refuses to build without it.
_ISSUED_BY_DECISION_POINT = object()

NO_AGREEMENT = "No active data sharing agreement gives your organisation access to this data."
STAFF_METADATA_ONLY = "Platform staff see metadata only, never shared data."


@dataclass(frozen=True)
class Resource:
    """An item of shared data that someone wants to read, as the vault describes it.

    Two resources are the same when kind, id, owner and fields match; the description is for
    people only.
    """

    kind: ResourceKind
    id: str
    owner_organisation_id: str
    # The fields asked for; empty asks for whatever the reader may have.
    fields: tuple[str, ...] = ()
    description: str = field(default="", compare=False)
    # The data standard (slug) its records follow, which agreements' datasets name.
    dataset: str = ""
    # For derived data: the controllers of everything it was made from, other than the owner.
    sources: tuple[str, ...] = ()
    # For derived data made from several datasets (a linked dataset, with no dataset of its
    # own): each (controller, dataset) it was made from, so a reader needs a ground for each.
    source_datasets: tuple[tuple[str, str], ...] = ()
    # State, not identity: read afresh for every decision, and checked again by the vault.
    deleted: bool = field(default=False, compare=False)
    # Derived data whose sources (any of them) have been deleted since it was made.
    sources_deleted: bool = field(default=False, compare=False)
    retention_deadline: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ResourceKind(self.kind))
        object.__setattr__(self, "id", str(self.id).strip())
        object.__setattr__(self, "owner_organisation_id", str(self.owner_organisation_id).strip())
        object.__setattr__(self, "fields", tuple(str(name) for name in self.fields))
        owner = self.owner_organisation_id
        sources = sorted({str(s).strip() for s in self.sources} - {owner, ""})
        object.__setattr__(self, "sources", tuple(sources))
        pairs = sorted(
            {(str(c).strip(), str(d).strip()) for c, d in self.source_datasets}
            - {(c, d) for c, d in self.source_datasets if not str(d).strip()}
        )
        object.__setattr__(self, "source_datasets", tuple(pairs))
        if not self.id:
            raise ValueError("A resource needs an id.")
        if len(self.id) > RESOURCE_ID_MAX_LENGTH:
            raise ValueError(f"A resource id has at most {RESOURCE_ID_MAX_LENGTH} characters.")
        if not self.owner_organisation_id:
            raise ValueError("A resource needs the organisation that controls it.")

    @property
    def ref(self) -> str:
        """How the audit log names it: ``<kind>:<id>``."""
        return f"{self.kind.value}:{self.id}"

    @property
    def controllers(self) -> tuple[str, ...]:
        """Every organisation whose data this is: the owner, then the sources' controllers."""
        return (self.owner_organisation_id, *self.sources)


@dataclass(frozen=True)
class Obligations:
    """What the reader must do to the data before using it. The empty value obliges nothing."""

    drop_fields: tuple[str, ...] = ()
    pseudonymise_fields: tuple[str, ...] = ()
    # (field, level) pairs, e.g. ("postcode", "lsoa"), ("date_of_birth", "year").
    generalise_fields: tuple[tuple[str, str], ...] = ()
    # (field, allowed values) pairs; a row is kept only if it meets them all,
    # e.g. (("la_code", ("E09000033",)),).
    row_filter: tuple[tuple[str, tuple[str, ...]], ...] = ()
    aggregate_only: bool = False
    # The controller whose data a task processes, on its behalf; "" when not a task.
    on_behalf_of_controller: str = ""
    # Only these fields may be read (None: no limit, as for a controller's own data).
    allowed_fields: tuple[str, ...] | None = None
    # (field, identifier type) for each pseudonymised field, so values are normalised first.
    identifier_types: tuple[tuple[str, str], ...] = ()
    # Whose pseudonymisation key to use: pseudonyms are per agreement.
    pseudonym_agreement: str = ""
    # The controllers whose agreements apply the National Data Opt-out to this read (for a
    # purpose other than individual care): the people on the national opt-out lists, and on
    # these controllers' own objection lists, must be removed before the data is used (ADR
    # 0015). Empty: no opt-out applies.
    opt_out_for: tuple[str, ...] = ()
    # The fields the agreements mark as NHS numbers, which the opt-out is matched on (a column
    # called ``nhs_number`` is always checked too).
    nhs_number_fields: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class MembershipFacts:
    """A person's membership of the organisation it acts for, active or not."""

    organisation_id: str
    organisation_name: str
    organisation_active: bool
    membership_active: bool
    roles: frozenset[str]


@dataclass(frozen=True)
class FieldGrant:
    """One field an agreement's dataset shares, and what must be done to it first."""

    name: str
    transformation: str = "none"
    data_type: str = "string"
    identifier_type: str = ""


@dataclass(frozen=True)
class GrantFacts:
    """What one flow of one agreement grants one recipient for one dataset, with the
    agreement's status as it is now."""

    agreement_id: str
    agreement_title: str
    agreement_status: str
    flow_id: str
    provider_id: str
    recipient_id: str
    dataset: str
    fields: tuple[FieldGrant, ...] = ()
    purposes: tuple[tuple[str, str], ...] = ()  # (id, title)
    actions: frozenset[str] = frozenset()
    row_filter: tuple[str, tuple[str, ...]] | None = None
    prohibited_uses: tuple[tuple[str, str], ...] = ()  # (code, label)
    # The ids of the purposes for which the National Data Opt-out applies (ADR 0015).
    opt_out_purposes: frozenset[str] = frozenset()
    starts_on: date | None = None
    ends_on: date | None = None
    review_on: date | None = None


@dataclass(frozen=True)
class TokenFacts:
    """The API token a request came with: whether it can be used, and its scope."""

    ref: str
    problem: str = ""  # why it cannot be used ("" when it can)
    agreement_ids: frozenset[str] = frozenset()  # empty: any agreement
    actions: frozenset[str] = frozenset()  # empty: any action


@dataclass(frozen=True)
class Facts:
    """Everything ``evaluate`` may know about who is asking.

    ``acting_for`` and ``task_name`` are what the actor says; the rest is read from the database
    by ``queries.facts_about`` (never taken from the actor's own claims).
    """

    actor_kind: ActorKind
    actor_ref: str
    acting_for: str = ""
    user_active: bool = False
    is_platform_staff: bool = False
    membership: MembershipFacts | None = None
    task_name: str = ""
    # Grants to the organisation acted for, on the resource's dataset, from its controllers.
    grants: tuple[GrantFacts, ...] = ()
    token: TokenFacts | None = None


@dataclass(frozen=True, kw_only=True)
class Decision:
    """The decision point's answer. Only ``evaluate`` (and so ``decide``) can make one."""

    _issued_by: InitVar[object]
    decision_id: uuid.UUID = field(compare=False)
    permitted: bool
    actor_ref: str
    organisation_id: str
    action: Action
    resource: Resource
    purpose: str
    reasons: tuple[str, ...]
    obligations: Obligations
    decided_at: datetime
    expires_at: datetime
    # The agreements a permit rests on, as (id, title); empty for a controller's own data.
    agreements: tuple[tuple[str, str], ...] = ()

    def __post_init__(self, _issued_by: object) -> None:
        if _issued_by is not _ISSUED_BY_DECISION_POINT:
            raise TypeError("Only the decision point makes decisions: call access.decide().")
        if not self.reasons or not all(isinstance(r, str) and r for r in self.reasons):
            raise ValueError("Every decision gives its reasons.")
        if not self.expires_at > self.decided_at:
            raise ValueError("A decision expires after it is made.")

    # A decision does not travel: copying gives the same object back, and it cannot be pickled
    # (which would rebuild it without the decision point). Decide again where data is read.
    def __copy__(self) -> Decision:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Decision:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("A decision cannot be serialised; decide again where the data is read.")

    @property
    def denied(self) -> bool:
        return not self.permitted

    @property
    def reason(self) -> str:
        """The reasons as one sentence or more, for the person who asked."""
        return " ".join(self.reasons)

    def is_expired(self, now: datetime | None = None) -> bool:
        return (now or timezone.now()) >= self.expires_at

    def require(
        self,
        *,
        actor: Actor,
        action: Action | str,
        resource: Resource,
        now: datetime | None = None,
    ) -> Decision:
        """Raise ``AccessDenied`` unless this decision permits ``actor`` to take ``action`` on
        ``resource`` now. The vault's read path calls this before it reads anything."""
        if not self.permitted:
            raise AccessDenied(self.reason, decision=self, reasons=self.reasons)
        if actor.ref != self.actor_ref or actor.organisation_id != self.organisation_id:
            raise AccessDenied("This access decision was made for someone else.", decision=self)
        if Action(action) is not self.action:
            raise AccessDenied(
                f"This access decision was to {self.action.label.lower()}, "
                f"not to {Action(action).label.lower()}.",
                decision=self,
            )
        if resource != self.resource:
            raise AccessDenied(
                "This access decision was made for a different item of data.", decision=self
            )
        if self.is_expired(now):
            raise AccessDenied(
                "This access decision has expired. Try again to get a new one.", decision=self
            )
        return self


@dataclass(frozen=True)
class _Verdict:
    permitted: bool
    reasons: tuple[str, ...]
    obligations: Obligations = Obligations()
    agreements: tuple[tuple[str, str], ...] = ()


def _deny(*reasons: str) -> _Verdict:
    return _Verdict(permitted=False, reasons=tuple(dict.fromkeys(reasons)))


def _permit(
    reason: str,
    obligations: Obligations | None = None,
    agreements: tuple[tuple[str, str], ...] = (),
) -> _Verdict:
    return _Verdict(
        permitted=True,
        reasons=(reason,),
        obligations=obligations or Obligations(),
        agreements=agreements,
    )


def evaluate(
    facts: Facts, action: Action | str, resource: Resource, purpose: str, now: datetime
) -> Decision:
    """Decide, from the facts alone, whether ``facts`` may take ``action`` on ``resource`` for
    ``purpose`` at ``now``. Pure: the same arguments always give the same decision (bar its id).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("The decision point needs a timezone-aware time.")
    action = Action(action)
    purpose = " ".join(str(purpose).split())
    verdict = _verdict(facts, action, resource, purpose, now)
    return Decision(
        _issued_by=_ISSUED_BY_DECISION_POINT,
        decision_id=uuid.uuid4(),
        permitted=verdict.permitted,
        actor_ref=facts.actor_ref,
        organisation_id=facts.acting_for,
        action=action,
        resource=resource,
        purpose=purpose,
        reasons=verdict.reasons,
        obligations=verdict.obligations,
        decided_at=now,
        expires_at=now + DECISION_LIFETIME,
        agreements=verdict.agreements,
    )


def _verdict(
    facts: Facts, action: Action, resource: Resource, purpose: str, now: datetime
) -> _Verdict:
    if not purpose:
        return _deny("State the purpose for which you need this data.")
    if len(purpose) > PURPOSE_MAX_LENGTH:
        return _deny(f"State the purpose in at most {PURPOSE_MAX_LENGTH} characters.")
    if facts.actor_kind is ActorKind.PERSON:
        return _person(facts, action, resource, purpose, now)
    if facts.actor_kind is ActorKind.TASK:
        return _task(facts, action, resource)
    if facts.actor_kind is ActorKind.ANONYMOUS:
        return _deny("Sign in to read shared data.")
    if facts.actor_kind is ActorKind.SYSTEM:
        return _deny("Set-up and maintenance commands never read shared data.")
    return _deny("Nothing grants this access.")  # deny by default


def _person(
    facts: Facts, action: Action, resource: Resource, purpose: str, now: datetime
) -> _Verdict:
    if not facts.user_active:
        return _deny("Your account is not active, so it cannot read shared data.")
    problem = _membership_problem(facts)
    if problem is not None:
        return _deny(STAFF_METADATA_ONLY, problem) if facts.is_platform_staff else _deny(problem)
    membership = facts.membership
    if membership is None:  # _membership_problem has ruled this out; deny all the same
        return _deny("You are not a member of the organisation you are acting for.")
    reader = membership.organisation_id
    needs = _needs(resource)
    # Say nothing more about data the reader has no agreement for, however it asked.
    if reader not in resource.controllers and not any(
        g.recipient_id == reader and g.dataset and (g.provider_id, g.dataset) in needs
        for g in facts.grants
    ):
        return _deny(NO_AGREEMENT)
    token = facts.token
    if token is not None:
        if token.problem:
            return _deny(token.problem)
        if token.actions and action.value not in token.actions:
            return _deny(f"This API token may not be used to {action.label.lower()}.")
    if resource.deleted and reader not in resource.controllers:
        # (Its controller is told when and why by the vault, which refuses to open it.)
        return _deny("This data has been deleted: its key was destroyed.")
    if resource.sources_deleted and reader not in resource.controllers:
        # DESIGN.md: derived data goes when a source goes; until it is rebuilt or destroyed,
        # nobody but its controllers may read it.
        return _deny(
            "Data this was made from has since been deleted, so it can no longer be used. "
            "Ask for it again once the provider has sent it again."
        )
    deadline = resource.retention_deadline
    if deadline is not None and now >= deadline:
        return _deny(
            "This data is past the end of its retention period and is waiting to be deleted, "
            "so nobody may read it."
        )
    grounds: list[_Verdict] = []
    for controller, dataset in sorted(needs):
        if controller == reader:
            continue
        candidates = [
            g
            for g in facts.grants
            if g.provider_id == controller
            and g.recipient_id == reader
            and dataset
            and g.dataset == dataset
        ]
        if token is not None and token.agreement_ids:
            scoped = [g for g in candidates if g.agreement_id in token.agreement_ids]
            if candidates and not scoped:
                return _deny(
                    "This API token is not allowed to use the agreements that cover this data."
                )
            candidates = scoped
        if not candidates:
            return _deny(NO_AGREEMENT)
        ground = _best_grant(candidates, action, resource, purpose, now)
        if not ground.permitted:
            return ground
        grounds.append(ground)
    if not grounds:
        return _permit(f"{membership.organisation_name} is the controller of its own data.")
    return _combine(grounds)


def _needs(resource: Resource) -> set[tuple[str, str]]:
    """The (controller, dataset) pairs a reader needs a ground for. Data of one dataset needs
    a grant of that dataset from every controller; data with no dataset of its own, made from
    several (a linked dataset), needs one for each dataset each controller gave it. Data with
    neither can be read by its controllers only (an empty dataset matches no grant)."""
    if resource.dataset or not resource.source_datasets:
        return {(controller, resource.dataset) for controller in resource.controllers}
    pairs = set(resource.source_datasets)
    # A source controller whose dataset is unknown still needs a ground: it can have none.
    named = {controller for controller, _ in pairs}
    pairs |= {
        (c, "")
        for c in resource.controllers
        if c not in named and c != resource.owner_organisation_id
    }
    return pairs


# Which of a flow's actions allow each way of reading (DESIGN.md: view, extract, aggregate
# only, link). Reading records through the API takes them out of Accord: an extract.
_FLOW_ACTIONS: dict[Action, frozenset[str]] = {
    Action.VIEW: frozenset({"view", "extract"}),
    Action.EXTRACT: frozenset({"extract"}),
    Action.API_READ: frozenset({"extract"}),
    Action.AGGREGATE: frozenset({"view", "extract", "aggregate_only"}),
    Action.LINK: frozenset({"link"}),
}

_ENDED = {
    "expired": "has expired",
    "terminated": "has been terminated",
    "superseded": "has been replaced by a newer version",
}


def _normal(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold().rstrip(".")


def _day(value: date) -> str:
    return date_format(value, "j F Y")


def _best_grant(
    candidates: Iterable[GrantFacts],
    action: Action,
    resource: Resource,
    purpose: str,
    now: datetime,
) -> _Verdict:
    """The widest permit any one of ``candidates`` gives, or a deny with why none does."""
    verdicts = [
        _grant_verdict(g, action, resource, purpose, now)
        for g in sorted(candidates, key=lambda g: (g.agreement_id, g.flow_id))
    ]
    permits = [v for v in verdicts if v.permitted]
    if not permits:
        return _deny(*(r for v in verdicts for r in v.reasons))

    def breadth(verdict: _Verdict) -> tuple[bool, int, int]:
        o = verdict.obligations
        allowed = len(o.allowed_fields or ())
        changed = len(o.pseudonymise_fields) + len(o.generalise_fields)
        return (not o.aggregate_only, allowed, -changed)

    widest = max(permits, key=breadth)
    # Whichever grant is widest, the opt-out applies if any grant for this purpose applies it.
    opt_out = tuple(sorted({c for v in permits for c in v.obligations.opt_out_for}))
    if opt_out and not widest.obligations.opt_out_for:
        nhs = tuple(dict.fromkeys(n for v in permits for n in v.obligations.nhs_number_fields))
        obligations = dataclasses.replace(
            widest.obligations, opt_out_for=opt_out, nhs_number_fields=nhs
        )
        widest = dataclasses.replace(widest, obligations=obligations)
    return widest


def _grant_verdict(
    grant: GrantFacts, action: Action, resource: Resource, purpose: str, now: datetime
) -> _Verdict:
    title = f"“{grant.agreement_title}”"
    status = grant.agreement_status
    if status == "suspended":
        return _deny(f"The agreement {title} is suspended, so no data flows under it.")
    if status in _ENDED:
        return _deny(f"The agreement {title} {_ENDED[status]}, so no data flows under it.")
    if status != "active":
        return _deny(f"The agreement {title} is not yet in force.")
    today = timezone.localdate(now)
    if grant.starts_on is not None and today < grant.starts_on:
        return _deny(f"The agreement {title} starts on {_day(grant.starts_on)}.")
    if grant.ends_on is not None and today > grant.ends_on:
        return _deny(f"The agreement {title} ended on {_day(grant.ends_on)}.")
    if grant.review_on is not None and today > grant.review_on:
        return _deny(
            f"The agreement {title} was due for review on {_day(grant.review_on)} and has not "
            "been reviewed, so no data flows under it until it is."
        )
    allowed_actions = _FLOW_ACTIONS[action] & grant.actions
    if not allowed_actions:
        if "aggregate_only" in grant.actions:
            return _deny(
                f"The agreement {title} allows only disclosure-controlled aggregate figures "
                "from this data, not records."
            )
        return _deny(f"The agreement {title} does not allow you to {action.label.lower()}.")
    wanted = _normal(purpose)
    for code, label in grant.prohibited_uses:
        if any(term and term in wanted for term in (_normal(label), _normal(code))):
            return _deny(f"The agreement {title} rules out this use: {label}.")
    matched_ids = [i for i, t in grant.purposes if wanted in (_normal(i), _normal(t))]
    matched = [t for i, t in grant.purposes if i in matched_ids]
    if not matched:
        named = "; ".join(f"“{t}”" for _, t in grant.purposes) or "none"
        return _deny(
            f"“{purpose}” is not a purpose of the agreement {title}. Its purposes are: {named}."
        )
    obligations = _obligations(
        grant,
        aggregate_only=allowed_actions == {"aggregate_only"},
        opt_out=any(i in grant.opt_out_purposes for i in matched_ids),
    )
    granted = set(obligations.allowed_fields or ())
    refused = [name for name in resource.fields if name not in granted]
    if refused:
        names = ", ".join(refused)
        return _deny(f"The agreement {title} does not grant these fields: {names}.")
    return _permit(
        f"The agreement {title} grants this to your organisation for “{matched[0]}”.",
        obligations,
        ((grant.agreement_id, grant.agreement_title),),
    )


def generalisation_level(field: FieldGrant) -> str:
    """How far a field marked generalise (or truncate) is coarsened, or "" when it cannot be."""
    coarse = field.transformation == "truncate"
    if field.identifier_type == "postcode" or "postcode" in field.name.lower():
        return "postcode_district" if coarse else "postcode_sector"
    if field.data_type in ("date", "datetime"):
        birth = "birth" in field.name.lower() or field.name.lower() == "dob"
        return "age_band" if birth and not coarse else "year"
    return ""


def _obligations(grant: GrantFacts, *, aggregate_only: bool, opt_out: bool = False) -> Obligations:
    allowed: list[str] = []
    drop: list[str] = []
    pseudonymise: list[str] = []
    types: list[tuple[str, str]] = []
    generalise: list[tuple[str, str]] = []
    for f in grant.fields:
        if f.transformation in ("suppress", "aggregate"):
            drop.append(f.name)  # never leaves as a record-level value
            continue
        if f.transformation in ("generalise", "truncate"):
            level = generalisation_level(f)
            if not level:
                drop.append(f.name)  # nothing safe to coarsen it to: it does not leave
                continue
            generalise.append((f.name, level))
        elif f.transformation == "pseudonymise_keyed_hash":
            pseudonymise.append(f.name)
            types.append((f.name, f.identifier_type))
        allowed.append(f.name)
    row_filter = (grant.row_filter,) if grant.row_filter is not None else ()
    return Obligations(
        drop_fields=tuple(drop),
        pseudonymise_fields=tuple(pseudonymise),
        generalise_fields=tuple(generalise),
        row_filter=row_filter,
        aggregate_only=aggregate_only,
        allowed_fields=tuple(allowed),
        identifier_types=tuple(types),
        pseudonym_agreement=grant.agreement_id if pseudonymise else "",
        opt_out_for=(grant.provider_id,) if opt_out else (),
        nhs_number_fields=tuple(f.name for f in grant.fields if f.identifier_type == "nhs_number")
        if opt_out
        else (),
    )


# When sources generalise a field differently, the coarser level wins (a five-year age band
# says less than a year of birth; a postcode district less than a sector).
_COARSENESS = {"postcode_sector": 1, "postcode_district": 2, "year": 1, "age_band": 2}


def _combine(grounds: list[_Verdict]) -> _Verdict:
    """One permit from the grounds for each controller: every limit of every one applies."""
    first = grounds[0].obligations
    allowed = list(first.allowed_fields or ())
    drop: dict[str, None] = {}
    pseudonymise: dict[str, None] = {}
    types: dict[str, str] = {}
    generalise: dict[str, str] = {}
    filters: dict[str, set[str]] = {}
    for ground in grounds:
        o = ground.obligations
        kept = set(o.allowed_fields or ())
        allowed = [name for name in allowed if name in kept]
        drop.update(dict.fromkeys(o.drop_fields))
        pseudonymise.update(dict.fromkeys(o.pseudonymise_fields))
        types.update(dict(o.identifier_types))
        for name, level in o.generalise_fields:
            if _COARSENESS.get(level, 0) > _COARSENESS.get(generalise.get(name, ""), -1):
                generalise[name] = level
        for column, values in o.row_filter:
            filters[column] = filters[column] & set(values) if column in filters else set(values)
    obligations = Obligations(
        drop_fields=tuple(drop),
        pseudonymise_fields=tuple(pseudonymise),
        generalise_fields=tuple(generalise.items()),
        row_filter=tuple((c, tuple(sorted(v))) for c, v in filters.items()),
        aggregate_only=any(g.obligations.aggregate_only for g in grounds),
        allowed_fields=tuple(allowed),
        identifier_types=tuple((n, t) for n, t in types.items() if n in pseudonymise),
        pseudonym_agreement=next(
            (
                g.obligations.pseudonym_agreement
                for g in grounds
                if g.obligations.pseudonym_agreement
            ),
            "",
        ),
        # Strictest wins: any source whose agreement applies the opt-out applies it.
        opt_out_for=tuple(sorted({c for g in grounds for c in g.obligations.opt_out_for})),
        nhs_number_fields=tuple(
            dict.fromkeys(n for g in grounds for n in g.obligations.nhs_number_fields)
        ),
    )
    agreements = tuple(dict.fromkeys(a for g in grounds for a in g.agreements))
    return _Verdict(
        permitted=True,
        reasons=tuple(dict.fromkeys(r for g in grounds for r in g.reasons)),
        obligations=obligations,
        agreements=agreements,
    )


def _membership_problem(facts: Facts) -> str | None:
    """Why the person cannot read data for the organisation it acts for, or None."""
    membership = facts.membership
    if not facts.acting_for:
        return "Choose the organisation you are acting for before reading shared data."
    if membership is None or membership.organisation_id != facts.acting_for:
        return "You are not a member of the organisation you are acting for."
    name = membership.organisation_name
    if not membership.organisation_active:
        return f"{name} is not active on Accord, so its members cannot read shared data."
    if not membership.membership_active:
        return f"Your membership of {name} is not active."
    if not membership.roles & DATA_READING_ROLES:
        return (
            f"Your roles at {name} do not include reading data. "
            "Ask an organisation admin for the data officer or analyst role."
        )
    return None


def _task(facts: Facts, action: Action, resource: Resource) -> _Verdict:
    if facts.task_name not in Task.values or facts.actor_ref != f"task:{facts.task_name}":
        named = f"“{facts.task_name}”" if facts.task_name else "A task with no name"
        return _deny(f"{named} is not one of Accord's tasks, so it reads no data.")
    task = Task(facts.task_name)
    needs = TASK_NEEDS[task]
    if action not in needs.actions:
        return _deny(f"The {task.value} task may not {action.label.lower()}: it {needs.why}.")
    if resource.kind not in needs.resource_kinds:
        return _deny(
            f"The {task.value} task does not read {resource.kind.label.lower()}s: it {needs.why}."
        )
    if facts.acting_for and facts.acting_for != resource.owner_organisation_id:
        # Working for one organisation on another's data is sharing, which needs an agreement.
        return _deny(NO_AGREEMENT)
    return _permit(
        f"Processing on the controller's behalf: the {task.value} task {needs.why}.",
        Obligations(on_behalf_of_controller=resource.owner_organisation_id),
    )


def decide(
    *,
    actor: Actor,
    action: Action | str,
    resource: Resource,
    purpose: str,
    now: datetime | None = None,
) -> Decision:
    """Decide whether ``actor`` may take ``action`` on ``resource`` for ``purpose``, record the
    decision in the audit chain, and return it. A deny is returned, not raised; the reader
    calls ``decision.require(...)``.

    The facts are read and the decision recorded in one transaction of its own. Call this
    outside any transaction that might roll back: inside one, the audit event is only a
    savepoint and a later rollback would erase the record of a deny.
    """
    # queries imports Facts from this module, so it is imported here rather than at the top.
    from .queries import facts_about

    now = now or timezone.now()
    with transaction.atomic():
        decision = evaluate(facts_about(actor, resource), action, resource, purpose, now)
        record(
            by=actor,
            action=AUDIT_ACTION,
            target=decision.resource.ref,
            purpose=decision.purpose[:PURPOSE_MAX_LENGTH],
            outcome=Outcome.PERMIT if decision.permitted else Outcome.DENY,
            reason=decision.reason,
            details=_audit_details(decision, actor.roles),
            subject_organisation_id=decision.resource.owner_organisation_id,
        )
    return decision


def _audit_details(decision: Decision, roles: Iterable[str] = ()) -> dict[str, Any]:
    resource = decision.resource
    return {
        "decision_id": str(decision.decision_id),
        "permitted": decision.permitted,
        "action": decision.action.value,
        "resource": {
            "kind": resource.kind.value,
            "id": resource.id,
            "owner_organisation_id": resource.owner_organisation_id,
            "fields": list(resource.fields),
            "description": resource.description,
            "dataset": resource.dataset,
            "sources": list(resource.sources),
        },
        "reasons": list(decision.reasons),
        "obligations": decision.obligations.as_dict(),
        "agreement": (
            {"id": decision.agreements[0][0], "title": decision.agreements[0][1]}
            if decision.agreements
            else None
        ),
        "agreements": [{"id": i, "title": t} for i, t in decision.agreements],
        "roles": list(roles),
        "decided_at": decision.decided_at.isoformat(),
        "expires_at": decision.expires_at.isoformat(),
    }
