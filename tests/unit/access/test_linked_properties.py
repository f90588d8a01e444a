"""Properties of ``evaluate`` for data made from several datasets (a linked dataset): it has
no dataset of its own, so a reader needs a ground for every (controller, dataset) it was made
from; one missing ground is a deny."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from accord.access.decisions import Resource, evaluate
from accord.access.enums import ResourceKind

from .grant_facts import DATASET
from .test_decision_properties import (
    PROPERTIES,
    any_requests,
    london_today,
    usable,
)

OTHER_DATASET = "council-tax-support"


@st.composite
def linked_requests(draw: st.DrawFn):
    """A request of ``any_requests()`` turned into one for linked data: no dataset of its
    own, made from each controller's data in one or both datasets."""
    facts, action, resource, purpose, now = draw(any_requests())
    pairs = []
    for controller in resource.controllers:
        chosen = draw(st.sampled_from(((DATASET,), (OTHER_DATASET,), (DATASET, OTHER_DATASET))))
        pairs += [(controller, dataset) for dataset in chosen]
    linked = dataclasses.replace(
        resource, kind=ResourceKind.LINKED_DATASET, dataset="", source_datasets=tuple(pairs)
    )
    return facts, action, linked, purpose, now


def _needed(facts, resource: Resource) -> set[tuple[str, str]]:
    return {(c, d) for c, d in resource.source_datasets if c != facts.acting_for} | {
        (c, "")
        for c in resource.controllers
        if c != facts.acting_for and c not in {p for p, _ in resource.source_datasets}
    }


@PROPERTIES
@given(linked_requests())
def test_a_permit_rests_on_a_ground_for_every_controller_and_dataset(request_):
    facts, action, resource, purpose, now = request_
    decision = evaluate(*request_)
    if not decision.permitted:
        return
    today = london_today(now)
    for controller, dataset in _needed(facts, resource):
        assert dataset, "a controller with no known dataset can give no ground"
        assert any(
            g.provider_id == controller
            and g.recipient_id == facts.acting_for
            and g.dataset == dataset
            and usable(g, action, purpose, today)
            for g in facts.grants
        ), (controller, dataset)


@PROPERTIES
@given(linked_requests(), st.data())
def test_taking_away_one_datasets_grants_turns_a_permit_into_a_deny(request_, data):
    facts, action, resource, purpose, now = request_
    needed = sorted(_needed(facts, resource))
    if not evaluate(*request_).permitted or not needed:
        return
    controller, dataset = data.draw(st.sampled_from(needed))
    kept = tuple(
        g for g in facts.grants if not (g.provider_id == controller and g.dataset == dataset)
    )
    poorer = dataclasses.replace(facts, grants=kept)
    assert not evaluate(poorer, action, resource, purpose, now).permitted


@PROPERTIES
@given(any_requests())
def test_data_of_one_dataset_is_decided_as_before(request_):
    """A dataset of its own wins over any recorded sources' datasets."""
    facts, action, resource, purpose, now = request_
    if not resource.dataset:
        return
    noisy = dataclasses.replace(
        resource, source_datasets=tuple((c, OTHER_DATASET) for c in resource.controllers)
    )
    before, after = evaluate(*request_), evaluate(facts, action, noisy, purpose, now)
    assert (after.permitted, after.reasons, after.obligations, after.agreements) == (
        before.permitted,
        before.reasons,
        before.obligations,
        before.agreements,
    )
