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
EXPLAIN_ORGANISATIONAL = _EXPLAIN_ORGANISATIONAL
_EXPLAIN_MISSING = "No figure was available for this cell."


@dataclass(frozen=True)
class Profile:
    """A disclosure control rule set.

    ``threshold``: counts of people from 1 (or 0 when ``suppress_zeros``) to threshold - 1 are
    suppressed. ``rounding_base``: published counts are rounded to this base (1: exact).
    ``secondary``: secondary suppression across rows and columns. ``cell_key``: perturb by
    cell key instead of suppressing and rounding. ``control_organisational``: control
    organisational measures as well. ``min_n_derived``: rates and means need this n.

    ``audit`` (with ``secondary``): the interval audit of every primary-suppressed entry after
    the heuristic secondary suppression; ``audit_max_cells``: the largest two-way sub-table
    (entries, margins included) the audit solves linear programmes on; above it, a primary
    entry the vectorised witness cannot prove protected gets its row total, column total and
    grand total suppressed instead, which certainly protects it (see ``_audit``).

    Magnitude tables (``protect_magnitude``): a cell is sensitive with fewer than
    ``min_contributors`` contributors, when the p% rule fails (the total less its two largest
    contributions is below ``p_percent`` % of the largest) or when the (n, k) dominance rule
    fails (its ``dominance_n`` largest contributions are more than ``dominance_k`` % of it).
    """

    name: str
    threshold: int
    suppress_zeros: bool = False
    rounding_base: int = 1
    secondary: bool = False
    cell_key: bool = False
    control_organisational: bool = False
    min_n_derived: int = 8
    audit: bool = False
    audit_max_cells: int = 2_500
    min_contributors: int = 10
    p_percent: float = 10.0
    dominance_n: int = 2
    dominance_k: float = 90.0

    def controlling_organisational(self) -> Profile:
        """The same profile, applied to organisational measures too (if an agreement says so)."""
        return Profile(**{**self.__dict__, "control_organisational": True})


STANDARD = Profile("standard", threshold=8, rounding_base=5, min_n_derived=8)
STRICT = Profile(
    "strict", threshold=10, suppress_zeros=True, secondary=True, min_n_derived=10, audit=True
)
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


# Statuses and symbols as enumerations inside the engine: choosing among a few texts per cell
# is then choosing among small integers (strings only at the end), ten times faster on the
# million-cell tables of a year of daily returns (bench/dashboard.py).
_STATUS_TYPE = pl.Enum([PUBLISHED, SUPPRESSED, ROUNDED, PERTURBED])
_SYMBOL_TYPE = pl.Enum(["", CONFIDENTIAL, NOT_AVAILABLE, NOT_APPLICABLE])


