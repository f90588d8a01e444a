"""The rules, one by one, on evaluate() alone (no database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from accord.access.decisions import (
    DECISION_LIFETIME,
    NO_AGREEMENT,
    STAFF_METADATA_ONLY,
    Facts,
    Obligations,
    evaluate,
)
from accord.access.enums import TASK_NEEDS, Action, ResourceKind, Task
from accord.audit.actor import ActorKind
from accord.organisations.enums import DATA_READING_ROLES, Role

from .helpers import NOW, OTHER, OWN, PURPOSE, membership, person, resource, task


def decide_pure(facts: Facts, action: Action | str = Action.VIEW, **overrides: Any):
    arguments: dict[str, Any] = {"resource": resource(), "purpose": PURPOSE, "now": NOW}
    arguments |= overrides
    return evaluate(facts, action, arguments["resource"], arguments["purpose"], arguments["now"])


class TestOwnData:
    @pytest.mark.parametrize("role", sorted(DATA_READING_ROLES))
    def test_a_data_reading_role_reads_its_own_organisations_data(self, role):
        decision = decide_pure(person(member=membership(roles=(role,))))
        assert decision.permitted
        assert decision.reasons == ("Council 1 is the controller of its own data.",)
        assert decision.obligations == Obligations()

    @pytest.mark.parametrize("action", list(Action))
    def test_the_controller_may_take_every_action_on_its_own_data(self, action):
        assert decide_pure(person(), action).permitted

    def test_the_decision_is_bound_to_what_was_asked(self):
        facts = person()
        decision = decide_pure(facts, Action.EXTRACT)
        assert decision.actor_ref == "user:7"
        assert decision.organisation_id == OWN
        assert decision.action is Action.EXTRACT
        assert decision.resource == resource()
        assert decision.purpose == PURPOSE
        assert decision.decided_at == NOW
        assert decision.expires_at == NOW + DECISION_LIFETIME

    def test_the_decision_lives_a_few_minutes_only(self):
        assert DECISION_LIFETIME.total_seconds() <= 15 * 60


class TestPeopleDenied:
    def test_another_organisations_data(self):
        decision = decide_pure(person(), resource=resource(owner=OTHER))
        assert not decision.permitted
        assert decision.reasons == (NO_AGREEMENT,)

    @pytest.mark.parametrize(
        "roles",
        [
            (Role.VIEWER,),
            (Role.ORGANISATION_ADMIN,),
            (Role.ORGANISATION_ADMIN, Role.VIEWER),
            (Role.CHIEF_EXECUTIVE, Role.SENIOR_MANAGER),
            ("no_such_role",),
            (),
        ],
    )
    def test_roles_that_do_not_read_data(self, roles):
        decision = decide_pure(person(member=membership(roles=roles)))
        assert not decision.permitted
        assert "do not include reading data" in decision.reason

    def test_inactive_membership(self):
        decision = decide_pure(person(member=membership(membership_active=False)))
        assert not decision.permitted
        assert decision.reasons == ("Your membership of Council 1 is not active.",)

    def test_inactive_organisation(self):
        decision = decide_pure(person(member=membership(organisation_active=False)))
        assert not decision.permitted
        assert "Council 1 is not active on Accord" in decision.reason

    def test_inactive_account(self):
        decision = decide_pure(person(user_active=False))
        assert not decision.permitted
        assert "account is not active" in decision.reason

    def test_not_acting_for_the_owner(self):
        # A member of both: acting for the other organisation, reading the owner's data.
        decision = decide_pure(person(OTHER), resource=resource(owner=OWN))
        assert not decision.permitted
        assert decision.reasons == (NO_AGREEMENT,)

    def test_acting_for_the_owner_without_being_its_member(self):
        decision = decide_pure(person(OWN, no_membership=True))
        assert not decision.permitted
        assert "not a member of the organisation you are acting for" in decision.reason

    def test_membership_of_another_organisation_than_the_one_acted_for(self):
        facts = person(OWN, member=membership(OTHER))
        decision = decide_pure(facts, resource=resource(owner=OWN))
        assert not decision.permitted
        assert "not a member" in decision.reason

    def test_acting_for_no_organisation(self):
        decision = decide_pure(person("", no_membership=True))
        assert not decision.permitted
        assert "Choose the organisation you are acting for" in decision.reason

    @pytest.mark.parametrize("acting_for", ["", OWN])
    def test_platform_staff_see_metadata_only(self, acting_for):
        decision = decide_pure(person(acting_for, staff=True, no_membership=True))
        assert not decision.permitted
        assert decision.reasons[0] == STAFF_METADATA_ONLY

    def test_platform_staff_with_a_viewer_membership(self):
        facts = person(staff=True, member=membership(roles=(Role.VIEWER,)))
        decision = decide_pure(facts)
        assert not decision.permitted
        assert decision.reasons[0] == STAFF_METADATA_ONLY

    def test_platform_staff_who_are_data_officers_of_the_owner_read_as_members(self):
        facts = person(staff=True, member=membership(roles=(Role.DATA_OFFICER,)))
        assert decide_pure(facts).permitted


class TestPurpose:
    @pytest.mark.parametrize("purpose", ["", "   ", "\n\t"])
    def test_no_purpose_is_denied(self, purpose):
        decision = decide_pure(person(), purpose=purpose)
        assert not decision.permitted
        assert decision.reasons == ("State the purpose for which you need this data.",)

    def test_no_purpose_denies_tasks_too(self):
        decision = decide_pure(task(Task.VALIDATION), purpose="")
        assert not decision.permitted

    def test_the_purpose_is_kept_with_its_spacing_tidied(self):
        decision = decide_pure(person(), purpose="  Plan  school\nmeals ")
        assert decision.purpose == "Plan school meals"

    def test_a_purpose_too_long_to_audit_is_denied(self):
        decision = decide_pure(person(), purpose="x" * 501)
        assert not decision.permitted
        assert "at most 500 characters" in decision.reason
        assert decide_pure(person(), purpose="x" * 500).permitted


class TestOtherActors:
    @pytest.mark.parametrize("kind", [ActorKind.ANONYMOUS, ActorKind.SYSTEM])
    def test_anonymous_and_system_are_denied(self, kind):
        facts = Facts(actor_kind=kind, actor_ref=str(kind), acting_for=OWN)
        decision = decide_pure(facts)
        assert not decision.permitted
        assert decision.reasons


class TestTasks:
    @pytest.mark.parametrize(
        ("name", "action", "kind"),
        [
            (Task.VALIDATION, Action.VIEW, ResourceKind.SUBMISSION),
            (Task.COMPILATION, Action.VIEW, ResourceKind.SUBMISSION),
            (Task.OUTPUTS, Action.AGGREGATE, ResourceKind.COLLECTION),
            (Task.RETENTION, Action.VIEW, ResourceKind.EXTRACT),
            (Task.LINKAGE, Action.LINK, ResourceKind.DATASET),
            (Task.EXTRACT_BUILD, Action.EXTRACT, ResourceKind.LINKED_DATASET),
        ],
    )
    def test_a_task_takes_the_actions_it_needs(self, name, action, kind):
        decision = decide_pure(task(name), action, resource=resource(OTHER, kind))
        assert decision.permitted
        assert decision.reasons[0].startswith("Processing on the controller's behalf")
        assert decision.obligations == Obligations(on_behalf_of_controller=OTHER)

    def test_a_task_acting_for_the_owner_is_permitted(self):
        decision = decide_pure(task(Task.VALIDATION, acting_for=OWN))
        assert decision.permitted
        assert decision.organisation_id == OWN

    def test_a_task_acting_for_another_organisation_needs_an_agreement(self):
        decision = decide_pure(task(Task.VALIDATION, acting_for=OTHER))
        assert not decision.permitted
        assert decision.reasons == (NO_AGREEMENT,)

    @pytest.mark.parametrize("name", ["", "backup", "Validation", "validation "])
    def test_an_unknown_task_is_denied(self, name):
        decision = decide_pure(task(name))
        assert not decision.permitted
        assert "not one of Accord's tasks" in decision.reason

    def test_a_task_whose_ref_and_name_disagree_is_denied(self):
        facts = Facts(actor_kind=ActorKind.TASK, actor_ref="task:backup", task_name="validation")
        assert not decide_pure(facts).permitted

    @pytest.mark.parametrize(
        ("name", "action"),
        [
            (Task.RETENTION, Action.EXTRACT),
            (Task.RETENTION, Action.API_READ),
            (Task.VALIDATION, Action.EXTRACT),
            (Task.OUTPUTS, Action.VIEW),
            (Task.LINKAGE, Action.EXTRACT),
            (Task.EXTRACT_BUILD, Action.LINK),
        ],
    )
    def test_a_task_may_not_act_beyond_its_needs(self, name, action):
        decision = decide_pure(task(name), action)
        assert not decision.permitted
        assert f"The {name} task may not" in decision.reason

    def test_a_task_may_not_read_kinds_of_data_beyond_its_needs(self):
        decision = decide_pure(task(Task.VALIDATION), resource=resource(kind=ResourceKind.EXTRACT))
        assert not decision.permitted
        assert decision.reason.startswith("The validation task does not read extracts:")

    @pytest.mark.parametrize("name", list(Task))
    def test_every_task_is_denied_every_action_outside_its_needs(self, name):
        for action in Action:
            for kind in ResourceKind:
                decision = decide_pure(task(name), action, resource=resource(kind=kind))
                assert decision.permitted == TASK_NEEDS[name].allows(action, kind)

    def test_no_task_reads_through_the_api_and_retention_never_extracts(self):
        assert all(Action.API_READ not in needs.actions for needs in TASK_NEEDS.values())
        assert TASK_NEEDS[Task.RETENTION].actions == frozenset({Action.VIEW})

    def test_every_task_has_its_needs(self):
        assert set(TASK_NEEDS) == set(Task)


class TestArguments:
    def test_a_naive_time_is_refused(self):
        with pytest.raises(ValueError, match="timezone-aware"):
            decide_pure(person(), now=datetime(2025, 3, 1, 9, 30))

    def test_an_unknown_action_is_refused(self):
        with pytest.raises(ValueError, match="delete"):
            decide_pure(person(), "delete")

    def test_actions_may_be_given_by_value(self):
        assert decide_pure(person(), "view").action is Action.VIEW
