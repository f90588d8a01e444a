"""The probabilistic stage: a Splink model built from a ``LinkModel``, trained and scored.

The model is trained unsupervised on the records it is asked to link (u by random sampling,
m by expectation maximisation on two blockings that each leave some comparisons free), with
one fixed recipe for every job: nothing here is tuned to a particular dataset.

Splink runs on DuckDB by default; pass ``backend`` (a function returning a Splink database
API, e.g. a ``SparkAPI``) to run it elsewhere. The comparison SQL is plain enough (=, AND,
year/month/day, jaro_winkler_similarity) for Splink's dialect translation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from accord.linkage.templates import LinkModel

Backend = Callable[[], Any]

# Columns each comparison needs in the prepared frame (see engine._prepare).
COMPARISON_COLUMNS: dict[str, tuple[str, ...]] = {
    "nhs_number": ("nhs_number",),
    "given_name": ("given_name", "given_canon", "family_name"),
    "family_name": ("family_name", "given_name"),
    "date_of_birth": ("date_of_birth",),
    "sex": ("sex",),
    "address": ("address", "address_numbers"),  # and uprn, where there is one
    "postcode": ("postcode", "postcode_sector", "postcode_district"),
    "uprn": ("uprn",),
}

BLOCKING_HELPERS = (
    "given_initial",
    "family_initial",
    "family_prefix",
    "initials",
    "name_low",
    "name_high",
    "birth_year",
    "birth_decade",
    "birthday",
    "postcode_sector",
    "postcode_district",
)

# u from this many random pairs: enough for every level to be seen many times.
U_MAX_PAIRS = 5e5
# An EM blocking with fewer pairs than this is not trained on (see score).
EM_MIN_PAIRS = 1_000
# Each EM blocking is sampled down to about this many pairs.
EM_MAX_PAIRS = 2.5e5
# Scored pairs below this probability are dropped inside the database, never returned: they
# are the bulk of the blocked pairs and none of them could link or go to review.
SCORE_FLOOR = 0.01
# The least m a level can have after training (a match weight floor of log2(M_FLOOR / u)).
M_FLOOR = 1e-3
# Starting m of a comparison's first (agreeing) level and of its "Different" level (_comparison).
M_START = 0.8
DIFFERENT_M = 0.05
# The share of true matches the deterministic rules for the prior are taken to find.
PRIOR_RECALL = 0.7


@dataclass
class Scored:
    # unique_id_l, unique_id_r (Int64), probability (Float64), contradicts, conflicts (Boolean)
    pairs: pl.DataFrame
    m_u: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def duckdb_backend(threads: int | None = None) -> Any:
    """An in-memory DuckDB for Splink, with ``threads`` (default: every core)."""
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect(
        config={
            "threads": threads or os.cpu_count() or 1,
            "preserve_insertion_order": False,
        }
    )
    return DuckDBAPI(connection=con)


def _jw(column: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({column}_l, {column}_r) >= {threshold}"


def _null(*columns: str) -> dict[str, Any]:
    condition = " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)
    return {"sql_condition": condition, "label_for_charts": "Missing", "is_null_level": True}


def _level(sql: str, label: str, tf: str | None = None) -> dict[str, Any]:
    level: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if tf is not None:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _fixed_m(level: dict[str, Any], m: float) -> dict[str, Any]:
    """A level whose m is set, not trained (agreement on an identifier the exact pass used)."""
    return {**level, "m_probability": m, "fix_m_probability": True}


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "Different"}


def _comparison(key: str, description: str, levels: list[dict[str, Any]]) -> dict[str, Any]:
    """A comparison of ``levels`` (and "Different"), each starting EM from a plain prior: most
    matches agree outright (the first level, M_START of them), DIFFERENT_M disagree and the
    partial levels share the rest. Where EM cannot train a level, this stays its m (_floor_m)."""
    free = [level for level in levels if not level.get("is_null_level")]
    free = [level for level in free if "m_probability" not in level]
    start = {id(level): M_START for level in free[:1]}
    for level in free[1:]:
        start[id(level)] = (1 - M_START - DIFFERENT_M) / (len(free) - 1)
    return {
        "output_column_name": key,
        "comparison_description": description,
        "comparison_levels": [
            *(
                {**level, "m_probability": start[id(level)]} if id(level) in start else level
                for level in levels
            ),
            {**_ELSE, "m_probability": DIFFERENT_M},
        ],
    }


def _same_address(uprn: bool) -> str:
    """Same address, or (where there are UPRNs) the same UPRN."""
    return "(uprn_l = uprn_r OR address_l = address_r)" if uprn else "address_l = address_r"


def _no_address(uprn: bool) -> str:
    missing = "(address_l IS NULL OR address_r IS NULL)"
    return f"{missing} AND (uprn_l IS NULL OR uprn_r IS NULL)" if uprn else missing


def _address_and_postcode(uprn: bool) -> dict[str, Any]:
    """A person's address and postcode as one comparison.

    They are not independent evidence: people of one household share both (agreement on
    each, counted separately, would make any two of them a match) and people who move change
    both (disagreement on each would count twice against them). Here each combination is one
    level, whose m and u training sets from the data.
    """
    same_address = _same_address(uprn)
    same_postcode = "postcode_l = postcode_r"
    same_numbers = "address_numbers_l = address_numbers_r"
    no_address = _no_address(uprn)
    return _comparison(
        "address",
        "Address and postcode",
        [
            {
                "sql_condition": f"{no_address} AND (postcode_l IS NULL OR postcode_r IS NULL)",
                "label_for_charts": "Missing",
                "is_null_level": True,
            },
            _level(f"{same_address} AND {same_postcode}", "Same address and postcode"),
            _level(same_address, "Same address (or UPRN), postcode differs or missing"),
            _level(
                f"{same_postcode} AND {same_numbers} AND {_jw('address', 0.8)}",
                "Same postcode, same numbers, similar address",
            ),
            _level(
                f"{same_postcode} AND {_jw('address', 0.92)}",
                "Same postcode, very similar address (a number or flat differs)",
            ),
            _level(same_postcode, "Same postcode, address differs or missing"),
            _level(
                f"{same_numbers} AND {_jw('address', 0.9)}",
                "Same numbers, very similar address, postcode differs or missing",
            ),
            _level(
                "postcode_sector_l = postcode_sector_r",
                "Same postcode sector, address differs or missing",
            ),
            _level(
                "postcode_district_l = postcode_district_r",
                "Same postcode district, address differs or missing",
            ),
        ],
    )


def _comparisons(model: LinkModel, columns: set[str]) -> list[dict[str, Any]]:
    """The model's comparisons whose columns are all in ``columns``, as Splink dictionaries."""
    uprn = "uprn" in columns
    # Given and family names the wrong way round (allowing a typo in either).
    swapped = (
        "jaro_winkler_similarity(given_name_l, family_name_r) >= 0.9 "
        "AND jaro_winkler_similarity(family_name_l, given_name_r) >= 0.9 "
        "AND given_name_l <> family_name_l"
    )
    # One family name a part of the other's double-barrelled name ("SMITH", "SMITH-JONES").
    barrelled = " OR ".join(
        f"family_name_{a} LIKE {pattern}"
        for a, b in (("l", "r"), ("r", "l"))
        for pattern in (f"concat(family_name_{b}, '-%')", f"concat('%-', family_name_{b})")
    )
    same_numbers = "address_numbers_l = address_numbers_r"
    made: dict[str, dict[str, Any]] = {
        "nhs_number": _comparison(
            "nhs_number",
            "NHS number",
            [
                _null("nhs_number"),
                _fixed_m(_level("nhs_number_l = nhs_number_r", "Same NHS number"), 0.95),
            ],
        ),
        "uprn": _comparison(
            "uprn",
            "UPRN",
            [_null("uprn"), _fixed_m(_level("uprn_l = uprn_r", "Same UPRN"), 0.95)],
        ),
        "given_name": _comparison(
            "given_name",
            "Given name",
            [
                _null("given_name"),
                _level("given_name_l = given_name_r", "Same", tf="given_name"),
                _level("given_canon_l = given_canon_r", "Same name, one a nickname"),
                _level(_jw("given_name", 0.92), "Very similar"),
                _level(swapped, "Given and family names swapped"),
                _level(_jw("given_name", 0.8), "Similar"),
                _level(
                    "(length(given_name_l) = 1 OR length(given_name_r) = 1) "
                    "AND substr(given_name_l, 1, 1) = substr(given_name_r, 1, 1)",
                    "Initial only, and it agrees",
                ),
            ],
        ),
        "family_name": _comparison(
            "family_name",
            "Family name",
            [
                _null("family_name"),
                _level("family_name_l = family_name_r", "Same", tf="family_name"),
                _level(_jw("family_name", 0.92), "Very similar"),
                _level(swapped, "Given and family names swapped"),
                _level(barrelled, "One part of a double-barrelled name"),
                _level(_jw("family_name", 0.8), "Similar"),
            ],
        ),
        "date_of_birth": _comparison(
            "date_of_birth",
            "Date of birth",
            [
                _null("date_of_birth"),
                _level("date_of_birth_l = date_of_birth_r", "Same"),
                _level(
                    "year(date_of_birth_l) = year(date_of_birth_r) "
                    "AND month(date_of_birth_l) = day(date_of_birth_r) "
                    "AND day(date_of_birth_l) = month(date_of_birth_r)",
                    "Day and month swapped",
                ),
                _level(
                    "damerau_levenshtein(CAST(date_of_birth_l AS VARCHAR), "
                    "CAST(date_of_birth_r AS VARCHAR)) <= 1",
                    "One digit wrong or two swapped",
                ),
                _level(
                    "month(date_of_birth_l) = month(date_of_birth_r) "
                    "AND day(date_of_birth_l) = day(date_of_birth_r) "
                    "AND abs(year(date_of_birth_l) - year(date_of_birth_r)) = 1",
                    "Year off by one",
                ),
                _level(
                    "abs(date_diff('day', date_of_birth_l, date_of_birth_r)) <= 31",
                    "Within a month",
                ),
                _level(
                    "abs(date_diff('day', date_of_birth_l, date_of_birth_r)) <= 366",
                    "Within a year",
                ),
            ],
        ),
        "sex": _comparison("sex", "Sex", [_null("sex"), _level("sex_l = sex_r", "Same")]),
        "postcode": _comparison(
            "postcode",
            "Postcode",
            [
                _null("postcode"),
                _level("postcode_l = postcode_r", "Same"),
                _level("postcode_sector_l = postcode_sector_r", "Same sector"),
                _level("postcode_district_l = postcode_district_r", "Same district"),
            ],
        ),
    }
    if model.entity == "person":
        made["address"] = _comparison(
            "address",
            "Address",
            [
                {
                    "sql_condition": _no_address(uprn),
                    "label_for_charts": "Missing",
                    "is_null_level": True,
                },
                _level(_same_address(uprn), "Same (or same UPRN)"),
                _level(f"{same_numbers} AND {_jw('address', 0.8)}", "Same numbers, similar"),
                _level(_jw("address", 0.92), "Very similar (a number or flat differs)"),
                _level(_jw("address", 0.8), "Similar"),
            ],
        )
    else:
        made["address"] = _comparison(
            "address",
            "Address",
            [
                _null("address"),
                _level("address_l = address_r", "Same", tf="address"),
                _level(f"{same_numbers} AND {_jw('address', 0.9)}", "Same numbers, very similar"),
                _level(f"{same_numbers} AND {_jw('address', 0.75)}", "Same numbers, similar"),
                _level(same_numbers, "Same numbers, different wording"),
            ],
        )
    keys = [
        key for key in model.enabled_keys if key in made and set(COMPARISON_COLUMNS[key]) <= columns
    ]
    if model.entity == "person" and {"address", "postcode"} <= set(keys):
        made["address"] = _address_and_postcode(uprn)
        keys.remove("postcode")
    return [made[key] for key in keys]


