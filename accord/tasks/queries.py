"""Reads of progress records, with who may see them."""

from __future__ import annotations

import uuid

from accord.organisations.models import User
from accord.organisations.queries import memberships_of

from .models import TaskProgress


def progress_for(progress_id: uuid.UUID | str) -> TaskProgress | None:
    """The record, fresh from the database, or None (also for an id that is not a UUID)."""
    try:
        key = progress_id if isinstance(progress_id, uuid.UUID) else uuid.UUID(str(progress_id))
    except ValueError:
        return None
    return TaskProgress.objects.select_related("owner").filter(pk=key).first()


def progress_visible_to(user: User, progress_id: uuid.UUID | str) -> TaskProgress | None:
    """The record if ``user`` is an active member of the organisation whose work it is (in any
    role: progress says how far work has got, never what the data holds); otherwise None, for
    records without an owner too."""
    progress = progress_for(progress_id)
    if progress is None or progress.owner_id is None:
        return None
    if not memberships_of(user).filter(organisation_id=progress.owner_id).exists():
        return None
    return progress
