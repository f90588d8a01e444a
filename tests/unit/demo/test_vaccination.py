"""The demo's vaccination uptake dashboard (issue 8): UKHSA's synthetic NIMS snapshots meet the
vaccination-uptake-lsoa standard and add up, and loading the demo makes "Vaccination uptake by
area" and returns it to the councils and the ICB of Kent and Medway, not to anyone else."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from django.utils import timezone

from accord.access.exceptions import AccessDenied
from accord.demo import vaccination
from accord.demo.datasets import MAIDSTONE, SOUTH_EAST, lsoas_in
from accord.demo.loader import load_demo
from accord.organisations.actors import actor_for
from accord.organisations.models import Membership, Organisation
from accord.outputs import queries, recipes
from accord.outputs.models import OutputDefinition, OutputState
from accord.standards.queries import get_standard
from accord.submissions.engine import validate_file
from accord.submissions.models import Collection, Submission

from .conftest import DEMO_PASSWORD

SUNDAY = dt.date(2026, 11, 15)


def _actor(username: str, organisation: str):
    membership = Membership.objects.select_related("user", "organisation").get(
        user__username=username, organisation__name=organisation
    )
    return actor_for(membership.user, membership)


# The generator -----------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", [SUNDAY, dt.date(2026, 10, 4), dt.date(2026, 6, 28)])
def test_a_snapshot_meets_the_standard_with_no_problem(as_of: dt.date, tmp_path: Path) -> None:
    standard = get_standard(vaccination.STANDARD, "1.0", database=False)
    frame = vaccination.vaccination_uptake(as_of)
    assert frame.columns == [f.name for f in standard.fields]
    path = tmp_path / "vaccination.csv"
    frame.write_csv(path)
    report = validate_file(path, standard)
    messages = "\n".join(report.problems["message"].to_list())
    assert report.is_valid, messages
    assert report.problems.is_empty(), messages
    assert report.rows == frame.height
    assert all(c.column == c.field for c in report.columns)


def test_a_snapshot_has_every_lsoa_age_band_and_sex_in_many_small_cells() -> None:
    frame = vaccination.vaccination_uptake(SUNDAY, (MAIDSTONE, vaccination.MEDWAY))
    lsoas = set(lsoas_in(MAIDSTONE)) | set(lsoas_in(vaccination.MEDWAY))
    assert set(frame["lsoa21cd"]) == lsoas
    assert frame.height == len(lsoas) * len(vaccination.AGE_BANDS) * len(vaccination.SEXES)
    assert frame.select("lsoa21cd", "age_band", "sex").is_unique().all()
    assert "all" not in set(frame["age_band"]) | set(frame["sex"])  # nobody counted twice
    assert frame["nims_population"].min() >= 5
    assert frame["nims_population"].max() <= 120
    assert (frame["booster_count"].is_between(1, 7)).sum() > 0  # small cells to protect
    assert frame["as_of_date"].unique().to_list() == [SUNDAY]
    assert not frame["suppressed"].any()
    # One decile per neighbourhood.
    assert frame.group_by("lsoa21cd").agg(pl.col("imd_decile").n_unique())["imd_decile"].max() == 1
    assert frame["imd_decile"].is_between(1, 10).all()


def test_a_snapshot_s_counts_hang_together() -> None:
    frame = vaccination.vaccination_uptake(SUNDAY)
    assert frame.null_count().sum_horizontal().item() == 0
    assert (frame["booster_count"] >= 0).all()
    assert (frame["booster_count"] <= frame["dose2_count"]).all()
    assert (frame["dose2_count"] <= frame["dose1_count"]).all()
    assert (frame["dose1_count"] <= frame["nims_population"]).all()
    shares = frame.select(
        (100 * pl.col("dose1_count") / pl.col("nims_population")).round(1).alias("dose1"),
        (100 * pl.col("booster_count") / pl.col("nims_population")).round(1).alias("booster"),
    )
    assert (shares["dose1"] == frame["dose1_uptake_pct"]).all()
    assert (shares["booster"] == frame["booster_uptake_pct"]).all()
    # Older people take up more; boosters go mostly to people aged 65 and over.
    by_age = frame.group_by("age_band").agg(
        (pl.col("dose1_count").sum() / pl.col("nims_population").sum()).alias("dose1"),
        (pl.col("booster_count").sum() / pl.col("nims_population").sum()).alias("booster"),
    )
    share = {row["age_band"]: row for row in by_age.iter_rows(named=True)}
    assert share["80+"]["dose1"] > share["40-44"]["dose1"] > share["5-9"]["dose1"]
    assert share["80+"]["booster"] > 5 * share["40-44"]["booster"]


def test_week_by_week_the_people_stay_and_boosters_grow() -> None:
    earlier = vaccination.vaccination_uptake(SUNDAY - dt.timedelta(weeks=3))
    later = vaccination.vaccination_uptake(SUNDAY)
    for column in ("lsoa21cd", "age_band", "sex", "nims_population", "dose1_count", "imd_decile"):
        assert earlier[column].equals(later[column]), column
    assert (later["booster_count"] >= earlier["booster_count"]).all()
    assert later["booster_count"].sum() > earlier["booster_count"].sum()
    assert vaccination.vaccination_uptake(SUNDAY).equals(later)  # the same every time


def test_the_booster_count_starts_again_with_each_campaign() -> None:
    assert vaccination.campaign_progress(dt.date(2026, 10, 1)) == pytest.approx(1 / 12)
    assert vaccination.campaign_progress(dt.date(2026, 9, 30)) == 1.0
    assert vaccination.campaign_progress(dt.date(2026, 2, 1)) == 1.0
    assert vaccination.campaign_progress(dt.date(2026, 4, 8)) == pytest.approx(2 / 12)


# The demo ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_the_demo_returns_uptake_by_area_to_the_councils_and_the_icb() -> None:
    load_demo(password=DEMO_PASSWORD)

    collection = Collection.objects.get(slug=vaccination.SLUG)
    assert collection.owner.name == "UK Health Security Agency"
    assert collection.schedule == "weekly"
    assert collection.framework is not None
    sent = Submission.objects.filter(collection=collection)
    assert sent.exclude(state="accepted").count() == 0
    this_week = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    assert set(sent.values_list("period", flat=True)) == {
        this_week - dt.timedelta(weeks=n) for n in range(1, 5)
    }
    definition = OutputDefinition.objects.get(slug=vaccination.OUTPUT_SLUG)
    assert definition.recipe == "vaccination-uptake"
    assert set(definition.audience.values_list("name", flat=True)) == {
        "Kent County Council",
        "Maidstone Borough Council",
        "Canterbury City Council",
        "Tunbridge Wells Borough Council",
        "Medway Council",
        "NHS Kent and Medway Integrated Care Board",
    }
    output = queries.latest_output(definition)
    assert output is not None
    assert output.state == OutputState.READY
    # Counts of people by LSOA (every age band and sex together) are rounded, none exact.
    assert output.summary["rounded"] > 0
    assert output.periods_to == this_week - dt.timedelta(days=1)  # last Sunday's snapshot

    # Every organisation in the audience finds it on its "Returned to you" page.
    for organisation in definition.audience.all():
        assert definition in queries.returned_to(organisation), organisation.name
    hackney = Organisation.objects.get(name="London Borough of Hackney")
    assert definition not in queries.returned_to(hackney)

    # Maidstone's analyst reads it through the decision point: Maidstone highlighted, and
    # benchmarked against the South East, similar districts and England.
    maidstone = Organisation.objects.get(name="Maidstone Borough Council")
    reader = _actor("analyst@midkent.demo.accord.test", "Maidstone Borough Council")
    table = queries.read_output(output, by=reader)
    assert queries.own_area_of(maidstone, table) == MAIDSTONE
    board = queries.dashboard(output, table, own_area=MAIDSTONE)
    assert board.latest == output.periods_to
    assert [row.highlighted for row in board.rows if row.code == MAIDSTONE] == [True]
    benchmarks = [(row.level, row.code) for row in board.benchmarks]
    assert benchmarks[0] == ("area", MAIDSTONE)
    assert ("region", SOUTH_EAST) in benchmarks
    assert benchmarks[-1] == ("all", recipes.ALL_CODE)
    assert board.benchmarks[-1].name == "England (all areas reported)"
    # Neighbourhoods: Maidstone's LSOAs are there, their small counts protected.
    lsoa_board = queries.dashboard(output, table, area_level="lsoa")
    assert set(lsoas_in(MAIDSTONE)) <= {row.code for row in lsoa_board.rows}
    people = table.filter(pl.col(recipes.MEASURE).is_in(["population", "booster_count"]))
    shown = people.filter(pl.col(recipes.VALUE).is_not_null())[recipes.VALUE]
    assert (shown % 5 == 0).all()  # rounded to 5: no exact count of people

    # Outside the audience: refused by the decision point.
    outsider = _actor("manager@hackney.demo.accord.test", "London Borough of Hackney")
    with pytest.raises(AccessDenied):
        queries.read_output(output, by=outsider)


@pytest.mark.django_db
def test_loading_again_sends_and_defines_nothing_twice() -> None:
    load_demo(password=DEMO_PASSWORD)
    before = (
        Submission.objects.filter(collection__slug=vaccination.SLUG).count(),
        OutputDefinition.objects.filter(slug=vaccination.OUTPUT_SLUG).count(),
    )
    summary = load_demo(password=DEMO_PASSWORD)
    after = (
        Submission.objects.filter(collection__slug=vaccination.SLUG).count(),
        OutputDefinition.objects.filter(slug=vaccination.OUTPUT_SLUG).count(),
    )
    assert before == after == (4, 1)
    assert not [line for line in summary.created if vaccination.NAME in line]
