"""Real access events for the data use pages and API: a vault object stored for the provider,
then read (or refused) through the real decision point by real actors."""

from __future__ import annotations

from dataclasses import dataclass

from accord.access.decisions import decide
from accord.access.enums import Action, ResourceKind
from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.models import AuditEvent
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.vault import actions as vault
from accord.vault.queries import resource_for
from tests.factories import OrganisationFactory, active_care_home_agreement, member_actor

# A purpose a spreadsheet would run as a formula if the CSV did not neutralise it.
FORMULA_PURPOSE = '=HYPERLINK("http://evil.example","click")'
OUTSIDER_PURPOSE = "Planning school places"
TASK_PURPOSE = "Checking the return against its standard"
OWN_PURPOSE = "Checking our own return"
EXTRACT_TITLE = "Residential settings status sharing"  # active_care_home_agreement's title


@dataclass
class Uses:
    provider: Organisation
    reader: Organisation
    third: Organisation
    reader_email: str
    third_email: str
    agreement_id: str


def stored_submission(provider: Organisation, name: str = "Care home returns, March"):
    return vault.store(
        by=Actor.task("validation"),
        organisation=provider,
        kind=ResourceKind.SUBMISSION,
        name=name,
        source=[b"home_id,beds\nH1,12\n"],
    )


def make_uses(provider: Organisation, reader: Organisation) -> Uses:
    """Accesses to the provider's data: another organisation refused (twice, once with a
    formula-like purpose), Accord's validation task permitted, the provider's own analyst
    permitted, an extract delivered to the reader under an agreement; and a third organisation
    reading only its own data, which is none of the provider's business."""
    third = OrganisationFactory(name="Tunbridge Wells Borough Council")
    agreement = active_care_home_agreement(provider, reader)
    resource = resource_for(stored_submission(provider))
    outsider = member_actor(reader, Role.ANALYST, email="analyst@kent.example")
    decide(actor=outsider, action=Action.VIEW, resource=resource, purpose=OUTSIDER_PURPOSE)
    decide(actor=outsider, action=Action.EXTRACT, resource=resource, purpose=FORMULA_PURPOSE)
    decide(
        actor=Actor.task("validation"), action=Action.VIEW, resource=resource, purpose=TASK_PURPOSE
    )
    own = member_actor(provider, Role.ANALYST, email="own.analyst@maidstone.example")
    decide(actor=own, action=Action.VIEW, resource=resource, purpose=OWN_PURPOSE)
    # What the extract delivery records (written by the extract code when it delivers).
    record(
        by=outsider,
        action="extract.downloaded",
        target="extract:77",
        subject_organisation_id=str(provider.pk),
        details={
            "extract_id": "77",
            "agreement": {"id": str(agreement.pk), "title": agreement.title},
            "fields": ["home_id", "beds"],
            "rows": 12,
            "format": "csv",
            "roles": ["analyst"],
        },
    )
    third_member = member_actor(third, Role.DATA_OFFICER, email="officer@tunbridgewells.example")
    decide(
        actor=third_member,
        action=Action.VIEW,
        resource=resource_for(stored_submission(third, "Tunbridge Wells private data")),
        purpose="Our own business",
    )
    return Uses(
        provider=provider,
        reader=reader,
        third=third,
        reader_email=outsider.label,
        third_email=third_member.label,
        agreement_id=str(agreement.pk),
    )


def access_events() -> int:
    return AuditEvent.objects.filter(action__in=("access.decided", "extract.downloaded")).count()
