"""The disclosure control engine: each rule with exact expectations, property tests for the
standard profile, an enumeration proof for the strict profile's secondary suppression, and the
determinism of cell key perturbation."""

from __future__ import annotations

import random

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.outputs.disclosure import (
    CELL_KEY,
    CONFIDENTIAL,
    NOT_AVAILABLE,
    PERTURBED,
    PUBLISHED,
    ROUNDED,
    STANDARD,
    STRICT,
    SUPPRESSED,
    TOTAL,
    Profile,
    add_margins,
    cell_keys,
    default_ptable,
    mask_derived,
    protect,
    protect_magnitude,
)

# --- standard -------------------------------------------------------------------------------


def test_standard_suppresses_1_to_7_and_rounds_the_rest_to_5() -> None:
    counts = [0, 1, 7, 8, 12, 13, 17, 100, None]
    table = pl.DataFrame({"area": list("abcdefghi"), "count": counts})
    out = protect(table, STANDARD)
    assert out["count"].to_list() == [0, None, None, 10, 10, 15, 15, 100, None]
    assert out["status"].to_list() == [
        PUBLISHED,
        SUPPRESSED,
        SUPPRESSED,
        ROUNDED,
        ROUNDED,
        ROUNDED,
        ROUNDED,
        ROUNDED,
        SUPPRESSED,
    ]
    assert out["symbol"].to_list() == [
        "",
        CONFIDENTIAL,
        CONFIDENTIAL,
        "",
        "",
        "",
        "",
        "",
        NOT_AVAILABLE,
    ]
    assert out["explanation"][0].startswith("A true zero")
    assert out["explanation"][1].startswith("Suppressed: fewer than 8 people")
    assert out["explanation"][3].startswith("Rounded to the nearest 5")
    assert out["explanation"][8] == "No figure was available for this cell."
    assert out.columns == ["area", "count", "status", "symbol", "explanation"]


def test_standard_totals_are_computed_from_unrounded_cells_then_rounded() -> None:
    table = pl.DataFrame({"la": ["A", "A", "A"], "day": ["1", "2", "3"], "count": [8, 8, 8]})
    out = protect(add_margins(table, rows="la", columns="day"), STANDARD)
    values = dict(zip(zip(out["la"], out["day"], strict=True), out["count"], strict=True))
    assert values[("A", "1")] == 10  # each cell 8 -> 10
    assert values[("A", TOTAL)] == 25  # 24 -> 25, not 10 + 10 + 10
    assert values[(TOTAL, TOTAL)] == 25
    assert values[(TOTAL, "2")] == 10


def test_organisational_measures_pass_through_unless_the_profile_says_so() -> None:
    table = pl.DataFrame(
        {"home": ["h1", "h2"], "count": [3, 13], "people": [False, True]},
    )
    out = protect(table, STANDARD, people="people")
    assert out["count"].to_list() == [3, 15]
    assert out["status"].to_list() == [PUBLISHED, ROUNDED]
    assert out["explanation"][0].startswith("An organisational measure")
    controlled = protect(table, STANDARD.controlling_organisational(), people="people")
    assert controlled["count"].to_list() == [None, 15]


def test_rates_and_means_only_from_n_of_8_or_more() -> None:
    table = pl.DataFrame({"rate": [0.5, 0.25, 0.1, 0.2], "n": [7, 8, 9, None]})
    out = mask_derived(table, "rate", "n", STANDARD)
    assert out["rate"].to_list() == [None, 0.25, 0.1, None]
    assert out["rate_symbol"].to_list() == [CONFIDENTIAL, "", "", CONFIDENTIAL]
    assert out["rate_explanation"][0] == "Not shown: computed from fewer than 8 people."
    assert mask_derived(table, "rate", "n", STRICT)["rate"].to_list() == [None, None, None, None]