def _finish(
    frame: pl.DataFrame,
    count: str,
    value: pl.Expr,
    status: pl.Expr,
    explanation: pl.Expr,
    texts: pl.Enum | None = None,
) -> pl.DataFrame:
    """The protected table: ``value`` in place of the count, ``status``, ``symbol`` and
    ``explanation`` as text. ``texts``: the enumeration ``explanation`` is built in, if any."""
    missing = pl.col(count).is_null()
    status = status.cast(_STATUS_TYPE)
    symbol = (
        pl.when(missing)
        .then(pl.lit(NOT_AVAILABLE, dtype=_SYMBOL_TYPE))
        .when(status == SUPPRESSED)
        .then(pl.lit(CONFIDENTIAL, dtype=_SYMBOL_TYPE))
        .otherwise(pl.lit("", dtype=_SYMBOL_TYPE))
    )
    status = pl.when(missing).then(pl.lit(SUPPRESSED, dtype=_STATUS_TYPE)).otherwise(status)
    explain_missing = pl.lit(_EXPLAIN_MISSING, dtype=texts) if texts else pl.lit(_EXPLAIN_MISSING)
    explanation = pl.when(missing).then(explain_missing).otherwise(explanation)
    return frame.with_columns(
        value.cast(pl.Int64).alias(count),
        status.cast(pl.String).alias(STATUS),
        symbol.cast(pl.String).alias(SYMBOL),
        explanation.cast(pl.String).alias(EXPLANATION),
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
        .then(pl.lit(SUPPRESSED, dtype=_STATUS_TYPE))
        .when(rounding)
        .then(pl.lit(ROUNDED, dtype=_STATUS_TYPE))
        .otherwise(pl.lit(PUBLISHED, dtype=_STATUS_TYPE))
    )
    low = 0 if profile.suppress_zeros else 1
    suppressed = (
        f"Suppressed: fewer than {profile.threshold} people"
        + (" (zero included)" if low == 0 else " but more than none")
        + ", who could be identified."
    )
    rounded = (
        f"Rounded to the nearest {base} so small changes cannot identify anyone; "
        "totals are rounded from the exact figures, so they may not add up."
    )
    counted = "Published as counted."
    texts = pl.Enum(
        [_EXPLAIN_ORGANISATIONAL, suppressed, rounded, _EXPLAIN_ZERO, counted, _EXPLAIN_MISSING]
    )
    explanation = (
        pl.when(~controlled)
        .then(pl.lit(_EXPLAIN_ORGANISATIONAL, dtype=texts))
        .when(primary)
        .then(pl.lit(suppressed, dtype=texts))
        .when(rounding)
        .then(pl.lit(rounded, dtype=texts))
        .when(c == 0)
        .then(pl.lit(_EXPLAIN_ZERO, dtype=texts))
        .otherwise(pl.lit(counted, dtype=texts))
    )
    value = pl.when(primary).then(None).when(rounding).then(round_to_base(c, base)).otherwise(c)
    return _finish(table, count, value, status, explanation, texts)


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
    work = work.sort("_i").with_columns(
        pl.col("_primary").fill_null(False), pl.col("_suppressed").fill_null(False)
    )
    if profile.audit:
        work = _audit(work, profile, count, rows, columns, layers, total)
    s = pl.col("_suppressed")
    controlled = pl.col("_controlled")
    status = pl.when(s).then(pl.lit(SUPPRESSED)).otherwise(pl.lit(PUBLISHED))
    # One explanation for primary and secondary suppression alike, on purpose: saying that an
    # entry was hidden only to protect another would tell a reader it is at least the
    # threshold, and that narrows its neighbours (two small cells and their total of 12: told
    # the total is 10 or more, x + y >= 10 with y <= 9 gives x >= 1).
    explanation = (
        pl.when(~controlled)
        .then(pl.lit(_EXPLAIN_ORGANISATIONAL))
        .when(s)
        .then(
            pl.lit(
                f"Suppressed: fewer than {profile.threshold} people (zero included), or hidden "
                "so that such a figure cannot be worked out from the totals."
            )
        )
        .otherwise(pl.lit("Published as counted."))
    )
    value = pl.when(s).then(None).otherwise(c)
    done = _finish(work, count, value, status, explanation)
    return done.select(*table.columns, STATUS, SYMBOL, EXPLANATION)


# --- the interval audit ---------------------------------------------------------------------

# How many of the largest suppressed cells of a row (and of a column) the witness pairs up.
_WITNESS_CANDIDATES = 4


