"""A national body publishing to every council at once (use case 4.1): the UK Health Security
Agency's weekly Covid test counts by LSOA.

Under an agreement in force, UKHSA publishes each week's file once and every council in the
demo receives its own slice: a district, unitary or borough its own LSOAs, a county its
districts' (``access.areas``). The data is aggregate and small counts are suppressed, so it is
not personal data. Two weekly releases are published at load by UKHSA's national data team
through ``access.releases.publish``, so each council has a release waiting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone

from accord.access.models import Release
from accord.access.releases import PUBLISHING_ROLES, publish
from accord.agreements.models import Agreement, Framework
from accord.organisations.models import Organisation

from .datasets import covid_tests_weekly, last_sunday
from .frameworks import SLUG as FRAMEWORK_SLUG
from .housing_benefit import member_actor
from .sharing import Sharing, set_up_sharing

PUBLISHER = "ukhsa"
COUNCILS = ("kent", "maidstone", "canterbury", "tunbridgewells", "medway", "hackney", "islington")
# Every lower-tier area among the councils: the county's slice is its districts'.
DISTRICTS = ("E07000110", "E07000106", "E07000116", "E06000035", "E09000012", "E09000019")
WEEKS = 2  # releases published at load: the last two whole weeks
SEED = 47
SHARING = Sharing(
    title="Weekly Covid test results by LSOA for councils (demo)",
    purpose="Local outbreak management: directing testing, vaccination and public health advice "
    "to the areas with rising cases",
    standard="covid-tests-lsoa-weekly",
    frequency="weekly",
    actions=("view", "extract"),
    area_column="ltla_cd",
    function_or_power="Health protection: the Secretary of State's duty under the National "
    "Health Service Act 2006, section 2A, exercised by UKHSA, and councils' public health "
    "duties under section 2B",
)
CAVEATS = (
    "Synthetic demo figures. Positive cases below 5 are suppressed (left blank, suppressed = "
    "true). MSOA codes are blank."
)


def store_demo_releases(organisations: Mapping[str, Organisation]) -> list[str]:
    """The agreement and the releases where missing; say what was created."""
    created: list[str] = []
    agreement = Agreement.objects.filter(title=SHARING.title).first()
    if agreement is None:
        agreement = set_up_sharing(
            framework=Framework.objects.get(slug=FRAMEWORK_SLUG),
            provider=organisations[PUBLISHER],
            recipients=[organisations[key] for key in COUNCILS],
            sharing=SHARING,
        )
        created.append(f"agreement “{SHARING.title}”")
    # Published once: a tester's later releases, or an agreement a tester ended, are left be.
    if agreement.status != "active" or Release.objects.filter(agreement=agreement).exists():
        return created
    publisher = member_actor(organisations[PUBLISHER], frozenset(str(r) for r in PUBLISHING_ROLES))
    if publisher is None:
        return created
    flow = agreement.current.document["flows"][0]
    latest = last_sunday(timezone.localdate() - dt.timedelta(days=1))
    for weeks_ago in reversed(range(WEEKS)):
        ended = latest - dt.timedelta(weeks=weeks_ago)
        release = publish(
            by=publisher,
            agreement=agreement,
            flow_id=flow["id"],
            dataset_id=flow["dataset_ids"][0],
            label=f"Week ending {ended:%-d %B %Y}",
            frame=covid_tests_weekly(DISTRICTS, ended=ended, seed=SEED + weeks_ago),
            caveats=CAVEATS,
        )
        created.append(f"release “{release.label}” to {len(COUNCILS)} councils")
    return created