def two_way(cells: list[list[int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "la": [f"r{r}" for r, row in enumerate(cells) for _ in row],
            "day": [f"c{c}" for row in cells for c in range(len(row))],
            "count": [v for row in cells for v in row],
        },
        schema={"la": pl.String, "day": pl.String, "count": pl.Int64},
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=4), min_size=1, max_size=4).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    )
)
def test_standard_properties_over_random_tables(cells: list[list[int]]) -> None:
    table = add_margins(two_way(cells), rows="la", columns="day")
    out = protect(table, STANDARD)
    published = out.filter(pl.col("count").is_not_null())
    assert not published["count"].is_between(1, 7).any()  # no published count in 1..7
    assert (published["count"] % 5 == 0).all()  # every published count a multiple of 5
    # totals: the rounding of the unrounded sums (or suppressed if those sums are 1..7)
    exact = dict(zip(zip(table["la"], table["day"], strict=True), table["count"], strict=True))
    shown = dict(zip(zip(out["la"], out["day"], strict=True), out["count"], strict=True))
    rows = {f"r{r}": row for r, row in enumerate(cells)}
    for r, row in rows.items():
        assert exact[(r, TOTAL)] == sum(row)
    for (r, c), value in exact.items():
        if 1 <= value <= 7:
            assert shown[(r, c)] is None
        else:
            assert shown[(r, c)] == ((value + 2) // 5) * 5


# --- strict ---------------------------------------------------------------------------------


def test_strict_suppresses_0_to_9_and_masks_rows_and_columns() -> None:
    table = add_margins(two_way([[3, 20], [25, 30]]), rows="la", columns="day")
    out = protect(table, STRICT, rows="la", columns="day")
    shown = dict(zip(zip(out["la"], out["day"], strict=True), out["count"], strict=True))
    status = dict(zip(zip(out["la"], out["day"], strict=True), out["status"], strict=True))
    # 3 is primary; its row and column each need a second; 20 (row) and 25 (column), then
    # the last cell so row r1 and column c1 are not left with one suppressed cell each.
    assert shown == {
        ("r0", "c0"): None,
        ("r0", "c1"): None,
        ("r1", "c0"): None,
        ("r1", "c1"): None,
        ("r0", TOTAL): 23,
        ("r1", TOTAL): 55,
        (TOTAL, "c0"): 28,
        (TOTAL, "c1"): 50,
        (TOTAL, TOTAL): 78,
    }
    assert all(status[k] == SUPPRESSED for k in shown if shown[k] is None)
    by_cell = out.filter((pl.col("la") == "r0") & (pl.col("day") == "c1"))
    # primary and secondary suppression read the same: saying which would tell a reader that
    # a secondary cell is 10 or more, and narrow its neighbours
    explanations = set(out.filter(pl.col("count").is_null())["explanation"])
    assert explanations == {by_cell["explanation"][0]}
    assert by_cell["explanation"][0].startswith("Suppressed: fewer than 10 people")
    zero = protect(two_way([[0, 50], [40, 60]]), STRICT, rows="la", columns="day")
    assert zero["count"][0] is None  # zeros are suppressed too


def test_strict_needs_the_two_way_structure() -> None:
    with pytest.raises(ValueError, match="rows= and columns="):
        protect(two_way([[1]]), STRICT)


def test_strict_leaves_organisational_measures_alone() -> None:
    table = two_way([[3, 20], [25, 30]]).with_columns(people=pl.lit(False))
    out = protect(table, STRICT, people="people", rows="la", columns="day")
    assert out["count"].to_list() == [3, 20, 25, 30]


Cell = tuple[int, int]


def feasible(
    cells: dict[Cell, int | None], n_rows: int, n_cols: int, fixed: Cell, value: int, bound: int
) -> bool:
    """Is there an integer table with every suppressed entry in 0..bound, the published entries
    as published, every row and column adding up to its total (itself an entry, possibly
    suppressed), and ``fixed`` equal to ``value``? Bounded brute force with interval
    propagation."""
    unknown = [k for k, v in cells.items() if v is None]
    domains: dict[Cell, tuple[int, int]] = {k: (0, bound) for k in unknown}
    domains[fixed] = (value, value)
    constraints: list[list[tuple[int, Cell]]] = []  # sum(coef * entry) == 0
    for r in range(n_rows + 1):
        constraints.append([(1, (r, c)) for c in range(n_cols)] + [(-1, (r, n_cols))])
    for c in range(n_cols + 1):
        constraints.append([(1, (r, c)) for r in range(n_rows)] + [(-1, (n_rows, c))])

    def bounds(doms: dict[Cell, tuple[int, int]], k: Cell) -> tuple[int, int]:
        v = cells[k]
        return doms[k] if v is None else (v, v)

    def propagate(doms: dict[Cell, tuple[int, int]]) -> bool:
        changed = True
        while changed:
            changed = False
            for terms in constraints:
                for coef, k in terms:
                    if cells[k] is not None:
                        continue
                    lo_rest = sum(
                        (bounds(doms, j)[0] if a > 0 else -bounds(doms, j)[1])
                        for a, j in terms
                        if j != k
                    )
                    hi_rest = sum(
                        (bounds(doms, j)[1] if a > 0 else -bounds(doms, j)[0])
                        for a, j in terms
                        if j != k
                    )
                    # coef * x = -(rest)
                    lo, hi = (-hi_rest, -lo_rest) if coef > 0 else (lo_rest, hi_rest)
                    old = doms[k]
                    new = (max(old[0], lo), min(old[1], hi))
                    if new[0] > new[1]:
                        return False
                    if new != old:
                        doms[k] = new
                        changed = True
        return True

    def search(doms: dict[Cell, tuple[int, int]]) -> bool:
        if not propagate(doms):
            return False
        open_ = [k for k in unknown if doms[k][0] < doms[k][1]]
        if not open_:
            return True
        k = min(open_, key=lambda j: doms[j][1] - doms[j][0])
        for v in range(doms[k][0], doms[k][1] + 1):
            trial = dict(doms)
            trial[k] = (v, v)
            if search(trial):
                return True
        return False

    return search(domains)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.sampled_from([(2, 2), (2, 3), (3, 2)]),
    st.lists(st.integers(0, 30), min_size=9, max_size=9),
)
def test_strict_no_suppressed_cell_can_be_narrowed(
    shape: tuple[int, int], values: list[int]
) -> None:
    """Given everything published (cells and margins), every primary-suppressed cell could be
    any value 0..9: enumerated, not assumed. (2x2, 2x3 and 3x2 tables: several thousand
    random ones passed; 3x3 tables are not yet always protected, see below.)"""
    assert_protected(*shape, values)


