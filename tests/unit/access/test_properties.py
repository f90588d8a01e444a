"""Properties of evaluate() over arbitrary facts, resources, purposes and times."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.access.decisions import (
    DECISION_LIFETIME,
    Facts,
    MembershipFacts,
    Obligations,
    Resource,
    evaluate,
)
from accord.access.enums import TASK_NEEDS, Action, ResourceKind, Task
from accord.access.exceptions import AccessDenied
from accord.audit.actor import ActorKind
from accord.organisations.enums import DATA_READING_ROLES, Role

from .helpers import actor_of

# No deadline: these tests assert properties, never timings.
PROPERTIES = settings(deadline=None, max_examples=300)

ORGANISATION_IDS = st.sampled_from(["1", "2", "3"])
ROLES = st.frozensets(st.sampled_from([*Role.values, "not_a_role"]), max_size=4)

memberships = st.builds(
    MembershipFacts,
    organisation_id=ORGANISATION_IDS,
    organisation_name=st.sampled_from(["Council 1", "Council 2", "Council 3"]),
    organisation_active=st.booleans(),
    membership_active=st.booleans(),
    roles=ROLES,
)


@st.composite
def facts(draw: st.DrawFn, kinds: tuple[ActorKind, ...] = tuple(ActorKind)) -> Facts:
    kind = draw(st.sampled_from(kinds))
    task_name = draw(st.one_of(st.sampled_from(Task.values), st.text(max_size=12)))
    ref = {
        ActorKind.PERSON: f"user:{draw(st.integers(1, 5))}",
        ActorKind.TASK: f"task:{task_name}",
        ActorKind.SYSTEM: "system",
        ActorKind.ANONYMOUS: "anonymous",
    }[kind]
    return Facts(
        actor_kind=kind,
        actor_ref=ref,
        acting_for=draw(st.one_of(st.just(""), ORGANISATION_IDS)),
        user_active=draw(st.booleans()),
        is_platform_staff=draw(st.booleans()),
        membership=draw(st.none() | memberships),
        task_name=task_name if kind is ActorKind.TASK else "",
    )


@st.composite
def eligible_people(draw: st.DrawFn) -> Facts:
    """People who meet every ground for reading their own organisation's data."""
    organisation = draw(ORGANISATION_IDS)
    roles = draw(ROLES) | {draw(st.sampled_from(sorted(DATA_READING_ROLES)))}
    return Facts(
        actor_kind=ActorKind.PERSON,
        actor_ref=f"user:{draw(st.integers(1, 5))}",
        acting_for=organisation,
        user_active=True,
        is_platform_staff=draw(st.booleans()),
        membership=MembershipFacts(
            organisation_id=organisation,
            organisation_name=f"Council {organisation}",
            organisation_active=True,
            membership_active=True,
            roles=frozenset(roles),
        ),
    )


def people() -> st.SearchStrategy[Facts]:
    return st.one_of(facts(kinds=(ActorKind.PERSON,)), eligible_people())


def known_tasks() -> st.SearchStrategy[Facts]:
    return st.builds(
        lambda name, acting_for: Facts(
            actor_kind=ActorKind.TASK,
            actor_ref=f"task:{name}",
            acting_for=acting_for,
            task_name=name,
        ),
        st.sampled_from(Task.values),
        st.just("") | ORGANISATION_IDS,
    )


def anyone() -> st.SearchStrategy[Facts]:
    return st.one_of(facts(), eligible_people(), known_tasks())


RESOURCE_FIELDS: dict[str, Any] = {
    "kind": st.sampled_from(list(ResourceKind)),
    "id": st.text(alphabet="0123456789abcdef-", min_size=1, max_size=36),
    "owner_organisation_id": ORGANISATION_IDS,
    "fields": st.lists(st.sampled_from(["uprn", "nhs_number", "postcode", "age"]), max_size=4).map(
        tuple
    ),
}
resources = st.builds(Resource, **RESOURCE_FIELDS)
actions = st.sampled_from(list(Action))
purposes = st.one_of(
    st.just(""),
    st.just("  "),
    st.just("Plan free school meals auto-enrolment"),
    st.text(max_size=40),
    st.text(min_size=490),
)
times = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2040, 1, 1),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=1))]),
)


@st.composite
def requests(draw: st.DrawFn, who: st.SearchStrategy[Facts] | None = None) -> tuple:
    """evaluate()'s arguments (facts, action, resource, purpose, now); the resource is often the
    actor's own organisation's, so permits are met as well as denies."""
    asking = draw(who if who is not None else anyone())
    owner = draw(ORGANISATION_IDS | st.just(asking.acting_for or "1"))
    resource = draw(
        st.builds(Resource, **(RESOURCE_FIELDS | {"owner_organisation_id": st.just(owner)}))
    )
    return asking, draw(actions), resource, draw(purposes), draw(times)


@PROPERTIES
@given(requests())
def test_every_decision_gives_reasons_and_binds_what_was_asked(request_):
    facts, action, resource, why, now = request_
    decision = evaluate(facts, action, resource, why, now)
    assert decision.reasons
    assert all(reason.strip() for reason in decision.reasons)
    assert decision.actor_ref == facts.actor_ref
    assert decision.organisation_id == facts.acting_for
    assert decision.action is action
    assert decision.resource == resource
    assert decision.purpose == " ".join(why.split())
    assert decision.decided_at == now
    assert decision.expires_at == now + DECISION_LIFETIME


