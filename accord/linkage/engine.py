"""Record linkage: exact keys, then Splink, then one-to-one and clustering (no Django).

``link`` takes two or more sources of people or properties in the standardised columns
(``PERSON_COLUMNS``, ``PROPERTY_COLUMNS``) and returns the accepted links, one entity per
record, the pairs for clerical review and figures about the run.

1. Exact pass on the model's exact keys (NHS number for people, UPRN for properties), after
   normalisation and check-digit validation. Records that share a key are one entity, in or
   across sources. A record with an exact partner in every other source leaves the job here.
2. Probabilistic stage (Splink, ``splink_model``) on the rest, across sources (link only).
3. One-to-one between each pair of sources (greedy by descending probability), with exact
   links and clerical confirmations taken first; then clerical decisions applied.
4. Entities: the connected components of all accepted links.

Everything is columnar (Polars, and SQL in DuckDB through Splink); no per-record Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from accord.linkage import splink_model
from accord.linkage.nicknames import CANONICAL
from accord.linkage.normalise import (
    normalise_address,
    normalise_name,
    normalise_nhs_number,
    normalise_postcode,
    normalise_sex,
    normalise_uprn,
)
from accord.linkage.templates import (
    COLUMNS,
    PERSON_COLUMNS,
    PROPERTY_COLUMNS,
    Comparison,
    Entity,
    LinkModel,
    template,
)

__all__ = [
    "PERSON_COLUMNS",
    "PROPERTY_COLUMNS",
    "ClericalDecision",
    "Comparison",
    "Entity",
    "LinkModel",
    "LinkResult",
    "Source",
    "link",
    "normalise_address",
    "normalise_nhs_number",
    "normalise_postcode",
    "normalise_uprn",
    "template",
]

Progress = Callable[[float, str], None]

KEY_NAMES = {"nhs_number": "NHS number", "uprn": "UPRN"}
STAGES = ("exact", "probabilistic", "clerical")
_PAIR = ("uid_l", "uid_r")


@dataclass(frozen=True)
class Source:
    name: str
    frame: pl.DataFrame


@dataclass(frozen=True)
class ClericalDecision:
    source_l: str
    record_l: str
    source_r: str
    record_r: str
    is_match: bool


@dataclass
class LinkResult:
    links: pl.DataFrame
    clusters: pl.DataFrame
    borderline: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


def link(
    sources: Sequence[Source],
    model: LinkModel,
    *,
    clerical: Sequence[ClericalDecision] = (),
    keyed: bool = False,
    progress: Progress | None = None,
    backend: splink_model.Backend | None = None,
) -> LinkResult:
    """Link ``sources`` into entities with ``model`` (see the module docstring).

    ``keyed``: the exact keys are already keyed hashes; only the exact pass runs.
    ``backend``: a function returning a Splink database API (default: in-memory DuckDB).
    """

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    names = _check_sources(sources)
    report(0.0, "Preparing the records")
    records = _prepare(sources, model, keyed=keyed)
    n_sources = len(sources)
    decisions = _decisions(clerical, records, names)
    rejected = decisions.filter(~pl.col("is_match")).select(_PAIR)
    confirmed = decisions.filter(pl.col("is_match")).select(_PAIR)

    # Stage 1: exact keys.
    exact_parts = []
    exact_keys = [k for k in model.active_exact_keys if k in records.columns]
    for i, key in enumerate(exact_keys):
        report(0.05 + 0.1 * i / max(len(exact_keys), 1), f"Exact pass on {KEY_NAMES[key]}")
        exact_parts.append(_exact_pairs(records, key))
    exact = (
        pl.concat(exact_parts).unique(_PAIR)
        if exact_parts
        else pl.DataFrame(schema={"uid_l": pl.Int64, "uid_r": pl.Int64})
    ).join(rejected, on=_PAIR, how="anti")
    exact_comp = _components(records.height, exact)
    splink_model._log("prepared and exact pass")
    comp_sources = (
        records.select("uid", "src").with_columns(comp=exact_comp).select("comp", "src").unique()
    )
    fully_linked = (
        comp_sources.group_by("comp").agg(pl.len().alias("n")).filter(pl.col("n") == n_sources)
    )

    # Stage 2: probabilistic, on records not yet linked to every other source.
    scored = pl.DataFrame(
        schema={
            "uid_l": pl.Int64,
            "uid_r": pl.Int64,
            "probability": pl.Float64,
            "contradicts": pl.Boolean,
            "conflicts": pl.Boolean,
        }
    )
    m_u: dict[str, Any] = {}
    if not keyed:
        remaining = records.with_columns(
            comp=exact_comp,
            settled=exact_comp.is_in(fully_linked.get_column("comp").implode()),
        )
        if not remaining.get_column("settled").any():
            remaining = remaining.drop("settled")
        stage_fraction = {
            "train": (0.2, "Training the model"),
            "score": (0.45, "Scoring candidate pairs"),
        }
        prepared = _splink_frame(remaining)
        frames = [prepared.filter(pl.col("src") == i) for i in range(n_sources)]
        result = splink_model.score(
            frames,
            model,
            backend=backend,
            on_stage=lambda stage: report(*stage_fraction[stage]),
        )
        if result is not None:
            m_u = result.m_u
            scored = _orient(result.pairs.rename({"unique_id_l": "uid_l", "unique_id_r": "uid_r"}))

    report(0.8, "Resolving one-to-one" if model.one_to_one else "Applying the thresholds")
    src = records.select("uid", "src")
    node = src.with_columns(comp=exact_comp)
    candidates = (
        scored.join(rejected, on=_PAIR, how="anti")
        .join(node.rename({"uid": "uid_l", "src": "src_l", "comp": "comp_l"}), on="uid_l")
        .join(node.rename({"uid": "uid_r", "src": "src_r", "comp": "comp_r"}), on="uid_r")
        .filter(pl.col("comp_l") != pl.col("comp_r"))
        # Two of given name, date of birth and NHS number disagreeing outright: two people
        # (of one household, usually), however well the rest agrees (see splink_model.score).
        .filter(~pl.col("conflicts"))
    )
    # Within a source, people at one address share family name, address and postcode, which
    # the model (counting each as independent evidence) can take for a match: a duplicate
    # within a source needs its given name and date of birth not to disagree outright.
    within = candidates.filter(
        (pl.col("src_l") == pl.col("src_r")) & ~pl.col("contradicts")
    ).select(*_PAIR, "src_l", "src_r", "probability")
    if model.one_to_one:
        # A record with an exact partner in the other source is spoken for there.
        taken = comp_sources.rename({"src": "other"})
        candidates = pl.concat(
            [
                candidates.filter(pl.col("src_l") != pl.col("src_r"))
                .join(
                    taken.rename({"comp": "comp_l", "other": "src_r"}),
                    on=["comp_l", "src_r"],
                    how="anti",
                )
                .join(
                    taken.rename({"comp": "comp_r", "other": "src_l"}),
                    on=["comp_r", "src_l"],
                    how="anti",
                ),
                candidates.filter(pl.col("src_l") == pl.col("src_r")),
            ]
        )
        pinned = confirmed.join(src.rename({"uid": "uid_l", "src": "src_l"}), on="uid_l").join(
            src.rename({"uid": "uid_r", "src": "src_r"}), on="uid_r"
        )
        cross = pl.col("src_l") != pl.col("src_r")
        survivors = pl.concat(
            [
                _one_to_one(
                    pl.concat(
                        [
                            candidates.filter(cross)
                            .select(*_PAIR, "src_l", "src_r", "probability")
                            .with_columns(pinned=pl.lit(False)),
                            pinned.filter(cross).with_columns(
                                probability=pl.lit(1.0), pinned=pl.lit(True)
                            ),
                        ],
                        how="diagonal_relaxed",
                    )
                )
                .filter(~pl.col("pinned"))
                .drop("pinned"),
                # Duplicates within a source are one entity; one-to-one is between sources.
                within,
            ]
        )
    else:
        survivors = pl.concat(
            [
                candidates.filter(pl.col("src_l") != pl.col("src_r")).select(
                    *_PAIR, "src_l", "src_r", "probability"
                ),
                within,
            ]
        )
    survivors = survivors.join(confirmed, on=_PAIR, how="anti")
    splink_model._log("one-to-one")
    probabilistic = survivors.filter(pl.col("probability") >= model.match_threshold)
    band = survivors.filter(
        (pl.col("probability") >= model.review_from)
        & (pl.col("probability") < model.match_threshold)
    ).join(decisions.select(_PAIR), on=_PAIR, how="anti")

    links_uid = pl.concat(
        [
            exact.with_columns(stage=pl.lit("exact"), probability=pl.lit(1.0)),
            probabilistic.select(*_PAIR, stage=pl.lit("probabilistic"), probability="probability"),
            confirmed.join(exact, on=_PAIR, how="anti").with_columns(
                stage=pl.lit("clerical"), probability=pl.lit(1.0)
            ),
        ]
    )

    report(0.9, "Clustering")
    entity = _components(records.height, links_uid)
    clusters = _clusters(records, links_uid, entity, names)
    links = _named(links_uid, records, names).sort("source_l", "record_l", "source_r", "record_r")
    borderline = _borderline(band, records, names, model)

    stats = _stats(
        records=records,
        names=names,
        links_uid=links_uid,
        scored=candidates.select("probability"),
        unaccepted=survivors.filter(pl.col("probability") < model.match_threshold),
        clusters=clusters,
        decisions=decisions,
    )
    if m_u:
        stats["m_u"] = m_u
    splink_model._log("clusters and figures")
    report(1.0, "Done")
    return LinkResult(links=links, clusters=clusters, borderline=borderline, stats=stats)


# Preparation -------------------------------------------------------------------------------


def _check_sources(sources: Sequence[Source]) -> list[str]:
    names = [s.name for s in sources]
    if len(sources) < 2:
        raise ValueError("Linkage needs at least two sources.")
    if len(set(names)) != len(names):
        raise ValueError("Each source in a linkage job needs a different name.")
    for s in sources:
        if "record_id" not in s.frame.columns:
            raise ValueError(f"The source {s.name!r} has no record_id column.")
        ids = s.frame.get_column("record_id")
        if ids.null_count():
            raise ValueError(f"The source {s.name!r} has records without a record_id.")
        if ids.n_unique() != ids.len():
            raise ValueError(f"The source {s.name!r} has the same record_id more than once.")
    return names


def _prepare(sources: Sequence[Source], model: LinkModel, *, keyed: bool) -> pl.DataFrame:
    """All records in one frame: uid (row number), src (source index), standardised values."""
    wanted = COLUMNS[model.entity]
    parts = []
    for i, s in enumerate(sources):
        frame = s.frame
        cols: list[pl.Expr] = []
        for name in wanted:
            if name not in frame.columns:
                cols.append(
                    pl.lit(None, dtype=pl.Date if name == "date_of_birth" else pl.String).alias(
                        name
                    )
                )
            elif name == "date_of_birth":
                dtype = frame.schema[name]
                col = pl.col(name)
                if dtype == pl.String:
                    col = col.str.to_date(strict=False)
                elif dtype != pl.Date:
                    col = col.cast(pl.Date, strict=False)
                cols.append(col.alias(name))
            else:
                cols.append(pl.col(name).cast(pl.String).alias(name))
        parts.append(frame.select(cols).with_columns(src=pl.lit(i, dtype=pl.Int32)))
    raw = pl.concat(parts).with_row_index("uid").with_columns(pl.col("uid").cast(pl.Int64))

    def keep(key: str, clean: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        if keyed and key in model.exact_keys:
            value = pl.col(key).str.strip_chars()
            return pl.when(value.str.len_bytes() > 0).then(value).alias(key)
        return clean(pl.col(key)).alias(key)

    if model.entity == "person":
        first_given = normalise_name(pl.col("given_name")).str.split(" ").list.first()
        prepared = raw.with_columns(
            keep("nhs_number", normalise_nhs_number),
            keep("uprn", normalise_uprn),
            normalise_name(pl.col("given_name")).alias("given_name"),
            first_given.replace(CANONICAL).alias("given_canon"),
            normalise_name(pl.col("family_name")).alias("family_name"),
            normalise_sex(pl.col("sex")).alias("sex"),
            normalise_address(pl.col("address")).alias("address"),
            normalise_postcode(pl.col("postcode")).alias("postcode"),
        )
    else:
        prepared = raw.with_columns(
            keep("uprn", normalise_uprn),
            normalise_address(pl.col("address")).alias("address"),
            normalise_postcode(pl.col("postcode")).alias("postcode"),
        )
    return prepared


def _splink_frame(records: pl.DataFrame) -> pl.DataFrame:
    """The columns Splink compares and blocks on, for some records."""
    cols = set(records.columns)
    extra: list[pl.Expr] = []
    given_initial = pl.col("given_canon").str.slice(0, 1)
    family_initial = pl.col("family_name").str.slice(0, 1)
    if "given_canon" in cols:
        extra.append(given_initial.alias("given_initial"))
    if "family_name" in cols:
        extra.append(family_initial.alias("family_initial"))
        extra.append(pl.col("family_name").str.slice(0, 3).alias("family_prefix"))
    if "date_of_birth" in cols:
        dob = pl.col("date_of_birth")
        extra.append(dob.dt.year().cast(pl.Int32).alias("birth_year"))
        extra.append((dob.dt.year() // 10).cast(pl.Int32).alias("birth_decade"))
        # Month and day as one number: the birthday without the year (year typed wrong).
        extra.append((dob.dt.month() * 100 + dob.dt.day()).cast(pl.Int16).alias("birthday"))
    if "given_canon" in cols and "family_name" in cols:
        # The two names, and the two initials, in alphabetical order: blocking keys that
        # survive given and family names swapped.
        names = [pl.col("given_canon"), pl.col("family_name")]
        extra.append(pl.min_horizontal(names).alias("name_low"))
        extra.append(pl.max_horizontal(names).alias("name_high"))
        initials = [given_initial, family_initial]
        extra.append(
            pl.concat_str(pl.min_horizontal(initials), pl.max_horizontal(initials)).alias(
                "initials"
            )
        )
    if "address" in cols:
        extra.append(
            pl.col("address")
            .str.extract_all(r"[0-9]+[A-Z]?")
            .list.join(" ")
            .alias("address_numbers")
        )
    if "postcode" in cols:
        # Sector and district of a UK postcode (null for others, which compare only whole).
        extra.append(pl.col("postcode").str.extract(r"^(\S+ [0-9])", 1).alias("postcode_sector"))
        extra.append(pl.col("postcode").str.extract(r"^(\S+) ", 1).alias("postcode_district"))
    # Columns no record has are left out, so comparisons and blockings on them drop away (and
    # the helpers made from them; a helper of a column some records have stays, even if empty).
    empty = {
        c
        for c in records.columns
        if c not in ("uid", "record_id", "comp")
        and records.get_column(c).null_count() == records.height
    }
    frame = records.drop("record_id", "comp", *empty, strict=False).with_columns(
        e for e in extra if not (set(e.meta.root_names()) & empty)
    )
    return frame.rename({"uid": "unique_id"})


def _decisions(
    clerical: Sequence[ClericalDecision], records: pl.DataFrame, names: list[str]
) -> pl.DataFrame:
    """Clerical decisions as uid pairs (uid_l < uid_r); decisions on unknown records dropped."""
    schema = {"uid_l": pl.Int64, "uid_r": pl.Int64, "is_match": pl.Boolean}
    if not clerical:
        return pl.DataFrame(schema=schema)
    index = {name: i for i, name in enumerate(names)}
    raw = pl.DataFrame(
        {
            "src_a": [index.get(d.source_l, -1) for d in clerical],
            "rec_a": [str(d.record_l) for d in clerical],
            "src_b": [index.get(d.source_r, -1) for d in clerical],
            "rec_b": [str(d.record_r) for d in clerical],
            "is_match": [bool(d.is_match) for d in clerical],
        },
        schema_overrides={"src_a": pl.Int32, "src_b": pl.Int32},
    )
    lookup = records.select("uid", "src", "record_id")
    joined = raw.join(
        lookup.rename({"uid": "a", "src": "src_a", "record_id": "rec_a"}), on=["src_a", "rec_a"]
    ).join(lookup.rename({"uid": "b", "src": "src_b", "record_id": "rec_b"}), on=["src_b", "rec_b"])
    # The latest decision on a pair stands.
    return (
        joined.with_row_index("order")
        .select(
            pl.min_horizontal("a", "b").alias("uid_l"),
            pl.max_horizontal("a", "b").alias("uid_r"),
            "is_match",
            "order",
        )
        .filter(pl.col("uid_l") != pl.col("uid_r"))
        .sort("order")
        .unique(_PAIR, keep="last")
        .drop("order")
        .cast(schema)  # type: ignore[arg-type]
    )


# Stages ------------------------------------------------------------------------------------


def _exact_pairs(records: pl.DataFrame, key: str) -> pl.DataFrame:
    """Each record sharing a key value with an earlier one, paired with the first of them."""
    keyed = records.select("uid", key).drop_nulls(key)
    return (
        keyed.with_columns(first=pl.col("uid").min().over(key))
        .filter(pl.col("uid") != pl.col("first"))
        .select(pl.col("first").alias("uid_l"), pl.col("uid").alias("uid_r"))
    )


def _orient(pairs: pl.DataFrame) -> pl.DataFrame:
    return pairs.select(
        pl.min_horizontal("uid_l", "uid_r").alias("uid_l"),
        pl.max_horizontal("uid_l", "uid_r").alias("uid_r"),
        "probability",
        "contradicts",
        "conflicts",
    ).unique(_PAIR)


def _one_to_one(pairs: pl.DataFrame) -> pl.DataFrame:
    """At most one pair per record and other source, greedily by descending probability.

    Pinned pairs go first. Each round accepts every pair that is the best remaining for both
    its records (towards each other's source) and removes the pairs those records were in;
    this is the greedy result, found a round of column operations at a time.
    """
    remaining = pairs.sort(
        ["pinned", "probability", "uid_l", "uid_r"], descending=[True, True, False, False]
    ).with_row_index("order")
    accepted = []
    while remaining.height:
        best = remaining.filter(
            (pl.col("order") == pl.col("order").min().over("uid_l", "src_r"))
            & (pl.col("order") == pl.col("order").min().over("uid_r", "src_l"))
        )
        accepted.append(best)
        remaining = remaining.join(
            best.select("uid_l", "src_r"), on=["uid_l", "src_r"], how="anti"
        ).join(best.select("uid_r", "src_l"), on=["uid_r", "src_l"], how="anti")
    if not accepted:
        return pairs.head(0)
    return pl.concat(accepted).drop("order")


def _components(n: int, edges: pl.DataFrame) -> pl.Series:
    """Connected components of nodes 0..n-1: each node's label is its component's least node."""
    label = pl.Series("label", range(n), dtype=pl.Int64)
    if not edges.height:
        return label
    left = edges.get_column("uid_l")
    right = edges.get_column("uid_r")
    while True:
        lab_l = label.gather(left)
        lab_r = label.gather(right)
        low = pl.Series(pl.select(pl.min_horizontal(lab_l, lab_r)).to_series())
        hooks = (
            pl.DataFrame({"node": pl.concat([lab_l, lab_r]), "to": pl.concat([low, low])})
            .group_by("node")
            .agg(pl.col("to").min())
        )
        nodes = hooks.get_column("node")
        new = label.clone()
        new.scatter(
            nodes, pl.select(pl.min_horizontal(label.gather(nodes), hooks["to"])).to_series()
        )
        while True:  # pointer jumping: every node straight to its root
            jumped = new.gather(new)
            if jumped.equals(new):
                break
            new = jumped
        if new.equals(label):
            return label
        label = new


# Results -----------------------------------------------------------------------------------


def _named(pairs: pl.DataFrame, records: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """uid pairs with source names and record ids in place of uids."""
    lookup = records.select(
        "uid",
        pl.col("src")
        .replace_strict(list(range(len(names))), names, return_dtype=pl.String)
        .alias("source"),
        "record_id",
    )
    rest = [c for c in pairs.columns if c not in _PAIR]
    return (
        pairs.join(
            lookup.rename({"uid": "uid_l", "source": "source_l", "record_id": "record_l"}),
            on="uid_l",
        )
        .join(
            lookup.rename({"uid": "uid_r", "source": "source_r", "record_id": "record_r"}),
            on="uid_r",
        )
        .select("source_l", "record_l", "source_r", "record_r", *rest)
    )


def _clusters(
    records: pl.DataFrame, links: pl.DataFrame, entity: pl.Series, names: list[str]
) -> pl.DataFrame:
    rank = {s: i for i, s in enumerate(STAGES)}
    ends = pl.concat(
        [
            links.select(pl.col("uid_l").alias("uid"), "stage", "probability"),
            links.select(pl.col("uid_r").alias("uid"), "stage", "probability"),
        ]
    ).with_columns(rank=pl.col("stage").replace_strict(rank, return_dtype=pl.Int8))
    best = ends.group_by("uid").agg(
        pl.col("stage").sort_by("rank").first(), pl.col("probability").max()
    )
    entity_number = entity.rank("dense").cast(pl.Int64)
    return (
        records.select(
            "uid",
            pl.col("src")
            .replace_strict(list(range(len(names))), names, return_dtype=pl.String)
            .alias("source"),
            "record_id",
        )
        .with_columns(entity_id=pl.format("e-{}", entity_number.cast(pl.String).str.zfill(6)))
        .join(best, on="uid", how="left")
        .with_columns(pl.col("stage").fill_null("unmatched"))
        .sort("uid")
        .select("source", "record_id", "entity_id", "stage", pl.col("probability").cast(pl.Float64))
    )


def _borderline(
    band: pl.DataFrame, records: pl.DataFrame, names: list[str], model: LinkModel
) -> pl.DataFrame:
    keys = [k for k in model.enabled_keys if k in records.columns]
    values = records.select("uid", *keys)
    shown = (
        band.select(*_PAIR, "probability")
        .join(
            values.rename({k: f"{k}_l" for k in ["uid", *keys]}), left_on="uid_l", right_on="uid_l"
        )
        .join(
            values.rename({k: f"{k}_r" for k in ["uid", *keys]}), left_on="uid_r", right_on="uid_r"
        )
    )
    per_key = [c for k in keys for c in (f"{k}_l", f"{k}_r")]
    return (
        _named(shown, records, names)
        .sort("probability", descending=True)
        .select("source_l", "record_l", "source_r", "record_r", "probability", *per_key)
    )


def _stats(
    *,
    records: pl.DataFrame,
    names: list[str],
    links_uid: pl.DataFrame,
    scored: pl.DataFrame,
    unaccepted: pl.DataFrame,
    clusters: pl.DataFrame,
    decisions: pl.DataFrame,
) -> dict[str, Any]:
    counts = records.group_by("src").agg(pl.len()).sort("src")
    per_source = {names[s]: int(n) for s, n in counts.iter_rows()}
    stage_counts = dict.fromkeys(STAGES, 0)
    for stage, n in links_uid.group_by("stage").agg(pl.len()).iter_rows():
        stage_counts[stage] = int(n)
    bins = (
        scored.select(pl.col("probability").mul(10).floor().clip(0, 9).cast(pl.Int32).alias("bin"))
        .group_by("bin")
        .agg(pl.len())
    )
    by_bin = {int(b): int(n) for b, n in bins.iter_rows()}
    histogram = [
        {"from": round(b / 10, 1), "to": round((b + 1) / 10, 1), "pairs": by_bin.get(b, 0)}
        for b in range(10)
    ]
    accepted = links_uid.get_column("probability")
    precision = float(accepted.mean()) if accepted.len() else None  # type: ignore[arg-type]
    accepted_sum = float(accepted.sum())
    total = accepted_sum + float(unaccepted.get_column("probability").sum())
    recall = accepted_sum / total if total > 0 else None
    reviewed = decisions.height
    confirmed = int(decisions.get_column("is_match").sum()) if reviewed else 0
    return {
        "records": per_source,
        "stages": stage_counts,
        "entities": int(clusters.get_column("entity_id").n_unique()),
        "matched_records": int((clusters.get_column("stage") != "unmatched").sum()),
        "histogram": histogram,
        "estimated_precision": precision,
        "estimated_recall": recall,
        "clerical": {
            "reviewed": reviewed,
            "confirmed": confirmed,
            "rejected": reviewed - confirmed,
            "precision": confirmed / reviewed if reviewed else None,
        },
    }
