"""Creating opt-out lists and replacing their contents.

Platform staff create lists and load them from the command line (``accord optouts``); a DPO
of the organisation that owns a list may upload a new version on the website. A new version
replaces the old one whole: the new NHS numbers are stored in the vault as the owner's object,
the row points at it, and the old object is crypto-shredded, in one audited transaction.
Nothing identifying reaches the database or the audit log: only counts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.audit.actions import audited, record
from accord.audit.actor import Actor, ActorKind
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.models import Organisation
from accord.vault import actions as vault
from accord.vault.parquet import store_frame

from .enums import MANAGING_ROLES, ListKind
from .models import OptOutList
from .reading import UnreadableList, read_list

# Kept until replaced; the long period is a backstop, not the plan.
LIST_RETENTION = "P10Y"


class InvalidList(Refused):
    """An upload that cannot become the list's new version; ``problems`` names bad rows."""

    def __init__(self, reason: str, *, target: str, problems: list[str], count: int) -> None:
        super().__init__(reason, target=target)
        self.problems = problems
        self.count = count


def _target(opt_out_list: OptOutList) -> str:
    return f"opt_out_list:{opt_out_list.pk}"


def may_manage(by: Actor, opt_out_list: OptOutList) -> bool:
    """Platform operators (the command line) manage every list; on the website, a DPO of the
    organisation that owns the list manages it."""
    if by.kind is ActorKind.SYSTEM:
        return True
    return str(by.organisation_id) == str(opt_out_list.owner_id) and bool(
        set(by.roles) & {str(r) for r in MANAGING_ROLES}
    )


@audited("optouts.list_created")
def create_list(
    *, by: Actor, name: str, kind: str, owner: Organisation, description: str = ""
) -> OptOutList:
    """A new, empty list (platform operators only)."""
    if by.kind is not ActorKind.SYSTEM:
        raise NotPermitted(
            "Only the platform's operators create opt-out lists.", target="opt_out_list:new"
        )
    name = " ".join(str(name).split())
    if not name or len(name) > 200:
        raise Refused("Give the list a name of 1 to 200 characters.", target="opt_out_list:new")
    if kind not in ListKind.values:
        raise Refused(
            f"Choose the kind of list: {', '.join(ListKind.values)}.", target="opt_out_list:new"
        )
    if OptOutList.objects.filter(name__iexact=name).exists():
        raise Refused(f"There is already a list called {name}.", target="opt_out_list:new")
    created = OptOutList.objects.create(
        name=name, kind=kind, owner=owner, description=description.strip()
    )
    record(
        by=by,
        action="optouts.list_created",
        target=_target(created),
        subject_organisation_id=str(owner.pk),
        details={"name": name, "kind": kind, "owner": str(owner.pk)},
    )
    return created


@audited("optouts.list_loaded")
def load_list(
    *,
    by: Actor,
    opt_out_list: OptOutList,
    source: str | Path,
    on_progress: Callable[[int, int | None], None] | None = None,
) -> OptOutList:
    """Replace ``opt_out_list``'s NHS numbers with those in the file at ``source``.

    Raises ``NotPermitted`` unless ``by`` may manage the list, ``InvalidList`` (with each bad
    row) when the file cannot be used; then the list is unchanged."""
    target = _target(opt_out_list)
    if not may_manage(by, opt_out_list):
        raise NotPermitted(
            f"Only a data protection officer of {opt_out_list.owner.name} can change this list.",
            target=target,
        )
    try:
        read = read_list(source, on_progress=on_progress)
    except UnreadableList as exc:
        raise InvalidList(
            exc.message, target=target, problems=exc.problems, count=exc.count
        ) from None
    return _replace(by=by, opt_out_list=opt_out_list, numbers=read.numbers, rows=read.rows)


def _replace(*, by: Actor, opt_out_list: OptOutList, numbers: pl.Series, rows: int) -> OptOutList:
    locked = OptOutList.objects.select_for_update().get(pk=opt_out_list.pk)
    version = locked.version + 1
    stored = store_frame(
        by=by,
        organisation=locked.owner,
        kind=ResourceKind.OPT_OUT_LIST,
        name=f"Opt-out list: {locked.name}, version {version}"[:200],
        frame=numbers.to_frame("nhs_number"),
        description=f"The NHS numbers on {locked.name} ({locked.get_kind_display()})"[:2000],
        retention=LIST_RETENTION,
        retention_basis="kept until replaced by a newer version of the list",
    )
    old = locked.data
    locked.data = stored
    locked.version = version
    locked.count = numbers.len()
    locked.updated_at = timezone.now()
    locked.updated_by_label = by.label[:300]
    locked.save()
    record(
        by=by,
        action="optouts.list_loaded",
        target=_target(locked),
        subject_organisation_id=str(locked.owner_id),
        details={
            "name": locked.name,
            "kind": locked.kind,
            "version": version,
            "people": locked.count,
            "rows": rows,
            "object": str(stored.pk),
            "replaced": str(old.pk) if old is not None else None,
        },
    )
    if old is not None and old.deleted_at is None:
        vault.crypto_shred(by=by, obj=old, reason=f"Replaced by version {version} of the list")
    return locked
