"""Synthetic people and households for the record-linkage benchmark: two files and the truth.

    .venv/bin/python bench/linkage_data.py --n 100000 [--seed 1]

``generate(n, seed=...)`` returns ``(left, right, truth)``: two files of about ``n`` records each
describing overlapping populations, and every true cross-file pair. Columns of both files:

    record_id       "L0000001" / "R0000001", unique per file, never null
    nhs_number      10 digits, synthetic 999 range (998, 997... for large n), mod-11 check digit
    uprn            12-digit synthetic string
    given_name, family_name, sex ("M"/"F"), date_of_birth (pl.Date)
    address         one line: "12 ACACIA AVENUE, FLAT 2, MAIDSTONE"
    address_line_1, address_line_2 (FLAT n or null), town, postcode ("ME14 2AB")

truth has ``record_l`` and ``record_r``: each left record of a person paired with each right
record of the same person (duplicates within a file give one person several pairs).

How the population is made (all rates are expectations, drawn by a numpy RNG seeded by ``seed``):

- about n / 1.03 people per file; 70% of them appear in both files, the rest in one only, so
  about 70% of each file's records have a true match in the other;
- about 10% of people live in households of 2-5 sharing family name, address, postcode and
  UPRN, with distinct given names and birth dates (partners of similar age, children 18-40
  years younger, twins now and then); everyone else lives alone;
- about 6% of people (whole households) have moved: the right file has their new address;
- 25% of records in each file, drawn independently, lack identifiers (null NHS number and UPRN);
- about 3% of each file's people are recorded twice (a few three times), the copy with one
  corruption more;
- the right file: 88% of records carry 1-4 corruptions (name typos of four kinds with keyboard
  neighbours, nicknames, given/family swapped, a changed or double-barrelled family name,
  day/month transposed, year off by one, a digit typo in the date, ROAD -> RD style
  abbreviations, the flat dropped, house number typos, a wrong postcode character, a postcode
  without its space, a missing field, the sex flipped) and 1% of NHS numbers are mistyped (one
  digit changed, so the check digit fails; mod 11 catches every single-digit error);
- the left file: 10% of records carry one or two of the same corruptions (real data is never
  clean), with no NHS-number typos.

Name frequencies (bench/data/, see the header of each CSV):

- surnames: Faker's en_GB list (MIT licence): the 500 most common surnames in Great Britain with
  their population shares (Smith 1.15%, Jones 0.94%, ...), 39.5% of people in all. The other
  60.5% get rare surnames from a tail of ~2,000 made-up English surnames (Ash+worth, ...) with
  equal shares (0.03% each, as the rarest of the 500);
- given names: Faker's en_GB lists (MIT licence; ONS, England and Wales), the 182 most common
  male and female forenames in rank order. Faker ships ranks, not counts, so each name is
  weighted by Zipf's law, rank ** -0.6 (the most common name ~5.5% of its sex, the 182nd ~0.25%);
- nicknames: bench/data/nicknames.csv, ~180 hand-compiled name/nickname pairs;
- towns and postcode districts: real Kent and south-east London post towns and outward codes
  (bench/data/towns.csv); street names from bench/data/streets.csv; inward codes are made up.

NHS numbers are unique per person. The 999 range (999 000 0000 - 999 999 9999) holds only ~909k
valid numbers, fewer than the 1.26M people of a 1M x 1M run, so above 905k people (n of about
740k) the range grows downwards in blocks of a million (998..., 997...): every number starting
with 9 is reserved for test data (shared/reference/identifiers-and-codes.md 2.1). UPRNs have no
test range: these are random 12-digit numbers, synthetic, never to be joined to AddressBase.

Everything is vectorised with numpy and Polars: no Python loop runs per record. 1M x 1M takes
about 7 s and 1.1 GB peak RSS on a quiet 2-core machine (up to ~17 s under load).
"""

from __future__ import annotations

import argparse
import functools
import math
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(__file__).resolve().parent / "data"

MATCH_RATE = 0.70  # share of each file's people who are also in the other file
DUPLICATE_RATE = 0.03  # share of a file's people recorded twice (a tenth of those three times)
HOUSEHOLD_SHARE = 0.10  # share of people living with others of the same family name
MOVER_RATE = 0.06  # share of households at a new address in the right file
NO_IDENTIFIER_RATE = 0.25  # share of records with neither NHS number nor UPRN
NHS_TYPO_RATE = 0.01  # share of the right file's NHS numbers with one digit wrong
GIVEN_NAME_ZIPF = 0.6
REFERENCE_DAY = 19723  # 2024-01-01, days since 1970-01-01: ages are counted back from it

