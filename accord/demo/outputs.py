"""The demo's outputs: the combined authority's care home dashboard, returned to everyone whose
returns it is made from.

Besides the three named homes, the two councils with adult social care duties send their
areas' homes' daily status to the collection, as some councils did in the pandemic: Kent County
Council for 40 synthetic homes in Maidstone, Canterbury and Tunbridge Wells, Medway Council for
24 in Medway. The last week's returns (up to yesterday) are sent through the real path
(``submissions.actions.receive``), checked and compiled by the real tasks; today's are left for
the homes to send, so the dashboard moves when they do, and Riverside View has not sent its last
two days', so it shows as late. The output "Care home status by area"
is defined over the collection with the standard disclosure control profile and shown to NHS
Kent and Medway ICB as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl
from django.utils import timezone

from accord.organisations.models import Organisation
from accord.outputs import actions as output_actions
from accord.outputs.models import OutputDefinition, Profile
from accord.submissions import actions
from accord.submissions.models import Collection

from .care_home_returns import many_care_homes
from .collections import HISTORY_DAYS, HOMES
from .collections import SLUG as COLLECTION_SLUG
from .datasets import CANTERBURY, MAIDSTONE, TUNBRIDGE_WELLS, care_home_status
from .housing_benefit import member_actor

SLUG = "care-home-status-by-area"
NAME = "Care home status by area"
# Councils that send their areas' homes' returns: (organisation key, areas, homes, first home).
COUNCILS: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    ("kent", (MAIDSTONE, CANTERBURY, TUNBRIDGE_WELLS), 40, 0),
    ("medway", ("E06000035",), 24, 1000),
)
AUDIENCE = ("kmicb",)
# Riverside View has not sent its last two days' returns: the collection shows it late.
LATE_HOME = "riverside"
LATE_DAYS = 2
_SUBMITTERS = frozenset(str(role) for role in actions.SUBMITTING_ROLES)


def store_demo_outputs(organisations: Mapping[str, Organisation]) -> list[str]:
    """Add the councils to the care home collection, send the last week's returns, and define
    the dashboard output; say what was created. Idempotent: returns testers sent stay."""
    from .loader import demo_actor  # the loader imports this module

    created: list[str] = []
    collection = Collection.objects.filter(slug=COLLECTION_SLUG).first()
    if collection is None:
        return created
    expected = set(collection.contributors.values_list("organisation_id", flat=True))
    for key, *_ in COUNCILS:
        council = organisations[key]
        if council.pk not in expected:
            actions.add_contributor(by=demo_actor(), collection=collection, organisation=council)
            created.append(f"contributor {council.name} to {collection.name}")
    if not collection.submissions.exists():
        created.extend(_send_history(collection, organisations))
    if not OutputDefinition.objects.filter(slug=SLUG).exists():
        owner = member_actor(collection.owner, frozenset({"analyst"}))
        if owner is not None:
            output_actions.define_output(
                by=owner,
                collection=collection,
                slug=SLUG,
                name=NAME,
                recipe="care-home-status",
                profile=Profile.STANDARD,
                audience=[organisations[key] for key in AUDIENCE],
            )
            created.append(f"output {NAME}")
    _run_queued()
    return created


def _days(collection: Collection) -> list[dt.date]:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    first = max(collection.starts_on, yesterday - dt.timedelta(days=HISTORY_DAYS - 1))
    return [first + dt.timedelta(days=n) for n in range((yesterday - first).days + 1)]


def _send_history(collection: Collection, organisations: Mapping[str, Organisation]) -> list[str]:
    days = _days(collection)
    if not days:
        return []
    frames: dict[str, pl.DataFrame] = {}
    for seed, key in enumerate(HOMES, start=1):
        home = organisations[key]
        frames[key] = care_home_status(home, seed=seed, days=HISTORY_DAYS + 1)
    for key, areas, homes, first in COUNCILS:
        frames[key] = many_care_homes(
            areas=areas, homes=homes, days=len(days), today=days[-1], first_home=first
        )
    created = []
    for key, frame in frames.items():
        organisation = organisations[key]
        sender = member_actor(organisation, _SUBMITTERS)
        if sender is None:
            continue
        sent = 0
        for day in days:
            if key == LATE_HOME and day > days[-1] - dt.timedelta(days=LATE_DAYS):
                continue  # late: the combined authority sees it, and the reminders say so
            rows = frame.filter(pl.col("report_date") == day)
            if rows.is_empty():
                continue
            actions.receive(
                by=sender,
                collection=collection,
                period=day,
                filename=f"care-home-status-{day:%Y-%m-%d}.csv",
                source=rows.write_csv().encode(),
                via="cli",  # loaded by `accord demo`
            )
            sent += 1
        created.append(f"{sent} daily returns from {organisation.name}")
    return created


def _run_queued() -> None:
    """Run the checks, compilation and output the returns queued: the demo starts with the
    dashboard made. (The immediate task backend has run them already.)"""
    from accord.tasks.worker import run_queued, uses_database_backend

    if uses_database_backend():
        run_queued()
