"""Disclosure control for frequency (count) tables in long form, vectorised with Polars.

A table has one row per cell: breakdown columns, a count column and, optionally, a boolean
column saying whether the count is a count of people (controlled) or an organisational measure
(homes in outbreak, beds: passed through unless the profile says otherwise). Following
``validation-and-disclosure-control.md`` Part B.4:

* ``STANDARD``: counts 1-7 suppressed, every other count (totals included) rounded to the
  nearest 5; totals are computed from the unrounded cells (``add_margins``) and then rounded
  like any other cell; rates and means only from n >= 8 (``mask_derived``).
* ``STRICT``: threshold 10 including zeros (0-9 suppressed, margins too), plus secondary
  suppression across the rows and columns of a two-way table with its margins: for every line
  (a row or a column, margins included) holding a suppressed entry, while the line has exactly
  one suppressed entry, or (its total published) some suppressed cell of the line may have to
  move further than the other suppressed cells of the line can give up (a primary cell up to
  the threshold minus one; any cell as far as a primary cell crossing it may have to fall to
  zero), the smallest published entry of the line (its total included) is suppressed too;
  repeated until nothing changes, each round one vectorised pass. This heuristic is checked by
  enumeration in the tests: 2x2, 2x3 and 3x2 tables are protected; about 3 random 3x3 tables
  in 1,000 are not (a cell two steps away in the suppression pattern has too little room), so
  it is not yet a substitute for an audited secondary suppression (Part B.3).
* ``CELL_KEY``: cell key perturbation (ONS method): each record carries a persistent secret
  record key; a cell's key is the sum of its records' keys modulo ``modulus``
  (``cell_keys``); the noise is looked up from a deterministic perturbation table
  (``default_ptable``) on (pcv, cell key), so the same cell always gets the same answer.
  The default table gives zero-mean noise, leaves zeros at zero and never publishes 1-9.

``protect`` returns the table with the count column replaced by the value to publish (null when
suppressed) and three columns: ``status`` (published, suppressed, rounded, perturbed),
``symbol`` (GSS: ``[c]`` confidential, ``[x]`` not available; empty when a value is shown) and
``explanation`` in plain English. Nothing loops over cells in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

PUBLISHED = "published"
SUPPRESSED = "suppressed"
ROUNDED = "rounded"
PERTURBED = "perturbed"

CONFIDENTIAL = "[c]"  # GSS: confidential (suppressed to protect people)
NOT_AVAILABLE = "[x]"  # GSS: not available (no count was given)
NOT_APPLICABLE = "[z]"  # GSS: not applicable

STATUS = "status"
SYMBOL = "symbol"
EXPLANATION = "explanation"
TOTAL = "Total"

_EXPLAIN_ZERO = "A true zero: no people, published as 0."
_EXPLAIN_ORGANISATIONAL = "An organisational measure, not a count of people: published unchanged."
_EXPLAIN_MISSING = "No figure was available for this cell."


@dataclass(frozen=True)
class Profile:
    """A disclosure control rule set.

    ``threshold``: counts of people from 1 (or 0 when ``suppress_zeros``) to threshold - 1 are
    suppressed. ``rounding_base``: published counts are rounded to this base (1: exact).
    ``secondary``: secondary suppression across rows and columns. ``cell_key``: perturb by
    cell key instead of suppressing and rounding. ``control_organisational``: control
    organisational measures as well. ``min_n_derived``: rates and means need this n.
    """

    name: str
    threshold: int
    suppress_zeros: bool = False
    rounding_base: int = 1
    secondary: bool = False
    cell_key: bool = False
    control_organisational: bool = False
    min_n_derived: int = 8

    def controlling_organisational(self) -> Profile:
        """The same profile, applied to organisational measures too (if an agreement says so)."""
        return Profile(**{**self.__dict__, "control_organisational": True})


STANDARD = Profile("standard", threshold=8, rounding_base=5, min_n_derived=8)
STRICT = Profile("strict", threshold=10, suppress_zeros=True, secondary=True, min_n_derived=10)
CELL_KEY = Profile("cell_key", threshold=10, cell_key=True, min_n_derived=10)


# --- helpers --------------------------------------------------------------------------------


def round_to_base(expr: pl.Expr, base: int) -> pl.Expr:
    """Non-negative integers rounded to the nearest multiple of ``base`` (halves upwards)."""
    if base <= 1:
        return expr
    return ((expr + base // 2) // base) * base


def _controlled(people: str | None, profile: Profile) -> pl.Expr:
    if people is None or profile.control_organisational:
        return pl.lit(True)
    return pl.col(people).fill_null(True)


def _primary(count: pl.Expr, profile: Profile) -> pl.Expr:
    lowest = 0 if profile.suppress_zeros else 1
    return count.is_between(lowest, profile.threshold - 1)


# --- margins --------------------------------------------------------------------------------


def add_margins(
    table: pl.DataFrame,
    *,
    rows: str,
    columns: str,
    count: str = "count",
    people: str | None = None,
    layers: tuple[str, ...] = (),
    total: str = TOTAL,
) -> pl.DataFrame:
    """The two-way table ``rows`` x ``columns`` (per combination of ``layers``) with its row
    totals, column totals and grand total appended, each the sum of the UNROUNDED counts, so
    that ``protect`` then rounds or suppresses them like any other cell. ``rows`` and
    ``columns`` become strings; totals are labelled ``total``."""
    keys = [*layers]
    base = table.with_columns(pl.col(rows).cast(pl.String), pl.col(columns).cast(pl.String))
    extra = [people] if people else []
    sums = [pl.col(count).sum()] + [pl.col(p).all() for p in extra]

    def margin(group: list[str], fixed: list[str]) -> pl.DataFrame:
        summed = base.group_by(group, maintain_order=True).agg(sums) if group else base.select(sums)
        return summed.with_columns(pl.lit(total).alias(f) for f in fixed)

    order = [*keys, rows, columns, count, *extra]
    parts = [
        base.select(order),
        margin([*keys, rows], [columns]).select(order),
        margin([*keys, columns], [rows]).select(order),
        margin(keys, [rows, columns]).select(order),
    ]
    return pl.concat(parts, how="vertical_relaxed")


# --- the engine -----------------------------------------------------------------------------


def protect(
    table: pl.DataFrame,
    profile: Profile = STANDARD,
    *,
    count: str = "count",
    people: str | None = None,
    rows: str | None = None,
    columns: str | None = None,
    layers: tuple[str, ...] = (),
    total: str = TOTAL,
    cell_key: str = "cell_key",
    ptable: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The table as it may be published under ``profile``: ``count`` replaced by the value to
    show (null when suppressed), plus ``status``, ``symbol`` and ``explanation``.

    ``STRICT`` needs ``rows`` and ``columns`` (and ``layers`` for any other breakdown) and a
    table that carries its margins (``add_margins``). ``CELL_KEY`` needs a ``cell_key`` column
    (``cell_keys``) and uses ``ptable`` (default ``default_ptable()``)."""
    if profile.cell_key:
        return _perturb(table, profile, count, people, cell_key, ptable)
    if profile.secondary:
        if rows is None or columns is None:
            raise ValueError(f"profile {profile.name!r} needs rows= and columns=")
        return _suppress_two_way(table, profile, count, people, rows, columns, layers, total)
    return _suppress_and_round(table, profile, count, people)


