"""A deterministic JSON-LD projection of an agreement into ODRL 2.2 and DPV 2.x.

The canonical JSON (:func:`accord.agreements.document.to_canonical_json`) is the source of
truth. This is the interoperable view that the agreements-and-law reference (§1.8) proposes:
ODRL for who may do what with which dataset, DPV for the data protection meaning (controllers,
recipients, purposes, lawful bases, personal data).

Shape of the output::

    {"@context": CONTEXT,
     "@graph": [policy, party..., dataset..., purpose...]}

- The policy node's ``@id`` is the agreement id when that is already an absolute IRI
  (``urn:uuid:...``), otherwise an IRI under ``https://accord.invalid/agreements/``. Parties,
  datasets, purposes, flows and rules get IRIs under ``https://accord.invalid/agreements/<id>/``
  so that nodes from different agreements never merge by accident.
- Its type is ``odrl:Agreement`` once the agreement has been approved (approved, active,
  suspended, expired, terminated, superseded): the parties have agreed, which is what an ODRL
  Agreement asserts. A draft or an agreement in review is an ``odrl:Set``: ODRL's generic
  policy, which states rules without claiming anyone has granted them (``odrl:Offer`` would
  claim the provider is offering, which an unreviewed draft does not show either). The DPV
  agreement class from the ``agreement_types`` vocabulary is added as a second type.
- One ``odrl:Permission`` per flow x action, with the flow's datasets as targets, its provider
  as assigner and its recipients as assignees; ODRL constraints (ANDed) on purpose and on the
  agreement's term; retention rules become ``odrl:delete`` duties; a flow's legal basis
  override becomes ``dpv:hasLegalBasis`` on its permissions.
- One ``odrl:Prohibition`` per flow x prohibited use (``odrl:use`` constrained to the
  prohibited purpose), and an ``odrl:distribute`` prohibition per flow when the agreement says
  onward sharing is not permitted.
- Terms Accord's vocabularies map to DPV use the DPV CURIE; anything else gets an Accord IRI
  ``https://accord.invalid/vocab/<vocabulary>/<code>``.

The ``@context`` is local and fixed (no remote context is fetched), and every property is a
prefixed IRI, so the document reads the same to any JSON-LD 1.1 processor offline. The same
agreement always gives byte-identical ``json.dumps(..., sort_keys=True)``: lists keep document
order, duplicates are dropped first-seen, and nothing depends on set or clock order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any
from urllib.parse import quote

from accord.agreements import vocabularies
from accord.agreements.document import (
    Dataset,
    DataSharingAgreement,
    Flow,
    LegalBasis,
    Party,
    Purpose,
)

ACCORD_VOCAB = "https://accord.invalid/vocab/"
ACCORD_AGREEMENTS = "https://accord.invalid/agreements/"
# Declared so that Accord's extension terms (the link action, purpose and legal basis IRIs)
# come with a profile, as ODRL 2.2 §2.1 asks of a policy that uses non-ODRL terms.
ODRL_PROFILE = ACCORD_VOCAB + "odrl-profile/0.1"

CONTEXT: dict[str, str] = {
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "dpv": "https://w3id.org/dpv#",
    "dpv-pd": "https://w3id.org/dpv/pd#",
    "eu-gdpr": "https://w3id.org/dpv/legal/eu/gdpr#",
    "sector-publicservices": "https://w3id.org/dpv/sector/publicservices#",
    "sector-health": "https://w3id.org/dpv/sector/health#",
    "sector-education": "https://w3id.org/dpv/sector/education#",
    "sector-law": "https://w3id.org/dpv/sector/law#",
    "dct": "http://purl.org/dc/terms/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "accord": ACCORD_VOCAB,
}

# Statuses at which the parties have agreed the rules; before that the policy is an odrl:Set.
AGREED_STATUSES = frozenset(
    {"approved", "active", "suspended", "expired", "terminated", "superseded"}
)

# Accord's per-flow actions as ODRL actions.
# - view: odrl:read ("to obtain data from the Asset"), a narrower action than odrl:use, so a
#   view-only flow does not also permit taking a copy.
# - extract: odrl:reproduce ("to make duplicate copies of the Asset"). Not odrl:distribute,
#   which is supplying the asset to third parties: that is onward sharing, which agreements
#   usually forbid (see the odrl:distribute prohibitions below).
# - aggregate_only: odrl:aggregate, the closest ODRL action ("use the Asset or parts of it as
#   part of a composite collection"); Accord's meaning (only aggregate outputs leave) is
#   narrower, and the accord:action triple on each permission keeps it exact.
# - link: ODRL 2.2 has no action for record linkage (joining datasets on a shared key); the
#   nearest, odrl:derive, covers any derived work. Accord's IRI accord:actions/link is used,
#   declared under the policy's odrl:profile.
ACTION_IRIS: dict[str, str] = {
    "view": "odrl:read",
    "extract": "odrl:reproduce",
    "aggregate_only": "odrl:aggregate",
    "link": "accord:actions/link",
}

_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_GATEWAY_PREFIX = "ukdsa:gateway/"


def _ref(iri: str) -> dict[str, str]:
    return {"@id": iri}


def _refs(iris: Iterable[str]) -> list[dict[str, str]]:
    return [_ref(iri) for iri in dict.fromkeys(iris)]


def _segment(value: str) -> str:
    """VALUE as one IRI path segment (colons and @ kept, they are legal in a segment)."""
    return quote(value, safe=":@")


def accord_term(vocabulary: str, code: str) -> str:
    """Accord's IRI (as a CURIE) for CODE in VOCABULARY."""
    return f"accord:{_segment(vocabulary)}/{_segment(code)}"