def _rules(entity: str, columns: set[str]) -> dict[str, list[list[str]]]:
    """Blocking rules (as lists of columns to be equal), kept if their columns are there."""
    if entity == "person":
        # Chosen (bench/README.md) so that pairs with several errors still meet in one of
        # them, each with few pairs of strangers: on 1M x 1M synthetic records they find 99.2%
        # of the true pairs the exact pass leaves, in about 14M cross-file pairs.
        predict = [
            ["postcode", "initials"],
            ["family_prefix", "date_of_birth"],
            ["address"],
            ["name_low", "name_high", "birth_decade"],
            ["date_of_birth", "initials"],
        ]
        # Duplicates within a source differ less (one error more than their original has):
        # they meet in the rules above, and these look only across sources.
        across = [
            ["date_of_birth", "postcode_sector"],
            ["birthday", "name_high", "birth_decade"],
            ["birthday", "name_low", "birth_decade"],
            ["postcode", "family_initial"],
            ["given_canon", "birth_year", "postcode_sector"],
            ["family_name", "given_canon"],
            ["uprn"],
        ]
        # Not on address: people sharing an address (households) would pass for matches.
        em = [["date_of_birth"], ["family_name", "given_canon"]]
        prior = [
            ["given_name", "family_name", "date_of_birth"],
            ["given_canon", "date_of_birth", "postcode"],
        ]
    else:
        predict = [
            ["postcode"],
            ["address_numbers", "postcode_sector"],
            ["address"],
        ]
        em = [["postcode"], ["address"]]
        prior = [["address", "postcode"]]
        across = []

    def keep(rules: list[list[str]]) -> list[list[str]]:
        return [r for r in rules if set(r) <= columns]

    return {
        "predict": keep(predict),
        "across": keep(across),
        "em": keep(em),
        "prior": keep(prior),
    }