def _audit(
    work: pl.DataFrame,
    profile: Profile,
    count: str,
    rows: str,
    columns: str,
    layers: tuple[str, ...],
    total: str,
) -> pl.DataFrame:
    """The interval audit of Part B.3 (b), per two-way sub-table (one per combination of
    ``layers``, margins included): every primary-suppressed entry must be able to take every
    value of its protected range given everything published, or more entries are suppressed.

    What the reader is taken to know: every published entry exactly; that every row and every
    column adds up to its total (where the table carries it); that each suppressed entry is a
    non-negative integer. (Nothing more: primary and secondary suppression carry the same
    explanation, see ``_suppress_two_way``.) The protection level: a primary entry's feasible
    values must include every value of ``low .. threshold - 1`` (``low`` 0 when zeros are
    suppressed, else 1), that is everything the reader may already know it to be from its
    being suppressed, so the release narrows it no further; it can be neither pinned nor
    bounded inside that range. Secondarily suppressed entries need no protection of their own.
    The constraint matrix of a two-way table with margins is a network matrix (totally
    unimodular), so the linear programme's minimum and maximum are integers and every integer
    between is the value of some non-negative integer table: the LP interval is exact.

    In two stages, cheapest first:

    1. a vectorised witness (Polars joins): a primary inner cell (r, c) of value v is proven
       protected by suppressed cells (r, c'), (r', c) and (r', c'): moving d around that
       rectangle keeps every total; it can rise by ``threshold - 1 - v`` if (r, c') and
       (r', c) both hold that much, and fall to ``low`` if (r', c') holds ``v - low``. The
       ``_WITNESS_CANDIDATES`` largest suppressed cells of the row and of the column are tried.
    2. the entries not proven (margins always) go to linear programmes (HiGHS): min and max
       of the entry subject to the sub-table's additivity, published entries fixed, suppressed
       ones in [0, inf). An entry whose interval is too narrow gets the smallest published
       entry of its row or column (totals included) whose suppression widens the interval on
       the side that falls short suppressed too, and is re-audited, until it passes. Adding a
       suppression only relaxes the programme, so entries that passed stay passed.

    Bounded for large tables: a sub-table with more than ``profile.audit_max_cells`` entries
    gets no LP; each primary entry the witness cannot prove is protected by suppressing its
    row total, column total and the grand total (for an inner cell: moving d through it and
    those three keeps every total, so it is free in [0, inf)), or, for a margin, every margin
    of the sub-table. Sub-tables linked by ``layers`` (no totals across them here) are
    audited separately, as they are published: the engine protects two-way tables.
    """
    keys = list(layers)
    low = 0 if profile.suppress_zeros else 1
    entries = work.select(
        "_i",
        *keys,
        pl.col(rows).cast(pl.String).alias("_r"),
        pl.col(columns).cast(pl.String).alias("_c"),
        pl.col(count).fill_null(0).alias("_v"),
        (pl.col("_suppressed") | pl.col(count).is_null()).alias("_unknown"),
        "_primary",
        "_controlled",
    )
    unproven = _witness(entries, keys, profile.threshold, low, total)
    if unproven.is_empty():
        return work
    added: list[int] = []
    if keys:
        wanted = unproven.select(keys).unique()
        groups = entries.join(wanted, on=keys, nulls_equal=True).partition_by(keys)
    else:
        groups = [entries]
    todo = set(unproven["_i"].to_list())
    for group in groups:
        group = group.sort("_i")
        added.extend(_audit_sub_table(group, todo, profile, low, total))
    if not added:
        return work
    return work.with_columns(
        (pl.col("_suppressed") | pl.col("_i").is_in(added)).alias("_suppressed")
    )