def _finish(
    frame: pl.DataFrame,
    count: str,
    value: pl.Expr,
    status: pl.Expr,
    explanation: pl.Expr,
) -> pl.DataFrame:
    symbol = (
        pl.when(pl.col(count).is_null())
        .then(pl.lit(NOT_AVAILABLE))
        .when(status == SUPPRESSED)
        .then(pl.lit(CONFIDENTIAL))
        .otherwise(pl.lit(""))
    )
    status = pl.when(pl.col(count).is_null()).then(pl.lit(SUPPRESSED)).otherwise(status)
    explanation = (
        pl.when(pl.col(count).is_null()).then(pl.lit(_EXPLAIN_MISSING)).otherwise(explanation)
    )
    return frame.with_columns(
        value.cast(pl.Int64).alias(count),
        status.alias(STATUS),
        symbol.alias(SYMBOL),
        explanation.alias(EXPLANATION),
    )


def _suppress_and_round(
    table: pl.DataFrame, profile: Profile, count: str, people: str | None
) -> pl.DataFrame:
    c = pl.col(count)
    controlled = _controlled(people, profile)
    primary = controlled & _primary(c, profile)
    rounding = controlled & ~primary & (c != 0) & pl.lit(profile.rounding_base > 1)
    base = profile.rounding_base
    status = (
        pl.when(primary)
        .then(pl.lit(SUPPRESSED))
        .when(rounding)
        .then(pl.lit(ROUNDED))
        .otherwise(pl.lit(PUBLISHED))
    )
    low = 0 if profile.suppress_zeros else 1
    explanation = (
        pl.when(~controlled)
        .then(pl.lit(_EXPLAIN_ORGANISATIONAL))
        .when(primary)
        .then(
            pl.lit(
                f"Suppressed: fewer than {profile.threshold} people"
                + (" (zero included)" if low == 0 else " but more than none")
                + ", who could be identified."
            )
        )
        .when(rounding)
        .then(
            pl.lit(
                f"Rounded to the nearest {base} so small changes cannot identify anyone; "
                "totals are rounded from the exact figures, so they may not add up."
            )
        )
        .when(c == 0)
        .then(pl.lit(_EXPLAIN_ZERO))
        .otherwise(pl.lit("Published as counted."))
    )
    value = pl.when(primary).then(None).when(rounding).then(round_to_base(c, base)).otherwise(c)
    return _finish(table, count, value, status, explanation)


