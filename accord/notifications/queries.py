"""Reading notices: an organisation's own, newest first."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from accord.organisations.models import Organisation

from .models import Notification


def notices_for(organisation: Organisation) -> QuerySet[Notification]:
    return Notification.objects.filter(organisation=organisation)


def recent_count(organisation: Organisation, *, days: int = 30) -> int:
    since = timezone.now() - timedelta(days=days)
    return Notification.objects.filter(organisation=organisation, created_at__gte=since).count()
