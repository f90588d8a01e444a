"""The demo's collection: the combined authority collects the care homes' daily status, under
the demo framework (the data is not personal), so each home can send its return and the
combined authority can see who has sent what and the compiled dataset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from accord.agreements.models import Framework
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Collection

from .frameworks import SLUG as FRAMEWORK_SLUG

SLUG = "care-home-status-demo"
NAME = "Care home daily status (demo)"
HOMES = ("oakleigh", "kingfisher", "riverside")
# Returns for each day are due by 11:00 the next day, as the care homes' standard asks.
DEADLINE_DAYS = 1
DEADLINE_TIME = dt.time(11, 0)
HISTORY_DAYS = 7


def store_demo_collection(organisations: Mapping[str, Organisation]) -> list[str]:
    """Create the collection and its contributors where missing; say what was created."""
    from .loader import demo_actor  # the loader imports this module

    created: list[str] = []
    collection = Collection.objects.filter(slug=SLUG).first()
    if collection is None:
        collection = actions.create_collection(
            by=demo_actor(),
            owner=organisations["gmca"],
            slug=SLUG,
            name=NAME,
            description="Each care home sends one row a day; the combined authority's "
            "dashboard shows free beds, outbreaks, PPE and staffing across the homes.",
            standard=get_standard("care-home-daily-status"),
            schedule="daily",
            starts_on=timezone.localdate() - dt.timedelta(days=HISTORY_DAYS),
            deadline_days=DEADLINE_DAYS,
            deadline_time=DEADLINE_TIME,
            invalid_rows="reject",
            framework=Framework.objects.get(slug=FRAMEWORK_SLUG),
        )
        created.append(f"collection {NAME}")
    expected = set(collection.contributors.values_list("organisation_id", flat=True))
    for key in HOMES:
        home = organisations[key]
        if home.pk not in expected:
            actions.add_contributor(by=demo_actor(), collection=collection, organisation=home)
            created.append(f"contributor {home.name}")
    return created