# The heuristic alone was not enough on larger tables (as Part B.3 of the reference warns):
# about 3 random 3x3 tables in 1,000 left a suppressed cell that could be narrowed, this one
# among them. The interval audit (LP) now finds and closes the gap.
def test_strict_known_gap_on_a_3x3_table() -> None:
    assert_protected(3, 3, [2, 20, 17, 0, 4, 11, 14, 15, 19])
    audit_off = Profile(**{**STRICT.__dict__, "audit": False})
    grid = [[2, 20, 17], [0, 4, 11], [14, 15, 19]]
    table = add_margins(two_way(grid), rows="la", columns="day")
    with_audit = protect(table, STRICT, rows="la", columns="day")
    without = protect(table, audit_off, rows="la", columns="day")
    assert with_audit["count"].null_count() > without["count"].null_count()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 25), min_size=9, max_size=9))
def test_strict_3x3_tables_are_protected_after_the_audit(values: list[int]) -> None:
    assert_protected(3, 3, values)


def test_strict_audit_bound_falls_back_to_suppressing_margins() -> None:
    """Above ``audit_max_cells`` no LP runs: an entry the witness cannot prove gets its row
    total, column total and grand total suppressed, which certainly protects it."""
    tiny = Profile(**{**STRICT.__dict__, "audit_max_cells": 1})
    grid = [[2, 20, 17], [0, 4, 11], [14, 15, 19]]
    table = add_margins(two_way(grid), rows="la", columns="day")
    out = protect(table, tiny, rows="la", columns="day")
    assert out.filter((pl.col("la") == TOTAL) & (pl.col("day") == TOTAL))["count"][0] is None


