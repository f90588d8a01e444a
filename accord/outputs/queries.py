"""Reading outputs: who may see which, through the decision point, and what a page shows.

``read_output`` is the only way to an output's figures: it decides (aggregate, for the outputs
purpose), refuses an organisation past its daily limit of queries, logs the query and reads
the protected table from the vault. The rest shapes that table for pages: the latest figures
by area, each measure over time (with the points a chart needs) and, for a contributor, its
own area beside its region, similar authorities and everyone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accord.access.decisions import Decision, decide
from accord.access.enums import Action
from accord.access.exceptions import AccessDenied
from accord.access.models import Grant
from accord.audit.actor import Actor
from accord.demo.geography import AreaEntity, UnknownArea, geography
from accord.organisations.models import Organisation
from accord.vault.models import VaultObject
from accord.vault.parquet import read_frame
from accord.vault.queries import resource_for

from . import disclosure, recipes
from .actions import OUTPUT_PURPOSE, due_after, log_query
from .models import Output, OutputDefinition, OutputQuery, OutputState

# Reads of outputs an organisation may make in a day (dashboard views and downloads): enough
# for a team's work, few enough that nobody can difference the tables by querying at scale.
DEFAULT_DAILY_QUERY_LIMIT = 2000


class OutputNotFound(LookupError):
    """No such output that this organisation could see (the same for one that does not exist)."""


class QueryLimitReached(AccessDenied):
    """The organisation has made its day's queries of outputs."""


def daily_limit() -> int:
    return int(getattr(settings, "OUTPUT_DAILY_QUERY_LIMIT", DEFAULT_DAILY_QUERY_LIMIT))


# --- which outputs ------------------------------------------------------------------------------


def definitions_for(organisation: Organisation | int | str) -> QuerySet[OutputDefinition]:
    """Output definitions ``organisation`` runs (its collections') or has been granted (it
    contributed, or is in the audience). Whether it may read one now is the decision point's."""
    pk = int(organisation.pk if isinstance(organisation, Organisation) else organisation)
    granted = Grant.objects.filter(recipient_id=pk, dataset__startswith="output:").values_list(
        "dataset", flat=True
    )
    slugs = [dataset.removeprefix("output:") for dataset in granted]
    return (
        OutputDefinition.objects.filter(Q(collection__owner_id=pk) | Q(slug__in=slugs))
        .select_related("collection__owner")
        .order_by("name")
    )


def definition_for(organisation: Organisation | int | str, definition_id: Any) -> OutputDefinition:
    """``definition_id`` if ``organisation`` could see it; ``OutputNotFound`` otherwise."""
    try:
        return definitions_for(organisation).get(pk=definition_id)
    except (OutputDefinition.DoesNotExist, ValueError, TypeError) as exc:
        raise OutputNotFound(str(definition_id)) from exc


def latest_output(definition: OutputDefinition) -> Output | None:
    return (
        Output.objects.filter(definition=definition, state=OutputState.READY)
        .select_related("data")
        .order_by("-number")
        .first()
    )


def in_progress(definition: OutputDefinition) -> Output | None:
    return (
        Output.objects.filter(
            definition=definition, state__in=[OutputState.QUEUED, OutputState.BUILDING]
        )
        .select_related("progress")
        .order_by("-number")
        .first()
    )


def returned_to(organisation: Organisation) -> list[OutputDefinition]:
    """Definitions whose outputs were made from ``organisation``'s data or shared with it by
    another organisation: its "Returned to you" page."""
    return [d for d in definitions_for(organisation) if d.collection.owner_id != organisation.pk]


# --- reading ------------------------------------------------------------------------------------


def queries_today(organisation_id: int | str) -> int:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return OutputQuery.objects.filter(organisation_id=organisation_id, at__gte=start).count()