# Number of corruptions per record: P(0), P(1), ...
RIGHT_CORRUPTIONS = (0.12, 0.38, 0.28, 0.15, 0.07)
LEFT_CORRUPTIONS = (0.90, 0.09, 0.01)

# Kinds of corruption and their relative weights (a record's kinds are distinct).
KINDS = (
    ("given_typo", 14.0),
    ("family_typo", 12.0),
    ("nickname", 7.0),
    ("name_swap", 1.5),
    ("family_change", 1.5),
    ("dob_swap", 6.0),
    ("dob_year", 4.0),
    ("dob_digit", 5.0),
    ("address_abbreviation", 6.0),
    ("address_flat", 3.0),
    ("address_number", 4.0),
    ("postcode_character", 7.0),
    ("postcode_space", 5.0),
    ("missing", 8.0),
    ("sex_flip", 0.5),
)
KIND = {name: i for i, (name, _) in enumerate(KINDS)}

# Street suffixes: full form, abbreviation, relative weight.
SUFFIXES = (
    ("ROAD", "RD", 40),
    ("STREET", "ST", 15),
    ("AVENUE", "AVE", 10),
    ("LANE", "LN", 8),
    ("CLOSE", "CL", 8),
    ("DRIVE", "DR", 5),
    ("GARDENS", "GDNS", 4),
    ("CRESCENT", "CRES", 3),
    ("GROVE", "GR", 2),
    ("PLACE", "PL", 2),
    ("TERRACE", "TER", 2),
    ("WAY", "WAY", 1),
)
# Letters allowed in the unit part of an inward code (no C, I, K, M, O, V).
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Made-up English surnames for the long tail: prefix + suffix, dropped where the 500 have them.
TAIL_PREFIXES = (
    "Ash", "Bar", "Black", "Brad", "Brom", "Brook", "Cal", "Carl", "Chad", "Chil", "Cot", "Cran",
    "Dal", "Dar", "Ed", "Eld", "Fair", "Fen", "Gold", "Green", "Hal", "Ham", "Hart", "Hol",
    "Horn", "Kings", "Kirk", "Lang", "Lin", "Mar", "Mid", "Mill", "Nor", "Oak", "Pem", "Pen",
    "Rad", "Red", "Rod", "Rush", "Sel", "Shel", "Stan", "Staf", "Stan", "Stock", "Sut", "Thorn",
    "Thurl", "Tod", "Wal", "War", "Wes", "Whit", "Wick", "Wil", "Win", "Wood", "Wor", "Yar",
    "Ald", "Bly", "Crom", "Dun", "Elm", "Fox", "Glad", "Hay", "Ing", "Kel",
)  # fmt: skip
TAIL_SUFFIXES = (
    "ley", "ton", "field", "worth", "by", "ham", "wood", "bury", "ford", "well", "ridge",
    "combe", "den", "stead", "more", "wick", "cott", "hurst", "land", "brook", "shaw", "thorpe",
    "dale", "holm", "stone", "wright", "man", "ing", "son", "gate",
)  # fmt: skip