def _witness(
    entries: pl.DataFrame, keys: list[str], threshold: int, low: int, total: str
) -> pl.DataFrame:
    """The primary entries (``_i`` and layer keys) not proven protected by the witness.

    Per sub-table, with ``U`` the 0/1 matrix of suppressed inner cells and ``W`` their values
    (matrix products, so whole sub-tables at once): (r, c) can fall by the flow along the
    rectangles (r, c'), (r', c') and (r', c) with (r', c') giving way, which is at least
    ``sum W[r', c']`` over rectangles of suppressed cells (``U @ W.T @ U`` less the terms with
    r' = r or c' = c); it can rise by at least ``min(W[r', c], sum over c' of W[r, c'] U[r',
    c'])`` for any one r' (and the same with rows and columns swapped). Margins are not
    used (a conservative witness) and margin entries are always left to the LP."""
    import numpy as np

    margin = (pl.col("_r") == total) | (pl.col("_c") == total)
    inner = entries.filter(~margin).with_columns(
        (pl.col("_r").rank("dense").over(keys or pl.lit(0)) - 1).alias("_ri"),
        (pl.col("_c").rank("dense").over(keys or pl.lit(0)) - 1).alias("_ci"),
    )
    unproven = [
        entries.filter(pl.col("_primary") & pl.col("_unknown") & margin).select("_i", *keys)
    ]
    with_primary = inner.filter(pl.col("_primary"))
    if with_primary.is_empty():
        return unproven[0]
    if keys:
        wanted = with_primary.select(keys).unique()
        groups = inner.join(wanted, on=keys, nulls_equal=True).partition_by(keys)
    else:
        groups = [inner]
    top = threshold - 1
    for group in groups:
        ri = group["_ri"].to_numpy()
        ci = group["_ci"].to_numpy()
        known = ~group["_unknown"].to_numpy()
        n_rows, n_cols = int(ri.max()) + 1, int(ci.max()) + 1
        u = np.zeros((n_rows, n_cols))
        w = np.zeros((n_rows, n_cols))
        u[ri, ci] = np.where(known, 0.0, 1.0)
        w[ri, ci] = np.where(known, 0.0, group["_v"].to_numpy().astype(float))
        is_primary = group["_primary"].to_numpy()
        pr, pc = ri[is_primary], ci[is_primary]
        pv = w[pr, pc]
        row_w, col_w = w.sum(axis=1), w.sum(axis=0)
        down = (u @ w.T @ u)[pr, pc] - row_w[pr] - col_w[pc] + pv
        # rise: through one other row r' of column c, or one other column c' of row r
        m = w @ u.T  # m[r, r'] = sum_c' W[r, c'] U[r', c']
        via_row = np.minimum(w[:, pc].T, m[pr, :] - pv[:, None])  # (primary, r')
        via_row[u[:, pc].T == 0] = 0
        via_row[np.arange(len(pr)), pr] = 0
        n = w.T @ u  # n[c, c'] = sum_r' W[r', c] U[r', c']
        via_col = np.minimum(w[pr, :], n[pc, :] - pv[:, None])  # (primary, c')
        via_col[u[pr, :] == 0] = 0
        via_col[np.arange(len(pc)), pc] = 0
        up = np.maximum(via_row.max(axis=1, initial=0), via_col.max(axis=1, initial=0))
        failed = (down < pv - low) | (up < top - pv)
        ids = group["_i"].to_numpy()[is_primary][failed]
        unproven.append(group.filter(pl.col("_i").is_in(ids.tolist())).select("_i", *keys))
    return pl.concat(unproven)


class _SubTableLP:
    """The linear programme of one two-way sub-table: one variable per suppressed entry (the
    published ones are constants, moved to the right-hand side), one equation per row or
    column that carries its total."""

    def __init__(self, r: list[str], c: list[str], v: list[int], unknown: list[bool], total: str):
        import highspy
        import numpy as np

        self._hs = highspy
        self.values = v
        n = len(v)
        row_code = {label: k for k, label in enumerate(dict.fromkeys(r))}
        col_code = {label: k for k, label in enumerate(dict.fromkeys(c))}
        rc = np.array([row_code[x] for x in r])
        cc = np.array([col_code[x] for x in c])
        row_total = np.array([x == total for x in c])
        col_total = np.array([x == total for x in r])
        row_con = np.full(len(row_code), -1)
        row_con[rc[row_total]] = np.arange(int(row_total.sum()))
        col_con = np.full(len(col_code), -1)
        col_con[cc[col_total]] = int(row_total.sum()) + np.arange(int(col_total.sum()))
        m = int(row_total.sum() + col_total.sum())
        # each entry's (equation, coefficient) pairs: its row's and its column's
        self.terms: list[list[tuple[int, float]]] = [[] for _ in range(n)]
        con = np.concatenate([row_con[rc], col_con[cc]])
        coef = np.concatenate([np.where(row_total, -1.0, 1.0), np.where(col_total, -1.0, 1.0)])
        entry = np.concatenate([np.arange(n), np.arange(n)])
        keep = con >= 0
        values = np.array(v, dtype=float)
        known = ~np.array(unknown)
        rhs = np.zeros(m)
        np.subtract.at(rhs, con[keep & known[entry]], (coef * values[entry])[keep & known[entry]])
        for e, q, a in zip(
            entry[keep].tolist(), con[keep].tolist(), coef[keep].tolist(), strict=True
        ):
            self.terms[e].append((q, a))
        h = highspy.Highs()
        h.silent()
        h.setOptionValue("presolve", "off")  # re-solves then start from the last basis
        h.addRows(
            m, rhs, rhs, 0, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0)
        )
        self.rhs = rhs
        self.h = h
        self.column: dict[int, int] = {}
        for k in np.flatnonzero(~known).tolist():
            self._add(k, 0.0, highspy.kHighsInf)

    def _add(self, k: int, lower: float, upper: float) -> None:
        import numpy as np

        terms = self.terms[k]
        self.h.addCol(
            0.0,
            lower,
            upper,
            len(terms),
            np.array([q for q, _ in terms], dtype=np.int32),
            np.array([a for _, a in terms]),
        )
        self.column[k] = len(self.column)

    def interval(self, k: int) -> tuple[float, float]:
        """The least and greatest value entry ``k`` can take (inf when unbounded)."""
        hs = self._hs
        h = self.h
        col = self.column[k]
        h.changeColCost(col, 1.0)
        bounds: list[float] = []
        for sense in (hs.ObjSense.kMinimize, hs.ObjSense.kMaximize):
            h.changeObjectiveSense(sense)
            h.run()
            status = h.getModelStatus()
            if status == hs.HighsModelStatus.kOptimal:
                bounds.append(round(h.getInfo().objective_function_value))
            elif sense == hs.ObjSense.kMaximize and status in (
                hs.HighsModelStatus.kUnbounded,
                hs.HighsModelStatus.kUnboundedOrInfeasible,
            ):
                bounds.append(float("inf"))
            else:  # the published table is inconsistent: nothing can be proven
                bounds.append(float("nan"))
        h.changeColCost(col, 0.0)
        return bounds[0], bounds[1]

    def free(self, k: int) -> None:
        """Suppress published entry ``k``: a variable now, no longer a constant."""
        if k in self.column:
            self.h.changeColBounds(self.column[k], 0.0, self._hs.kHighsInf)
            return
        for q, a in self.terms[k]:  # its value leaves the right-hand side
            self.rhs[q] += a * self.values[k]
            self.h.changeRowBounds(q, self.rhs[q], self.rhs[q])
        self._add(k, 0.0, self._hs.kHighsInf)

    def fix(self, k: int) -> None:
        self.h.changeColBounds(self.column[k], float(self.values[k]), float(self.values[k]))