def decide_aggregate(*, by: Actor, data: VaultObject, purpose: str) -> Decision:
    """The decision point's permit for ``by`` to aggregate ``data`` for ``purpose``, within
    its organisation's daily limit of outputs and tables. Raises ``AccessDenied`` (the deny is
    audited) or ``QueryLimitReached``."""
    decision = decide(
        actor=by, action=Action.AGGREGATE, resource=resource_for(data), purpose=purpose
    )
    if decision.denied:
        raise AccessDenied(decision.reason, decision=decision, reasons=decision.reasons)
    limit = daily_limit()
    if queries_today(by.organisation_id) >= limit:
        raise QueryLimitReached(
            f"Your organisation has viewed, downloaded or asked for outputs and tables "
            f"{limit:,} times today, the most allowed in a day. Try again tomorrow, or ask the "
            "data's owner for what you need.",
            decision=decision,
            reasons=(decision.reason,),
        )
    return decision


def read_output(output: Output, *, by: Actor, kind: str = "view") -> pl.DataFrame:
    """The protected table of ``output``, if the decision point permits ``by`` to read it for
    the outputs purpose and its organisation is within its daily limit. Raises
    ``AccessDenied`` (audited) otherwise. Each read is logged as a query."""
    if output.data is None:
        raise OutputNotFound(str(output.pk))
    decision = decide_aggregate(by=by, data=output.data, purpose=OUTPUT_PURPOSE)
    table = read_frame(output.data.id, by=by, decision=decision, action=Action.AGGREGATE)
    log_query(by=by, output=output, kind=kind, cells=table.height)
    return table


# --- shaping for pages --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    value: float | None
    status: str
    symbol: str
    explanation: str
    unit: str = ""

    @property
    def shown(self) -> str:
        """The figure as a page shows it: the number, or its GSS symbol."""
        if self.value is None:
            return self.symbol or disclosure.NOT_AVAILABLE
        if self.unit == "%":
            return f"{self.value:.1f}%"
        return f"{round(self.value):,}"

    @property
    def marked(self) -> bool:
        return self.status in (disclosure.SUPPRESSED, disclosure.ROUNDED, disclosure.PERTURBED)


@dataclass(frozen=True)
class AreaRow:
    code: str
    name: str
    level: str
    cells: list[Cell]
    highlighted: bool = False


@dataclass(frozen=True)
class Point:
    period: dt.date
    cell: Cell
    x: float = 0.0
    y: float | None = None

    @property
    def cx(self) -> str:
        return f"{self.x:.1f}"

    @property
    def cy(self) -> str:
        return "" if self.y is None else f"{self.y:.1f}"


@dataclass(frozen=True)
class Series:
    label: str
    points: list[Point]
    highlighted: bool = False

    @property
    def segments(self) -> list[str]:
        """SVG polyline ``points`` for each unbroken run (a suppressed value breaks a line)."""
        runs: list[list[str]] = [[]]
        for point in self.points:
            if point.y is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(f"{point.x:.1f},{point.y:.1f}")
        return [" ".join(run) for run in runs if run]


@dataclass(frozen=True)
class Chart:
    measure: str
    label: str
    unit: str
    series: list[Series]
    top: float
    periods: list[dt.date]
    width: int = 640
    height: int = 200
    # (position, label), the position already formatted for the SVG.
    ticks: list[tuple[str, str]] = field(default_factory=list)
    x_labels: list[tuple[str, str]] = field(default_factory=list)

    @property
    def table_rows(self) -> list[tuple[dt.date, list[Cell]]]:
        """The chart's figures as table rows: each period with each series' cell."""
        return [
            (period, [s.points[i].cell for s in self.series])
            for i, period in enumerate(self.periods)
        ]


@dataclass(frozen=True)
class Dashboard:
    definition: OutputDefinition
    output: Output
    recipe: recipes.Recipe
    latest: dt.date | None
    measures: list[recipes.Measure]
    headline: list[tuple[recipes.Measure, Cell]]
    rows: list[AreaRow]
    charts: list[Chart]
    own_area: str = ""
    benchmarks: list[AreaRow] = field(default_factory=list)
    periods: list[dt.date] = field(default_factory=list)
    due: dt.date | None = None
    # (the newest day, its areas so far, the most areas any day had) when it is not the day shown
    so_far: tuple[dt.date, int, int] | None = None

    @property
    def overdue(self) -> bool:
        return self.due is not None and timezone.localdate() > self.due

    @property
    def marked_cells(self) -> int:
        return int(self.output.summary.get("suppressed", 0)) + int(
            self.output.summary.get("rounded", 0)
        )