def assert_protected(n_rows: int, n_cols: int, values: list[int]) -> None:
    grid = [values[r * n_cols : (r + 1) * n_cols] for r in range(n_rows)]
    table = add_margins(two_way(grid), rows="la", columns="day")
    out = protect(table, STRICT, rows="la", columns="day")

    def index(label: str, prefix: str, n: int) -> int:
        return n if label == TOTAL else int(label.removeprefix(prefix))

    cells: dict[Cell, int | None] = {}
    truth: dict[Cell, int] = {}
    for la, day, shown, exact in zip(
        out["la"], out["day"], out["count"], table["count"], strict=True
    ):
        key = (index(la, "r", n_rows), index(day, "c", n_cols))
        cells[key] = shown
        truth[key] = exact
    bound = truth[(n_rows, n_cols)] + 10
    primary = [k for k, v in truth.items() if v <= 9]
    assert all(cells[k] is None for k in primary)
    for k in primary:
        for v in range(10):
            assert feasible(cells, n_rows, n_cols, k, v, bound), (grid, k, v)


# --- cell key perturbation ------------------------------------------------------------------


def records(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    return pl.DataFrame(
        {
            "la": [rng.choice("ABCDEFGH") for _ in range(n)],
            "day": [rng.choice(["mon", "tue", "wed"]) for _ in range(n)],
            "record_key": [rng.randrange(4096) for _ in range(n)],
        }
    )


def test_cell_key_is_the_sum_of_record_keys_mod_4096() -> None:
    recs = pl.DataFrame({"la": ["A", "A", "B"], "record_key": [4000, 200, 7]})
    keyed = cell_keys(recs, ["la"]).sort("la")
    assert keyed["count"].to_list() == [2, 1]
    assert keyed["cell_key"].to_list() == [(4000 + 200) % 4096, 7]


def test_cell_key_perturbation_is_deterministic() -> None:
    recs = records(3000, seed=1)
    first = protect(cell_keys(recs, ["la", "day"]), CELL_KEY).sort("la", "day")
    shuffled = recs.sample(fraction=1.0, shuffle=True, seed=7)
    second = protect(cell_keys(shuffled, ["la", "day"]), CELL_KEY).sort("la", "day")
    assert first.equals(second)
    assert set(first["status"]) == {PERTURBED}


def test_cell_key_perturbation_rules() -> None:
    table = pl.DataFrame(
        {
            "cell": list(range(8)),
            "count": [0, 3, 10, 50, 50, 2000, 5, 5],
            "cell_key": [17, 4095, 99, 0, 4095, 123, 0, 4095],
            "people": [True, True, True, True, True, True, True, False],
        }
    )
    out = protect(table, CELL_KEY, people="people")
    values = out["count"].to_list()
    assert values[0] == 0
    assert out["status"][0] == PUBLISHED
    assert values[1] == 10  # 3 with the top key goes to the threshold (never 1..9)
    assert values[2] == 10  # the threshold itself is not moved
    assert values[3] == 48
    assert values[4] == 52
    assert abs(values[5] - 2000) <= 2  # large counts: the repeating rows
    assert values[6] == 0  # 5 with key 0 goes to 0
    assert values[7] == 5
    assert out["status"][7] == PUBLISHED
    assert out["explanation"][3].startswith("Perturbed")


def test_default_ptable_is_zero_mean_and_never_gives_1_to_9() -> None:
    ptable = default_ptable()
    spans = ptable.with_columns(
        (pl.col("ckey_hi") - pl.col("ckey_lo") + 1).alias("keys"),
        (pl.col("pcv") + pl.col("pvalue")).alias("after"),
    )
    per_pcv = spans.group_by("pcv").agg(
        pl.col("keys").sum(), ((pl.col("keys") * pl.col("pvalue")).sum() / 4096).alias("mean")
    )
    assert (per_pcv["keys"] == 4096).all()  # every key of every pcv covered once
    assert (per_pcv["mean"].abs() < 0.01).all()
    assert not spans["after"].is_between(1, 9).any()
    assert (spans["after"] >= 0).all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(0, 4095)), min_size=1, max_size=30))
