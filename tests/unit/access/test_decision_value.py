"""The Decision value: only the decision point makes one, and require() checks it before a read."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import uuid
from datetime import timedelta
from typing import Any

import pytest

from accord.access.decisions import DECISION_LIFETIME, Decision, Obligations, Resource, evaluate
from accord.access.enums import Action, ResourceKind
from accord.access.exceptions import AccessDenied
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused

from .helpers import NOW, OTHER, OWN, PURPOSE, actor_of, person, resource


@pytest.fixture
def permit() -> Decision:
    decision = evaluate(person(), Action.VIEW, resource(), PURPOSE, NOW)
    assert decision.permitted
    return decision


@pytest.fixture
def deny() -> Decision:
    decision = evaluate(person(), Action.VIEW, resource(owner=OTHER), PURPOSE, NOW)
    assert not decision.permitted
    return decision


def fields_of(decision: Decision) -> dict[str, Any]:
    return {f.name: getattr(decision, f.name) for f in dataclasses.fields(decision)}


class TestUnforgeable:
    def test_direct_construction_is_refused(self, deny):
        with pytest.raises(TypeError, match="Only the decision point"):
            Decision(_issued_by=None, **fields_of(deny) | {"permitted": True})

    def test_construction_with_a_lookalike_sentinel_is_refused(self, deny):
        with pytest.raises(TypeError, match="Only the decision point"):
            Decision(_issued_by=object(), **fields_of(deny) | {"permitted": True})

    def test_construction_without_the_sentinel_is_refused(self, deny):
        with pytest.raises(TypeError):
            Decision(**fields_of(deny))

    def test_replace_cannot_turn_a_deny_into_a_permit(self, deny):
        with pytest.raises(ValueError, match="_issued_by"):
            dataclasses.replace(deny, permitted=True)

    def test_replace_with_a_guessed_sentinel_is_refused(self, deny):
        with pytest.raises(TypeError, match="Only the decision point"):
            dataclasses.replace(deny, permitted=True, _issued_by=object())

    def test_replace_cannot_move_a_permit_to_other_data(self, permit):
        with pytest.raises(ValueError, match="_issued_by"):
            dataclasses.replace(permit, resource=resource(owner=OTHER))

    def test_fields_cannot_be_assigned(self, deny):
        with pytest.raises(dataclasses.FrozenInstanceError):
            deny.permitted = True

    def test_it_cannot_be_pickled(self, permit):
        with pytest.raises(TypeError, match="cannot be serialised"):
            pickle.dumps(permit)

    def test_copies_are_the_same_decision(self, permit):
        assert copy.copy(permit) is permit
        assert copy.deepcopy(permit) is permit

    def test_every_decision_is_distinct_but_equal_decisions_compare_equal(self, permit):
        again = evaluate(person(), Action.VIEW, resource(), PURPOSE, NOW)
        assert again.decision_id != permit.decision_id
        assert isinstance(again.decision_id, uuid.UUID)
        assert again == permit


class TestRequire:
    def test_a_permit_passes_for_its_actor_action_and_resource(self, permit):
        actor = actor_of(person())
        assert permit.require(actor=actor, action=Action.VIEW, resource=resource(), now=NOW)

    def test_a_permit_passes_until_just_before_it_expires(self, permit):
        last_moment = permit.expires_at - timedelta(microseconds=1)
        assert last_moment - permit.decided_at < DECISION_LIFETIME
        permit.require(
            actor=actor_of(person()), action="view", resource=resource(), now=last_moment
        )

    def test_a_deny_raises_with_its_reasons(self, deny):
        with pytest.raises(AccessDenied) as raised:
            deny.require(actor=actor_of(person()), action=Action.VIEW, resource=deny.resource)
        assert raised.value.reasons == deny.reasons
        assert raised.value.decision is deny
        assert str(raised.value) == deny.reason
        assert isinstance(raised.value, Refused)
        assert raised.value.target == "submission:41"

    def test_an_expired_permit_raises(self, permit):
        with pytest.raises(AccessDenied, match="expired"):
            permit.require(
                actor=actor_of(person()),
                action=Action.VIEW,
                resource=resource(),
                now=permit.expires_at,
            )

    def test_a_permit_is_checked_against_the_clock_by_default(self, permit):
        # Made in 2025: long expired now.
        with pytest.raises(AccessDenied, match="expired"):
            permit.require(actor=actor_of(person()), action=Action.VIEW, resource=resource())

    def test_another_action_raises(self, permit):
        with pytest.raises(AccessDenied, match="was to view the records, not to take"):
            permit.require(
                actor=actor_of(person()), action=Action.EXTRACT, resource=resource(), now=NOW
            )

    @pytest.mark.parametrize(
        "other",
        [
            Resource(kind=ResourceKind.SUBMISSION, id="42", owner_organisation_id=OWN),
            Resource(
                kind=ResourceKind.EXTRACT,
                id="41",
                owner_organisation_id=OWN,
                fields=("uprn", "parent_dob", "qualifying_benefit"),
            ),
            Resource(
                kind=ResourceKind.SUBMISSION,
                id="41",
                owner_organisation_id=OWN,
                fields=("uprn", "parent_dob", "qualifying_benefit", "parent_nino"),
            ),
        ],
        ids=["other id", "other kind", "more fields"],
    )
    def test_another_resource_raises(self, permit, other):
        with pytest.raises(AccessDenied, match="different item of data"):
            permit.require(actor=actor_of(person()), action=Action.VIEW, resource=other, now=NOW)

    def test_the_description_is_not_part_of_the_resource(self, permit):
        same = dataclasses.replace(resource(), description="Renamed")
        permit.require(actor=actor_of(person()), action=Action.VIEW, resource=same, now=NOW)

    @pytest.mark.parametrize(
        "actor",
        [
            Actor.task("validation", organisation_id=OWN),
            Actor.anonymous(),
            dataclasses.replace(actor_of(person()), ref="user:8"),
            dataclasses.replace(actor_of(person()), organisation_id=OTHER),
        ],
        ids=["task", "anonymous", "another person", "acting for another organisation"],
    )
    def test_another_actor_raises(self, permit, actor):
        with pytest.raises(AccessDenied, match="made for someone else"):
            permit.require(actor=actor, action=Action.VIEW, resource=resource(), now=NOW)


class TestValues:
    def test_a_resource_needs_an_id_and_an_owner(self):
        with pytest.raises(ValueError, match="id"):
            Resource(kind=ResourceKind.SUBMISSION, id=" ", owner_organisation_id=OWN)
        with pytest.raises(ValueError, match="organisation"):
            Resource(kind=ResourceKind.SUBMISSION, id="1", owner_organisation_id="")

    def test_a_resource_of_an_unknown_kind_is_refused(self):
        with pytest.raises(ValueError, match="spreadsheet"):
            Resource(kind="spreadsheet", id="1", owner_organisation_id=OWN)  # type: ignore[arg-type]

    def test_a_resource_id_fits_the_audit_log(self):
        with pytest.raises(ValueError, match="at most 200"):
            Resource(kind=ResourceKind.SUBMISSION, id="9" * 201, owner_organisation_id=OWN)

    def test_a_resource_takes_ids_as_text(self):
        made = Resource(kind="collection", id=5, owner_organisation_id=3)  # type: ignore[arg-type]
        assert made.ref == "collection:5"
        assert made.owner_organisation_id == "3"
        assert made.kind is ResourceKind.COLLECTION

    def test_the_empty_obligations_oblige_nothing(self):
        assert Obligations().as_dict() == {
            "drop_fields": (),
            "pseudonymise_fields": (),
            "generalise_fields": (),
            "row_filter": (),
            "aggregate_only": False,
            "on_behalf_of_controller": "",
            "allowed_fields": None,
            "identifier_types": (),
            "pseudonym_agreement": "",
            "opt_out_for": (),
            "nhs_number_fields": (),
        }