def _audit_sub_table(
    group: pl.DataFrame, todo: set[int], profile: Profile, low: int, total: str
) -> list[int]:
    """Audit the unproven primary entries of one sub-table; the ``_i`` of entries to add."""
    ids: list[int] = group["_i"].to_list()
    r: list[str] = group["_r"].to_list()
    c: list[str] = group["_c"].to_list()
    v: list[int] = group["_v"].to_list()
    unknown: list[bool] = group["_unknown"].to_list()
    controlled: list[bool] = group["_controlled"].to_list()
    checks = [k for k, i in enumerate(ids) if i in todo]
    added: list[int] = []

    def suppress(k: int) -> None:
        unknown[k] = True
        added.append(ids[k])

    def margins_for(k: int) -> list[int]:
        if r[k] != total and c[k] != total:
            wanted = {(r[k], total), (total, c[k]), (total, total)}
            return [j for j in range(len(ids)) if (r[j], c[j]) in wanted]
        return [j for j in range(len(ids)) if r[j] == total or c[j] == total]

    if len(ids) > profile.audit_max_cells:
        for k in checks:
            for j in margins_for(k):
                if not unknown[j]:
                    suppress(j)
        return added

    lp = _SubTableLP(r, c, v, unknown, total)
    top = profile.threshold - 1

    def shortfall(k: int) -> float:
        lo, hi = lp.interval(k)
        if lo != lo or hi != hi:  # NaN: inconsistent totals, protect by the margins
            return float("inf")
        return max(0.0, lo - low) + max(0.0, top - hi)

    for k in checks:
        short = shortfall(k)
        while short > 0:
            line = [
                j
                for j in range(len(ids))
                if not unknown[j] and controlled[j] and (r[j] == r[k] or c[j] == c[k])
            ]
            line.sort(key=lambda j: (v[j], ids[j]))
            for j in line:
                lp.free(j)
                after = shortfall(k)
                if after < short:
                    suppress(j)
                    short = after
                    break
                lp.fix(j)
            else:  # nothing in its row or column widens it: the margins certainly do
                for j in margins_for(k):
                    if not unknown[j]:
                        lp.free(j)
                        suppress(j)
                break
    return added


# --- magnitude tables ------------------------------------------------------------------------