def test_cell_key_never_publishes_1_to_9(cells: list[tuple[int, int]]) -> None:
    table = pl.DataFrame(
        {"count": [c for c, _ in cells], "cell_key": [k for _, k in cells]},
        schema={"count": pl.Int64, "cell_key": pl.Int64},
    )
    out = protect(table, CELL_KEY)
    assert not out["count"].is_between(1, 9).any()
    assert ((out["count"] - table["count"]).abs() <= 9).all()


# --- standard: what rounded totals reveal ----------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=2, max_size=3))
def test_standard_what_is_shown_is_consistent_with_the_truth(row: list[int]) -> None:
    """Every true cell is among the values an attacker must still consider."""
    _standard_row_options(row)


def _standard_row_options(row: list[int]) -> dict[str, set[int]]:
    """One row with its total under the standard profile: enumerate every row of cells
    consistent with what is shown (suppressed: 1..7; rounded: within 2 of the shown value,
    never 1..7; 0 exactly) whose total rounds to the shown total; each cell's possible values.
    A suppressed cell is not always any of 1..7 (a row of 1 and 100 shows [c], 100 and a
    total of 100, so the suppressed cell is at most 4), and can even be pinned (see the known
    gap below)."""
    table = add_margins(two_way([row]), rows="la", columns="day")
    out = protect(table, STANDARD)
    shown = dict(zip(out["day"], out["count"], strict=True))
    total_shown = shown.pop(TOTAL)

    def candidates(value: int | None) -> list[int]:
        if value is None:
            return list(range(1, 8))
        if value == 0:
            return [0]
        return [v for v in range(value - 2, value + 3) if v >= 8]

    days = [f"c{c}" for c in range(len(row))]
    options: dict[str, set[int]] = {d: set() for d in days}

    def walk(k: int, chosen: list[int]) -> None:
        if k == len(days):
            total_ok = (total_shown is None and 1 <= sum(chosen) <= 7) or (
                total_shown is not None
                and (
                    (sum(chosen) == 0 and total_shown == 0)
                    or (((sum(chosen) + 2) // 5) * 5 == total_shown and not 1 <= sum(chosen) <= 7)
                )
            )
            if total_ok:
                for d, v in zip(days, chosen, strict=True):
                    options[d].add(v)
            return
        for v in candidates(shown[days[k]]):
            walk(k + 1, [*chosen, v])

    walk(0, [])
    for d, true in zip(days, row, strict=True):
        assert true in options[d]
    return options


@pytest.mark.xfail(
    strict=True,
    reason="standard profile, known gap: a lone suppressed cell beside counts just above a "
    "rounding boundary can be pinned by the independently rounded total",
)
def test_standard_known_gap_a_suppressed_cell_pinned_by_rounded_neighbours() -> None:
    """[1, 23, 23] shows [c], 25, 25 with a total of 45: the two shown cells are at least 46
    between them (23..27 each), so the total's 43..47 leaves the hidden cell only 1. Hypothesis
    found it. Rounding every count (OpenSAFELY, NHS Digital) accepts this; closing it needs an
    interval audit for the standard profile like the strict one's."""
    options = _standard_row_options([1, 23, 23])
    assert len(options["c0"]) >= 2


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 60), min_size=2, max_size=3), min_size=2, max_size=3).filter(
        lambda rows: len({len(r) for r in rows}) == 1
    )
)
def test_same_input_same_output(cells: list[list[int]]) -> None:
    table = add_margins(two_way(cells), rows="la", columns="day")
    for profile in (STANDARD, STRICT):
        first = protect(table, profile, rows="la", columns="day")
        again = protect(table.clone(), profile, rows="la", columns="day")
        assert first.equals(again)  # ties are broken by row order, so same order
    strict = protect(table, STRICT, rows="la", columns="day")
    assert not strict["count"].drop_nulls().is_between(0, 9).any()


