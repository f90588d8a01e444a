"""Sending notices to organisations (``notify``), with the audit event in the same transaction.

Email goes to active members holding the roles a notice is addressed to, after the transaction
commits, so a rolled-back change never sends mail. A failure to send is logged and does not undo
the notice: the notifications page always has it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.organisations.enums import Role
from accord.organisations.models import Membership, Organisation

from .models import Notification, Topic

logger = logging.getLogger(__name__)

# Who hears about data protection events unless a notice says otherwise.
DATA_PROTECTION_ROLES: tuple[Role, ...] = (
    Role.DPO,
    Role.ORGANISATION_ADMIN,
    Role.INFORMATION_ASSET_OWNER,
)


def _addresses(organisation: Organisation, roles: Iterable[str]) -> list[str]:
    wanted = set(roles)
    members = Membership.objects.filter(
        organisation=organisation, is_active=True, user__is_active=True
    ).select_related("user")
    return sorted(
        {m.user.email for m in members if m.user.email and wanted.intersection(m.roles or [])}
    )


def notify(
    *,
    by: Actor,
    organisation: Organisation,
    topic: Topic,
    subject: str,
    body: str,
    link: str = "",
    roles: Iterable[str] = DATA_PROTECTION_ROLES,
) -> Notification:
    """Record a notice for ``organisation`` and email its members holding ``roles``."""
    addresses = _addresses(organisation, roles)
    with transaction.atomic():
        notice = Notification.objects.create(
            organisation=organisation,
            topic=topic,
            subject=subject[:200],
            body=body,
            link=link,
            emailed_to=len(addresses),
        )
        record(
            by=by,
            action="notification.sent",
            target=f"notification:{notice.pk}",
            subject_organisation_id=str(organisation.pk),
            details={
                "topic": str(topic),
                "subject": notice.subject,
                "link": link,
                "emailed_to": len(addresses),
            },
        )
        if addresses:
            transaction.on_commit(lambda: _send(notice, addresses))
    return notice


def _send(notice: Notification, addresses: list[str]) -> None:
    text = notice.body
    if notice.link:
        text += f"\n\nSee {settings.SITE_URL}{notice.link}"
    text += (
        f"\n\nYou are getting this because of your role at {notice.organisation.name} on Accord."
    )
    try:
        send_mail(notice.subject, text, None, addresses)
    except Exception:  # the notice is on the page either way
        logger.exception("Could not email notice %s", notice.pk)


def once(key: str, send: Callable[[], None]) -> bool:
    """Run ``send`` (notices and their audit events) unless a reminder with ``key`` was sent
    before, recording ``key`` in the same transaction: True when it was sent now. A daily run
    can then be repeated, or race another, without anyone being told twice."""
    from .models import SentReminder

    if SentReminder.objects.filter(key=key).exists():
        return False
    try:
        with transaction.atomic():
            SentReminder.objects.create(key=key)
            send()
    except IntegrityError:  # another run sent it first
        return False
    return True
