"""The linkage engine on small hand-made frames (no Django)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from accord.linkage.engine import (
    PERSON_COLUMNS,
    ClericalDecision,
    LinkModel,
    Source,
    link,
    template,
)

GIVEN = [
    "OLIVER",
    "GEORGE",
    "HARRY",
    "JACK",
    "JACOB",
    "NOAH",
    "CHARLIE",
    "MUHAMMAD",
    "THOMAS",
    "OSCAR",
    "AMELIA",
    "OLIVIA",
    "ISLA",
    "EMILY",
    "POPPY",
    "AVA",
    "ISABELLA",
    "JESSICA",
    "LILY",
    "SOPHIE",
]
FAMILY = [
    "SMITH",
    "JONES",
    "TAYLOR",
    "BROWN",
    "WILLIAMS",
    "WILSON",
    "JOHNSON",
    "DAVIES",
    "PATEL",
    "WRIGHT",
    "ROBINSON",
    "THOMPSON",
    "EVANS",
    "WALKER",
    "WHITE",
    "ROBERTS",
    "GREEN",
    "HALL",
    "WOOD",
    "JACKSON",
]
STREETS = ["HIGH STREET", "MILL LANE", "CHURCH ROAD", "PARK AVENUE", "STATION ROAD"]


def nhs(seed: int) -> str:
    """A valid NHS number made from ``seed``."""
    while True:
        first9 = f"{900000000 + seed * 7919 % 99999999:09d}"
        check = 11 - sum(int(d) * w for d, w in zip(first9, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return first9 + str(check)
        seed += 100003


def people(n: int = 400) -> pl.DataFrame:
    rows = []
    for i in range(n):
        rows.append(
            {
                "record_id": f"p{i}",
                "nhs_number": None,
                "uprn": None,
                "given_name": GIVEN[i % 20],
                "family_name": FAMILY[(i // 20) % 20],
                "date_of_birth": date(1940, 1, 1) + timedelta(days=i * 53),
                "sex": "M" if i % 20 < 10 else "F",
                "address": f"{i % 90 + 1} {STREETS[i % 5]}, TOWN{i % 7}",
                "postcode": f"ME{i % 20 + 1} {i % 9 + 1}"
                + "ABDEFGHJLN"[i % 10]
                + "PQRSTUWXYZ"[i // 10 % 10],
            }
        )
    return pl.DataFrame(
        rows, schema={c: (pl.Date if c == "date_of_birth" else pl.String) for c in PERSON_COLUMNS}
    )


def row(frame: pl.DataFrame, person: str, **changes) -> pl.DataFrame:
    return frame.filter(pl.col("record_id") == person).with_columns(
        *(pl.lit(v, dtype=frame.schema[k]).alias(k) for k, v in changes.items())
    )


def entity(result, source: str, record_id: str) -> str:
    c = result.clusters
    return c.filter((pl.col("source") == source) & (pl.col("record_id") == record_id))[
        "entity_id"
    ].item()


def linked(result, a: tuple[str, str], b: tuple[str, str]) -> bool:
    return entity(result, *a) == entity(result, *b)


@pytest.fixture(scope="module")
def person_run():
    base = people()
    # Left: the population, plus cases with identifiers.
    left = pl.concat(
        [
            base.filter(~pl.col("record_id").is_in(["p0", "p1", "p2", "p3", "p4", "p5"])),
            row(base, "p0", record_id="exact-l", nhs_number=nhs(1)),
            row(base, "p1", record_id="badnhs-l", nhs_number="9434765918"),
            row(base, "p2", record_id="nick-l", given_name="ROBERT", family_name="ASHWORTH"),
            row(base, "p3", record_id="typo-l", family_name="WHITTINGTON", given_name="MARGARET"),
            row(base, "p4", record_id="swap-l", date_of_birth=date(1975, 3, 11)),
            row(base, "p5", record_id="solo-l", given_name="ZEBEDEE", family_name="QUIXOTE"),
        ]
    )
    # Right: the same people with record ids r..., and the corrupted copies.
    right = pl.concat(
        [
            base.filter(
                ~pl.col("record_id").is_in(["p0", "p1", "p2", "p3", "p4", "p5"])
            ).with_columns(record_id=pl.lit("r") + pl.col("record_id")),
            # Same NHS number, nothing else in common: the exact pass links it.
            row(
                base,
                "p0",
                record_id="exact-r",
                nhs_number=nhs(1),
                given_name="X",
                family_name="Y",
                date_of_birth=date(2001, 1, 1),
                address=None,
                postcode=None,
            ),
            # Same (invalid) NHS number, a different person: must not link.
            row(
                base,
                "p7",
                record_id="badnhs-r",
                nhs_number="9434765918",
                given_name="WINIFRED",
                family_name="BOTTOMLEY",
                date_of_birth=date(1931, 5, 5),
                address="99 NOWHERE CLOSE",
                postcode="TN1 1AA",
            ),
            row(base, "p2", record_id="nick-r", given_name="BOB", family_name="ASHWORTH"),
            row(base, "p3", record_id="typo-r", family_name="WHITINGTON", given_name="MARGRET"),
            row(base, "p4", record_id="swap-r", date_of_birth=date(1975, 11, 3)),
        ]
    )
    calls: list[tuple[float, str]] = []
    result = link(
        [Source("left", left), Source("right", right)],
        template("person"),
        progress=lambda f, m: calls.append((f, m)),
    )
    return result, calls


def test_exact_pass_links_on_nhs_number(person_run):
    result, _ = person_run
    links = result.links.filter(pl.col("record_l") == "exact-l")
    assert links.select("record_r", "stage", "probability").rows() == [("exact-r", "exact", 1.0)]
    assert result.clusters.filter(pl.col("record_id") == "exact-l")["stage"].item() == "exact"


def test_invalid_check_digit_skips_the_exact_pass(person_run):
    result, _ = person_run
    assert not linked(result, ("left", "badnhs-l"), ("right", "badnhs-r"))
    assert result.links.filter(pl.col("record_l") == "badnhs-l")["stage"].to_list() != ["exact"]


@pytest.mark.parametrize("case", ["nick", "typo", "swap"])
def test_nickname_typo_and_transposed_date_match(person_run, case):
    result, _ = person_run
    assert linked(result, ("left", f"{case}-l"), ("right", f"{case}-r"))
    stage = result.clusters.filter(pl.col("record_id") == f"{case}-l")["stage"].item()
    assert stage == "probabilistic"


def test_most_of_the_population_links_and_unique_records_stay_alone(person_run):
    result, _ = person_run
    c = result.clusters
    assert c.filter(pl.col("record_id") == "solo-l")["stage"].item() == "unmatched"
    assert result.stats["matched_records"] >= 0.95 * c.height
    assert result.stats["entities"] == c["entity_id"].n_unique()
    assert c["entity_id"].str.contains(r"^e-\d{6}$").all()


def test_stats_are_json_and_complete(person_run):
    import json

    result, _ = person_run
    stats = json.loads(json.dumps(result.stats))
    assert stats["records"] == {"left": 400, "right": 399}
    assert set(stats["stages"]) == {"exact", "probabilistic", "clerical"}
    assert len(stats["histogram"]) == 10
    assert 0.9 <= stats["estimated_precision"] <= 1.0
    assert 0.0 < stats["estimated_recall"] <= 1.0


def test_progress_is_reported_in_plain_english(person_run):
    _, calls = person_run
    messages = [m for _, m in calls]
    for expected in (
        "Exact pass on NHS number",
        "Training the model",
        "Scoring candidate pairs",
        "Resolving one-to-one",
        "Clustering",
    ):
        assert expected in messages
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0


def test_one_to_one_and_clerical(person_run):
    base = people()
    left = base
    # Two right records equally like left p10: only one may link to it.
    right = pl.concat(
        [
            base.with_columns(record_id=pl.lit("r") + pl.col("record_id")),
            row(base, "p10", record_id="twin", sex="F"),
        ]
    )
    model = template("person")
    result = link([Source("left", left), Source("right", right)], model)
    cross = result.links.filter((pl.col("source_l") == "left") & (pl.col("record_l") == "p10"))
    assert cross.filter(pl.col("source_r") == "right").height == 1
    assert not model.with_changes(one_to_one=False).one_to_one

    # Clerical: reject a good pair, confirm a poor one.
    decisions = [
        ClericalDecision("left", "p20", "right", "rp20", is_match=False),
        ClericalDecision("left", "p21", "right", "rp300", is_match=True),
    ]
    result = link([Source("left", left), Source("right", right)], model, clerical=decisions)
    pairs = set(result.links.select("record_l", "record_r").rows())
    assert ("p20", "rp20") not in pairs
    assert not linked(result, ("left", "p20"), ("right", "rp20"))
    clerical = result.links.filter(pl.col("stage") == "clerical")
    assert clerical.select("record_l", "record_r", "probability").rows() == [("p21", "rp300", 1.0)]
    assert result.stats["clerical"] == {
        "reviewed": 2,
        "confirmed": 1,
        "rejected": 1,
        "precision": 0.5,
    }
    assert result.borderline.filter(pl.col("record_l").is_in(["p20", "p21"])).is_empty()


def test_three_sources_cluster_into_one_entity():
    base = people(300)
    a = base.with_columns(nhs_number=pl.when(pl.col("record_id") == "p5").then(pl.lit(nhs(5))))
    b = base.with_columns(
        record_id=pl.lit("b") + pl.col("record_id"),
        nhs_number=pl.when(pl.col("record_id") == "p5").then(pl.lit(nhs(5))),
    )
    c = base.with_columns(record_id=pl.lit("c") + pl.col("record_id"))
    result = link([Source("a", a), Source("b", b), Source("c", c)], template("person"))
    assert linked(result, ("a", "p5"), ("b", "bp5"))
    assert linked(result, ("a", "p5"), ("c", "cp5"))
    assert not linked(result, ("a", "p5"), ("c", "cp6"))
    sizes = result.clusters.group_by("entity_id").len()["len"]
    assert (sizes == 3).mean() > 0.95
    assert result.stats["records"] == {"a": 300, "b": 300, "c": 300}


def test_keyed_mode_runs_only_the_exact_pass():
    left = pl.DataFrame({"record_id": ["1", "2", "3"], "nhs_number": ["ab12", "cd34", None]})
    right = pl.DataFrame({"record_id": ["x", "y"], "nhs_number": ["cd34", "ef56"]})
    calls: list[str] = []
    result = link(
        [Source("a", left), Source("b", right)],
        template("person"),
        keyed=True,
        progress=lambda f, m: calls.append(m),
    )
    assert result.links.select("record_l", "record_r", "stage").rows() == [("2", "x", "exact")]
    assert result.borderline.is_empty()
    assert "Training the model" not in calls
    assert result.clusters.filter(pl.col("stage") == "unmatched").height == 3


def test_property_links_on_uprn_then_address():
    n = 300
    streets = ["HIGH STREET", "MILL LANE", "CHURCH ROAD"]
    rows = [
        {
            "record_id": f"h{i}",
            "uprn": str(10_000_000 + i) if i % 2 else None,
            "address": f"FLAT {i % 4 + 1}, {i // 4 + 1} {streets[i % 3]}, KENTON",
            "postcode": f"CT{i % 9 + 1} {i % 7 + 1}AB",
        }
        for i in range(n)
    ]
    left = pl.DataFrame(rows)
    right = left.with_columns(
        record_id=pl.lit("r") + pl.col("record_id"),
        address=pl.col("address").str.replace("STREET", "ST").str.replace("ROAD", "RD"),
        uprn=pl.when(pl.col("record_id") == "h1").then(pl.lit("000010000001")).otherwise("uprn"),
    )
    result = link([Source("l", left), Source("r", right)], template("property"))
    assert result.links.filter(pl.col("record_l") == "h1")["stage"].to_list() == ["exact"]
    assert linked(result, ("l", "h2"), ("r", "rh2"))  # no UPRN: address and postcode
    assert not linked(result, ("l", "h2"), ("r", "rh6"))  # another flat
    assert (result.clusters.group_by("entity_id").len()["len"] == 2).mean() > 0.9


def test_model_json_round_trip_and_plain_english_errors():
    model = template("person").with_changes(disabled=["sex"], match_threshold=0.95)
    again = LinkModel.from_json(model.to_json())
    assert again == model
    assert not next(c for c in again.comparisons if c.key == "sex").enabled
    assert template("property").exact_keys == ("uprn",)
    bad = [
        ({"entity": "car"}, "entity must be one of"),
        ({**model.to_json(), "match_threshold": 1.5}, "between 0 and 1"),
        ({**model.to_json(), "review_from": 0.99}, "review band"),
        ({**model.to_json(), "comparisons": [{"key": "shoe_size"}]}, "cannot compare"),
        ({**model.to_json(), "exact_keys": ["given_name"]}, "exact keys"),
        ("nonsense", "JSON object"),
    ]
    for data, message in bad:
        with pytest.raises(ValueError, match=message):
            LinkModel.from_json(data)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no comparison"):
        model.with_changes(disabled=["shoe_size"])


def test_bad_sources_are_refused():
    frame = people(5)
    with pytest.raises(ValueError, match="at least two"):
        link([Source("a", frame)], template("person"))
    with pytest.raises(ValueError, match="different name"):
        link([Source("a", frame), Source("a", frame)], template("person"))
    with pytest.raises(ValueError, match="more than once"):
        link([Source("a", pl.concat([frame, frame])), Source("b", frame)], template("person"))


@pytest.fixture(scope="module")
def household_run():
    """The population of ``people`` with households added: each household of two shares a
    family name, address, postcode and UPRN, with different given names and birth dates. The
    right file has its own corruptions: names swapped with a typo, a move of house, a
    double-barrelled family name."""
    base = people()
    homes = []
    for i in range(20):
        family = f"HOUSEHOLD{chr(65 + i)}"
        for j, given in enumerate(("MARGARET", "HAROLD")):
            homes.append(
                {
                    "record_id": f"h{i}-{j}",
                    "nhs_number": None,
                    "uprn": str(100_000_000 + i),
                    "given_name": given,
                    "family_name": family,
                    "date_of_birth": date(1950 + i, 1 + j * 5, 3 + j * 11),
                    "sex": "FM"[j],
                    "address": f"{i + 1} ORCHARD WAY, KENTON",
                    "postcode": f"CT{i % 9 + 1} {i % 7 + 1}QX",
                }
            )
    left = pl.concat([base, pl.DataFrame(homes, schema=base.schema)])
    right = left.with_columns(record_id=pl.lit("r") + pl.col("record_id"))
    right = pl.concat(
        [
            right.filter(~pl.col("record_id").is_in(["rp30", "rp31", "rp32"])),
            # Given and family names the wrong way round, one with a typo.
            row(right, "rp30", given_name=FAMILY[1] + "E", family_name=GIVEN[10]),
            # Moved house: a new address and postcode.
            row(right, "rp31", address="7 NEW ROAD, ELSEWHERE", postcode="ZZ9 9ZZ"),
            # Married: a double-barrelled family name.
            row(right, "rp32", family_name=FAMILY[1] + "-SMYTHE"),
        ]
    )
    return link([Source("left", left), Source("right", right)], template("person"))


def test_people_of_one_household_stay_apart(household_run):
    result = household_run
    for i in range(20):
        for j in range(2):
            assert linked(result, ("left", f"h{i}-{j}"), ("right", f"rh{i}-{j}"))
        assert not linked(result, ("left", f"h{i}-0"), ("left", f"h{i}-1"))
        assert not linked(result, ("left", f"h{i}-0"), ("right", f"rh{i}-1"))


@pytest.mark.parametrize("record", ["p30", "p31", "p32"])
def test_swapped_names_a_move_and_a_new_family_name_still_link(household_run, record):
    assert linked(household_run, ("left", record), ("right", f"r{record}"))


def test_postcodes_of_other_countries_still_compare_and_block():
    """Australian postcodes (four digits) are kept; with no date of birth on the right and a
    family name typo, only the postcode brings the pairs together."""
    base = people(200).with_columns(
        postcode=(pl.int_range(pl.len()) * 37 % 9000 + 1000).cast(pl.String),
        address=pl.lit(None, dtype=pl.String),
        sex=pl.lit(None, dtype=pl.String),
    )
    right = base.with_columns(
        record_id=pl.lit("r") + pl.col("record_id"),
        family_name=pl.col("family_name") + "X",
        date_of_birth=pl.lit(None, dtype=pl.Date),
    )
    result = link([Source("l", base), Source("r", right)], template("person"))
    found = sum(linked(result, ("l", f"p{i}"), ("r", f"rp{i}")) for i in range(200))
    assert found >= 190
