"""Each rule of the decision point, on ``evaluate`` alone, with the reasons a person reads and
the obligations a permit carries (DESIGN.md: "Who may read shared data")."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from accord.access.decisions import (
    NO_AGREEMENT,
    STAFF_METADATA_ONLY,
    Decision,
    Facts,
    FieldGrant,
    Obligations,
    Resource,
    TokenFacts,
    evaluate,
)
from accord.access.enums import Action, ResourceKind, Task
from accord.audit.actor import ActorKind
from accord.organisations.enums import Role

from .grant_facts import (
    AGREEMENT,
    AREAS,
    COUNTY,
    DATASET,
    DISTRICT,
    HEALTH_BOARD,
    OTHER_DISTRICT,
    PURPOSE,
    PURPOSE_ID,
    STRANGER,
    TITLE,
    grant,
    hb_data,
    health_grant,
    reader,
    with_status,
)
from .helpers import NOW

QUOTED = f"“{TITLE}”"
PERMIT_REASON = f"The agreement {QUOTED} grants this to your organisation for “{PURPOSE}”."
# What Maidstone may read of the county's data under the agreement: every field bar the two
# that never leave as records (aggregate, suppress).
MAIDSTONE_FIELDS = (
    "hb_claim_ref",
    "nino",
    "date_of_birth",
    "postcode",
    "uprn",
    "ltla_cd",
    "claim_status",
    "household_size",
)


def ask(
    facts: Facts,
    action: Action | str = Action.VIEW,
    resource: Resource | None = None,
    purpose: str = PURPOSE,
    now: datetime = NOW,
) -> Decision:
    return evaluate(facts, action, resource or hb_data(), purpose, now)


def district(*grants: Any, **kwargs: Any) -> Facts:
    return reader(DISTRICT, *(grants or (grant(),)), **kwargs)


def assert_denied(decision: Decision, *reasons: str) -> None:
    assert not decision.permitted
    assert decision.reasons == reasons
    assert decision.obligations == Obligations()
    assert decision.agreements == ()


class TestController:
    @pytest.mark.parametrize("action", list(Action))
    def test_the_county_reads_its_own_data_with_no_obligation(self, action):
        decision = ask(reader(COUNTY), action)
        assert decision.permitted
        assert decision.reasons == ("Kent County Council is the controller of its own data.",)
        assert decision.obligations == Obligations()
        assert decision.agreements == ()

    def test_its_own_data_needs_no_purpose_from_an_agreement(self):
        decision = ask(reader(COUNTY, grant()), purpose="Check last month's return")
        assert decision.permitted
        assert decision.reasons == ("Kent County Council is the controller of its own data.",)

    def test_its_own_deleted_data_is_left_to_the_vault_to_refuse(self):
        # The vault tells the controller when and why; the decision point does not stand in.
        assert ask(reader(COUNTY), resource=hb_data(deleted=True)).permitted


class TestRecipient:
    @pytest.mark.parametrize("action", [Action.VIEW, Action.EXTRACT, Action.API_READ])
    def test_maidstone_reads_under_the_active_agreement(self, action):
        decision = ask(district(), action)
        assert decision.permitted
        assert decision.reasons == (PERMIT_REASON,)
        assert decision.agreements == ((AGREEMENT, TITLE),)
        assert decision.organisation_id == DISTRICT

    def test_the_permit_carries_every_obligation_of_the_grant(self):
        o = ask(district()).obligations
        assert o.allowed_fields == MAIDSTONE_FIELDS
        assert o.drop_fields == ("hb_weekly_award_band", "free_text_notes")
        assert o.pseudonymise_fields == ("hb_claim_ref", "nino")
        assert o.identifier_types == (("hb_claim_ref", ""), ("nino", "nino"))
        assert o.pseudonym_agreement == AGREEMENT
        assert o.generalise_fields == (
            ("date_of_birth", "age_band"),
            ("postcode", "postcode_sector"),
        )
        assert o.row_filter == (("ltla_cd", ("E07000110",)),)
        assert o.aggregate_only is False
        assert o.on_behalf_of_controller == ""

    @pytest.mark.parametrize(
        "purpose",
        [
            PURPOSE,
            PURPOSE.upper(),
            f"  {PURPOSE.lower()}.  ",
            PURPOSE.replace(" ", "\n  "),
            PURPOSE_ID,
            " PURPOSE-1 ",
        ],
        ids=["title", "upper case", "lower case, spaced, full stop", "newlines", "id", "id, case"],
    )
    def test_the_purpose_is_matched_by_title_or_id_whatever_the_case_and_spacing(self, purpose):
        decision = ask(district(), purpose=purpose)
        assert decision.permitted
        assert decision.reasons == (PERMIT_REASON,)  # names the purpose by its title

    def test_canterbury_is_limited_to_its_own_area(self):
        decision = ask(reader(OTHER_DISTRICT, grant(recipient_id=OTHER_DISTRICT)))
        assert decision.permitted
        assert decision.obligations.row_filter == (("ltla_cd", (AREAS[OTHER_DISTRICT],)),)

    def test_a_grant_to_another_district_is_no_ground(self):
        decision = ask(reader(DISTRICT, grant(recipient_id=OTHER_DISTRICT)))
        assert_denied(decision, NO_AGREEMENT)

    def test_a_grant_on_another_dataset_is_no_ground(self):
        decision = ask(district(grant(dataset="council-tax-support")))
        assert_denied(decision, NO_AGREEMENT)

    def test_data_that_names_no_dataset_matches_no_grant(self):
        assert_denied(ask(district(), resource=hb_data(dataset="")), NO_AGREEMENT)


class TestNoAgreement:
    """An organisation with no grant learns nothing beyond that: the same sentence whatever it
    asked for, and whatever state the data is in."""

    @pytest.mark.parametrize("action", list(Action))
    @pytest.mark.parametrize(
        "resource",
        [
            hb_data(),
            hb_data(fields=("nino", "no_such_field")),
            hb_data(deleted=True),
            hb_data(retention_deadline=NOW - timedelta(days=1)),
            hb_data(sources=(HEALTH_BOARD,)),
            hb_data(kind=ResourceKind.LINKED_DATASET, dataset=""),
        ],
        ids=["plain", "fields", "deleted", "past retention", "derived", "no dataset"],
    )
    def test_hackney_gets_the_generic_reason_only(self, action, resource):
        decision = ask(reader(STRANGER), action, resource)
        assert_denied(decision, NO_AGREEMENT)
        assert NO_AGREEMENT == (
            "No active data sharing agreement gives your organisation access to this data."
        )

    def test_purposes_are_not_revealed_to_an_outsider(self):
        decision = ask(reader(STRANGER), purpose="Marketing")
        assert_denied(decision, NO_AGREEMENT)

    def test_an_unrelated_grant_does_not_reveal_that_the_data_was_deleted(self):
        facts = reader(STRANGER, grant(recipient_id=STRANGER, dataset="council-tax-support"))
        decision = ask(facts, resource=hb_data(deleted=True))
        assert_denied(decision, NO_AGREEMENT)


class TestWhoIsAsking:
    @pytest.mark.parametrize(
        "roles", [(Role.VIEWER,), (Role.ORGANISATION_ADMIN,), (Role.CHIEF_EXECUTIVE,)]
    )
    def test_a_role_that_does_not_read_data(self, roles):
        decision = ask(district(roles=roles))
        assert_denied(
            decision,
            "Your roles at Maidstone Borough Council do not include reading data. "
            "Ask an organisation admin for the data officer or analyst role.",
        )

    @pytest.mark.parametrize("roles", [(Role.ANALYST,), (Role.DATA_OFFICER,), (Role.DPO,)])
    def test_the_data_reading_roles(self, roles):
        assert ask(district(roles=roles)).permitted

    def test_an_inactive_membership(self):
        assert_denied(
            ask(district(membership_active=False)),
            "Your membership of Maidstone Borough Council is not active.",
        )

    def test_an_inactive_organisation(self):
        assert_denied(
            ask(district(organisation_active=False)),
            "Maidstone Borough Council is not active on Accord, "
            "so its members cannot read shared data.",
        )

    def test_an_inactive_account(self):
        facts = dataclasses.replace(district(), user_active=False)
        assert_denied(ask(facts), "Your account is not active, so it cannot read shared data.")

    def test_acting_for_an_organisation_one_is_not_a_member_of(self):
        facts = dataclasses.replace(district(), acting_for=OTHER_DISTRICT)
        assert_denied(ask(facts), "You are not a member of the organisation you are acting for.")

    def test_platform_staff_without_a_membership(self):
        facts = dataclasses.replace(district(), is_platform_staff=True, membership=None)
        decision = ask(facts)
        assert not decision.permitted
        assert decision.reasons == (
            STAFF_METADATA_ONLY,
            "You are not a member of the organisation you are acting for.",
        )
        assert STAFF_METADATA_ONLY == "Platform staff see metadata only, never shared data."

    def test_platform_staff_acting_for_no_organisation(self):
        facts = Facts(
            actor_kind=ActorKind.PERSON,
            actor_ref="user:1",
            user_active=True,
            is_platform_staff=True,
        )
        decision = ask(facts)
        assert not decision.permitted
        assert decision.reasons[0] == STAFF_METADATA_ONLY

    def test_anonymous(self):
        facts = Facts(actor_kind=ActorKind.ANONYMOUS, actor_ref="anonymous", grants=(grant(),))
        assert_denied(ask(facts), "Sign in to read shared data.")

    def test_system(self):
        facts = Facts(actor_kind=ActorKind.SYSTEM, actor_ref="system", acting_for=COUNTY)
        assert_denied(ask(facts), "Set-up and maintenance commands never read shared data.")


class TestAgreementState:
    @pytest.mark.parametrize(
        ("status", "reason"),
        [
            ("suspended", f"The agreement {QUOTED} is suspended, so no data flows under it."),
            ("expired", f"The agreement {QUOTED} has expired, so no data flows under it."),
            (
                "terminated",
                f"The agreement {QUOTED} has been terminated, so no data flows under it.",
            ),
            (
                "superseded",
                f"The agreement {QUOTED} has been replaced by a newer version, "
                "so no data flows under it.",
            ),
            ("draft", f"The agreement {QUOTED} is not yet in force."),
            ("in_review", f"The agreement {QUOTED} is not yet in force."),
            ("", f"The agreement {QUOTED} is not yet in force."),
        ],
    )
    def test_only_an_active_agreement_grants(self, status, reason):
        assert_denied(ask(district(grant(agreement_status=status))), reason)

    def test_not_yet_started(self):
        decision = ask(district(grant(starts_on=date(2025, 3, 2))))
        assert_denied(decision, f"The agreement {QUOTED} starts on 2 March 2025.")

    def test_it_grants_from_its_first_day(self):
        assert ask(district(grant(starts_on=date(2025, 3, 1)))).permitted

    def test_past_its_end_date(self):
        decision = ask(district(grant(ends_on=date(2025, 2, 28))))
        assert_denied(decision, f"The agreement {QUOTED} ended on 28 February 2025.")

    def test_it_grants_on_its_last_day(self):
        assert ask(district(grant(ends_on=date(2025, 3, 1)))).permitted

    def test_past_its_review_date(self):
        decision = ask(district(grant(review_on=date(2025, 2, 1))))
        assert_denied(
            decision,
            f"The agreement {QUOTED} was due for review on 1 February 2025 and has not been "
            "reviewed, so no data flows under it until it is.",
        )

    def test_the_term_is_read_in_london_time(self):
        # 23:30 UTC on 28 February is still 28 February in London (GMT); on 31 March (BST)
        # 23:30 UTC is already 1 April.
        starts = grant(starts_on=date(2025, 4, 1))
        assert not ask(district(starts), now=datetime.fromisoformat("2025-03-31T22:30Z")).permitted
        assert ask(district(starts), now=datetime.fromisoformat("2025-03-31T23:30Z")).permitted

    def test_the_status_is_told_before_the_dates(self):
        facts = district(grant(agreement_status="suspended", ends_on=date(2024, 1, 1)))
        assert "is suspended" in ask(facts).reason

    def test_a_framework_grant_in_force_reads_as_active(self):
        # queries._grant_facts turns a framework's grant into an active one with no dates.
        framework = grant(
            agreement_id="",
            agreement_title="Care home status (framework)",
            starts_on=None,
            ends_on=None,
            review_on=None,
        )
        decision = ask(district(framework))
        assert decision.permitted
        assert decision.agreements == (("", "Care home status (framework)"),)


class TestActions:
    @pytest.mark.parametrize(
        ("flow", "action", "permitted"),
        [
            ({"view"}, Action.VIEW, True),
            ({"view"}, Action.AGGREGATE, True),
            ({"view"}, Action.EXTRACT, False),
            ({"view"}, Action.API_READ, False),
            ({"view"}, Action.LINK, False),
            ({"extract"}, Action.VIEW, True),
            ({"extract"}, Action.EXTRACT, True),
            ({"extract"}, Action.API_READ, True),
            ({"extract"}, Action.AGGREGATE, True),
            ({"extract"}, Action.LINK, False),
            ({"link"}, Action.LINK, True),
            ({"link"}, Action.VIEW, False),
            ({"link"}, Action.AGGREGATE, False),
            (set(), Action.VIEW, False),
        ],
    )
    def test_what_each_flow_action_allows(self, flow, action, permitted):
        decision = ask(district(grant(actions=frozenset(flow))), action)
        assert decision.permitted is permitted
        if not permitted:
            assert decision.reasons == (
                f"The agreement {QUOTED} does not allow you to {action.label.lower()}.",
            )

    def test_an_extract_when_the_flow_allows_viewing_only(self):
        decision = ask(district(grant(actions=frozenset({"view"}))), Action.EXTRACT)
        assert_denied(
            decision, f"The agreement {QUOTED} does not allow you to take a record-level extract."
        )

    def test_linking_when_the_flow_does_not_allow_it(self):
        decision = ask(district(), Action.LINK)
        assert_denied(
            decision, f"The agreement {QUOTED} does not allow you to link records with other data."
        )


class TestAggregateOnly:
    def facts(self) -> Facts:
        return district(grant(actions=frozenset({"aggregate_only"})))

    def test_aggregates_are_permitted_with_the_aggregate_only_obligation(self):
        decision = ask(self.facts(), Action.AGGREGATE)
        assert decision.permitted
        assert decision.reasons == (PERMIT_REASON,)
        assert decision.obligations.aggregate_only is True
        assert decision.obligations.row_filter == (("ltla_cd", ("E07000110",)),)

    @pytest.mark.parametrize("action", [Action.VIEW, Action.EXTRACT, Action.API_READ, Action.LINK])
    def test_records_are_denied(self, action):
        assert_denied(
            ask(self.facts(), action),
            f"The agreement {QUOTED} allows only disclosure-controlled aggregate figures from "
            "this data, not records.",
        )

    def test_a_flow_that_also_allows_records_aggregates_without_the_obligation(self):
        facts = district(grant(actions=frozenset({"aggregate_only", "view"})))
        decision = ask(facts, Action.AGGREGATE)
        assert decision.permitted
        assert decision.obligations.aggregate_only is False

    def test_of_two_grants_the_record_level_one_is_the_ground(self):
        facts = district(
            grant(agreement_id="a-agg", actions=frozenset({"aggregate_only"})),
            grant(agreement_id="a-rec", actions=frozenset({"view"})),
        )
        decision = ask(facts, Action.AGGREGATE)
        assert decision.permitted
        assert decision.obligations.aggregate_only is False
        assert decision.agreements == (("a-rec", TITLE),)


class TestPurpose:
    def test_a_purpose_the_agreement_does_not_name(self):
        facts = district(
            grant(purposes=((PURPOSE_ID, PURPOSE), ("purpose-2", "Plan temporary housing")))
        )
        decision = ask(facts, purpose="Audit council tax discounts")
        assert_denied(
            decision,
            f"“Audit council tax discounts” is not a purpose of the agreement {QUOTED}. "
            f"Its purposes are: “{PURPOSE}”; “Plan temporary housing”.",
        )

    def test_an_agreement_with_no_purpose_for_the_flow(self):
        decision = ask(district(grant(purposes=())))
        assert_denied(
            decision,
            f"“{PURPOSE}” is not a purpose of the agreement {QUOTED}. Its purposes are: none.",
        )

    def test_a_purpose_that_only_contains_the_agreements_purpose_is_not_it(self):
        decision = ask(district(), purpose=f"{PURPOSE} and everything else")
        assert not decision.permitted
        assert "is not a purpose of the agreement" in decision.reason

    @pytest.mark.parametrize(
        ("purpose", "label"),
        [
            ("Marketing", "Marketing"),
            ("marketing our leisure centre to claimants", "Marketing"),
            ("Immigration enforcement checks", "Immigration enforcement"),
            ("immigration_enforcement", "Immigration enforcement"),
            ("RE-IDENTIFICATION of claimants", "Re-identification"),
        ],
    )
    def test_a_prohibited_use_is_ruled_out(self, purpose, label):
        decision = ask(district(), purpose=purpose)
        assert_denied(decision, f"The agreement {QUOTED} rules out this use: {label}.")

    def test_a_prohibited_use_with_no_description_does_not_rule_out_every_purpose(self):
        facts = district(grant(prohibited_uses=(("profiling_for_debt_collection", ""),)))
        assert ask(facts).permitted


class TestFields:
    def test_only_granted_fields_may_be_asked_for(self):
        decision = ask(district(), resource=hb_data(fields=("nino", "bank_account", "email")))
        assert_denied(
            decision, f"The agreement {QUOTED} does not grant these fields: bank_account, email."
        )

    @pytest.mark.parametrize("name", ["hb_weekly_award_band", "free_text_notes"])
    def test_suppressed_and_aggregate_fields_never_leave_as_records(self, name):
        decision = ask(district(), resource=hb_data(fields=("nino", name)))
        assert_denied(decision, f"The agreement {QUOTED} does not grant these fields: {name}.")
        permitted = ask(district())
        assert name in permitted.obligations.drop_fields
        assert name not in (permitted.obligations.allowed_fields or ())

    def test_granted_fields_asked_for_are_permitted(self):
        decision = ask(district(), resource=hb_data(fields=("nino", "uprn", "claim_status")))
        assert decision.permitted
        assert decision.obligations.allowed_fields == MAIDSTONE_FIELDS

    @pytest.mark.parametrize(
        ("field", "level"),
        [
            (FieldGrant("date_of_birth", "generalise", "date"), "age_band"),
            (FieldGrant("dob", "generalise", "date"), "age_band"),
            (FieldGrant("date_of_birth", "truncate", "date"), "year"),
            (FieldGrant("claim_start_date", "generalise", "date"), "year"),
            (FieldGrant("moved_in_at", "generalise", "datetime"), "year"),
            (FieldGrant("postcode", "generalise", "identifier", "postcode"), "postcode_sector"),
            (FieldGrant("home_postcode", "generalise"), "postcode_sector"),
            (FieldGrant("postcode", "truncate", "identifier", "postcode"), "postcode_district"),
            (FieldGrant("address", "generalise", "string", "postcode"), "postcode_sector"),
        ],
    )
    def test_generalised_fields_and_their_level(self, field, level):
        o = ask(district(grant(fields=(field,)))).obligations
        assert o.generalise_fields == ((field.name, level),)
        assert o.allowed_fields == (field.name,)
        assert o.drop_fields == ()

    @pytest.mark.parametrize(
        "field",
        [FieldGrant("household_size", "generalise", "integer"), FieldGrant("x", "truncate")],
    )
    def test_a_field_that_cannot_be_generalised_is_dropped(self, field):
        o = ask(district(grant(fields=(field,)))).obligations
        assert o.generalise_fields == ()
        assert o.drop_fields == (field.name,)
        assert o.allowed_fields == ()

    def test_pseudonymised_fields_name_their_identifier_type_and_the_agreements_key(self):
        fields = (
            FieldGrant("nhs_number", "pseudonymise_keyed_hash", "identifier", "nhs_number"),
            FieldGrant("uprn", "pseudonymise_keyed_hash", "identifier", "uprn"),
            FieldGrant("tenure", "none", "code"),
        )
        o = ask(district(grant(fields=fields))).obligations
        assert o.pseudonymise_fields == ("nhs_number", "uprn")
        assert o.identifier_types == (("nhs_number", "nhs_number"), ("uprn", "uprn"))
        assert o.pseudonym_agreement == AGREEMENT
        assert o.allowed_fields == ("nhs_number", "uprn", "tenure")

    def test_no_pseudonymised_field_needs_no_key(self):
        o = ask(district(grant(fields=(FieldGrant("tenure"),)))).obligations
        assert o.pseudonym_agreement == ""
        assert o.pseudonymise_fields == ()

    def test_a_grant_with_no_row_filter_obliges_none(self):
        assert ask(district(grant(row_filter=None))).obligations.row_filter == ()

    def test_a_fixed_row_filter_is_passed_on(self):
        facts = district(grant(row_filter=("tenure", ("council", "housing_association"))))
        o = ask(facts).obligations
        assert o.row_filter == (("tenure", ("council", "housing_association")),)


class TestDerivedData:
    """Data made from the county's and the health board's: a ground for both is needed."""

    def derived(self, **overrides: Any) -> Resource:
        values: dict[str, Any] = {
            "kind": ResourceKind.LINKED_DATASET,
            "sources": (HEALTH_BOARD,),
        }
        return hb_data(**(values | overrides))

    def test_a_ground_for_one_source_only_is_not_enough(self):
        decision = ask(district(grant()), resource=self.derived())
        assert_denied(decision, NO_AGREEMENT)

    def test_a_ground_for_every_source_permits_with_both_agreements_named(self):
        decision = ask(district(grant(), health_grant()), resource=self.derived())
        assert decision.permitted
        assert decision.agreements == (
            (AGREEMENT, TITLE),
            ("a-health", "Health and housing for vulnerable households"),
        )
        assert decision.reasons == (
            PERMIT_REASON,
            "The agreement “Health and housing for vulnerable households” grants this to your "
            f"organisation for “{PURPOSE}”.",
        )

    def test_the_obligations_of_both_apply_together(self):
        o = ask(district(grant(), health_grant()), resource=self.derived()).obligations
        # Only fields both grant; everything either pseudonymises; every filter, intersected.
        assert o.allowed_fields == ("nino", "postcode", "uprn", "ltla_cd", "claim_status")
        assert set(o.pseudonymise_fields) == {"hb_claim_ref", "nino", "uprn"}
        assert dict(o.identifier_types) == {"hb_claim_ref": "", "nino": "nino", "uprn": "uprn"}
        assert o.row_filter == (("ltla_cd", ("E07000110",)),)
        assert {"hb_weekly_award_band", "free_text_notes"} <= set(o.drop_fields)
        assert o.aggregate_only is False

    def test_row_filters_on_different_columns_all_apply(self):
        facts = district(grant(), health_grant(row_filter=("tenure", ("council",))))
        o = ask(facts, resource=self.derived()).obligations
        assert dict(o.row_filter) == {"ltla_cd": ("E07000110",), "tenure": ("council",)}

    def test_row_filters_that_share_no_value_leave_no_rows(self):
        facts = district(grant(), health_grant(row_filter=("ltla_cd", ("E07000106",))))
        o = ask(facts, resource=self.derived()).obligations
        assert o.row_filter == (("ltla_cd", ()),)

    def test_aggregate_only_from_one_source_binds_the_whole(self):
        facts = district(grant(), health_grant(actions=frozenset({"aggregate_only"})))
        decision = ask(facts, Action.AGGREGATE, self.derived())
        assert decision.permitted
        assert decision.obligations.aggregate_only is True
        assert not ask(facts, Action.VIEW, self.derived()).permitted

    @pytest.mark.parametrize("suspended", [AGREEMENT, "a-health"])
    def test_suspending_either_sources_agreement_denies(self, suspended):
        facts = with_status(district(grant(), health_grant()), suspended, "suspended")
        decision = ask(facts, resource=self.derived())
        assert not decision.permitted
        assert len(decision.reasons) == 1
        assert decision.reasons[0].endswith("is suspended, so no data flows under it.")

    def test_every_source_must_allow_the_purpose(self):
        facts = district(grant(), health_grant(purposes=(("p-h", "Plan health visits"),)))
        decision = ask(facts, resource=self.derived())
        assert not decision.permitted
        assert "Its purposes are: “Plan health visits”." in decision.reason

    def test_every_field_asked_for_must_be_granted_by_every_source(self):
        facts = district(grant(), health_grant())
        assert ask(facts, resource=self.derived(fields=("nino", "uprn"))).permitted
        decision = ask(facts, resource=self.derived(fields=("nino", "household_size")))
        assert not decision.permitted
        assert decision.reason.endswith("does not grant these fields: household_size.")

    def test_the_owner_reading_what_it_made_from_anothers_data_needs_that_ground(self):
        resource = hb_data(owner_organisation_id=DISTRICT, sources=(COUNTY,))
        assert_denied(ask(reader(DISTRICT), resource=resource), NO_AGREEMENT)
        decision = ask(reader(DISTRICT, grant()), resource=resource)
        assert decision.permitted
        assert decision.agreements == ((AGREEMENT, TITLE),)
        assert decision.obligations.pseudonymise_fields == ("hb_claim_ref", "nino")

    def test_pseudonymised_fields_from_a_later_source_have_a_key(self):
        plain = grant(fields=tuple(FieldGrant(f.name) for f in grant().fields))
        o = ask(district(plain, health_grant()), resource=self.derived()).obligations
        assert o.pseudonymise_fields == ("uprn",)
        assert o.pseudonym_agreement == "a-health"

    def test_the_coarsest_generalisation_wins(self):
        o = ask(district(grant(), health_grant()), resource=self.derived()).obligations
        assert dict(o.generalise_fields)["postcode"] == "postcode_district"


class TestDataState:
    def test_deleted_data(self):
        decision = ask(district(), resource=hb_data(deleted=True))
        assert_denied(decision, "This data has been deleted: its key was destroyed.")

    @pytest.mark.parametrize("who", [COUNTY, DISTRICT])
    def test_past_its_retention_deadline_nobody_reads_it(self, who):
        facts = reader(who, grant()) if who == COUNTY else district()
        decision = ask(facts, resource=hb_data(retention_deadline=NOW))
        assert_denied(
            decision,
            "This data is past the end of its retention period and is waiting to be deleted, "
            "so nobody may read it.",
        )

    def test_before_its_retention_deadline_it_is_read(self):
        resource = hb_data(retention_deadline=NOW + timedelta(seconds=1))
        assert ask(district(), resource=resource).permitted


class TestApiToken:
    def token(self, **fields: Any) -> TokenFacts:
        return TokenFacts(ref="api_token:3", **fields)

    @pytest.mark.parametrize(
        "problem",
        [
            "This API token has been revoked.",
            "This API token has expired.",
            "This API token acts for another organisation.",
            "This API token is not recognised.",
        ],
    )
    @pytest.mark.parametrize("who", [COUNTY, DISTRICT])
    def test_a_token_that_cannot_be_used(self, problem, who):
        facts = reader(who, grant(), token=self.token(problem=problem))
        assert_denied(ask(facts, Action.API_READ), problem)

    def test_a_usable_token_with_no_scope(self):
        decision = ask(district(token=self.token()), Action.API_READ)
        assert decision.permitted
        assert decision.reasons == (PERMIT_REASON,)

    def test_a_token_for_other_actions(self):
        facts = district(token=self.token(actions=frozenset({"view", "aggregate"})))
        assert ask(facts, Action.VIEW).permitted
        assert_denied(
            ask(facts, Action.API_READ),
            "This API token may not be used to read the records through the api.",
        )

    def test_a_token_for_other_actions_on_the_organisations_own_data(self):
        facts = reader(COUNTY, token=self.token(actions=frozenset({"aggregate"})))
        assert not ask(facts, Action.EXTRACT).permitted
        assert ask(facts, Action.AGGREGATE).permitted

    def test_a_token_scoped_to_another_agreement(self):
        facts = district(token=self.token(agreement_ids=frozenset({"a-other"})))
        assert_denied(
            ask(facts, Action.API_READ),
            "This API token is not allowed to use the agreements that cover this data.",
        )

    def test_a_token_scoped_to_the_agreement(self):
        facts = district(token=self.token(agreement_ids=frozenset({AGREEMENT})))
        assert ask(facts, Action.API_READ).permitted

    def test_a_token_scoped_to_one_of_two_agreements_uses_only_that_one(self):
        facts = district(
            grant(agreement_id="a-wide", actions=frozenset({"extract"})),
            grant(agreement_id="a-narrow", actions=frozenset({"view"})),
            token=self.token(agreement_ids=frozenset({"a-narrow"})),
        )
        assert ask(facts, Action.VIEW).agreements == (("a-narrow", TITLE),)
        assert not ask(facts, Action.EXTRACT).permitted

    def test_an_agreement_scope_does_not_limit_the_organisations_own_data(self):
        facts = reader(COUNTY, token=self.token(agreement_ids=frozenset({"a-other"})))
        assert ask(facts, Action.API_READ).permitted

    def test_an_outsider_with_a_bad_token_learns_only_that_there_is_no_agreement(self):
        facts = reader(STRANGER, token=self.token(problem="This API token has been revoked."))
        assert_denied(ask(facts, Action.API_READ), NO_AGREEMENT)


class TestTasks:
    def task(self, name: str, acting_for: str = "") -> Facts:
        return Facts(
            actor_kind=ActorKind.TASK,
            actor_ref=f"task:{name}",
            acting_for=acting_for,
            task_name=name,
            grants=(grant(),),
        )

    def test_a_task_processes_on_the_controllers_behalf(self):
        decision = ask(self.task(Task.EXTRACT_BUILD), Action.EXTRACT)
        assert decision.permitted
        assert decision.reasons == (
            "Processing on the controller's behalf: the extract_build task builds a "
            "record-level extract from its sources.",
        )
        assert decision.obligations == Obligations(on_behalf_of_controller=COUNTY)
        assert decision.agreements == ()

    def test_a_task_acting_for_a_recipient_needs_an_agreement_even_with_a_grant(self):
        decision = ask(self.task(Task.EXTRACT_BUILD, acting_for=DISTRICT), Action.EXTRACT)
        assert_denied(decision, NO_AGREEMENT)

    def test_a_task_beyond_its_needs(self):
        decision = ask(self.task(Task.VALIDATION), Action.VIEW)
        assert_denied(
            decision,
            "The validation task does not read datasets: it reads one submission to check it "
            "against its standard.",
        )

    def test_an_unknown_task(self):
        assert_denied(
            ask(self.task("backup")), "“backup” is not one of Accord's tasks, so it reads no data."
        )


def test_the_decision_names_what_was_asked():
    decision = ask(district(), Action.EXTRACT, hb_data(fields=("nino",)), f" {PURPOSE} ")
    assert decision.purpose == PURPOSE
    assert decision.resource == hb_data(fields=("nino",))
    assert decision.action is Action.EXTRACT
    assert decision.actor_ref == "user:7"
    assert decision.organisation_id == DISTRICT
    assert decision.decided_at == NOW
    assert decision.resource.dataset == DATASET
