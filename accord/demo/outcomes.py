"""Maidstone's first outcome report to Kent under the housing benefit agreement: the residents
it contacted and referred for support with the data. Made through ``outcomes.actions`` as the
demo loader (so it is audited and Kent is told), once: a report already there is left alone.
The figures are synthetic."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils import timezone

from accord.agreements.models import Agreement
from accord.organisations.models import Organisation
from accord.outcomes import actions, queries
from accord.outcomes.models import OutcomeReport

from .housing_benefit import SHARING

REPORTER = "maidstone"
FIGURES = (
    {"measure": "Residents contacted", "value": 412, "note": "By letter, phone and door visits"},
    {"measure": "Residents referred for food support", "value": 38, "note": ""},
)
NARRATIVE = (
    "We used the claims to contact every household on housing benefit in the borough about "
    "the Household Support Fund. 412 residents were contacted and 38 referred for food "
    "support. (Synthetic demo figures.)"
)


def store_demo_outcomes(organisations: Mapping[str, Organisation]) -> list[str]:
    """Maidstone's outcome report, where the agreement asks for one and none is there yet."""
    from .loader import demo_actor  # the loader imports this module

    agreement = Agreement.objects.filter(title=SHARING.title, status="active").first()
    maidstone = organisations[REPORTER]
    if (
        agreement is None
        or OutcomeReport.objects.filter(agreement=agreement, organisation=maidstone).exists()
    ):
        return []
    commitment = next(
        (c for c in queries.commitments_owed_by(maidstone) if c.agreement.pk == agreement.pk),
        None,
    )
    if commitment is None or commitment.next is None:  # an agreement from before report-back
        return []
    today = timezone.localdate()
    actions.report_outcomes(
        by=demo_actor(),
        organisation=maidstone,
        agreement=agreement,
        commitment_index=commitment.index,
        period=(min(commitment.start, today), today),
        figures=FIGURES,
        narrative=NARRATIVE,
    )
    return [f"outcome report from {maidstone.name} under “{agreement.title}”"]