@PROPERTIES
@given(requests())
def test_decisions_are_deterministic(request_):
    first = evaluate(*request_)
    second = evaluate(*request_)
    assert first == second
    assert first.decision_id != second.decision_id


@PROPERTIES
@given(requests(people()))
def test_a_person_never_reads_another_organisations_data(request_):
    facts, _, resource, _, _ = request_
    if resource.owner_organisation_id != facts.acting_for:
        assert not evaluate(*request_).permitted


@PROPERTIES
@given(requests(people()))
def test_a_person_is_permitted_only_on_every_ground_at_once(request_):
    facts, _, resource, why, _ = request_
    decision = evaluate(*request_)
    membership = facts.membership
    grounds = (
        0 < len(" ".join(why.split())) <= 500
        and facts.user_active
        and membership is not None
        and membership.organisation_id == facts.acting_for == resource.owner_organisation_id
        and membership.organisation_active
        and membership.membership_active
        and bool(membership.roles & DATA_READING_ROLES)
    )
    assert decision.permitted == grounds
    if decision.permitted:
        assert decision.obligations == Obligations()


@PROPERTIES
@given(requests())
def test_no_purpose_is_never_a_permit(request_):
    facts, action, resource, _, now = request_
    for why in ("", " ", "\n\t"):
        assert not evaluate(facts, action, resource, why, now).permitted


@PROPERTIES
@given(requests())
def test_only_people_and_tasks_are_ever_permitted(request_):
    if evaluate(*request_).permitted:
        assert request_[0].actor_kind in (ActorKind.PERSON, ActorKind.TASK)


@PROPERTIES
@given(requests(st.one_of(facts(kinds=(ActorKind.TASK,)), known_tasks())))
def test_a_task_is_permitted_only_what_it_needs_on_the_controllers_behalf(request_):
    facts, action, resource, why, _ = request_
    decision = evaluate(*request_)
    needed = facts.task_name in Task.values and TASK_NEEDS[Task(facts.task_name)].allows(
        action, resource.kind
    )
    for_owner = facts.acting_for in ("", resource.owner_organisation_id)
    stated = 0 < len(" ".join(why.split())) <= 500
    assert decision.permitted == (needed and for_owner and stated)
    if decision.permitted:
        assert decision.obligations == Obligations(
            on_behalf_of_controller=resource.owner_organisation_id
        )
        assert decision.reasons[0].startswith("Processing on the controller's behalf")


@PROPERTIES
@given(requests(eligible_people()))
def test_taking_away_any_ground_turns_a_permit_into_a_deny(request_):
    facts, action, resource, _, now = request_
    if not evaluate(facts, action, resource, "Plan services", now).permitted:
        return
    membership = facts.membership
    assert membership is not None
    weaker = [
        dataclasses.replace(facts, user_active=False),
        dataclasses.replace(facts, acting_for=""),
        dataclasses.replace(facts, membership=None),
        dataclasses.replace(
            facts, membership=dataclasses.replace(membership, membership_active=False)
        ),
        dataclasses.replace(
            facts, membership=dataclasses.replace(membership, organisation_active=False)
        ),
        dataclasses.replace(
            facts,
            membership=dataclasses.replace(membership, roles=membership.roles - DATA_READING_ROLES),
        ),
        dataclasses.replace(facts, actor_kind=ActorKind.ANONYMOUS),
    ]
    for less in weaker:
        assert not evaluate(less, action, resource, "Plan services", now).permitted


@PROPERTIES
@given(requests(), st.timedeltas(timedelta(0), timedelta(days=9)))
def test_require_passes_a_permit_only_before_it_expires(request_, later):
    facts, action, resource, _, now = request_
    decision = evaluate(*request_)
    actor = actor_of(facts)
    at = now + later
    if decision.permitted and later < DECISION_LIFETIME:
        assert decision.require(actor=actor, action=action, resource=resource, now=at)
    else:
        with pytest.raises(AccessDenied):
            decision.require(actor=actor, action=action, resource=resource, now=at)


@PROPERTIES
@given(requests(), actions, resources)
def test_require_refuses_any_other_action_or_resource(request_, other_action, other_resource):
    facts, action, resource, _, now = request_
    decision = evaluate(*request_)
    actor = actor_of(facts)
    if other_action is not action:
        with pytest.raises(AccessDenied):
            decision.require(actor=actor, action=other_action, resource=resource, now=now)
    if other_resource != resource:
        with pytest.raises(AccessDenied):
            decision.require(actor=actor, action=action, resource=other_resource, now=now)


@pytest.mark.parametrize(
    "who",
    [anyone(), people(), eligible_people(), known_tasks()],
    ids=["anyone", "people", "eligible people", "known tasks"],
)
def test_the_strategies_reach_permits_as_well_as_denies(who):
    # Otherwise the properties above could pass without ever meeting a permit.
    seen: set[bool] = set()

    @PROPERTIES
    @given(requests(who))
    def collect(request_):
        seen.add(evaluate(*request_).permitted)

    collect()
    assert seen == {True, False}