def _suppress_two_way(
    table: pl.DataFrame,
    profile: Profile,
    count: str,
    people: str | None,
    rows: str,
    columns: str,
    layers: tuple[str, ...],
    total: str,
) -> pl.DataFrame:
    c = pl.col(count)
    controlled = _controlled(people, profile)
    work = table.with_row_index("_i").with_columns(
        (controlled & _primary(c, profile)).alias("_primary"),
        controlled.alias("_controlled"),
        (pl.col(rows).cast(pl.String) == total).alias("_row_total"),
        (pl.col(columns).cast(pl.String) == total).alias("_col_total"),
    )
    # Smallest first, so a running count of published entries per line finds the smallest.
    work = work.sort([count, "_i"], nulls_last=True).with_columns(
        pl.col("_primary").alias("_suppressed")
    )
    row_line, col_line = [*layers, rows], [*layers, columns]
    # (the line, the flag marking the line's total entry, the crossing line)
    lines = [(row_line, "_col_total", col_line), (col_line, "_row_total", row_line)]
    room = profile.threshold - 1
    while True:
        s = pl.col("_suppressed")
        primary_value = pl.when(pl.col("_primary")).then(c).otherwise(0)
        added = []
        for k, (line, is_total, cross) in enumerate(lines):
            inner = s & ~pl.col(is_total)
            candidate = ~s & pl.col("_controlled") & c.is_not_null()
            # Windows are not nested (Polars evaluates a window inside a window per group):
            # each stage is materialised first.
            work = work.with_columns(
                pl.when(inner).then(c).otherwise(0).sum().over(line).alias("_inner_sum"),
                primary_value.max().over(cross).alias("_cross_primary"),
                s.sum().over(line).alias("_n_suppressed"),
                (s & pl.col(is_total)).any().over(line).alias("_total_suppressed"),
                (candidate.cast(pl.Int32).cum_sum().over(line) == 1).alias("_first"),
            )
            # How far an entry may have to move: a primary cell up to the threshold minus one,
            # any entry as far as a primary cell crossing it may have to fall to zero.
            reach = pl.min_horizontal(
                pl.max_horizontal(
                    pl.when(pl.col("_primary")).then(room - c).otherwise(0),
                    pl.col("_cross_primary"),
                ),
                pl.lit(room),
            )
            work = work.with_columns((inner & ((pl.col("_inner_sum") - c) < reach)).alias("_short"))
            needs = (pl.col("_n_suppressed") == 1) | (
                pl.col("_short").any().over(line) & ~pl.col("_total_suppressed")
            )
            work = work.with_columns((needs & candidate & pl.col("_first")).alias(f"_add{k}"))
            added.append(f"_add{k}")
        work = work.with_columns(pl.any_horizontal(added).alias("_added"))
        if not work["_added"].any():
            break
        work = work.with_columns((pl.col("_suppressed") | pl.col("_added")).alias("_suppressed"))
    work = work.sort("_i")
    s = pl.col("_suppressed")
    controlled = pl.col("_controlled")
    status = pl.when(s).then(pl.lit(SUPPRESSED)).otherwise(pl.lit(PUBLISHED))
    explanation = (
        pl.when(~controlled)
        .then(pl.lit(_EXPLAIN_ORGANISATIONAL))
        .when(pl.col("_primary"))
        .then(pl.lit(f"Suppressed: fewer than {profile.threshold} people (zero included)."))
        .when(s)
        .then(
            pl.lit(
                "Suppressed so that another suppressed figure cannot be worked out from the totals."
            )
        )
        .otherwise(pl.lit("Published as counted."))
    )
    value = pl.when(s).then(None).otherwise(c)
    done = _finish(work, count, value, status, explanation)
    return done.select(*table.columns, STATUS, SYMBOL, EXPLANATION)


