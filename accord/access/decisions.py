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

The first cut knows two grounds (DESIGN.md, "Who may read shared data"): an organisation
reading its own data, as its controller, and Accord's own tasks processing data on the
controller's behalf. Everything else is denied until agreements are added.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.db import transaction
from django.utils import timezone

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
    fields: tuple[str, ...] = ()
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ResourceKind(self.kind))
        object.__setattr__(self, "id", str(self.id).strip())
        object.__setattr__(self, "owner_organisation_id", str(self.owner_organisation_id).strip())
        object.__setattr__(self, "fields", tuple(str(name) for name in self.fields))
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


def _deny(*reasons: str) -> _Verdict:
    return _Verdict(permitted=False, reasons=reasons)


def _permit(reason: str, obligations: Obligations | None = None) -> _Verdict:
    return _Verdict(permitted=True, reasons=(reason,), obligations=obligations or Obligations())


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
    verdict = _verdict(facts, action, resource, purpose)
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
    )


def _verdict(facts: Facts, action: Action, resource: Resource, purpose: str) -> _Verdict:
    if not purpose:
        return _deny("State the purpose for which you need this data.")
    if len(purpose) > PURPOSE_MAX_LENGTH:
        return _deny(f"State the purpose in at most {PURPOSE_MAX_LENGTH} characters.")
    if facts.actor_kind is ActorKind.PERSON:
        return _person(facts, resource)
    if facts.actor_kind is ActorKind.TASK:
        return _task(facts, action, resource)
    if facts.actor_kind is ActorKind.ANONYMOUS:
        return _deny("Sign in to read shared data.")
    if facts.actor_kind is ActorKind.SYSTEM:
        return _deny("Set-up and maintenance commands never read shared data.")
    return _deny("Nothing grants this access.")  # deny by default


def _person(facts: Facts, resource: Resource) -> _Verdict:
    if not facts.user_active:
        return _deny("Your account is not active, so it cannot read shared data.")
    problem = _membership_problem(facts)
    if problem is not None:
        return _deny(STAFF_METADATA_ONLY, problem) if facts.is_platform_staff else _deny(problem)
    membership = facts.membership
    if membership is None:  # _membership_problem has ruled this out; deny all the same
        return _deny("You are not a member of the organisation you are acting for.")
    if resource.owner_organisation_id != membership.organisation_id:
        return _deny(NO_AGREEMENT)
    return _permit(f"{membership.organisation_name} is the controller of its own data.")


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
        decision = evaluate(facts_about(actor), action, resource, purpose, now)
        record(
            by=actor,
            action=AUDIT_ACTION,
            target=decision.resource.ref,
            purpose=decision.purpose[:PURPOSE_MAX_LENGTH],
            outcome=Outcome.PERMIT if decision.permitted else Outcome.DENY,
            reason=decision.reason,
            details=_audit_details(decision),
            subject_organisation_id=decision.resource.owner_organisation_id,
        )
    return decision


def _audit_details(decision: Decision) -> dict[str, Any]:
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
        },
        "reasons": list(decision.reasons),
        "obligations": decision.obligations.as_dict(),
        "decided_at": decision.decided_at.isoformat(),
        "expires_at": decision.expires_at.isoformat(),
    }