def vocabulary_term(vocabulary: str, code: str) -> str:
    """The DPV CURIE the vocabulary gives CODE, else Accord's IRI for it."""
    try:
        dpv = vocabularies.load(vocabulary).get(code).dpv
    except (KeyError, LookupError):
        dpv = None
    return dpv or accord_term(vocabulary, code)


def external_term(value: str, vocabulary: str) -> str:
    """A CURIE or IRI from the document (dpv_purpose, dpv_pd) that the context can expand.

    A CURIE whose prefix the context declares and a full http(s) IRI are kept; anything else
    would expand to a meaningless IRI, so it becomes Accord's IRI in VOCABULARY instead.
    """
    prefix, sep, _ = value.partition(":")
    if sep and prefix in CONTEXT:
        return value
    if value.startswith(("http://", "https://")) and _ABSOLUTE_IRI.match(value):
        return value
    return accord_term(vocabulary, value)


def agreement_iri(agreement: DataSharingAgreement) -> str:
    """The policy's IRI: the agreement id if it is an absolute IRI, else Accord's IRI for it."""
    return _agreement_id_iri(agreement.id)


def _agreement_id_iri(agreement_id: str) -> str:
    if _ABSOLUTE_IRI.match(agreement_id):
        return agreement_id
    return ACCORD_AGREEMENTS + _segment(agreement_id)


def _base(agreement: DataSharingAgreement) -> str:
    return f"{ACCORD_AGREEMENTS}{_segment(agreement.id)}/"


def _typed(value: str, datatype: str) -> dict[str, str]:
    return {"@value": value, "@type": datatype}


def _legal_bases(legal_basis: LegalBasis) -> list[str]:
    terms: list[str] = [vocabulary_term("article6", code) for code in legal_basis.article6]
    if legal_basis.article6_ea_condition:
        terms.append(vocabulary_term("article6_ea_conditions", legal_basis.article6_ea_condition))
    terms += [vocabulary_term("article9", code) for code in legal_basis.article9]
    terms += [vocabulary_term("schedule1", code) for code in legal_basis.dpa2018_schedule1]
    for gateway in legal_basis.statutory_gateways:
        code = gateway.code.removeprefix(_GATEWAY_PREFIX)
        terms.append(vocabulary_term("gateways", code))
    if legal_basis.confidentiality_basis:
        terms.append(vocabulary_term("confidentiality_bases", legal_basis.confidentiality_basis))
    return list(dict.fromkeys(terms))


def _personal_data(dataset: Dataset) -> list[str]:
    """DPV-PD terms the fields name, plus Accord's IRI for each personal data category."""
    terms: list[str] = []
    for field in dataset.fields:
        terms += [external_term(term, "dpv_pd") for term in field.dpv_pd]
        if field.personal_data_category != "not_personal":
            terms.append(accord_term("personal_data_categories", field.personal_data_category))
    return list(dict.fromkeys(terms))