def score(
    frames: Sequence[pl.DataFrame],
    model: LinkModel,
    *,
    backend: Backend | None = None,
    on_stage: Callable[[str], None] | None = None,
    seed: int = 1,
) -> Scored | None:
    """Train a model on ``frames`` (one a source, unique_id across all) and score pairs.

    Returns None when there is nothing to compare (no comparisons whose columns are present,
    or a side with no records).
    """
    from splink import Linker, SettingsCreator, block_on

    frames = [f for f in frames if f.height]
    if len(frames) < 2:
        return None
    columns = set(frames[0].columns)
    comparisons: list[Any] = _comparisons(model, columns)
    rules = _rules(model.entity, columns)
    if not comparisons or not rules["predict"]:
        return None

    conditions = []
    if "settled" in columns:
        # Records the exact pass linked to every other source only still look for duplicates
        # in their own source (or, without one-to-one, for further links anywhere).
        conditions.append(
            "(NOT l.settled AND NOT r.settled) OR (l.src = r.src AND NOT (l.settled AND r.settled))"
            if model.one_to_one
            else "NOT (l.settled AND r.settled)"
        )
    predict_rules: list[Any] = [
        " AND ".join(
            [
                *(f"l.{c} = r.{c}" for c in rule),
                *(f"({c})" for c in conditions),
                *(["l.src <> r.src"] if i >= len(rules["predict"]) else []),
            ]
        )
        for i, rule in enumerate(rules["predict"] + rules["across"])
    ]

    _log("start")
    db_api = (backend or duckdb_backend)()
    tables = [
        db_api.register(frame.to_arrow(), table_name=f"accord_link_{i}")
        for i, frame in enumerate(frames)
    ]
    settings = SettingsCreator(
        link_type="link_and_dedupe",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=predict_rules,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
        max_iterations=20,
    )
    linker = Linker(tables, settings, log_level=None)
    # Splink warns at length about the defaults it expects to be changed; quiet it here.
    logging.getLogger("splink").setLevel(logging.ERROR)

    if on_stage:
        on_stage("train")
    if rules["prior"]:
        # If the rules find more than the recall allows, Splink's default prior stays.
        with contextlib.suppress(ValueError):
            linker.training.estimate_probability_two_random_records_match(
                [block_on(*r) for r in rules["prior"]], recall=PRIOR_RECALL
            )
    n_records = sum(frame.height for frame in frames)
    _bounded_prior(linker, n_records)  # EM needs it in (0, 1) too
    _log("prior")
    linker.training.estimate_u_using_random_sampling(max_pairs=U_MAX_PAIRS, seed=seed, num_chunks=1)
    _log("u")
    everyone = pl.concat([f.select(c for c in f.columns if c in _all(rules["em"])) for f in frames])
    for rule in rules["em"]:
        if _pair_count(everyone, rule) < EM_MIN_PAIRS:
            # Too few pairs to learn from: EM finds patterns in noise. The starting m stay.
            _log(f"em {rule} skipped: too few pairs")
            continue
        # Splink takes the comparisons of the blocking out of the linker's settings while it
        # trains and only puts them back if training succeeds: keep them to put back.
        kept = linker._settings_obj.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block_on(*rule), max_pairs=EM_MAX_PAIRS, record_sample_proportion=0.05
            )
        except Exception as exc:  # a blocking with no pairs, or nothing left to train
            linker._settings_obj.core_model_settings = kept
            logging.getLogger(__name__).info("EM on %s skipped: %s", rule, exc)
        _log(f"em {rule}")

    _floor_m(
        linker,
        {
            (c["output_column_name"], level["label_for_charts"]): level["m_probability"]
            for c in comparisons
            for level in c["comparison_levels"]
            if "m_probability" in level
        },
    )
    _bounded_prior(linker, n_records)

    if on_stage:
        on_stage("score")
    predictions = linker.inference.predict(
        threshold_match_probability=SCORE_FLOOR, warning_mode="never"
    )
    _log("predict")
    pairs = pl.from_arrow(predictions.as_pyarrow_table())
    assert isinstance(pairs, pl.DataFrame)
    # The person's own details (given name, date of birth, NHS number) are what tell apart the
    # people of one household, who share family name, address and postcode. A pair contradicts
    # itself when its given name or date of birth disagrees outright (a negative match weight:
    # the "Different" level, or no better than chance), and conflicts when two of the three
    # do: a pair for the engine to keep apart whatever the rest of the evidence says.
    own = [f"mw_{k}" for k in ("given_name", "date_of_birth") if f"mw_{k}" in pairs.columns]
    against = [pl.col(c) < 0 for c in own]
    if "mw_nhs_number" in pairs.columns:
        against_all = [*against, pl.col("mw_nhs_number") < 0]
    else:
        against_all = against
    pairs = pairs.select(
        pl.col("unique_id_l").cast(pl.Int64),
        pl.col("unique_id_r").cast(pl.Int64),
        pl.col("match_probability").cast(pl.Float64).alias("probability"),
        (pl.any_horizontal(against) if against else pl.lit(False)).alias("contradicts"),
        (
            pl.sum_horizontal([c.cast(pl.Int8) for c in against_all]) >= 2
            if len(against_all) >= 2
            else pl.lit(False)
        ).alias("conflicts"),
    )
    return Scored(pairs=pairs, m_u=_m_u(linker))


