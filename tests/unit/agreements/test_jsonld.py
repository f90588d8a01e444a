"""The JSON-LD projection of an agreement into ODRL 2.2 + DPV (accord.agreements.jsonld).

Every output is parsed with rdflib (offline: the context is local) and checked as RDF triples,
not as JSON shapes, so the tests say what a consumer of the graph would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef

from accord.agreements.document import (
    DataSharingAgreement,
    from_canonical_json,
    to_canonical_json,
)
from accord.agreements.jsonld import ACTION_IRIS, CONTEXT, agreement_iri, to_jsonld
from tests.unit.agreements.builders import (
    ALL_BUILDERS,
    care_home_status,
    housing_delivery_mou,
    london_fsm,
    single_view_of_vulnerability,
)

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
DPV = Namespace("https://w3id.org/dpv#")
DPV_PD = Namespace("https://w3id.org/dpv/pd#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
DCT = Namespace("http://purl.org/dc/terms/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
ACCORD = Namespace("https://accord.invalid/vocab/")
SPS = Namespace("https://w3id.org/dpv/sector/publicservices#")

# rdflib 7.6's JSON-LD parser uses its own deprecated ConjunctiveGraph internally.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

BUILDERS = pytest.mark.parametrize("build", ALL_BUILDERS, ids=lambda b: b.__name__)

Builder = Callable[[], DataSharingAgreement]


def _dumps(agreement: DataSharingAgreement) -> str:
    return json.dumps(to_jsonld(agreement), sort_keys=True)


def _graph(agreement: DataSharingAgreement) -> Graph:
    return Graph().parse(data=_dumps(agreement), format="json-ld")


def _modified(agreement: DataSharingAgreement, **changes: Any) -> DataSharingAgreement:
    data = agreement.model_dump(mode="json", by_alias=True)
    data.update(changes)
    return DataSharingAgreement.model_validate(data)


def _base(agreement: DataSharingAgreement) -> str:
    return f"https://accord.invalid/agreements/{agreement.id}/"


def _curie(term: str) -> URIRef:
    prefix, _, local = term.partition(":")
    return URIRef(CONTEXT[prefix] + local)


def _permissions(graph: Graph, policy: URIRef) -> dict[URIRef, tuple[URIRef, set[URIRef]]]:
    found: dict[URIRef, tuple[URIRef, set[URIRef]]] = {}
    for perm in graph.objects(policy, ODRL.permission):
        action = graph.value(perm, ODRL.action)
        assert isinstance(perm, URIRef)
        assert isinstance(action, URIRef)
        targets = {t for t in graph.objects(perm, ODRL.target) if isinstance(t, URIRef)}
        found[perm] = (action, targets)
    return found


# -- determinism and parsing -------------------------------------------------------------------


@BUILDERS
def test_same_agreement_gives_byte_identical_output(build: Builder) -> None:
    agreement = build()
    first = _dumps(agreement)
    assert _dumps(build()) == first
    assert _dumps(agreement) == first
    # A round trip through the canonical JSON changes nothing either.
    assert _dumps(from_canonical_json(to_canonical_json(agreement))) == first


@BUILDERS
def test_output_is_plain_json_with_a_local_context(build: Builder) -> None:
    document = to_jsonld(build())
    assert document["@context"] == CONTEXT
    assert all(isinstance(iri, str) for iri in document["@context"].values())
    assert json.loads(json.dumps(document)) == document


def test_result_is_fresh_for_the_caller_to_change() -> None:
    agreement = london_fsm()
    first = to_jsonld(agreement)
    first["@graph"][0]["odrl:permission"][0]["odrl:constraint"].clear()
    assert to_jsonld(agreement) != first
    # Permissions of one flow share no list objects.
    second = to_jsonld(agreement)
    perms = second["@graph"][0]["odrl:permission"]
    perms[0]["odrl:constraint"].clear()
    assert perms[1]["odrl:constraint"]


@BUILDERS
def test_parses_as_json_ld_into_rdf(build: Builder) -> None:
    agreement = build()
    graph = _graph(agreement)
    assert len(graph) > 20
    assert (URIRef(agreement.id), DCT.identifier, Literal(agreement.id)) in graph
    assert (URIRef(agreement.id), DCT.title, Literal(agreement.title)) in graph


# -- the policy -------------------------------------------------------------------------------


@BUILDERS
def test_an_approved_agreement_is_an_odrl_agreement(build: Builder) -> None:
    agreement = build()
    graph = _graph(agreement)
    policy = URIRef(agreement.id)
    assert (policy, RDF.type, ODRL.Agreement) in graph
    assert (policy, RDF.type, ODRL.Set) not in graph
    assert graph.value(policy, ODRL.profile) is not None


@pytest.mark.parametrize("status", ["draft", "in_review"])
def test_a_draft_is_an_odrl_set_not_an_agreement(status: str) -> None:
    agreement = _modified(london_fsm(), status=status)
    graph = _graph(agreement)
    policy = URIRef(agreement.id)
    assert (policy, RDF.type, ODRL.Set) in graph
    assert (policy, RDF.type, ODRL.Agreement) not in graph


def test_agreement_type_adds_the_dpv_agreement_class() -> None:
    graph = _graph(london_fsm())
    assert (URIRef(london_fsm().id), RDF.type, DPV.DataProcessingAgreement) in graph
    mou = housing_delivery_mou()
    # No DPV class for a memorandum of understanding: Accord's IRI instead.
    mou_type = ACCORD["agreement_types/memorandum_of_understanding"]
    assert (URIRef(mou.id), RDF.type, mou_type) in _graph(mou)


def test_an_id_that_is_not_an_iri_gets_an_accord_iri() -> None:
    agreement = _modified(housing_delivery_mou(), id="mou 2025/1")
    assert agreement_iri(agreement) == "https://accord.invalid/agreements/mou%202025%2F1"
    graph = _graph(agreement)
    policy = URIRef(agreement_iri(agreement))
    assert (policy, RDF.type, ODRL.Agreement) in graph
    assert (policy, DCT.identifier, Literal("mou 2025/1")) in graph


def test_provenance_dates_become_dct_created_and_modified() -> None:
    agreement = _modified(
        london_fsm(),
        provenance={"created": "2025-03-01T09:30:00+00:00", "modified": "2025-03-20T12:00:00Z"},
    )
    graph = _graph(agreement)
    policy = URIRef(agreement.id)
    created = graph.value(policy, DCT.created)
    modified = graph.value(policy, DCT.modified)
    assert isinstance(created, Literal)
    assert created.datatype == XSD.dateTime
    assert isinstance(modified, Literal)
    assert modified.datatype == XSD.dateTime
    assert str(created) == "2025-03-01T09:30:00+00:00"
    # Without provenance there is nothing to say, and nothing is invented.
    assert _graph(london_fsm()).value(policy, DCT.created) is None


# -- permissions ------------------------------------------------------------------------------


@BUILDERS
def test_one_permission_per_flow_action_with_the_flows_datasets_as_target(
    build: Builder,
) -> None:
    agreement = build()
    base = _base(agreement)
    graph = _graph(agreement)
    permissions = _permissions(graph, URIRef(agreement.id))
    expected = {
        URIRef(f"{base}flows/{flow.id}/permissions/{action}"): (
            _curie(ACTION_IRIS[action]),
            {URIRef(f"{base}datasets/{did}") for did in flow.dataset_ids},
        )
        for flow in agreement.flows
        for action in flow.actions
    }
    assert permissions == expected
    assert len(permissions) == sum(len(flow.actions) for flow in agreement.flows)
    for perm in permissions:
        assert (perm, RDF.type, ODRL.Permission) in graph


@BUILDERS
def test_each_permission_has_the_flows_assigner_and_assignees(build: Builder) -> None:
    agreement = build()
    base = _base(agreement)
    graph = _graph(agreement)
    for flow in agreement.flows:
        for action in flow.actions:
            perm = URIRef(f"{base}flows/{flow.id}/permissions/{action}")
            assert set(graph.objects(perm, ODRL.assigner)) == {
                URIRef(f"{base}parties/{flow.from_party_id}")
            }
            assert set(graph.objects(perm, ODRL.assignee)) == {
                URIRef(f"{base}parties/{pid}") for pid in flow.to_party_ids
            }


def test_actions_map_to_odrl_and_link_to_accord() -> None:
    graph = _graph(london_fsm())
    actions = {graph.value(p, ODRL.action) for p in graph.subjects(RDF.type, ODRL.Permission)}
    assert actions == {ODRL.read, ACCORD["actions/link"]}
    care = _graph(care_home_status())
    actions = {care.value(p, ODRL.action) for p in care.subjects(RDF.type, ODRL.Permission)}
    assert actions == {ODRL.read, ODRL.aggregate}
    mou = _graph(housing_delivery_mou())
    actions = {mou.value(p, ODRL.action) for p in mou.subjects(RDF.type, ODRL.Permission)}
    # Extract is taking a copy (reproduce), not supplying third parties (distribute).
    assert actions == {ODRL.read, ODRL.reproduce}


PURPOSE_QUERY = """
SELECT ?perm ?operator ?purpose WHERE {
  ?policy odrl:permission ?perm .
  ?perm odrl:constraint ?c .
  ?c odrl:leftOperand odrl:purpose ; odrl:operator ?operator ; odrl:rightOperand ?purpose .
}
"""


def test_purpose_constraint_uses_the_dpv_purpose_when_given() -> None:
    graph = _graph(london_fsm())
    rows = list(graph.query(PURPOSE_QUERY, initNs={"odrl": ODRL}))
    assert len(rows) == 4
    assert {(row[1], row[2]) for row in rows} == {  # type: ignore[index]
        (ODRL.isA, SPS.SocialWelfareEligibilityAssessment)
    }


def test_purpose_constraint_falls_back_to_the_accord_purpose_iri() -> None:
    agreement = care_home_status()
    graph = _graph(agreement)
    rows = list(graph.query(PURPOSE_QUERY, initNs={"odrl": ODRL}))
    purpose = URIRef(f"{_base(agreement)}purposes/capacity")
    assert {row[2] for row in rows} == {purpose}  # type: ignore[index]
    assert (URIRef(agreement.id), DPV.hasPurpose, purpose) in graph
    assert (purpose, RDF.type, DPV.Purpose) in graph
    assert (purpose, RDFS.label, Literal("Monitor care home capacity and infection")) in graph


def test_several_purposes_become_is_any_of() -> None:
    data = london_fsm().model_dump(mode="json")
    data["purposes"].append({"id": "p2", "title": "Second"})
    for flow in data["flows"]:
        flow["purpose_ids"] = ["p1", "p2"]
    agreement = DataSharingAgreement.model_validate(data)
    graph = _graph(agreement)
    rows = list(graph.query(PURPOSE_QUERY, initNs={"odrl": ODRL}))
    assert {row[1] for row in rows} == {ODRL.isAnyOf}  # type: ignore[index]
    assert {row[2] for row in rows} == {  # type: ignore[index]
        SPS.SocialWelfareEligibilityAssessment,
        URIRef(f"{_base(agreement)}purposes/p2"),
    }


def test_an_unknown_purpose_prefix_becomes_an_accord_iri() -> None:
    data = london_fsm().model_dump(mode="json")
    data["purposes"][0]["dpv_purpose"] = ["made-up:Thing"]
    graph = _graph(DataSharingAgreement.model_validate(data))
    rows = list(graph.query(PURPOSE_QUERY, initNs={"odrl": ODRL}))
    assert {row[2] for row in rows} == {ACCORD["dpv_purpose/made-up:Thing"]}  # type: ignore[index]


def test_term_dates_are_date_time_constraints() -> None:
    agreement = london_fsm()
    graph = _graph(agreement)
    query = """
    SELECT ?operator ?day WHERE {
      ?perm odrl:constraint ?c .
      ?c odrl:leftOperand odrl:dateTime ; odrl:operator ?operator ; odrl:rightOperand ?day .
    }
    """
    rows = {(row[0], row[1]) for row in graph.query(query, initNs={"odrl": ODRL})}  # type: ignore[index]
    assert rows == {
        (ODRL.gteq, Literal("2025-09-01", datatype=XSD.date)),
        (ODRL.lteq, Literal("2027-08-31", datatype=XSD.date)),
    }
    assert graph.value(URIRef(agreement.id), DCT.valid) is not None


def test_retention_becomes_a_delete_duty_with_elapsed_time() -> None:
    agreement = london_fsm()
    graph = _graph(agreement)
    base = _base(agreement)
    perm = URIRef(f"{base}flows/lbh-to-lbi/permissions/view")
    duty = graph.value(perm, ODRL.duty)
    assert duty is not None
    assert graph.value(duty, ODRL.action) == ODRL.delete
    assert graph.value(duty, ODRL.assignee) == URIRef(f"{base}parties/lbi")
    assert graph.value(duty, ODRL.target) == URIRef(f"{base}datasets/lbh-fsm")
    constraint = graph.value(duty, ODRL.constraint)
    assert graph.value(constraint, ODRL.leftOperand) == ODRL.elapsedTime
    assert graph.value(constraint, ODRL.rightOperand) == Literal("P1Y", datatype=XSD.duration)


def test_a_flow_legal_basis_override_sits_on_its_permissions() -> None:
    data = london_fsm().model_dump(mode="json")
    data["flows"][0]["legal_basis_override"] = {"article6": ["6.1.c"]}
    agreement = DataSharingAgreement.model_validate(data)
    graph = _graph(agreement)
    base = _base(agreement)
    overridden = URIRef(f"{base}flows/lbh-to-lbi/permissions/view")
    assert (overridden, DPV.hasLegalBasis, DPV.LegalObligation) in graph
    other = URIRef(f"{base}flows/lbi-to-lbh/permissions/view")
    assert graph.value(other, DPV.hasLegalBasis) is None


# -- prohibitions -----------------------------------------------------------------------------


PROHIBITED_QUERY = """
SELECT ?prohibition ?purpose WHERE {
  ?policy odrl:prohibition ?prohibition .
  ?prohibition odrl:action odrl:use ; odrl:constraint ?c .
  ?c odrl:leftOperand odrl:purpose ; odrl:rightOperand ?purpose .
}
"""


@BUILDERS
def test_each_prohibited_use_becomes_an_odrl_prohibition(build: Builder) -> None:
    agreement = build()
    graph = _graph(agreement)
    rows = list(graph.query(PROHIBITED_QUERY, initNs={"odrl": ODRL}))
    by_purpose: dict[Any, set[Any]] = {}
    for prohibition, purpose in rows:  # type: ignore[misc]
        by_purpose.setdefault(purpose, set()).add(prohibition)
    expected = {ACCORD[f"prohibited_uses/{use.code}"] for use in agreement.prohibited_uses}
    assert set(by_purpose) == expected
    for prohibitions in by_purpose.values():
        # One per flow, each with that flow's parties and datasets.
        assert len(prohibitions) == len(agreement.flows)
        for prohibition in prohibitions:
            assert (prohibition, RDF.type, ODRL.Prohibition) in graph
            assert graph.value(prohibition, ODRL.assigner) is not None
            assert graph.value(prohibition, ODRL.assignee) is not None
            assert graph.value(prohibition, ODRL.target) is not None


def test_prohibited_use_keeps_its_description() -> None:
    agreement = care_home_status()
    graph = _graph(agreement)
    flow = f"{_base(agreement)}flows/sunrise-to-gmca"
    prohibition = URIRef(f"{flow}/prohibitions/no-provider-league-tables")
    description = agreement.prohibited_uses[0].description
    assert (prohibition, RDFS.comment, Literal(description)) in graph


def test_prohibited_uses_survive_an_agreement_with_no_flows() -> None:
    agreement = _modified(care_home_status(), flows=[], status="draft")
    graph = _graph(agreement)
    rows = list(graph.query(PROHIBITED_QUERY, initNs={"odrl": ODRL}))
    assert {row[1] for row in rows} == {  # type: ignore[index]
        ACCORD["prohibited_uses/no-provider-league-tables"]
    }


def test_onward_sharing_not_permitted_prohibits_distribute() -> None:
    agreement = care_home_status()
    graph = _graph(agreement)
    policy = URIRef(agreement.id)
    prohibitions = list(graph.objects(policy, ODRL.prohibition))
    distribute = [p for p in prohibitions if (p, ODRL.action, ODRL.distribute) in graph]
    assert len(distribute) == len(agreement.flows)
    # Not stated is not the same as forbidden.
    fsm = london_fsm()
    fsm_graph = _graph(fsm)
    assert not list(fsm_graph.subjects(ODRL.action, ODRL.distribute))


# -- legal bases and personal data ------------------------------------------------------------


@BUILDERS
def test_article_6_1_e_is_dpv_public_task(build: Builder) -> None:
    agreement = build()
    graph = _graph(agreement)
    has_public_task = (URIRef(agreement.id), DPV.hasLegalBasis, DPV.PublicTask) in graph
    assert has_public_task == ("6.1.e" in agreement.legal_basis.article6)


def test_legal_bases_use_dpv_terms_and_accord_iris() -> None:
    agreement = single_view_of_vulnerability()
    graph = _graph(agreement)
    bases = set(graph.objects(URIRef(agreement.id), DPV.hasLegalBasis))
    assert bases == {
        DPV.PublicTask,
        EU_GDPR["A9-2-g"],
        EU_GDPR["A9-2-h"],
        ACCORD["schedule1/s1p1.2"],
        ACCORD["schedule1/s1p2.18"],
        ACCORD["gateways/care2014-s6"],
        ACCORD["gateways/la2011-s1"],
        ACCORD["confidentiality_bases/overriding_public_interest"],
    }
    care = care_home_status()
    care_bases = set(_graph(care).objects(URIRef(care.id), DPV.hasLegalBasis))
    assert {DPV.LegalObligation, DPV.PublicTask, EU_GDPR["A9-2-i"]} <= care_bases
    assert ACCORD["gateways/hca2022"] in care_bases


def test_article_6_1_ea_has_no_dpv_term_so_gets_an_accord_iri() -> None:
    data = london_fsm().model_dump(mode="json")
    data["legal_basis"]["article6"] = ["6.1.ea"]
    data["legal_basis"]["article6_ea_condition"] = "annex1_p6_safeguarding_vulnerable"
    agreement = DataSharingAgreement.model_validate(data)
    bases = set(_graph(agreement).objects(URIRef(agreement.id), DPV.hasLegalBasis))
    assert ACCORD["article6/6.1.ea"] in bases
    assert ACCORD["article6_ea_conditions/annex1_p6_safeguarding_vulnerable"] in bases


def test_personal_data_categories_and_dpv_pd_terms() -> None:
    data = london_fsm().model_dump(mode="json")
    data["datasets"][0]["fields"][2]["dpv_pd"] = ["dpv-pd:DateOfBirth"]
    agreement = DataSharingAgreement.model_validate(data)
    graph = _graph(agreement)
    dataset = URIRef(f"{_base(agreement)}datasets/lbh-fsm")
    personal = set(graph.objects(dataset, DPV.hasPersonalData))
    assert DPV_PD.DateOfBirth in personal
    assert ACCORD["personal_data_categories/financial"] in personal
    assert ACCORD["personal_data_categories/not_personal"] not in personal
    policy_personal = set(graph.objects(URIRef(agreement.id), DPV.hasPersonalData))
    assert personal <= policy_personal


def test_non_personal_mou_states_no_personal_data() -> None:
    agreement = housing_delivery_mou()
    graph = _graph(agreement)
    assert not list(graph.triples((None, DPV.hasPersonalData, None)))


# -- parties ----------------------------------------------------------------------------------


def _party_refs(graph: Graph, base: str) -> set[str]:
    prefix = f"{base}parties/"
    refs = set()
    for triple in graph:
        for term in triple:
            if isinstance(term, URIRef) and str(term).startswith(prefix):
                refs.add(str(term).removeprefix(prefix))
    return refs


@BUILDERS
def test_no_triple_refers_to_a_party_not_in_the_agreement(build: Builder) -> None:
    agreement = build()
    graph = _graph(agreement)
    declared = {party.id for party in agreement.parties}
    assert _party_refs(graph, _base(agreement)) <= declared
    for role in (ODRL.assigner, ODRL.assignee):
        for party in graph.objects(None, role):
            assert str(party).removeprefix(f"{_base(agreement)}parties/") in declared


def test_dangling_party_and_dataset_references_are_left_out() -> None:
    data = london_fsm().model_dump(mode="json")
    data["status"] = "draft"
    data["flows"][0]["to_party_ids"] = ["lbi", "ghost"]
    data["flows"][0]["dataset_ids"] = ["lbh-fsm", "phantom"]
    data["retention"].append({"dataset_id": "lbh-fsm", "party_id": "ghost", "period": "P1Y"})
    agreement = DataSharingAgreement.model_validate(data)
    text = _dumps(agreement)
    assert "ghost" not in text
    assert "phantom" not in text
    assert _party_refs(_graph(agreement), _base(agreement)) == {"lbh", "lbi"}


@BUILDERS
def test_parties_are_controllers_and_recipients_with_names_and_identifiers(
    build: Builder,
) -> None:
    agreement = build()
    graph = _graph(agreement)
    base = _base(agreement)
    for party in agreement.parties:
        node = URIRef(f"{base}parties/{party.id}")
        assert (node, RDF.type, ODRL.Party) in graph
        assert (node, RDFS.label, Literal(party.name)) in graph
        for ident in party.org_identifiers:
            value = Literal(f"{ident.scheme}:{ident.value}")
            assert (node, ACCORD.orgIdentifier, value) in graph
        is_provider = any(flow.from_party_id == party.id for flow in agreement.flows)
        is_recipient = any(party.id in flow.to_party_ids for flow in agreement.flows)
        assert ((node, RDF.type, DPV.DataController) in graph) == (
            is_provider or "controller" in party.roles
        )
        assert ((node, RDF.type, DPV.Recipient) in graph) == (
            is_recipient or "data_recipient" in party.roles or "recipient_controller" in party.roles
        )


def test_datasets_name_their_provider() -> None:
    agreement = single_view_of_vulnerability()
    graph = _graph(agreement)
    base = _base(agreement)
    tenancies = URIRef(f"{base}datasets/tenancies")
    assert (tenancies, RDF.type, ODRL.Asset) in graph
    assert (tenancies, DCT.publisher, URIRef(f"{base}parties/nsh")) in graph
    assert (tenancies, RDFS.label, Literal("Tenancies and arrears")) in graph