def _purpose_terms(purpose: Purpose, base: str) -> list[str]:
    if purpose.dpv_purpose:
        return [external_term(term, "dpv_purpose") for term in purpose.dpv_purpose]
    return [f"{base}purposes/{_segment(purpose.id)}"]


def _constraint(left: str, operator: str, right: Any) -> dict[str, Any]:
    return {
        "@type": "odrl:Constraint",
        "odrl:leftOperand": _ref(left),
        "odrl:operator": _ref(operator),
        "odrl:rightOperand": right,
    }


def _purpose_constraint(terms: list[str]) -> dict[str, Any]:
    unique = list(dict.fromkeys(terms))
    if len(unique) == 1:
        return _constraint("odrl:purpose", "odrl:isA", _ref(unique[0]))
    return _constraint("odrl:purpose", "odrl:isAnyOf", _refs(unique))


def _term_constraints(agreement: DataSharingAgreement) -> list[dict[str, Any]]:
    term = agreement.term
    constraints = []
    if term and term.start_date:
        constraints.append(_date_constraint("odrl:gteq", term.start_date))
    if term and term.end_date:
        constraints.append(_date_constraint("odrl:lteq", term.end_date))
    return constraints


def _date_constraint(operator: str, day: date) -> dict[str, Any]:
    return _constraint("odrl:dateTime", operator, _typed(day.isoformat(), "xsd:date"))