# --- magnitude tables -------------------------------------------------------------------------


def contributions(cells: dict[str, list[float]], people: bool | None = None) -> pl.DataFrame:
    frame = pl.DataFrame(
        {
            "la": [la for la, values in cells.items() for _ in values],
            "home": [f"{la}{k}" for la, values in cells.items() for k in range(len(values))],
            "beds": [v for values in cells.values() for v in values],
        }
    )
    return frame if people is None else frame.with_columns(people=pl.lit(people))


def test_magnitude_min_contributors() -> None:
    out = protect_magnitude(
        contributions({"a": [10.0] * 9, "b": [10.0] * 10}), ["la"], "beds", "home"
    )
    assert out["beds"].to_list() == [None, 100.0]
    assert out["status"].to_list() == [SUPPRESSED, PUBLISHED]
    assert out["symbol"].to_list() == [CONFIDENTIAL, ""]
    assert out["explanation"][0] == (
        "Suppressed: fewer than 10 contributors, so one contributor's figure could be worked out."
    )
    assert out.columns == ["la", "beds", "status", "symbol", "explanation"]


def test_magnitude_dominance() -> None:
    one = {"a": [1000.0] + [5.0] * 11}  # 1000 of 1055: one contributor over 90%
    two = {"a": [500.0, 500.0] + [5.0] * 10}  # 1000 of 1050 from two
    out = protect_magnitude(contributions(one), ["la"], "beds", "home")
    assert out["beds"][0] is None
    assert (
        out["explanation"][0] == "Suppressed: one contributor makes up more than 90% of this total."
    )
    out = protect_magnitude(contributions(two), ["la"], "beds", "home")
    assert out["explanation"][0] == (
        "Suppressed: the two largest contributors make up more than 90% of this total."
    )


def test_magnitude_p_percent_rule() -> None:
    # 100 + 30: the rest (10 x 0.9 = 9) is below 10% of the largest, though the top two make up
    # 130 / 139 = 93.5%; (n,k) set high so only the p% rule applies
    relaxed = Profile(**{**STANDARD.__dict__, "dominance_k": 99.0})
    cells = {"a": [100.0, 30.0] + [0.9] * 10, "b": [100.0, 30.0] + [2.0] * 10}
    out = protect_magnitude(contributions(cells), ["la"], "beds", "home", relaxed)
    assert out["status"].to_list() == [SUPPRESSED, PUBLISHED]
    assert out["explanation"][0] == (
        "Suppressed: the second largest contributor could work out the largest contribution "
        "to within 10%."
    )


def test_magnitude_contributions_are_summed_per_contributor_and_organisational_pass() -> None:
    frame = contributions({"a": [10.0] * 12}).with_columns(home=pl.lit("same"))
    out = protect_magnitude(frame, ["la"], "beds", "home")
    assert out["explanation"][0].startswith("Suppressed: fewer than 10 contributors")
    organisational = contributions({"a": [10.0] * 3}, people=False)
    out = protect_magnitude(organisational, ["la"], "beds", "home", people="people")
    assert out["beds"].to_list() == [30.0]
    assert out["explanation"][0].startswith("An organisational measure")
    controlled = STANDARD.controlling_organisational()
    out = protect_magnitude(organisational, ["la"], "beds", "home", controlled, people="people")
    assert out["beds"].to_list() == [None]