# --- derived statistics ---------------------------------------------------------------------


def mask_derived(
    table: pl.DataFrame, value: str, n: str, profile: Profile = STANDARD
) -> pl.DataFrame:
    """Mask the rate or mean column ``value`` where its n (column ``n``, the exact number of
    people it is computed from) is below ``profile.min_n_derived``: the value becomes null and
    ``{value}_symbol`` / ``{value}_explanation`` say why."""
    small = pl.col(n).is_null() | (pl.col(n) < profile.min_n_derived)
    return table.with_columns(
        pl.when(small).then(None).otherwise(pl.col(value)).alias(value),
        pl.when(small).then(pl.lit(CONFIDENTIAL)).otherwise(pl.lit("")).alias(f"{value}_symbol"),
        pl.when(small)
        .then(pl.lit(f"Not shown: computed from fewer than {profile.min_n_derived} people."))
        .otherwise(pl.lit(""))
        .alias(f"{value}_explanation"),
    )


# --- cell key perturbation ------------------------------------------------------------------


def cell_keys(
    records: pl.DataFrame | pl.LazyFrame,
    breakdowns: list[str],
    *,
    record_key: str = "record_key",
    modulus: int = 4096,
    count: str = "count",
) -> pl.DataFrame:
    """Count the records per cell with each cell's key: the sum of its records' persistent
    record keys modulo ``modulus`` (record keys are uniform in 0..modulus - 1)."""
    return (
        records.lazy()
        .group_by(breakdowns)
        .agg(
            pl.len().cast(pl.Int64).alias(count),
            (pl.col(record_key).cast(pl.Int64).sum() % modulus).alias("cell_key"),
        )
        .collect()
    )


def _noise_for(value: int, threshold: int) -> list[tuple[int, float]]:
    """(noise, probability) for one original count: zero mean, nothing in 1..threshold - 1."""
    if value == 0:
        return [(0, 1.0)]
    if value < threshold:  # to 0 or to the threshold, mean preserved
        up = value / threshold
        return [(-value, 1.0 - up), (threshold - value, up)]
    if value == threshold:
        return [(0, 1.0)]
    if value == threshold + 1:
        return [(-1, 0.2), (0, 0.6), (1, 0.2)]
    return [(-2, 0.05), (-1, 0.2), (0, 0.5), (1, 0.2), (2, 0.05)]


