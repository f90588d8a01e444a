"""Properties of ``evaluate`` over generated facts with grants: agreements of every status and
term, flows of every action, fields of every transformation, row filters, API tokens, and data
derived from several controllers."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from accord.access.decisions import (
    DECISION_LIFETIME,
    NO_AGREEMENT,
    Decision,
    Facts,
    FieldGrant,
    GrantFacts,
    MembershipFacts,
    Resource,
    TokenFacts,
    evaluate,
)
from accord.access.enums import Action, ResourceKind
from accord.access.exceptions import AccessDenied
from accord.audit.actor import Actor, ActorKind
from accord.organisations.enums import DATA_READING_ROLES, Role

from .grant_facts import DATASET
from .helpers import NOW

# No deadline: these tests assert properties, never timings.
PROPERTIES = settings(deadline=None, max_examples=150)

ORGANISATIONS = ("1", "2", "3", "4")
STATUSES = (
    *("active", "active", "active"),
    *("suspended", "expired", "terminated", "superseded", "draft", "in_review"),
)
AGREEMENTS = ("a1", "a2", "a3")
PURPOSES = (("p1", "Plan cost of living support"), ("p2", "Plan temporary housing"))
ASKED_PURPOSES = (
    "Plan cost of living support",
    "Plan cost of living support",
    "  plan COST of living   support. ",
    "p1",
    "P2",
    "Plan temporary housing",
    "Marketing to claimants",
    "Audit council tax discounts",
)
PROHIBITED = (("marketing", "Marketing"), ("reidentification", "Re-identification"))
FIELD_POOL = (
    FieldGrant("nino", "pseudonymise_keyed_hash", "identifier", "nino"),
    FieldGrant("nino", "none", "identifier", "nino"),
    FieldGrant("uprn", "pseudonymise_keyed_hash", "identifier", "uprn"),
    FieldGrant("uprn", "none", "identifier", "uprn"),
    FieldGrant("date_of_birth", "generalise", "date"),
    FieldGrant("date_of_birth", "truncate", "date"),
    FieldGrant("postcode", "generalise", "identifier", "postcode"),
    FieldGrant("postcode", "truncate", "identifier", "postcode"),
    FieldGrant("ltla_cd", "none", "identifier", "gss_code"),
    FieldGrant("award_band", "aggregate", "code"),
    FieldGrant("notes", "suppress"),
    FieldGrant("household_size", "generalise", "integer"),
    FieldGrant("tenure"),
)
FIELD_NAMES = sorted({f.name for f in FIELD_POOL} | {"bank_account"})
FLOW_ACTIONS = ("view", "extract", "aggregate_only", "link")
AREAS = ("E07000110", "E07000106", "E07000111")
TODAY = NOW.date()

# Which flow actions allow each action (the rule book, restated for the properties).
ALLOWS = {
    Action.VIEW: {"view", "extract"},
    Action.EXTRACT: {"extract"},
    Action.API_READ: {"extract"},
    Action.AGGREGATE: {"view", "extract", "aggregate_only"},
    Action.LINK: {"link"},
}


def _normal(text: str) -> str:
    return " ".join(text.replace("_", " ").split()).casefold().rstrip(".")


# Term dates: none, or either side of today (the boundaries), or far off; mostly in force.
STARTS = st.sampled_from([None, None, *(TODAY + timedelta(days=n) for n in (-400, -1, 0, 1))])
ENDS = st.sampled_from([None, None, *(TODAY + timedelta(days=n) for n in (400, 1, 0, -1))])


@st.composite
def grants(draw: st.DrawFn, reader: str, controllers: tuple[str, ...]) -> GrantFacts:
    """A grant, most often to ``reader`` from one of ``controllers`` on the dataset, in force,
    for the first purpose: so that permits are met as often as denies."""
    chosen = draw(st.lists(st.sampled_from(FIELD_POOL), max_size=7))
    return GrantFacts(
        agreement_id=draw(st.sampled_from(AGREEMENTS)),
        agreement_title=draw(st.sampled_from(["Housing benefit", "Health and housing"])),
        agreement_status=draw(st.sampled_from(STATUSES)),
        flow_id=f"flow-{draw(st.integers(0, 10**6))}",
        provider_id=draw(st.sampled_from((*controllers, *controllers, *ORGANISATIONS))),
        recipient_id=draw(st.sampled_from((reader, reader, reader, *ORGANISATIONS))),
        dataset=draw(st.sampled_from((DATASET, DATASET, DATASET, "council-tax-support"))),
        fields=tuple({f.name: f for f in chosen}.values()),  # one grant per field name
        purposes=draw(st.sampled_from(PURPOSE_SETS)),
        actions=draw(st.sampled_from(ACTION_SETS)),
        row_filter=draw(st.sampled_from(ROW_FILTERS)),
        prohibited_uses=draw(st.sampled_from(((), (), PROHIBITED))),
        starts_on=draw(STARTS),
        ends_on=draw(ENDS),
        review_on=draw(ENDS),
    )


PURPOSE_SETS = ((PURPOSES[0],), (PURPOSES[0],), PURPOSES, (PURPOSES[1],), ())
ACTION_SETS = tuple(
    frozenset(a)
    for a in (
        {"view", "extract"},
        {"view", "extract"},
        {"view"},
        {"extract"},
        {"aggregate_only"},
        {"link"},
        {"view", "link"},
        {"aggregate_only", "view"},
    )
)
ROW_FILTERS = (
    None,
    ("ltla_cd", (AREAS[0],)),
    ("ltla_cd", AREAS[:2]),
    ("ltla_cd", AREAS[1:]),
    ("tenure", ("council",)),
)


@st.composite
def requests(
    draw: st.DrawFn, *, eligible: bool = True, own: bool | None = None
) -> tuple[Facts, Action, Resource, str, datetime]:
    """evaluate()'s arguments: a person (an eligible member unless ``eligible`` is False)
    asking for data of one or more controllers, with grants to many parties."""
    reader = draw(st.sampled_from(ORGANISATIONS))
    if own is True:
        owner = reader
    else:
        owner = draw(st.sampled_from([o for o in ORGANISATIONS if o != reader or own is None]))
    sources = tuple(draw(st.lists(st.sampled_from(ORGANISATIONS), max_size=2)))
    resource = Resource(
        kind=draw(st.sampled_from(list(ResourceKind))),
        id=draw(st.sampled_from(["41", "0b4c6f5e", "linked-7"])),
        owner_organisation_id=owner,
        fields=draw(
            st.sampled_from(((), (), ("nino",), ("ltla_cd", "tenure")))
            | st.lists(st.sampled_from(FIELD_NAMES), max_size=3, unique=True).map(tuple)
        ),
        dataset=draw(st.sampled_from((DATASET, DATASET, DATASET, ""))),
        sources=sources,
        deleted=draw(st.integers(0, 9)) == 0,
        retention_deadline=draw(
            st.sampled_from((None, None, None, NOW - timedelta(days=1), NOW, NOW + timedelta(1)))
        ),
    )
    if eligible:
        roles = frozenset({Role.ANALYST.value})
        active = (True, True, True)
    else:
        roles = draw(st.frozensets(st.sampled_from(Role.values), max_size=3))
        active = (draw(st.booleans()), draw(st.booleans()), draw(st.booleans()))
    membership = MembershipFacts(
        organisation_id=reader,
        organisation_name=f"Council {reader}",
        organisation_active=active[0],
        membership_active=active[1],
        roles=roles,
    )
    token = draw(
        st.sampled_from(TOKENS)
        | st.sampled_from(TOKENS)
        | st.builds(
            TokenFacts,
            ref=st.just("api_token:3"),
            agreement_ids=st.frozensets(st.sampled_from(AGREEMENTS), max_size=2),
            actions=st.frozensets(st.sampled_from(Action.values), max_size=3),
        )
    )
    facts = Facts(
        actor_kind=ActorKind.PERSON,
        actor_ref=f"user:{draw(st.integers(1, 3))}",
        acting_for=reader,
        user_active=active[2],
        is_platform_staff=draw(st.booleans()),
        membership=membership,
        grants=tuple(draw(st.lists(grants(reader, resource.controllers), max_size=6))),
        token=token,
    )
    action = draw(st.sampled_from(list(Action)))
    purpose = draw(st.sampled_from(ASKED_PURPOSES))
    now = NOW + draw(st.sampled_from([timedelta(0), timedelta(0), timedelta(hours=15)]))
    return facts, action, resource, purpose, now


TOKENS = (None, None, None, TokenFacts(ref="api_token:3", problem="This API token has expired."))


@st.composite
def grounded_requests(draw: st.DrawFn) -> tuple[Facts, Action, Resource, str, datetime]:
    """A request of ``requests()`` made to stand on grounds: every controller but the reader
    grants the reader this action, for the first purpose, now, alongside the drawn grants
    (whose own faults may still decide). Mostly permits, so the properties meet many."""
    facts, action, resource, _, now = draw(requests(own=False))
    resource = dataclasses.replace(
        resource, dataset=DATASET, deleted=False, retention_deadline=None
    )
    plain = tuple(FieldGrant(name) for name in resource.fields)
    grounds = tuple(
        dataclasses.replace(
            draw(grants(facts.acting_for, (controller,))),
            agreement_status="active",
            provider_id=controller,
            recipient_id=facts.acting_for,
            dataset=DATASET,
            purposes=(PURPOSES[0],),
            actions=frozenset({draw(st.sampled_from(sorted(ALLOWS[action])))}),
            starts_on=None,
            ends_on=None,
            review_on=None,
            prohibited_uses=(),
            fields=tuple(
                {f.name: f for f in (*draw(grants(facts.acting_for, ())).fields, *plain)}.values()
            ),
        )
        for controller in others(facts, resource)
    )
    token = facts.token if facts.token is not None and not facts.token.problem else None
    facts = dataclasses.replace(facts, grants=(*facts.grants, *grounds), token=token)
    return facts, action, resource, draw(st.sampled_from(ASKED_PURPOSES[:3])), now


def any_requests() -> st.SearchStrategy[tuple[Facts, Action, Resource, str, datetime]]:
    return st.one_of(requests(), grounded_requests())


def others(facts: Facts, resource: Resource) -> list[str]:
    """The controllers a reader needs a ground for: all but itself."""
    return [c for c in resource.controllers if c != facts.acting_for]


def candidates(facts: Facts, resource: Resource, controller: str) -> list[GrantFacts]:
    return [
        g
        for g in facts.grants
        if g.provider_id == controller
        and g.recipient_id == facts.acting_for
        and resource.dataset
        and g.dataset == resource.dataset
    ]


def usable(g: GrantFacts, action: Action, purpose: str, today: date) -> bool:
    """Whether ``g`` is in force and allows ``action`` for ``purpose`` (fields aside)."""
    wanted = _normal(purpose)
    return (
        g.agreement_status == "active"
        and (g.starts_on is None or g.starts_on <= today)
        and (g.ends_on is None or today <= g.ends_on)
        and (g.review_on is None or today <= g.review_on)
        and bool(ALLOWS[action] & g.actions)
        and any(wanted in (_normal(i), _normal(t)) for i, t in g.purposes)
    )


def granted_names(g: GrantFacts) -> set[str]:
    """The fields a grant lets leave as records (before generalisation's own drops)."""
    return {f.name for f in g.fields if f.transformation not in ("suppress", "aggregate")}


def london_today(now: datetime) -> date:
    from django.utils import timezone

    return timezone.localdate(now)


@PROPERTIES
@given(requests(eligible=False))
def test_reasons_are_never_empty_and_the_decision_is_bound_to_the_request(request_):
    facts, action, resource, _purpose, now = request_
    decision = evaluate(*request_)
    assert decision.reasons
    assert all(isinstance(r, str) and r.strip() for r in decision.reasons)
    assert len(set(decision.reasons)) == len(decision.reasons)
    assert decision.expires_at - decision.decided_at == DECISION_LIFETIME
    assert decision.decided_at == now
    assert (decision.actor_ref, decision.organisation_id) == (facts.actor_ref, facts.acting_for)
    assert (decision.action, decision.resource) == (action, resource)


@PROPERTIES
@given(any_requests(), st.randoms(use_true_random=False))
def test_evaluate_is_deterministic_whatever_the_order_of_the_grants(request_, random):
    facts, action, resource, purpose, now = request_
    first = evaluate(*request_)
    again = evaluate(*request_)
    shuffled = list(facts.grants)
    random.shuffle(shuffled)
    reordered = evaluate(
        dataclasses.replace(facts, grants=tuple(shuffled)), action, resource, purpose, now
    )
    for other in (again, reordered):
        assert other == first  # the id aside, every field
        assert other.reasons == first.reasons
        assert other.obligations == first.obligations
        assert other.agreements == first.agreements


@PROPERTIES
@given(requests(own=False))
def test_deny_by_default_without_a_grant_naming_the_reader(request_):
    facts, action, resource, purpose, now = request_
    unrelated = dataclasses.replace(
        facts, grants=tuple(g for g in facts.grants if g.recipient_id != facts.acting_for)
    )
    decision = evaluate(unrelated, action, resource, purpose, now)
    assert not decision.permitted
    if facts.acting_for not in resource.controllers and not unrelated.grants:
        assert decision.reasons == (NO_AGREEMENT,)


@PROPERTIES
@given(requests(own=False))
def test_a_reader_with_no_grant_for_the_data_learns_only_that(request_):
    facts, action, resource, purpose, now = request_
    assume(facts.acting_for not in resource.controllers)
    decision = evaluate(dataclasses.replace(facts, grants=()), action, resource, purpose, now)
    assert decision.reasons == (NO_AGREEMENT,)
    assert decision.agreements == ()


@PROPERTIES
@given(any_requests())
def test_a_permit_rests_on_a_grant_in_force_for_every_other_controller(request_):
    facts, action, resource, purpose, now = request_
    decision = evaluate(*request_)
    needed = others(facts, resource)
    if not decision.permitted:
        return
    if not needed:
        assert decision.agreements == ()
        return
    today = london_today(now)
    assert decision.agreements
    assert len(decision.agreements) <= len(needed)
    for agreement_id, title in decision.agreements:
        # Every agreement a permit names is in force and grants this, for this purpose.
        assert any(
            g.agreement_id == agreement_id
            and g.agreement_title == title
            and g.provider_id in needed
            and usable(g, action, purpose, today)
            for c in needed
            for g in candidates(facts, resource, c)
        )
    for controller in needed:
        grounds = [
            g for g in candidates(facts, resource, controller) if usable(g, action, purpose, today)
        ]
        assert grounds, f"no ground for controller {controller}"
        assert any((g.agreement_id, g.agreement_title) in decision.agreements for g in grounds)
    # No ground in a prohibited use, and the data is neither deleted nor past retention.
    assert not any(_normal(label) in _normal(purpose) for _, label in PROHIBITED)
    assert not resource.deleted
    assert resource.retention_deadline is None or now < resource.retention_deadline


@PROPERTIES
@given(any_requests())
def test_every_permitted_field_is_granted_by_every_source(request_):
    facts, action, resource, purpose, now = request_
    decision = evaluate(*request_)
    needed = others(facts, resource)
    if not decision.permitted or not needed:
        return
    today = london_today(now)
    allowed = set(decision.obligations.allowed_fields or ())
    assert set(resource.fields) <= allowed
    assert not allowed & set(decision.obligations.drop_fields)
    for controller in needed:
        granted = set().union(
            *(
                granted_names(g)
                for g in candidates(facts, resource, controller)
                if usable(g, action, purpose, today)
            )
        )
        assert allowed <= granted


@PROPERTIES
@given(any_requests())
def test_what_every_grant_of_a_source_requires_is_always_required(request_):
    facts, action, resource, _purpose, _now = request_
    decision = evaluate(*request_)
    needed = others(facts, resource)
    if not decision.permitted or not needed:
        return
    o = decision.obligations
    allowed = set(o.allowed_fields or ())
    filters = dict(o.row_filter)
    for controller in needed:
        grants_of = candidates(facts, resource, controller)
        # A field every grant of a source pseudonymises is pseudonymised, with a key's agreement.
        for name in allowed:
            if all(
                any(
                    f.name == name and f.transformation == "pseudonymise_keyed_hash"
                    for f in g.fields
                )
                for g in grants_of
            ):
                assert name in o.pseudonymise_fields
        # A column every grant of a source filters on is filtered, to no more than they allow.
        for column in {g.row_filter[0] for g in grants_of if g.row_filter}:
            limits = [g.row_filter for g in grants_of]
            if all(limit is not None and limit[0] == column for limit in limits):
                assert column in filters
                assert set(filters[column]) <= {v for limit in limits if limit for v in limit[1]}
        # Records never come from a source whose every grant allows aggregates only.
        if (
            all(not g.actions & {"view", "extract"} for g in grants_of)
            and action is not Action.LINK
        ):
            assert action is Action.AGGREGATE
            assert o.aggregate_only


@PROPERTIES
@given(any_requests())
def test_suspending_a_needed_agreement_turns_a_permit_into_a_deny(request_):
    facts, action, resource, purpose, now = request_
    decision = evaluate(*request_)
    needed = others(facts, resource)
    if not decision.permitted or not needed:
        return
    for agreement_id, _ in decision.agreements:
        suspended = dataclasses.replace(
            facts,
            grants=tuple(
                dataclasses.replace(g, agreement_status="suspended")
                if g.agreement_id == agreement_id
                else g
                for g in facts.grants
            ),
        )
        after = evaluate(suspended, action, resource, purpose, now)
        # Still permitted only on another agreement's grant...
        assert not after.permitted or agreement_id not in dict(after.agreements)
        # ...and never when that agreement was the only one a source granted under.
        if any(
            {g.agreement_id for g in candidates(facts, resource, c)} == {agreement_id}
            for c in needed
        ):
            assert not after.permitted
    everything = dataclasses.replace(
        facts,
        grants=tuple(dataclasses.replace(g, agreement_status="suspended") for g in facts.grants),
    )
    assert not evaluate(everything, action, resource, purpose, now).permitted


@PROPERTIES
@given(any_requests(), st.data())
def test_another_grant_never_turns_a_permit_into_a_deny(request_, data):
    facts, action, resource, purpose, now = request_
    if not evaluate(*request_).permitted:
        return
    extra = data.draw(grants(facts.acting_for, resource.controllers))
    more = dataclasses.replace(facts, grants=(*facts.grants, extra))
    assert evaluate(more, action, resource, purpose, now).permitted


@PROPERTIES
@given(any_requests(), st.sampled_from(["revoked", "other action", "other agreement"]))
def test_a_token_never_widens_access(request_, limit):
    facts, action, resource, purpose, now = request_
    without = evaluate(dataclasses.replace(facts, token=None), action, resource, purpose, now)
    with_token = evaluate(*request_)
    if with_token.permitted:
        assert without.permitted
    token = {
        "revoked": TokenFacts(ref="api_token:9", problem="This API token has been revoked."),
        "other action": TokenFacts(
            ref="api_token:9", actions=frozenset(Action.values) - {action.value}
        ),
        "other agreement": TokenFacts(ref="api_token:9", agreement_ids=frozenset({"a-none"})),
    }[limit]
    limited = evaluate(dataclasses.replace(facts, token=token), action, resource, purpose, now)
    if limit == "other agreement" and not others(facts, resource):
        return  # an agreement scope does not limit an organisation's own data
    assert not limited.permitted


@PROPERTIES
@given(requests(eligible=False))
def test_a_person_without_a_data_reading_role_is_always_denied(request_):
    facts, action, resource, purpose, now = request_
    membership = facts.membership
    assert membership is not None
    no_role = dataclasses.replace(
        facts,
        membership=dataclasses.replace(membership, roles=membership.roles - DATA_READING_ROLES),
    )
    assert not evaluate(no_role, action, resource, purpose, now).permitted


@PROPERTIES
@given(any_requests(), st.sampled_from(list(Action)), st.integers(1, 3), st.booleans())
def test_require_refuses_another_actor_resource_or_action(request_, other_action, user, other_org):
    facts, action, resource, _purpose, now = request_
    decision = evaluate(*request_)
    actor = Actor(
        kind=ActorKind.PERSON,
        ref=facts.actor_ref,
        label="someone",
        organisation_id=facts.acting_for,
    )
    if not decision.permitted:
        with pytest.raises(AccessDenied) as raised:
            decision.require(actor=actor, action=action, resource=resource, now=now)
        assert raised.value.reasons == decision.reasons
        return
    assert decision.require(actor=actor, action=action, resource=resource, now=now) is decision
    someone_else = dataclasses.replace(
        actor,
        ref=f"user:{user}",
        organisation_id="9" if other_org else facts.acting_for,
    )
    if (someone_else.ref, someone_else.organisation_id) != (actor.ref, actor.organisation_id):
        with pytest.raises(AccessDenied, match="made for someone else"):
            decision.require(actor=someone_else, action=action, resource=resource, now=now)
    if other_action is not action:
        with pytest.raises(AccessDenied, match="This access decision was to"):
            decision.require(actor=actor, action=other_action, resource=resource, now=now)
    more = dataclasses.replace(resource, fields=(*resource.fields, "bank_account_extra"))
    with pytest.raises(AccessDenied, match="different item of data"):
        decision.require(actor=actor, action=action, resource=more, now=now)
    with pytest.raises(AccessDenied, match="expired"):
        decision.require(actor=actor, action=action, resource=resource, now=decision.expires_at)


def test_the_requests_reach_permits_on_agreements_as_well_as_denies():
    # Otherwise the properties above could pass without ever meeting a permit on a grant.
    seen: set[str] = set()

    @settings(deadline=None, max_examples=400)
    @given(any_requests())
    def collect(request_):
        facts, _, resource, _, _ = request_
        decision: Decision = evaluate(*request_)
        if decision.permitted and others(facts, resource):
            seen.add("permit on agreements")
            if len(others(facts, resource)) > 1:
                seen.add("permit on several agreements")
        elif decision.permitted:
            seen.add("permit as controller")
        else:
            seen.add("deny")

    collect()
    assert seen == {
        "permit on agreements",
        "permit on several agreements",
        "permit as controller",
        "deny",
    }
