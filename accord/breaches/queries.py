"""Reading breaches: only the parties to a breach's agreement see it."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from accord.agreements.actions import document_of
from accord.agreements.models import Agreement, AgreementParty
from accord.organisations.models import Organisation

from .models import Breach


def parties(agreement: Agreement) -> list[Organisation]:
    ids = AgreementParty.objects.filter(agreement=agreement).values_list("organisation_id")
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def is_party(organisation_id: int | str, agreement: Agreement) -> bool:
    return AgreementParty.objects.filter(
        agreement=agreement, organisation_id=organisation_id
    ).exists()


def breaches_for(organisation_id: int | str) -> QuerySet[Breach]:
    """Breaches under every agreement the organisation is party to, newest first."""
    agreements = AgreementParty.objects.filter(organisation_id=organisation_id).values_list(
        "agreement_id"
    )
    return Breach.objects.filter(agreement_id__in=agreements).select_related(
        "agreement", "reported_by_organisation"
    )


def breach_for(organisation_id: int | str, breach_id: uuid.UUID | str) -> Breach:
    """The breach, if the organisation is party to its agreement; DoesNotExist otherwise (alike
    whether it does not exist or is not theirs)."""
    return breaches_for(organisation_id).get(pk=breach_id)


def agreement_for(organisation_id: int | str, agreement_id: uuid.UUID | str) -> Agreement:
    """An agreement the organisation is party to; DoesNotExist otherwise."""
    return Agreement.objects.get(pk=agreement_id, parties__organisation_id=organisation_id)


def reportable_agreements(organisation_id: int | str) -> list[Agreement]:
    """Agreements the organisation is party to that data may have flowed under."""
    return list(
        Agreement.objects.filter(
            parties__organisation_id=organisation_id,
            status__in=("active", "suspended", "terminated", "expired", "superseded"),
        ).order_by("title")
    )


def data_choices(agreement: Agreement) -> list[tuple[str, str]]:
    """The agreement's data, as (code, label): each dataset, then each of its fields."""
    choices: list[tuple[str, str]] = []
    for dataset in document_of(agreement).datasets:
        name = dataset.name or dataset.id
        choices.append((dataset.id, f"{name} (all of it)"))
        choices.extend((f"{dataset.id}.{f.name}", f"{name}: {f.name}") for f in dataset.fields)
    return choices


def data_labels(breach: Breach) -> list[str]:
    labels = dict(data_choices(breach.agreement))
    return [labels.get(code, code) for code in breach.data]


def open_breaches() -> QuerySet[Breach]:
    return Breach.objects.exclude(closed_at__isnull=False).select_related("agreement")