class _Projection:
    """Builds the graph for one agreement; only references declared parties and datasets."""

    def __init__(self, agreement: DataSharingAgreement):
        self.agreement = agreement
        self.base = _base(agreement)
        self.parties: dict[str, Party] = {party.id: party for party in agreement.parties}
        self.datasets: dict[str, Dataset] = {dataset.id: dataset for dataset in agreement.datasets}
        self.purposes: dict[str, Purpose] = {purpose.id: purpose for purpose in agreement.purposes}

    def iri(self, kind: str, local_id: str) -> str:
        return f"{self.base}{kind}/{_segment(local_id)}"

    def party_iris(self, party_ids: Iterable[str]) -> list[str]:
        return [self.iri("parties", pid) for pid in dict.fromkeys(party_ids) if pid in self.parties]

    def dataset_iris(self, dataset_ids: Iterable[str]) -> list[str]:
        known = (did for did in dict.fromkeys(dataset_ids) if did in self.datasets)
        return [self.iri("datasets", did) for did in known]

    # -- rules -------------------------------------------------------------------------------

    def _rule_parties(self, flow: Flow) -> dict[str, Any]:
        parties: dict[str, Any] = {}
        assigner = self.party_iris([flow.from_party_id] if flow.from_party_id else [])
        if assigner:
            parties["odrl:assigner"] = _ref(assigner[0])
        assignees = self.party_iris(flow.to_party_ids)
        if assignees:
            parties["odrl:assignee"] = _refs(assignees)
        targets = self.dataset_iris(flow.dataset_ids)
        if targets:
            # One target per dataset: ODRL 2.2 §2.7.1 reads a rule with several targets as the
            # same rule for each of them.
            parties["odrl:target"] = _refs(targets)
        return parties

    def _flow_purposes(self, flow: Flow) -> list[str]:
        terms: list[str] = []
        for purpose_id in flow.purpose_ids:
            if purpose_id in self.purposes:
                terms += _purpose_terms(self.purposes[purpose_id], self.base)
        return terms

    def _retention_duties(self, flow: Flow) -> list[dict[str, Any]]:
        duties = []
        for rule in self.agreement.retention:
            if rule.period is None or rule.dataset_id not in flow.dataset_ids:
                continue
            if rule.party_id not in flow.to_party_ids or rule.party_id not in self.parties:
                continue
            duty: dict[str, Any] = {
                "@type": "odrl:Duty",
                "odrl:action": _ref("odrl:delete"),
                "odrl:assignee": _ref(self.iri("parties", rule.party_id)),
                "odrl:constraint": [
                    _constraint("odrl:elapsedTime", "odrl:eq", _typed(rule.period, "xsd:duration"))
                ],
            }
            if rule.dataset_id in self.datasets:
                duty["odrl:target"] = _ref(self.iri("datasets", rule.dataset_id))
            duties.append(duty)
        return duties

    def permissions(self) -> list[dict[str, Any]]:
        term_constraints = _term_constraints(self.agreement)
        permissions = []
        for flow in self.agreement.flows:
            flow_iri = self.iri("flows", flow.id)
            constraints = list(term_constraints)
            purpose_terms = self._flow_purposes(flow)
            if purpose_terms:
                constraints.insert(0, _purpose_constraint(purpose_terms))
            duties = self._retention_duties(flow)
            for action in dict.fromkeys(flow.actions):
                permission: dict[str, Any] = {
                    "@id": f"{flow_iri}/permissions/{action}",
                    "@type": "odrl:Permission",
                    "odrl:action": _ref(ACTION_IRIS[action]),
                    "accord:action": _ref(accord_term("actions", action)),
                    "accord:flow": _ref(flow_iri),
                    **self._rule_parties(flow),
                }
                if constraints:
                    permission["odrl:constraint"] = constraints
                if duties:
                    permission["odrl:duty"] = duties
                if flow.legal_basis_override is not None:
                    permission["dpv:hasLegalBasis"] = _refs(_legal_bases(flow.legal_basis_override))
                permissions.append(permission)
        return permissions

    def prohibitions(self) -> list[dict[str, Any]]:
        agreement = self.agreement
        prohibitions: list[dict[str, Any]] = []
        # With no flows there is no assigner or assignee to attach a prohibition to; the uses
        # are still stated, policy-wide, so they are not lost from the projection.
        scopes: list[tuple[str, dict[str, Any]]] = [
            (f"{self.iri('flows', flow.id)}/", self._rule_parties(flow)) for flow in agreement.flows
        ] or [(self.base, {})]
        for prefix, parties in scopes:
            for use in agreement.prohibited_uses:
                prohibition: dict[str, Any] = {
                    "@id": f"{prefix}prohibitions/{_segment(use.code)}",
                    "@type": "odrl:Prohibition",
                    "odrl:action": _ref("odrl:use"),
                    "odrl:constraint": [
                        _purpose_constraint([vocabulary_term("prohibited_uses", use.code)])
                    ],
                    "accord:prohibitedUse": _ref(vocabulary_term("prohibited_uses", use.code)),
                    **parties,
                }
                if use.description:
                    prohibition["rdfs:comment"] = use.description
                prohibitions.append(prohibition)
            if agreement.onward_sharing is not None and not agreement.onward_sharing.permitted:
                prohibitions.append(
                    {
                        "@id": f"{prefix}prohibitions/onward-sharing",
                        "@type": "odrl:Prohibition",
                        "odrl:action": _ref("odrl:distribute"),
                        **parties,
                    }
                )
        return prohibitions

    # -- nodes -------------------------------------------------------------------------------

    def party_node(self, party: Party) -> dict[str, Any]:
        types = ["odrl:Party"]
        types += [vocabulary_term("party_roles", role) for role in party.roles]
        for flow in self.agreement.flows:
            if flow.from_party_id == party.id:
                types.append("dpv:DataController")
            if party.id in flow.to_party_ids:
                types.append("dpv:Recipient")
        node: dict[str, Any] = {
            "@id": self.iri("parties", party.id),
            "@type": list(dict.fromkeys(types)),
            "dct:identifier": party.id,
        }
        if party.name:
            node["rdfs:label"] = party.name
        identifiers = [f"{ident.scheme}:{ident.value}" for ident in party.org_identifiers]
        if identifiers:
            node["accord:orgIdentifier"] = identifiers
        if party.sector:
            node["accord:sector"] = _ref(vocabulary_term("sectors", party.sector))
        return node

    def dataset_node(self, dataset: Dataset) -> dict[str, Any]:
        node: dict[str, Any] = {
            "@id": self.iri("datasets", dataset.id),
            "@type": "odrl:Asset",
            "dct:identifier": dataset.id,
        }
        if dataset.name:
            node["rdfs:label"] = dataset.name
        if dataset.description:
            node["dct:description"] = dataset.description
        if dataset.provider_party_id in self.parties:
            node["dct:publisher"] = _ref(self.iri("parties", dataset.provider_party_id or ""))
        if dataset.standard:
            node["dct:conformsTo"] = _ref(accord_term("standards", dataset.standard))
        personal = _personal_data(dataset)
        if personal:
            node["dpv:hasPersonalData"] = _refs(personal)
        return node

    def purpose_node(self, purpose: Purpose) -> dict[str, Any]:
        types = ["dpv:Purpose"]
        types += [external_term(term, "dpv_purpose") for term in purpose.dpv_purpose]
        node: dict[str, Any] = {
            "@id": self.iri("purposes", purpose.id),
            "@type": list(dict.fromkeys(types)),
            "dct:identifier": purpose.id,
        }
        if purpose.title:
            node["rdfs:label"] = purpose.title
        if purpose.description:
            node["dct:description"] = purpose.description
        return node

    def policy_node(self) -> dict[str, Any]:
        agreement = self.agreement
        policy_class = "odrl:Agreement" if agreement.status in AGREED_STATUSES else "odrl:Set"
        node: dict[str, Any] = {
            "@id": agreement_iri(agreement),
            "@type": list(
                dict.fromkeys(
                    [policy_class, vocabulary_term("agreement_types", agreement.agreement_type)]
                )
            ),
            "odrl:profile": _ref(ODRL_PROFILE),
            "dct:identifier": agreement.id,
            "owl:versionInfo": agreement.version,
            "accord:status": _ref(accord_term("statuses", agreement.status)),
        }
        if agreement.title:
            node["dct:title"] = agreement.title
        provenance = agreement.provenance
        if provenance and provenance.created:
            node["dct:created"] = _typed(provenance.created.isoformat(), "xsd:dateTime")
        if provenance and provenance.modified:
            node["dct:modified"] = _typed(provenance.modified.isoformat(), "xsd:dateTime")
        if agreement.parent_agreement_id:
            node["dct:isPartOf"] = _ref(_agreement_id_iri(agreement.parent_agreement_id))
        if agreement.term and (agreement.term.start_date or agreement.term.end_date):
            # A DCMI Period, so a reader without ODRL constraints still sees the term.
            parts = []
            if agreement.term.start_date:
                parts.append(f"start={agreement.term.start_date.isoformat()};")
            if agreement.term.end_date:
                parts.append(f"end={agreement.term.end_date.isoformat()};")
            parts.append("scheme=W3C-DTF;")
            node["dct:valid"] = _typed(" ".join(parts), "dct:Period")
        legal_bases = _legal_bases(agreement.legal_basis)
        if legal_bases:
            node["dpv:hasLegalBasis"] = _refs(legal_bases)
        purposes = [self.iri("purposes", purpose.id) for purpose in agreement.purposes]
        if purposes:
            node["dpv:hasPurpose"] = _refs(purposes)
        controllers = self.party_iris(
            flow.from_party_id for flow in agreement.flows if flow.from_party_id
        )
        if controllers:
            node["dpv:hasDataController"] = _refs(controllers)
        recipients = self.party_iris(pid for flow in agreement.flows for pid in flow.to_party_ids)
        if recipients:
            node["dpv:hasRecipient"] = _refs(recipients)
        personal = [term for dataset in agreement.datasets for term in _personal_data(dataset)]
        if personal:
            node["dpv:hasPersonalData"] = _refs(personal)
        subjects = [accord_term("data_subjects", code) for code in agreement.data_subjects]
        if subjects:
            node["dpv:hasDataSubject"] = _refs(subjects)
        permissions = self.permissions()
        if permissions:
            node["odrl:permission"] = permissions
        prohibitions = self.prohibitions()
        if prohibitions:
            node["odrl:prohibition"] = prohibitions
        return node

    def document(self) -> dict[str, Any]:
        graph = [self.policy_node()]
        graph += [self.party_node(party) for party in self.agreement.parties]
        graph += [self.dataset_node(dataset) for dataset in self.agreement.datasets]
        graph += [self.purpose_node(purpose) for purpose in self.agreement.purposes]
        return {"@context": dict(CONTEXT), "@graph": graph}


def to_jsonld(agreement: DataSharingAgreement) -> dict[str, Any]:
    """The agreement as a JSON-LD document in ODRL 2.2 + DPV (see the module docstring).

    Deterministic: the same agreement gives byte-identical ``json.dumps(..., sort_keys=True)``.
    The result is a fresh dict the caller may change.
    """
    # A JSON round trip, not deepcopy: deepcopy would keep the constraint lists the permissions
    # of one flow share, so a caller editing one permission would edit its siblings.
    result: dict[str, Any] = json.loads(json.dumps(_Projection(agreement).document()))
    return result
