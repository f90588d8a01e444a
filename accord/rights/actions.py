"""Subject access: a DPO finds one person in everything their organisation holds in Accord,
and who received it. The search and each object it reads are decisions of the decision point,
and the search is recorded in the audit chain (how it was made and what it found, never the
person's identifiers)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted
from accord.organisations.enums import Role
from accord.organisations.models import Organisation

from .recipients import recipients
from .search import PURPOSE, PersonQuery, SubjectReport, candidates, rights_task, scan

# Who may search for a person: those who answer for data protection.
SEARCHING_ROLES = frozenset(
    {Role.DPO, Role.SIRO, Role.CALDICOTT_GUARDIAN, Role.INFORMATION_ASSET_OWNER}
)


def check_searcher(by: Actor) -> None:
    if not by.organisation_id:
        raise NotPermitted("Choose the organisation you are acting for first.")
    if not set(by.roles) & {str(r) for r in SEARCHING_ROLES}:
        raise NotPermitted(
            "Only a DPO, SIRO, Caldicott Guardian or information asset owner can search for a "
            "person's data."
        )


@audited("rights.subject_searched")
def find_person(*, by: Actor, query: PersonQuery) -> SubjectReport:
    """Everything ``by``'s organisation holds about the person, and who received it.

    Raises ``NotPermitted`` for the wrong role and ``BadQuery`` for a search that cannot be
    run (which says what to change)."""
    check_searcher(by)
    wanted = query.normalised()
    organisation = Organisation.objects.get(pk=by.organisation_id)
    task = rights_task(organisation.pk, organisation.name)
    holdings, read = scan(candidates(organisation.pk), wanted, by=task)
    report = SubjectReport(
        organisation=organisation.name,
        method=query.method,
        searched=read,
        holdings=holdings,
        recipients=recipients(organisation.pk, holdings),
        made_at=timezone.now(),
    )
    record(
        by=by,
        action="rights.subject_searched",
        target=f"organisation:{organisation.pk}",
        purpose=PURPOSE,
        details={
            "method": query.method,
            "objects_read": read,
            "objects_with_the_person": len(holdings),
            "rows": sum(h.rows.height for h in holdings),
            "recipients": len(report.recipients),
        },
    )
    return report


@audited("rights.notice_confirmed")
def confirm_notice(*, by: Actor, notice_id: Any) -> Any:
    """The recipient confirms it has erased or corrected the person in its copy."""
    from .models import SubjectChangeNotice

    if not set(by.roles) & {str(r) for r in (*SEARCHING_ROLES, Role.DATA_OFFICER, Role.ANALYST)}:
        raise NotPermitted("Only someone who handles your organisation's data can confirm this.")
    notice = (
        SubjectChangeNotice.objects.select_for_update()
        .select_related("change")
        .filter(pk=notice_id, recipient_id=int(by.organisation_id or 0))
        .first()
    )
    if notice is None:
        raise LookupError(notice_id)
    if notice.confirmed_at is None:
        notice.confirmed_at = timezone.now()
        notice.confirmed_by = by.label
        notice.save(update_fields=["confirmed_at", "confirmed_by"])
        record(
            by=by,
            action="rights.notice_confirmed",
            target=f"subject_change:{notice.change_id}",
            purpose=PURPOSE,
            details={"notice": notice.pk, "how": notice.how},
        )
    return notice