def default_ptable(threshold: int = 10, modulus: int = 4096, max_pcv: int = 750) -> pl.DataFrame:
    """A perturbation table in interval form: ``pcv``, ``ckey_lo``, ``ckey_hi`` (inclusive),
    ``pvalue``. Counts above ``max_pcv`` use pcv ``max_pcv - 249 .. max_pcv`` cyclically, as
    the ONS ptables do (rows 501-750 repeat). Deterministic: built, not drawn."""
    pcv: list[int] = []
    lo: list[int] = []
    hi: list[int] = []
    noise: list[int] = []
    for value in range(max_pcv + 1):
        start = 0
        outcomes = _noise_for(value, threshold)
        for k, (shift, probability) in enumerate(outcomes):
            end = modulus - 1 if k == len(outcomes) - 1 else start + round(probability * modulus)
            if end < start:
                continue
            pcv.append(value)
            lo.append(start)
            hi.append(min(end, modulus - 1) if k == len(outcomes) - 1 else end - 1)
            noise.append(shift)
            start = end
    frame = pl.DataFrame(
        {"pcv": pcv, "ckey_lo": lo, "ckey_hi": hi, "pvalue": noise},
        schema={"pcv": pl.Int64, "ckey_lo": pl.Int64, "ckey_hi": pl.Int64, "pvalue": pl.Int64},
    )
    return frame.filter(pl.col("ckey_hi") >= pl.col("ckey_lo"))


_PTABLES: dict[tuple[int, int], pl.DataFrame] = {}


def _pcv(count: pl.Expr, max_pcv: int) -> pl.Expr:
    cycle_start = max_pcv - 249
    return (
        pl.when(count > max_pcv)
        .then((count - cycle_start) % 250 + cycle_start)
        .otherwise(count)
        .cast(pl.Int64)
    )


def _perturb(
    table: pl.DataFrame,
    profile: Profile,
    count: str,
    people: str | None,
    cell_key: str,
    ptable: pl.DataFrame | None,
) -> pl.DataFrame:
    if ptable is None:
        key = (profile.threshold, 4096)
        if key not in _PTABLES:
            _PTABLES[key] = default_ptable(profile.threshold)
        ptable = _PTABLES[key]
    max_pcv = int(ptable["pcv"].max())  # type: ignore[arg-type]
    work = table.with_row_index("_i").with_columns(
        _pcv(pl.col(count), max_pcv).alias("_pcv"), _controlled(people, profile).alias("_ctl")
    )
    noise = (
        work.select("_i", "_pcv", cell_key)
        .join(ptable, left_on="_pcv", right_on="pcv", how="inner")
        .filter(pl.col(cell_key).is_between(pl.col("ckey_lo"), pl.col("ckey_hi")))
        .select("_i", "pvalue")
    )
    work = work.join(noise, on="_i", how="left", maintain_order="left")
    c = pl.col(count)
    ctl = pl.col("_ctl")
    perturbed = (c + pl.col("pvalue").fill_null(0)).clip(lower_bound=0)
    value = pl.when(ctl).then(perturbed).otherwise(c)
    status = (
        pl.when(~ctl)
        .then(pl.lit(PUBLISHED))
        .when(c == 0)
        .then(pl.lit(PUBLISHED))
        .otherwise(pl.lit(PERTURBED))
    )
    explanation = (
        pl.when(~ctl)
        .then(pl.lit(_EXPLAIN_ORGANISATIONAL))
        .when(c == 0)
        .then(pl.lit(_EXPLAIN_ZERO))
        .otherwise(
            pl.lit(
                "Perturbed: a small, consistent adjustment so that nobody can be identified by "
                f"comparing tables; figures below {profile.threshold} are shown as 0."
            )
        )
    )
    done = _finish(work, count, value, status, explanation)
    return done.drop("_i", "_pcv", "_ctl", "pvalue")
