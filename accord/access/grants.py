"""Writing an active agreement's grants: one per flow, dataset and recipient.

Called by ``agreements.actions.activate`` inside its transaction, so an agreement is never
active without its grants. The document is the signed version's, read as it was signed.
"""

from __future__ import annotations

from typing import Any

from accord.agreements.document import DataSharingAgreement
from accord.agreements.models import Agreement, Framework
from accord.agreements.vocabularies import load
from accord.organisations.models import Organisation
from accord.standards.schema import Standard

from .areas import areas_of
from .models import Grant


def _standard_slug(reference: str | None) -> str:
    return (reference or "").split("@", 1)[0]


def _retention_for(document: DataSharingAgreement, dataset_id: str, party_id: str) -> str:
    for rule in document.retention:
        if rule.dataset_id == dataset_id and rule.party_id == party_id and rule.period:
            return rule.period
    return ""


def _opt_out_purposes(
    flow_purposes: list[list[str]], purposes: dict[str, Any], applied: bool
) -> list[str]:
    """The flow's purposes the opt-out applies to: none unless the agreement applies it, then
    every one but those marked as individual (direct) care (``Purpose.is_direct_care``), which
    the National Data Opt-out does not cover."""
    if not applied:
        return []
    return [pid for pid, _ in flow_purposes if not purposes[pid].is_direct_care]


def write_grants(agreement: Agreement, document: DataSharingAgreement) -> list[Grant]:
    """Replace ``agreement``'s grants with those its ``document`` gives."""
    organisations = {
        party.party_id: party.organisation
        for party in agreement.parties.select_related("organisation")
    }
    datasets = {dataset.id: dataset for dataset in document.datasets}
    purposes = {purpose.id: purpose for purpose in document.purposes}
    vocabulary = load("prohibited_uses")
    prohibited = [
        [use.code, vocabulary.get(use.code).label if use.code in vocabulary else use.description]
        for use in document.prohibited_uses
    ]
    term = document.term
    rights = document.rights_handling
    opt_out = bool(rights is not None and rights.national_data_opt_out_applied)
    grants: list[Grant] = []
    for flow in document.flows:
        provider = organisations.get(flow.from_party_id or "")
        if provider is None:
            continue
        flow_purposes = [
            [purpose_id, purposes[purpose_id].title or purpose_id]
            for purpose_id in flow.purpose_ids
            if purpose_id in purposes
        ]
        for dataset_id in flow.dataset_ids:
            dataset = datasets.get(dataset_id)
            if dataset is None:
                continue
            fields = [
                {
                    "name": field.name,
                    "transformation": field.transformation_before_share,
                    "data_type": field.data_type,
                    "identifier_type": field.identifier_type,
                    "personal": field.personal_data_category != "not_personal",
                }
                for field in dataset.fields
            ]
            for party_id in flow.to_party_ids:
                recipient = organisations.get(party_id)
                if recipient is None or recipient.pk == provider.pk:
                    continue
                row_filter = None
                if flow.row_filter is not None:
                    values = (
                        list(areas_of(recipient))
                        if flow.row_filter.scope == "recipient_area"
                        else list(flow.row_filter.values)
                    )
                    row_filter = {"column": flow.row_filter.column, "values": values}
                grants.append(
                    Grant(
                        agreement=agreement,
                        flow_id=flow.id,
                        dataset_id=dataset_id,
                        provider=provider,
                        recipient=recipient,
                        dataset=_standard_slug(dataset.standard),
                        dataset_name=dataset.name or dataset_id,
                        fields=fields,
                        purposes=flow_purposes,
                        actions=list(flow.actions),
                        row_filter=row_filter,
                        prohibited_uses=prohibited,
                        opt_out_purposes=_opt_out_purposes(flow_purposes, purposes, opt_out),
                        frequency=flow.frequency or "",
                        starts_on=term.start_date if term else None,
                        ends_on=term.end_date if term else None,
                        review_on=term.review_date if term else None,
                        retention=_retention_for(document, dataset_id, party_id),
                    )
                )
    Grant.objects.filter(agreement=agreement).delete()
    return Grant.objects.bulk_create(grants)


def write_framework_grant(
    *,
    framework: Framework,
    provider: Organisation,
    recipient: Organisation,
    standard: Standard,
    purpose: str,
) -> Grant:
    """The grant of non-personal data a framework gives a collection's owner from a member
    that contributes to it (see ``Grant``): every column of ``standard``, to view and extract,
    for ``purpose``. Refuses personal data, which only an agreement can grant."""
    if standard.personal_data:
        raise ValueError(f"{standard.title} is personal data: only an agreement can share it.")
    grant, _ = Grant.objects.update_or_create(
        framework=framework,
        agreement=None,
        flow_id=f"collection:{standard.slug}",
        dataset_id=standard.slug,
        provider=provider,
        recipient=recipient,
        defaults={
            "dataset": standard.slug,
            "dataset_name": standard.title,
            "fields": [
                {
                    "name": column.name,
                    "transformation": "none",
                    "data_type": "string",
                    "identifier_type": None,
                    "personal": False,
                }
                for column in standard.fields
            ],
            "purposes": [["collection", purpose]],
            "actions": ["view", "extract"],
        },
    )
    return grant