def _all(rules: list[list[str]]) -> set[str]:
    return {c for rule in rules for c in rule}


def _pair_count(frame: pl.DataFrame, rule: list[str]) -> int:
    """How many pairs of records agree on every column of ``rule`` (nulls agree with none)."""
    sizes = frame.select(rule).drop_nulls().group_by(rule).len().get_column("len")
    return int((sizes * (sizes - 1) // 2).sum())


_T0 = [time.perf_counter()]


def _log(what: str) -> None:
    """Stage timings, to the log at debug level (``ACCORD_LINKAGE_TIMING=1`` prints them)."""
    now = time.perf_counter()
    message = f"{what}: {now - _T0[0]:.2f} s"
    _T0[0] = now
    if os.environ.get("ACCORD_LINKAGE_TIMING"):
        print(message, flush=True)
    logging.getLogger(__name__).debug(message)


def _floor_m(linker: Any, start: dict[tuple[str, str], float]) -> None:
    """No level's m below M_FLOOR: a level EM saw too seldom in matches is unlikely, not
    impossible. A level EM could not train at all (it never saw it, or training failed on too
    little data) keeps its starting m (``start``, by comparison and level label)."""
    from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT

    for comparison in linker._settings_obj.comparisons:
        for level in comparison.comparison_levels:
            if level.is_null_level:
                continue
            m = level._m_probability
            if m is None or m == LEVEL_NOT_OBSERVED_TEXT:
                m = start.get((comparison.output_column_name, level.label_for_charts), M_FLOOR)
            level.m_probability = max(m, M_FLOOR)


def _bounded_prior(linker: Any, records: int) -> None:
    """Keep the prior strictly between 0 and 1. With few records the deterministic rules may
    find no pair (a prior of 0) or every pair (1), and Splink cannot take the log of either:
    then assume each record has one match among all the others."""
    settings = linker._settings_obj
    prior = settings._probability_two_random_records_match
    if not 0 < prior < 1:
        settings._probability_two_random_records_match = min(0.5, 1 / max(records - 1, 2))


def _m_u(linker: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for comparison in linker.misc.save_model_to_json()["comparisons"]:
        levels = []
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            levels.append(
                {
                    "level": level.get("label_for_charts", ""),
                    "m": level.get("m_probability"),
                    "u": level.get("u_probability"),
                }
            )
        out[comparison["output_column_name"]] = levels
    return out