def protect_magnitude(
    contributions: pl.DataFrame | pl.LazyFrame,
    keys: list[str],
    value: str,
    contributor: str | None = None,
    profile: Profile = STANDARD,
    *,
    people: str | None = None,
) -> pl.DataFrame:
    """Primary protection of a magnitude table (sums such as beds or money) from record-level
    ``contributions``: one row per contribution, with the cell's ``keys``, the ``value`` and
    (optionally) the ``contributor``, whose contributions to a cell are added up first (without
    it, each row is its own contributor). Values are taken to be non-negative.

    A cell is suppressed when it has fewer than ``profile.min_contributors`` contributors, when
    its ``profile.dominance_n`` largest contributions are more than ``profile.dominance_k`` %
    of its total ((n, k) rule), or when its total less its two largest contributions is less
    than ``profile.p_percent`` % of the largest (p% rule: the second largest contributor could
    estimate the largest too closely); the explanation says which rule, the first failing in
    that order. ``people`` (a boolean column): cells whose contributions are all
    organisational measures are published unchanged unless the profile controls them, as in
    ``protect``. Returns one row per cell: ``keys``, ``value`` (the total, null when
    suppressed), ``status``, ``symbol`` and ``explanation``, like ``protect``. Primary
    protection only: suppressed cells are not protected from their margins here."""
    frame = contributions.lazy().filter(pl.col(value).is_not_null())
    flags = [pl.col(people).fill_null(True).all().alias("_people")] if people else []
    if contributor is not None:
        frame = frame.group_by([*keys, contributor]).agg(pl.col(value).sum(), *flags)
        flags = [pl.col("_people").all()] if people else []
    n_top = max(2, profile.dominance_n)
    cells = (
        frame.group_by(keys)
        .agg(
            pl.col(value).sum().alias("_total"),
            pl.len().alias("_n"),
            pl.col(value).top_k(n_top).alias("_top"),
            *flags,
        )
        .with_columns(
            pl.col("_top").list.get(0, null_on_oob=True).fill_null(0).alias("_first"),
            pl.col("_top").list.get(1, null_on_oob=True).fill_null(0).alias("_second"),
            pl.col("_top").list.head(profile.dominance_n).list.sum().alias("_dominant"),
        )
        .sort(keys)
        .collect()
    )
    total, first = pl.col("_total"), pl.col("_first")
    controlled = (
        pl.col("_people") | pl.lit(profile.control_organisational) if people else pl.lit(True)
    )
    few = pl.col("_n") < profile.min_contributors
    dominated = pl.col("_dominant") > total * (profile.dominance_k / 100)
    one_dominates = first > total * (profile.dominance_k / 100)
    p_fails = (total - first - pl.col("_second")) < first * (profile.p_percent / 100)
    sensitive = controlled & (few | dominated | p_fails)
    k = f"{profile.dominance_k:g}%"
    n_words = {2: "two", 3: "three", 4: "four"}.get(profile.dominance_n, str(profile.dominance_n))
    explanation = (
        pl.when(~controlled)
        .then(pl.lit(_EXPLAIN_ORGANISATIONAL))
        .when(few)
        .then(
            pl.lit(
                f"Suppressed: fewer than {profile.min_contributors} contributors, so one "
                "contributor's figure could be worked out."
            )
        )
        .when(one_dominates)
        .then(pl.lit(f"Suppressed: one contributor makes up more than {k} of this total."))
        .when(dominated)
        .then(
            pl.lit(
                f"Suppressed: the {n_words} largest contributors make up more than {k} of "
                "this total."
            )
        )
        .when(p_fails)
        .then(
            pl.lit(
                "Suppressed: the second largest contributor could work out the largest "
                f"contribution to within {profile.p_percent:g}%."
            )
        )
        .otherwise(pl.lit("Published: enough contributors, none dominant."))
    )
    status = pl.when(sensitive).then(pl.lit(SUPPRESSED)).otherwise(pl.lit(PUBLISHED))
    symbol = pl.when(sensitive).then(pl.lit(CONFIDENTIAL)).otherwise(pl.lit(""))
    return cells.select(
        *keys,
        pl.when(sensitive).then(None).otherwise(total).alias(value),
        status.alias(STATUS),
        symbol.alias(SYMBOL),
        explanation.alias(EXPLANATION),
    )


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