# Keyboard neighbours (UK QWERTY), for substitution and insertion typos.
NEIGHBOURS = {
    "q": "wa", "w": "qeas", "e": "wrds", "r": "etdf", "t": "ryfg", "y": "tugh", "u": "yihj",
    "i": "uojk", "o": "ipkl", "p": "ol", "a": "qwsz", "s": "awedxz", "d": "serfcx",
    "f": "drtgvc", "g": "ftyhbv", "h": "gyujnb", "j": "huikmn", "k": "jiolm", "l": "kop",
    "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip

COLUMNS = (
    "record_id",
    "nhs_number",
    "uprn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "address",
    "address_line_1",
    "address_line_2",
    "town",
    "postcode",
)
SCHEMA = {
    name: (pl.Date if name == "date_of_birth" else pl.String) for name in COLUMNS
}  # the schema of left and right


@dataclass(frozen=True)
class _Tables:
    given: list[str]
    male: np.ndarray  # indices into given
    male_p: np.ndarray
    female: np.ndarray
    female_p: np.ndarray
    surnames: list[str]
    surname_p: np.ndarray
    nick_first: np.ndarray  # per given name: its first row in nicknames (0 if it has none)
    nick_count: np.ndarray  # per given name: how many nicknames it has
    nicknames: list[str]
    towns: list[str]
    town_p: np.ndarray
    outwards: list[str]
    outward_offset: np.ndarray  # per town: first index into outwards
    outward_count: np.ndarray
    stems: list[str]


def _csv(name: str) -> pl.DataFrame:
    return pl.read_csv(DATA / name, comment_prefix="#", infer_schema=False)


@functools.cache
def _tables() -> _Tables:
    given = _csv("given_names.csv").with_columns(pl.col("rank").cast(pl.Int64))
    weight = given["rank"].cast(pl.Float64).pow(-GIVEN_NAME_ZIPF).to_numpy()
    is_male = (given["sex"] == "M").to_numpy()
    male, female = np.flatnonzero(is_male), np.flatnonzero(~is_male)

    common = _csv("surnames.csv").with_columns(pl.col("percent").cast(pl.Float64))
    known = set(common["name"])
    tail = sorted({p + s for p in TAIL_PREFIXES for s in TAIL_SUFFIXES} - known)
    tail_share = max(0.0, 100.0 - common["percent"].sum())
    surnames = common["name"].to_list() + tail
    surname_w = np.concatenate(
        [common["percent"].to_numpy(), np.full(len(tail), tail_share / len(tail))]
    )

    nick = _csv("nicknames.csv").sort("name", maintain_order=True)
    first: dict[str, int] = {}
    count: dict[str, int] = {}
    for i, name in enumerate(nick["name"]):
        first.setdefault(name, i)
        count[name] = count.get(name, 0) + 1

    towns = _csv("towns.csv")
    codes = [row.split() for row in towns["outward_codes"]]
    counts = np.array([len(c) for c in codes])
    town_w = towns["weight"].cast(pl.Float64).to_numpy()
    return _Tables(
        given=given["name"].to_list(),
        male=male,
        male_p=weight[male] / weight[male].sum(),
        female=female,
        female_p=weight[female] / weight[female].sum(),
        surnames=surnames,
        surname_p=surname_w / surname_w.sum(),
        nick_first=np.array([first.get(name, 0) for name in given["name"]]),
        nick_count=np.array([count.get(name, 0) for name in given["name"]]),
        nicknames=nick["nickname"].to_list(),
        towns=towns["town"].to_list(),
        town_p=town_w / town_w.sum(),
        outwards=[c for row in codes for c in row],
        outward_offset=np.concatenate([[0], np.cumsum(counts)[:-1]]),
        outward_count=counts,
        stems=_csv("streets.csv")["stem"].to_list(),
    )


# --- dates as days since 1970-01-01 (H. Hinnant's civil-calendar algorithms) -----------------


def _days_from_civil(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    doy = (153 * np.where(m > 2, m - 3, m + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = z + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    return yoe + era * 400 + (m <= 2), m, d


def _days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    base = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[m - 1]
    return base + ((m == 2) & leap)


# --- identifiers --------------------------------------------------------------------------------

_NHS_WEIGHTS = np.arange(10, 1, -1)


def nhs_check_digit(first9: np.ndarray) -> np.ndarray:
    """Modulus-11 check digit of 9-digit integers; 10 means no valid number has these digits."""
    total = np.zeros(len(first9), dtype=np.int64)
    for i, weight in enumerate(_NHS_WEIGHTS):
        total += (first9 // 10 ** (8 - i)) % 10 * weight
    check = 11 - total % 11
    return np.where(check == 11, 0, check)


def nhs_valid(numbers: pl.Series) -> pl.Series:
    """Whether each 10-digit string has a valid NHS-number check digit (nulls stay null)."""
    values = numbers.cast(pl.Int64, strict=False).fill_null(0).to_numpy()
    ok = nhs_check_digit(values // 10) == values % 10
    return pl.Series(numbers.name, ok).set(numbers.is_null(), None)


def _nhs_numbers(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` distinct valid NHS numbers from the top of the synthetic 9xx range."""
    # Blocks of a million 9-digit prefixes, 1/11 of which have no valid check digit.
    blocks = max(1, math.ceil(count / 905_000))
    low = 1_000_000_000 - blocks * 1_000_000
    prefixes = low + rng.permutation(blocks * 1_000_000)
    check = nhs_check_digit(prefixes)
    valid = check != 10
    numbers = (prefixes[valid] * 10 + check[valid])[:count]
    assert len(numbers) == count
    return numbers


def _mix(x: np.ndarray, salt: int) -> np.ndarray:
    """SplitMix64 of integers: a stable hash for values shared by neighbours (postcode units)."""
    z = x.astype(np.uint64) + np.uint64((salt * 0x9E3779B97F4A7C15) % 2**64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


# --- the population -----------------------------------------------------------------------------


def _household_sizes(rng: np.random.Generator, people: int) -> np.ndarray:
    target = round(HOUSEHOLD_SHARE * people)
    multi = rng.choice([2, 3, 4, 5], size=target // 2 + 1, p=[0.5, 0.27, 0.15, 0.08])
    total = np.cumsum(multi)
    keep = int(np.searchsorted(total, target)) + 1 if target >= 2 else 0
    while keep and total[keep - 1] > people:
        keep -= 1
    multi = multi[:keep]
    sizes = np.concatenate([np.ones(people - int(multi.sum()), dtype=np.int64), multi])
    return rng.permutation(sizes)


def _people(rng: np.random.Generator, people: int, t: _Tables) -> dict[str, np.ndarray]:
    sizes = _household_sizes(rng, people)
    households = len(sizes)
    hh = np.repeat(np.arange(households), sizes)
    member = np.arange(people) - (np.cumsum(sizes) - sizes)[hh]
    size = sizes[hh]

    male = rng.random(people) < 0.5
    partner = (member == 1) & (rng.random(people) < 0.9)  # mostly a couple of opposite sexes
    male[partner] = ~male[np.flatnonzero(partner) - 1]

    # Ages: people living alone follow a rough UK age pyramid (5-year bands); households have a
    # head of 22-85, a partner of similar age and children 18-40 years younger than the head.
    bands = np.array(
        [5.5, 6, 6, 5.7, 6, 6.6, 6.8, 6.6, 6.3, 6.4, 7, 6.9, 6, 5.3, 5.1, 3.8, 2.7, 1.7]
    )
    age = (rng.choice(len(bands), people, p=bands / bands.sum()) + rng.random(people)) * 5
    head_age = 22 + rng.random(households) * 63
    age = np.where(size > 1, head_age[hh], age)
    age = np.where(member == 1, np.maximum(18, age + rng.normal(0, 3, people)), age)
    age = np.where(member >= 2, np.maximum(0, age - 18 - rng.random(people) * 22), age)
    dob = REFERENCE_DAY - np.floor(age * 365.25).astype(np.int64) - 1
    twins = (member == 3) & (rng.random(people) < 0.15)  # the second child a twin of the first
    dob[twins] = dob[np.flatnonzero(twins) - 1]

    given = np.where(
        male,
        t.male[rng.choice(len(t.male), people, p=t.male_p)],
        t.female[rng.choice(len(t.female), people, p=t.female_p)],
    )
    for _ in range(20):  # members of a household have distinct given names
        clash = ~pl.Series(hh * 1024 + given).is_first_distinct().to_numpy()
        if not clash.any():
            break
        redraw = np.flatnonzero(clash)
        given[redraw] = np.where(
            male[redraw],
            t.male[rng.choice(len(t.male), len(redraw), p=t.male_p)],
            t.female[rng.choice(len(t.female), len(redraw), p=t.female_p)],
        )

    family = rng.choice(len(t.surnames), households, p=t.surname_p)[hh]
    moved = rng.random(households) < MOVER_RATE
    new_home = households + np.cumsum(moved) - 1
    return {
        "household": hh,
        "given": given,
        "family": family,
        "male": male,
        "dob": dob,
        "nhs": _nhs_numbers(rng, people),
        "home": hh,
        "new_home": np.where(moved[hh], new_home[hh], hh),
        "addresses": np.array(households + int(moved.sum())),  # how many addresses in all
    }


def _addresses(rng: np.random.Generator, count: int, t: _Tables, seed: int) -> dict:
    """``count`` distinct addresses: town, street, number, flat, postcode parts and UPRN."""
    town_n = len(t.towns)
    streets = np.maximum(10, np.ceil(count * t.town_p / 60).astype(np.int64))
    street_offset = np.concatenate([[0], np.cumsum(streets)[:-1]])
    street_town = np.repeat(np.arange(town_n), streets)
    street_total = int(streets.sum())
    suffix_w = np.array([w for *_, w in SUFFIXES], dtype=float)
    street_stem = rng.integers(0, len(t.stems), street_total)
    street_suffix = rng.choice(len(SUFFIXES), street_total, p=suffix_w / suffix_w.sum())
    street_outward = t.outward_offset[street_town] + rng.integers(0, t.outward_count[street_town])
    street_sector = rng.integers(0, 10, street_total)

    # Each address goes to a street (streets differ in length); within a street, houses are
    # numbered 1, 2, ... and 12% of addresses are flats 1-6 in blocks numbered after the houses,
    # so every (street, number, flat) is distinct by construction.
    town = rng.choice(town_n, count, p=t.town_p)
    street = street_offset[town] + (rng.random(count) ** 1.5 * streets[town]).astype(np.int64)
    is_flat = rng.random(count) < 0.12
    key = street * 2 + is_flat
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count) - np.repeat(first, np.diff(np.r_[first, count]))
    houses = np.bincount(street[~is_flat], minlength=street_total)[street]
    number = np.where(is_flat, houses + 1 + rank // 6, rank + 1)
    flat = np.where(is_flat, rank % 6 + 1, 0)
    unit = _mix(street * 64 + number // 16, seed)  # neighbours share a postcode
    stride = 900_000_000_000 // max(count, 1)
    uprn = 100_000_000_000 + np.arange(count) * stride + rng.integers(0, stride, count)
    return {
        "town": street_town[street],
        "stem": street_stem[street],
        "suffix": street_suffix[street],
        "number": number,
        "flat": flat,
        "outward": street_outward[street],
        "sector": street_sector[street],
        "unit1": (unit % np.uint64(20)).astype(np.int64),
        "unit2": ((unit >> np.uint64(8)) % np.uint64(20)).astype(np.int64),
        "uprn": uprn,
    }


# --- records and their corruptions --------------------------------------------------------------


def _choose_kinds(rng: np.random.Generator, k: np.ndarray) -> np.ndarray:
    """A (records, kinds) mask with k[i] distinct kinds for record i, drawn by weight."""
    weights = np.array([w for _, w in KINDS])
    p = weights / weights.sum()
    chosen = np.zeros((len(k), len(KINDS)), dtype=bool)
    for j in range(int(k.max(initial=0))):
        rows = np.flatnonzero(k > j)
        for _ in range(100):  # redraw a kind the record already has
            kinds = rng.choice(len(KINDS), len(rows), p=p)
            taken = chosen[rows, kinds]
            chosen[rows[~taken], kinds[~taken]] = True
            rows = rows[taken]
            if not len(rows):
                break
    return chosen


def _typo(col: str, op: pl.Expr, u1: pl.Expr, u2: pl.Expr) -> pl.Expr:
    """A keyboard typo in a capitalised name: deletion, insertion, substitution, transposition."""
    s = pl.col(col)
    n = s.str.len_chars()
    pos = (1 + (u1 * (n - 1)).floor()).cast(pl.Int64).clip(1, None)  # never the first letter
    ch = s.str.slice(pos, 1)
    near = ch.str.to_lowercase().replace_strict(NEIGHBOURS, default="e")
    near = near.str.slice((u2 * near.str.len_chars()).floor().cast(pl.Int64), 1)
    head, rest = s.str.slice(0, pos), s.str.slice(pos + 1)
    tpos = (1 + (u1 * (n - 2)).floor()).cast(pl.Int64).clip(1, None)
    swapped = pl.concat_str(
        s.str.slice(0, tpos), s.str.slice(tpos + 1, 1), s.str.slice(tpos, 1), s.str.slice(tpos + 2)
    )
    return (
        pl.when((op == 0) & (n >= 4))
        .then(pl.concat_str(head, rest))
        .when((op == 1) | (n < 3))
        .then(pl.concat_str(head, near, ch, rest))
        .when((op == 3) & (s.str.slice(tpos, 1) != s.str.slice(tpos + 1, 1)))
        .then(swapped)
        .otherwise(pl.concat_str(head, near, rest))
    )


def _records(
    rng: np.random.Generator,
    t: _Tables,
    people: dict,
    addresses: dict,
    persons: np.ndarray,
    *,
    right: bool,
) -> pl.DataFrame:
    """The records of one file for the given people, corrupted, with a hidden ``_person``."""
    dup = persons[rng.random(len(persons)) < DUPLICATE_RATE]
    dup3 = dup[rng.random(len(dup)) < 0.1]
    pid = np.concatenate([persons, dup, dup3])
    extra = np.concatenate([np.zeros(len(persons), int), np.ones(len(dup), int), [2] * len(dup3)])
    order = rng.permutation(len(pid))
    pid, extra = pid[order], extra[order]
    r = len(pid)

    dist = RIGHT_CORRUPTIONS if right else LEFT_CORRUPTIONS
    k = rng.choice(len(dist), r, p=dist) + np.minimum(extra, 1)
    k = np.minimum(k, 4)
    on = _choose_kinds(rng, k)

    def kind(name: str) -> np.ndarray:
        return on[:, KIND[name]]

    given = people["given"][pid]
    family = people["family"][pid]
    male = people["male"][pid].copy()
    dob = people["dob"][pid].copy()
    home = (people["new_home"] if right else people["home"])[pid]
    nhs = people["nhs"][pid].copy()
    a = {key: value[home].copy() for key, value in addresses.items()}

    # Fallbacks where a kind does not apply: no nickname -> typo; no abbreviation or no flat ->
    # house-number typo; day > 12 or day == month -> year off by one.
    has_nick = t.nick_count[given] > 0
    nickname = kind("nickname") & has_nick
    given_typo = kind("given_typo") | (kind("nickname") & ~has_nick)
    abbreviable = np.array([full != short for full, short, _ in SUFFIXES])[a["suffix"]]
    abbreviate = kind("address_abbreviation") & abbreviable
    drop_flat = kind("address_flat") & (a["flat"] > 0)
    number_typo = (
        kind("address_number")
        | (kind("address_abbreviation") & ~abbreviable)
        | (kind("address_flat") & (a["flat"] == 0))
    )

    # Dates.
    y, m, d = _civil_from_days(dob)
    swappable = (d <= 12) & (d != m)
    swap = kind("dob_swap") & swappable
    year = kind("dob_year") | (kind("dob_swap") & ~swappable)
    digit = kind("dob_digit")
    new = dob.copy()
    new[swap] = _days_from_civil(y[swap], d[swap], m[swap])
    step = np.where(rng.random(r) < 0.5, -1, 1)
    yy = y + step
    dd = np.minimum(d, _days_in_month(yy, m))
    new[year] = _days_from_civil(yy, m, dd)[year]
    bump = rng.integers(1, 10, r)
    day_digit = d - d % 10 + (d % 10 + bump) % 10
    day_ok = (day_digit >= 1) & (day_digit <= _days_in_month(y, m))
    use_day = day_ok & (rng.random(r) < 0.5)
    y_digit = y - y % 10 + (y % 10 + bump) % 10
    y_digit = np.where(y_digit > 2023, y_digit - 10, y_digit)  # stay in the past
    digit_day = np.where(use_day, day_digit, np.minimum(d, _days_in_month(y_digit, m)))
    digit_new = _days_from_civil(np.where(use_day, y, y_digit), m, digit_day)
    new[digit] = digit_new[digit]
    back = _days_from_civil(y - 1, m, np.minimum(d, _days_in_month(y - 1, m)))
    dob = np.where(new >= REFERENCE_DAY, back, new)  # no birth dates in the future

    # Addresses, numbers and postcodes.
    number = a["number"]
    op = rng.integers(0, 3, r)
    tens = number >= 10
    swapped = number - number % 100 + (number % 10) * 10 + (number // 10) % 10
    typo_number = np.where(
        op == 0,
        number + 1,
        np.where(op == 1, np.where(number > 1, number - 1, number + 10), number + 10),
    )
    typo_number = np.where((op == 2) & tens & (swapped != number), swapped, typo_number)
    number = np.where(number_typo, typo_number, number)
    flat = np.where(drop_flat, 0, a["flat"])
    pc_char = kind("postcode_character")
    which = rng.integers(0, 3, r)
    sector = np.where(pc_char & (which == 0), (a["sector"] + bump) % 10, a["sector"])
    unit1 = np.where(pc_char & (which == 1), (a["unit1"] + bump) % 20, a["unit1"])
    unit2 = np.where(pc_char & (which == 2), (a["unit2"] + bump) % 20, a["unit2"])
    sex_flip = kind("sex_flip")
    male = np.where(sex_flip, ~male, male)

    # Missing fields: one of given name, date of birth, postcode, address, sex.
    missing = np.where(kind("missing"), rng.choice(5, r, p=[0.25, 0.2, 0.25, 0.2, 0.1]), -1)

    # Identifiers: a quarter of records have neither; the right file mistypes a few NHS numbers.
    no_ids = rng.random(r) < NO_IDENTIFIER_RATE
    if right:
        bad = rng.random(r) < NHS_TYPO_RATE
        place = 10 ** rng.integers(0, 7, r)  # one of the last seven digits
        old = (nhs // place) % 10
        nhs = np.where(bad, nhs + (((old + bump) % 10) - old) * place, nhs)

    # Names as indices into one list: given names, then nicknames, then surnames.
    nick_row = t.nick_first[given] + (rng.random(r) * t.nick_count[given]).astype(np.int64)
    given = np.where(nickname, len(t.given) + nick_row, given)
    surname_0 = len(t.given) + len(t.nicknames)
    alt_family = surname_0 + rng.choice(len(t.surnames), r, p=t.surname_p)
    family = surname_0 + family
    change = np.where(kind("family_change"), rng.integers(1, 3, r), 0)
    family = np.where(change == 1, alt_family, family)  # a new name, or ...
    double = change == 2  # ... a double-barrelled one
    names = pl.Series(t.given + t.nicknames + t.surnames)
    given_s = names.gather(given)
    family_s = names.gather(family)
    idx = np.flatnonzero(double)
    family_s = family_s.scatter(idx, family_s.gather(idx) + "-" + names.gather(alt_family[idx]))
    given_s = _apply_typo(rng, given_s, given_typo)
    family_s = _apply_typo(rng, family_s, kind("family_typo"))
    swap = kind("name_swap")
    idx = np.flatnonzero(swap)
    swapped_given, swapped_family = family_s.gather(idx), given_s.gather(idx)
    given_s = given_s.scatter(idx, swapped_given)  # (scatter works in place)
    family_s = family_s.scatter(idx, swapped_family)

    # Address strings from their parts.
    suffixes = pl.Series([s for s, _, _ in SUFFIXES] + [s for _, s, _ in SUFFIXES])
    missing_address = missing == 3
    line_1 = _eval(
        pl.Series(number).cast(pl.String),
        pl.Series(t.stems).gather(a["stem"]),
        suffixes.gather(a["suffix"] + abbreviate * len(SUFFIXES)),
        separator=" ",
    )
    flats = pl.Series([None] + [f"FLAT {i}" for i in range(1, int(flat.max(initial=0)) + 1)])
    line_2 = flats.gather(flat)
    town = pl.Series(t.towns).gather(a["town"])
    letters = pl.Series(list(INWARD_LETTERS))
    postcode = _eval(
        pl.Series(t.outwards).gather(a["outward"]),
        pl.Series(["", " "]).gather((~kind("postcode_space")).astype(np.int64)),
        pl.Series(list("0123456789")).gather(sector),
        letters.gather(unit1),
        letters.gather(unit2),
    )

    def blank(values: pl.Series, where: np.ndarray) -> pl.Series:
        return values.set(pl.Series(where), None)  # type: ignore[arg-type]

    frame = pl.DataFrame(
        {
            "_person": pid,
            "nhs_number": blank(pl.Series(nhs).cast(pl.String).str.zfill(10), no_ids),
            "uprn": blank(pl.Series(a["uprn"]).cast(pl.String), no_ids),
            "given_name": blank(given_s, missing == 0),
            "family_name": family_s,
            "date_of_birth": blank(pl.Series(dob).cast(pl.Int32).cast(pl.Date), missing == 1),
            "sex": blank(pl.Series(["F", "M"]).gather(male.astype(np.int64)), missing == 4),
            "address_line_1": blank(line_1, missing_address),
            "address_line_2": blank(line_2, missing_address),
            "town": blank(town, missing_address),
            "postcode": blank(postcode, missing == 2),
        }
    )
    return frame.with_columns(
        address=pl.concat_str(
            "address_line_1", "address_line_2", "town", separator=", ", ignore_nulls=True
        ).replace("", None)
    )


def _eval(*parts: pl.Series, separator: str = "") -> pl.Series:
    """The concatenation of string Series, row by row."""
    return pl.select(pl.concat_str(*parts, separator=separator)).to_series()


def _apply_typo(rng: np.random.Generator, names: pl.Series, mask: np.ndarray) -> pl.Series:
    """``names`` with a keyboard typo in each masked row (computed for those rows only)."""
    idx = np.flatnonzero(mask)
    m = len(idx)
    sub = pl.DataFrame(
        {
            "s": names.gather(idx),
            "op": rng.integers(0, 4, m),
            "u1": rng.random(m),
            "u2": rng.random(m),
        }
    ).select(_typo("s", pl.col("op"), pl.col("u1"), pl.col("u2")))
    return names.scatter(idx, sub.to_series())


def generate(n: int, *, seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(left, right, truth): two files of about ``n`` records each and every true pair."""
    if n < 1:
        raise ValueError("n must be at least 1")
    t = _tables()
    rng = np.random.Generator(np.random.PCG64(seed))
    per_file = max(1, round(n / (1 + DUPLICATE_RATE * 1.1)))
    both = round(MATCH_RATE * per_file)
    only = per_file - both
    people = _people(rng, both + 2 * only, t)
    addresses = _addresses(rng, int(people["addresses"]), t, seed)

    # People 0.. in household order; which file(s) each is in is drawn at random.
    where = rng.permutation(np.repeat([0, 1, 2], [both, only, only]))  # both, left, right
    left = _records(rng, t, people, addresses, np.flatnonzero(where != 2), right=False)
    right = _records(rng, t, people, addresses, np.flatnonzero(where != 1), right=True)

    def finish(frame: pl.DataFrame, prefix: str) -> pl.DataFrame:
        width = max(7, len(str(frame.height)))
        ids = pl.int_range(1, frame.height + 1, dtype=pl.Int64).cast(pl.String).str.zfill(width)
        return frame.with_columns(record_id=pl.lit(prefix) + ids)

    left, right = finish(left, "L"), finish(right, "R")
    truth = (
        left.select("_person", record_l="record_id")
        .join(right.select("_person", record_r="record_id"), on="_person")
        .select("record_l", "record_r")
        .sort("record_l", "record_r")
    )
    return left.select(COLUMNS), right.select(COLUMNS), truth


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="records per file (about)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    _tables()  # reading the CSVs is not generation
    before = _peak_rss_mb()
    start = time.perf_counter()
    left, right, truth = generate(args.n, seed=args.seed)
    elapsed = time.perf_counter() - start
    print(f"n={args.n:,} seed={args.seed}: generated in {elapsed:.2f} s")
    print(f"peak RSS {_peak_rss_mb():,.0f} MB (before generating: {before:,.0f} MB)")
    print(f"left {left.height:,} rows, right {right.height:,} rows, truth {truth.height:,} pairs")
    for name, frame, key in (("left", left, "record_l"), ("right", right, "record_r")):
        matched = frame["record_id"].is_in(truth[key].implode()).mean()
        no_ids = (frame["nhs_number"].is_null() & frame["uprn"].is_null()).mean()
        print(f"{name}: {matched:.1%} with a true match, {no_ids:.1%} without identifiers")
    bad = (~nhs_valid(right["nhs_number"]).drop_nulls()).mean()
    print(f"right: {bad:.1%} of NHS numbers fail the check digit")
    with pl.Config(tbl_cols=-1, tbl_width_chars=250, fmt_str_lengths=40, tbl_rows=12):
        print(left.head(5))
        pairs = truth.head(6)
        print(
            pairs.join(left, left_on="record_l", right_on="record_id")
            .join(right, left_on="record_r", right_on="record_id", suffix="_r")
            .select(
                "record_l",
                "record_r",
                pl.concat_str("given_name", "given_name_r", separator=" | ").alias("given"),
                pl.concat_str("family_name", "family_name_r", separator=" | ").alias("family"),
                pl.concat_str(
                    pl.col("date_of_birth").cast(pl.String),
                    pl.col("date_of_birth_r").cast(pl.String),
                    separator=" | ",
                ).alias("dob"),
                pl.concat_str("address", "address_r", separator=" | ").alias("address"),
                pl.concat_str("postcode", "postcode_r", separator=" | ").alias("postcode"),
            )
        )


if __name__ == "__main__":
    main()