def _cell(row: dict[str, Any], unit: str) -> Cell:
    return Cell(
        value=row[recipes.VALUE],
        status=row[disclosure.STATUS],
        symbol=row[disclosure.SYMBOL],
        explanation=row[disclosure.EXPLANATION],
        unit=unit,
    )


_MISSING = Cell(None, disclosure.SUPPRESSED, disclosure.NOT_AVAILABLE, "No return for this day.")


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return float(step * magnitude)
    return float(10 * magnitude)


def _chart(
    measure: recipes.Measure,
    table: pl.DataFrame,
    periods: Sequence[dt.date],
    lines: Sequence[tuple[str, str, str, bool]],
) -> Chart:
    """A line chart of ``measure`` over ``periods`` for each (level, code, label, highlighted)
    in ``lines``, with a suppressed or missing value as a gap."""
    width, height, left, bottom = 640, 200, 48, 24
    rows = table.filter(pl.col(recipes.MEASURE) == measure.name)
    values = [v for v in rows.get_column(recipes.VALUE).to_list() if v is not None]
    top = _nice_top(max(values, default=0.0))
    span = max(len(periods) - 1, 1)
    index = {p: i for i, p in enumerate(periods)}

    def x(period: dt.date) -> float:
        return left + (width - left - 8) * index[period] / span

    def y(value: float) -> float:
        return 8 + (height - bottom - 8) * (1 - value / top)

    series = []
    for level, code, label, highlighted in lines:
        found = {
            r[recipes.PERIOD]: _cell(r, measure.unit)
            for r in rows.filter(
                (pl.col(recipes.LEVEL) == level) & (pl.col(recipes.CODE) == code)
            ).iter_rows(named=True)
        }
        points = []
        for period in periods:
            cell = found.get(period, _MISSING)
            points.append(
                Point(period, cell, x(period), None if cell.value is None else y(cell.value))
            )
        series.append(Series(label, points, highlighted))
    ticks = [(f"{y(top * k / 4):.1f}", _tick(top * k / 4, measure.unit)) for k in range(5)]
    step = max(1, len(periods) // 6)
    x_labels = [(f"{x(p):.1f}", f"{p:%-d %b}") for p in periods[::step]]
    return Chart(
        measure.name, measure.label, measure.unit, series, top, list(periods), width, height,
        ticks, x_labels,
    )  # fmt: skip


def _tick(value: float, unit: str) -> str:
    text = f"{value:.1f}" if value < 10 and value != int(value) else f"{int(value):,}"
    return f"{text}%" if unit == "%" else text


def similar_areas(code: str, candidates: Iterable[str]) -> list[str]:
    """Of ``candidates``, the local authorities of the same kind as ``code`` (districts with
    districts, unitaries with unitaries and boroughs): its comparators."""
    places = geography()
    try:
        entity = places.get(code).entity
    except UnknownArea:
        return []
    alike = []
    for other in candidates:
        if other == code:
            continue
        try:
            if places.get(other).entity is entity:
                alike.append(other)
        except UnknownArea:
            continue
    return alike


def _region_of(code: str) -> str:
    places = geography()
    try:
        return next((a.code for a in places.ancestors(code) if a.entity is AreaEntity.REGION), "")
    except UnknownArea:
        return ""


def dashboard(
    output: Output,
    table: pl.DataFrame,
    *,
    own_area: str = "",
    area_level: str = "area",
    history_days: int = 28,
    day: dt.date | None = None,
    charts: bool = True,
) -> Dashboard:
    """What a dashboard of ``output`` shows: one day's figures for every area at
    ``area_level``, headline figures, a chart of each measure over the last ``history_days``
    periods and, when ``own_area`` is given, that area highlighted and benchmarked against its
    region, similar authorities and everyone.

    The day is ``day`` if the output has it; otherwise the latest day that most areas have
    reported for (at least 80% of the most any day had), so a morning's first few returns do
    not stand for the whole area; the latest day is then offered as "so far"."""
    definition = output.definition
    recipe = recipes.recipe_for(definition.recipe)
    periods_all = sorted(set(table.get_column(recipes.PERIOD).to_list()))
    coverage = dict(
        table.filter(pl.col(recipes.LEVEL) == area_level)
        .group_by(recipes.PERIOD)
        .agg(pl.col(recipes.CODE).n_unique())
        .iter_rows()
    )
    most = max(coverage.values(), default=0)
    settled = [p for p in periods_all if coverage.get(p, 0) >= 0.8 * most]
    latest = day if day in coverage else (settled[-1] if settled else None)
    newest = periods_all[-1] if periods_all else None
    so_far = (newest, coverage.get(newest, 0), most) if newest and newest != latest else None
    periods = periods_all[-history_days:]
    units = {m.name: m.unit for m in recipe.measures}
    measures = list(recipe.measures)
    today = table.filter(pl.col(recipes.PERIOD) == latest) if latest else table.head(0)
    by_key = {
        (r[recipes.LEVEL], r[recipes.CODE], r[recipes.MEASURE]): r
        for r in today.iter_rows(named=True)
    }

    def row_for(level: str, code: str, name: str, highlighted: bool = False) -> AreaRow:
        cells = [
            _cell(by_key[(level, code, m.name)], m.unit)
            if (level, code, m.name) in by_key
            else _MISSING
            for m in measures
        ]
        return AreaRow(code, name, level, cells, highlighted)

    areas = (
        today.filter(pl.col(recipes.LEVEL) == area_level)
        .select(recipes.CODE, recipes.NAME)
        .unique()
        .sort(recipes.NAME)
        .rows()
    )
    everyone = today.filter(pl.col(recipes.LEVEL) == "all").select(recipes.NAME).head(1)
    everyone_name = everyone.item() if everyone.height else "Everyone"
    rows = [row_for(area_level, code, name, code == own_area) for code, name in areas]
    rows.append(row_for("all", recipes.ALL_CODE, everyone_name))
    headline_names = recipe.headline or tuple(m.name for m in measures)
    headline_level, headline_code = (
        (area_level, own_area)
        if own_area and own_area in dict(areas)
        else ("all", recipes.ALL_CODE)
    )
    headline = [
        (
            recipe.measure(name),
            _cell(by_key[(headline_level, headline_code, name)], units[name])
            if (headline_level, headline_code, name) in by_key
            else _MISSING,
        )
        for name in headline_names
    ]
    lines = [("all", recipes.ALL_CODE, everyone_name, False)]
    benchmarks: list[AreaRow] = []
    if own_area and own_area in dict(areas):
        own_name = dict(areas)[own_area]
        lines.insert(0, (area_level, own_area, own_name, True))
        benchmarks.append(row_for(area_level, own_area, own_name, True))
        region = _region_of(own_area)
        region_rows = today.filter(
            (pl.col(recipes.LEVEL) == "region") & (pl.col(recipes.CODE) == region)
        )
        if region and region_rows.height:
            benchmarks.append(row_for("region", region, region_rows.item(0, recipes.NAME)))
        for code in similar_areas(own_area, dict(areas)):
            benchmarks.append(row_for(area_level, code, f"{dict(areas)[code]} (similar)"))
        benchmarks.append(row_for("all", recipes.ALL_CODE, everyone_name))
    drawn = [_chart(m, table, periods, lines) for m in measures] if periods and charts else []
    due = due_after(newest, definition.collection.schedule)
    return Dashboard(
        definition=definition,
        output=output,
        recipe=recipe,
        latest=latest,
        measures=measures,
        headline=headline,
        rows=rows,
        charts=drawn,
        own_area=own_area,
        benchmarks=benchmarks,
        periods=periods,
        due=due,
        so_far=so_far,
    )


def own_place(organisation: Organisation, table: pl.DataFrame) -> tuple[str, str]:
    """Where ``organisation`` is in ``table``: (level, code) of its own area at the first level
    that has it (a district at local authority level, a county at county level, an ICB at ICB
    level; a care home at the area of its returns), or ("", "") when nowhere."""
    codes = table.select(recipes.LEVEL, recipes.CODE).unique()
    wanted = [organisation.gss_code] if organisation.gss_code else []
    if not wanted:
        from accord.demo.loader import ORGANISATIONS

        wanted = [s.area_code for s in ORGANISATIONS if s.name == organisation.name]
    for code in wanted:
        found = codes.filter(pl.col(recipes.CODE) == code)
        if found.height:
            levels = set(found.get_column(recipes.LEVEL).to_list())
            for level in ("area", "upper", "icb", "lsoa", "region"):
                if level in levels:
                    return level, code
    return "", ""


def own_area_of(organisation: Organisation, table: pl.DataFrame, level: str = "area") -> str:
    """The code of ``organisation``'s own area in ``table`` if it is at ``level``, else ""."""
    found_level, code = own_place(organisation, table)
    return code if found_level == level else ""


def download_table(output: Output, table: pl.DataFrame) -> pl.DataFrame:
    """The table as a download has it: measures by their labels, and each figure as text with
    its GSS symbol where there is no figure, so a spreadsheet shows ``[c]`` in the cell."""
    recipe = recipes.recipe_for(output.definition.recipe)
    labels = {m.name: m.label for m in recipe.measures}
    units = {m.name: m.unit for m in recipe.measures}
    return table.sort(recipes.PERIOD, recipes.LEVEL, recipes.CODE, recipes.MEASURE).select(
        pl.col(recipes.PERIOD).alias("Period"),
        pl.col(recipes.LEVEL).alias("Area level"),
        pl.col(recipes.CODE).alias("Area code"),
        pl.col(recipes.NAME).alias("Area"),
        pl.col(recipes.MEASURE).replace_strict(labels).alias("Measure"),
        pl.col(recipes.MEASURE).replace_strict(units).alias("Unit"),
        pl.when(pl.col(recipes.VALUE).is_null())
        .then(pl.col(disclosure.SYMBOL))
        .otherwise(pl.col(recipes.VALUE).round(1).cast(pl.String).str.strip_suffix(".0"))
        .alias("Value"),
        pl.col(disclosure.STATUS).alias("Status"),
        pl.col(disclosure.EXPLANATION).alias("Note"),
    )


def rules_text(output: Output) -> list[str]:
    """The disclosure control rules an output was made under, in plain English."""
    rules = output.rules or {}
    lines = []
    threshold = rules.get("threshold")
    if rules.get("profile") == "strict":
        lines.append(
            f"Counts of people under {threshold}, zeros included, are suppressed, and other "
            "cells in the same rows and columns where needed so they cannot be worked out."
        )
    elif threshold:
        lines.append(
            f"Counts of 1 to {int(threshold) - 1} people are suppressed ([c]); other counts of "
            f"people are rounded to the nearest {rules.get('rounding_base', 5)}."
        )
    lines.append(
        "Totals (regions, everyone) are worked out from the exact figures and then protected "
        "like any other figure, so they may not equal the sum of the rounded figures."
    )
    if rules.get("min_n_for_rates"):
        lines.append(
            f"Rates of people are shown only when they are based on at least "
            f"{rules['min_n_for_rates']} people."
        )
    magnitude = rules.get("magnitude_rules")
    if magnitude:
        n, k = magnitude["dominance"]
        lines.append(
            f"Totals such as vacant beds are shown only when at least "
            f"{magnitude['min_contributors']} organisations contribute, no {n} of them make up "
            f"more than {k:g}% of it, and the rest add up to at least {magnitude['p_percent']:g}% "
            "of the largest."
        )
    if not rules.get("organisational_measures_controlled"):
        lines.append(
            "Figures about homes and organisations (homes in outbreak, vacant beds, staff "
            "absence) are not about identifiable people and are shown as reported."
        )
    chosen = rules.get("chosen_by")
    if chosen:
        lines.append(f"The {rules.get('profile', 'standard')} rules were chosen by {chosen}.")
    return lines


def recent_queries(output_definition: OutputDefinition, limit: int = 50) -> list[OutputQuery]:
    return list(
        OutputQuery.objects.filter(output__definition=output_definition)
        .select_related("organisation")
        .order_by("-at")[:limit]
    )
