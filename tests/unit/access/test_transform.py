"""The obligations' transformations (pseudonymisation, generalisation, row and field limits)
and the extract files, each checked against an independent reference or by reading back."""

from __future__ import annotations

import csv
import hmac
import io
import json
import threading
import uuid
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings as django_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from accord.access import transform
from accord.access.decisions import Obligations
from accord.access.transform import (
    apply_obligations,
    generalise,
    hmac_sha256_hex,
    normalise_expr,
    pseudonymisation_key,
    pseudonymisation_key_id,
    pseudonymise,
    write_extract,
)
from accord.vault import keys
from accord.vault.exceptions import KeyFileDamaged, KeyFileMissing

KEY = bytes(range(32))
TODAY = date(2025, 3, 1)

# RFC 4231 section 4: HMAC-SHA256 test cases 1 to 7 (case 5's output is truncated to 128 bits).
RFC_4231 = [
    pytest.param(
        b"\x0b" * 20,
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        id="case-1",
    ),
    pytest.param(
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        id="case-2",
    ),
    pytest.param(
        b"\xaa" * 20,
        b"\xdd" * 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
        id="case-3",
    ),
    pytest.param(
        bytes(range(1, 26)),
        b"\xcd" * 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
        id="case-4",
    ),
    pytest.param(
        b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b", id="case-5"
    ),
    pytest.param(
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        id="case-6",
    ),
    pytest.param(
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data."
        b" The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
        id="case-7",
    ),
]


def reference(value: str, key: bytes = KEY) -> str:
    return hmac.new(key, value.encode(), "sha256").hexdigest()


def one(frame: pl.DataFrame, column: str) -> list:
    return frame.get_column(column).to_list()


# --- HMAC ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "data", "expected"), RFC_4231)
def test_rfc_4231_vectors(key: bytes, data: bytes, expected: str):
    # Binary input: cases 3 and 4 are not UTF-8, so the bytes must reach SHA-256 unchanged.
    digest = hmac_sha256_hex(pl.Series("v", [data], dtype=pl.Binary), key)[0]
    assert len(digest) == 64
    assert digest.startswith(expected)
    assert digest == digest.lower()


@pytest.mark.parametrize(("key", "data", "expected"), RFC_4231[:2] + RFC_4231[4:])
def test_rfc_4231_vectors_as_text(key: bytes, data: bytes, expected: str):
    assert hmac_sha256_hex(pl.Series("v", [data.decode()]), key)[0].startswith(expected)


@settings(deadline=None, max_examples=50)
@given(
    values=st.lists(st.one_of(st.none(), st.text(max_size=80)), min_size=0, max_size=40),
    key=st.binary(min_size=1, max_size=200),
)
def test_hmac_matches_python_hmac_for_any_text(values: list[str | None], key: bytes):
    got = hmac_sha256_hex(pl.Series("v", values, dtype=pl.String), key).to_list()
    expected = [None if value is None else reference(value, key) for value in values]
    assert got == expected


def test_hmac_of_a_long_column_keeps_every_row_in_order():
    values = [f"value {i}" for i in range(20_000)]
    got = hmac_sha256_hex(pl.Series("v", values), KEY).to_list()
    assert got[::997] == [reference(value) for value in values[::997]]


# --- normalisation and pseudonymisation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier_type", "raw", "normal"),
    [
        ("nhs_number", " 943 476 5919 ", "9434765919"),
        ("nhs_number", "943-476-5919", "9434765919"),
        ("nhs_number", "943\u00a0476\t5919", "9434765919"),
        ("nhs_number", "943 476 591X", "943476591X"),  # malformed stays distinct
        ("uprn", "000100021", "100021"),
        ("uprn", "100 021", "100021"),
        ("uprn", "0000", None),
        ("postcode", " me14  1xx ", "ME141XX"),
        ("nino", "qq 12 34 56 c", "QQ123456C"),
        (None, "  Jane   van  Dyke ", "JANE VAN DYKE"),
        ("surname", "o'brien", "O'BRIEN"),
        (None, "   ", None),
        (None, None, None),
    ],
)
def test_normalise(identifier_type: str | None, raw: str | None, normal: str | None):
    frame = pl.DataFrame({"v": [raw]}, schema={"v": pl.String})
    assert one(frame.select(normalise_expr("v", identifier_type)), "v") == [normal]


def test_normalise_casts_numbers_to_text():
    frame = pl.DataFrame({"uprn": [100021, None]})
    assert one(frame.select(normalise_expr("uprn", "uprn")), "uprn") == ["100021", None]


def test_spellings_of_one_identifier_get_one_pseudonym():
    frame = pl.DataFrame(
        {
            "nhs": ["943 476 5919", "9434765919", "943-476-5919", "4010232137"],
            "uprn": ["000100021", "100021", " 100021", "100022"],
        }
    )
    out = pseudonymise(frame, {"nhs": "nhs_number", "uprn": "uprn"}, KEY)
    nhs, uprn = one(out, "nhs"), one(out, "uprn")
    assert nhs[0] == nhs[1] == nhs[2] == reference("9434765919")
    assert nhs[3] != nhs[0]
    assert uprn[0] == uprn[1] == uprn[2] == reference("100021")
    assert uprn[3] != uprn[0]


def test_nulls_and_blank_values_stay_null_and_other_columns_are_untouched():
    frame = pl.DataFrame({"nhs": [None, "", "  ", "- -", "9434765919"], "n": [1, 2, 3, 4, 5]})
    out = pseudonymise(frame, {"nhs": "nhs_number"}, KEY)
    assert one(out, "nhs") == [None, None, None, None, reference("9434765919")]
    assert one(out, "n") == [1, 2, 3, 4, 5]
    assert out.columns == ["nhs", "n"]


def test_non_text_columns_are_pseudonymised_as_text():
    frame = pl.DataFrame({"uprn": [100021, None], "born": [date(1980, 1, 2), None]})
    out = pseudonymise(frame, {"uprn": "uprn", "born": None}, KEY)
    assert one(out, "uprn") == [reference("100021"), None]
    assert one(out, "born") == [reference("1980-01-02"), None]


def test_pseudonymise_refuses_a_short_key_and_a_missing_column():
    frame = pl.DataFrame({"nhs": ["9434765919"]})
    with pytest.raises(ValueError, match="at least 16 random bytes"):
        pseudonymise(frame, {"nhs": "nhs_number"}, b"short")
    with pytest.raises(ValueError, match="no such column"):
        pseudonymise(frame, {"uprn": "uprn"}, KEY)


def test_different_keys_give_different_pseudonyms():
    frame = pl.DataFrame({"nhs": ["9434765919"]})
    first = pseudonymise(frame, {"nhs": "nhs_number"}, KEY)
    second = pseudonymise(frame, {"nhs": "nhs_number"}, bytes(reversed(KEY)))
    assert one(first, "nhs") != one(second, "nhs")


# --- the agreement's key ------------------------------------------------------------------------


@pytest.fixture
def keystore(settings) -> Path:
    run = Path(django_settings.DATA_DIR) / f"transform-test-{uuid.uuid4().hex[:12]}"
    settings.VAULT_DIR = run / "blobs"
    settings.VAULT_KEYSTORE_DIR = run / "keystore"
    return settings.VAULT_KEYSTORE_DIR


def test_an_agreement_keeps_its_key_and_pseudonyms(keystore: Path):
    frame = pl.DataFrame({"nhs": ["943 476 5919", "4010232137"]})
    first_key = pseudonymisation_key("agreement-1")
    assert len(first_key) == 32
    assert pseudonymisation_key("agreement-1") == first_key
    # In the key store's own folder for pseudonymisation keys, never among the objects' keys.
    assert (keystore / "pseudonym" / f"{pseudonymisation_key_id('agreement-1')}.key").exists()
    assert not keys.key_path(pseudonymisation_key_id("agreement-1")).exists()
    first = pseudonymise(frame, {"nhs": "nhs_number"}, first_key)
    again = pseudonymise(frame, {"nhs": "nhs_number"}, pseudonymisation_key("agreement-1"))
    assert first.equals(again)


def test_agreements_have_different_keys_and_pseudonyms(keystore: Path):
    frame = pl.DataFrame({"nhs": ["9434765919"]})
    one_key, other_key = pseudonymisation_key("agreement-1"), pseudonymisation_key("agreement-2")
    assert one_key != other_key
    ours = one(pseudonymise(frame, {"nhs": "nhs_number"}, one_key), "nhs")
    theirs = one(pseudonymise(frame, {"nhs": "nhs_number"}, other_key), "nhs")
    assert ours != theirs


def test_the_key_is_random_not_derived(keystore: Path, settings):
    made = pseudonymisation_key("agreement-1")
    assert keys.destroy_pseudonymisation_key(pseudonymisation_key_id("agreement-1"))
    assert pseudonymisation_key("agreement-1") != made  # a new random key, not a recomputation


def test_master_key_rotation_keeps_the_key(keystore: Path, settings, tmp_path: Path, monkeypatch):
    monkeypatch.delenv(keys.PREVIOUS_FILES_VARIABLE, raising=False)
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o700)
    old = keys.write_new_master_key_file(secrets_dir / "old.key")
    new = keys.write_new_master_key_file(secrets_dir / "new.key")
    settings.VAULT_MASTER_KEY, settings.VAULT_MASTER_KEY_FILE = "", secrets_dir / "old.key"
    before = pseudonymisation_key("agreement-1")
    path = keys.pseudonymisation_key_path(pseudonymisation_key_id("agreement-1"))
    assert keys.rewrap_key_file(path, new=new, old={old.id: old}) == keys.RewrapOutcome.REWRAPPED
    settings.VAULT_MASTER_KEY_FILE = secrets_dir / "new.key"
    assert pseudonymisation_key("agreement-1") == before


def test_losing_the_race_to_make_the_key_uses_the_winners(keystore: Path, monkeypatch):
    key_id = pseudonymisation_key_id("agreement-1")
    real_load = transform.load_pseudonymisation_key
    calls = []

    def load_before_the_winner_stored(object_id: uuid.UUID, version: int) -> bytes:
        calls.append(object_id)
        if len(calls) == 1:  # our first look finds nothing; then the winner stores its key
            keys.store_pseudonymisation_key(object_id, version, b"w" * 32)
            raise KeyFileMissing("not yet", object_id=str(object_id))
        return real_load(object_id, version)

    monkeypatch.setattr(transform, "load_pseudonymisation_key", load_before_the_winner_stored)
    assert pseudonymisation_key("agreement-1") == b"w" * 32
    assert calls == [key_id, key_id]


def test_concurrent_first_uses_agree_on_one_key(keystore: Path):
    results: list[bytes] = []
    start = threading.Barrier(6)

    def first_use() -> None:
        start.wait()
        results.append(pseudonymisation_key("agreement-9"))

    threads = [threading.Thread(target=first_use) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len(set(results)) == 1


def test_a_key_needs_an_agreement(keystore: Path):
    with pytest.raises(ValueError, match="give its id"):
        pseudonymisation_key("  ")


def test_a_pseudonymisation_key_is_never_read_as_an_objects_key(keystore: Path):
    key_id = pseudonymisation_key_id("agreement-1")
    pseudonymisation_key("agreement-1")
    moved = keys.key_path(key_id)
    moved.write_bytes(keys.pseudonymisation_key_path(key_id).read_bytes())
    with pytest.raises(KeyFileDamaged, match="holds a pseudonymisation key"):
        keys.load_data_key(key_id, transform.PSEUDONYM_KEY_VERSION)


def test_the_key_never_appears_in_the_hashing_expression():
    # Polars prints an expression's literals in its repr and error messages; the pads are the
    # key XOR a constant, so they must not be printable there.
    ipad, opad = transform._hmac_pads(KEY)
    text = str(transform._hmac_expr(pl.col("v"), KEY))
    for pad in (ipad, opad):
        start = pad[:8].decode("latin-1")  # printable for this KEY, as Polars would print it
        assert start in str(pl.lit(pad))  # what a literal would have shown
        assert start not in text
        assert pad.hex()[:16] not in text


# --- generalisation -----------------------------------------------------------------------------


def test_year_from_dates_datetimes_and_iso_text():
    frame = pl.DataFrame(
        {
            "d": [date(1980, 5, 17), None],
            "t": [datetime(1999, 12, 31, 23, 59), None],
            "s": ["2001-02-03", "2001-02-30"],
            "u": ["2004-06-07T10:11:12Z", "07/06/2004"],
        }
    )
    out = generalise(
        frame, [("d", "year"), ("t", "year"), ("s", "year"), ("u", "year")], today=TODAY
    )
    assert out.row(0) == (1980, 1999, 2001, 2004)
    assert out.row(1) == (None, None, None, None)
    assert out.schema["s"].is_integer()


@pytest.mark.parametrize(
    ("born", "band"),
    [
        ("1990-03-01", "35-39"),  # 35 today
        ("1990-03-02", "30-34"),  # 35 tomorrow
        ("1985-03-02", "35-39"),
        ("2000-02-29", "25-29"),  # a leap-day birthday counts on 1 March
        ("2025-03-01", "0-4"),
        ("1935-03-01", "90+"),  # 90 today
        ("1935-03-02", "85-89"),
        ("1900-01-01", "90+"),
        ("2025-03-02", None),  # born in the future
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_age_band(born: str | None, band: str | None):
    frame = pl.DataFrame({"dob": [born]}, schema={"dob": pl.String})
    assert one(generalise(frame, [("dob", "age_band")], today=TODAY), "dob") == [band]


def test_age_band_from_a_date_column():
    frame = pl.DataFrame({"dob": [date(1990, 3, 1), date(1990, 3, 2)]})
    assert one(generalise(frame, [("dob", "age_band")], today=TODAY), "dob") == ["35-39", "30-34"]


def _reference_band(born: date, today: date) -> str | None:
    age = today.year - born.year - ((born.month, born.day) > (today.month, today.day))
    if age < 0:
        return None
    if age >= 90:
        return "90+"
    lower = age // 5 * 5
    return f"{lower}-{lower + 4}"


@settings(deadline=None, max_examples=60)
@given(
    born=st.lists(st.dates(date(1890, 1, 1), date(2030, 12, 31)), min_size=1, max_size=30),
    today=st.one_of(
        st.dates(date(1990, 1, 1), date(2030, 12, 31)),
        st.sampled_from([date(2024, 2, 29), date(2025, 2, 28), date(2025, 3, 1)]),
    ),
)
def test_age_band_matches_counting_full_years(born: list[date], today: date):
    frame = pl.DataFrame({"dob": born}, schema={"dob": pl.Date})
    got = one(generalise(frame, [("dob", "age_band")], today=today), "dob")
    assert got == [_reference_band(value, today) for value in born]


@pytest.mark.parametrize(
    ("postcode", "sector", "district"),
    [
        ("ME14 1XX", "ME14 1", "ME14"),
        ("me141xx", "ME14 1", "ME14"),
        ("  me14   1xx ", "ME14 1", "ME14"),
        ("SW1A 1AA", "SW1A 1", "SW1A"),
        ("M1 1AE", "M1 1", "M1"),
        ("B33 8TH", "B33 8", "B33"),
        ("CR2 6XH", "CR2 6", "CR2"),
        ("ME14", None, None),
        ("ME14 1", None, None),
        ("not a postcode", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_postcode_sector_and_district(
    postcode: str | None, sector: str | None, district: str | None
):
    frame = pl.DataFrame(
        {"a": [postcode], "b": [postcode]}, schema={"a": pl.String, "b": pl.String}
    )
    out = generalise(frame, [("a", "postcode_sector"), ("b", "postcode_district")], today=TODAY)
    assert out.row(0) == (sector, district)


def test_generalise_refuses_unknown_levels_missing_columns_and_two_levels_for_one_column():
    frame = pl.DataFrame({"postcode": ["ME14 1XX"]})
    with pytest.raises(ValueError, match="Accord knows only"):
        generalise(frame, [("postcode", "lsoa")], today=TODAY)
    with pytest.raises(ValueError, match="no such column"):
        generalise(frame, [("dob", "year")], today=TODAY)
    with pytest.raises(ValueError, match="more than one"):
        generalise(
            frame, [("postcode", "postcode_sector"), ("postcode", "postcode_district")], today=TODAY
        )


# --- obligations --------------------------------------------------------------------------------


def people() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "nhs_number": ["943 476 5919", "401 023 2137", "9434765919", None],
            "la_code": ["E06000001", "E06000002", "E06000001", "E06000003"],
            "dob": ["1990-03-01", "1950-01-01", "1990-03-01", "2001-07-07"],
            "postcode": ["ME14 1XX", "me15 6aa", "ME14 1XX", "SW1A 1AA"],
            "notes": ["a", "b", "c", "d"],
            "source_row": [1, 2, 3, 4],
        }
    )


def test_obligations_in_order():
    obligations = Obligations(
        drop_fields=("notes",),
        pseudonymise_fields=("nhs_number",),
        generalise_fields=(("dob", "age_band"), ("postcode", "postcode_sector")),
        row_filter=(("la_code", ("E06000001", "E06000003")),),
    )
    out = apply_obligations(
        people(),
        obligations,
        key=KEY,
        identifier_types={"nhs_number": "nhs_number"},
        today=TODAY,
    )
    assert out.columns == ["nhs_number", "la_code", "dob", "postcode", "source_row"]
    assert one(out, "source_row") == [1, 3, 4]
    assert one(out, "nhs_number") == [reference("9434765919")] * 2 + [None]
    assert one(out, "dob") == ["35-39", "35-39", "20-24"]
    assert one(out, "postcode") == ["ME14 1", "ME14 1", "SW1A 1"]


def test_the_row_filter_needs_every_condition_and_fails_closed():
    frame = people()
    both = Obligations(
        row_filter=(("la_code", ("E06000001", "E06000002")), ("postcode", ("ME14 1XX",)))
    )
    kept = apply_obligations(frame, both, key=None, identifier_types={}, today=TODAY)
    assert one(kept, "source_row") == [1, 3]
    missing = Obligations(row_filter=(("ward_code", ("E05000001",)),))
    none = apply_obligations(frame, missing, key=None, identifier_types={}, today=TODAY)
    assert none.height == 0
    assert none.columns == frame.columns
    nothing_allowed = Obligations(row_filter=(("la_code", ()),))
    assert (
        apply_obligations(frame, nothing_allowed, key=None, identifier_types={}, today=TODAY).height
        == 0
    )


def test_a_null_never_passes_the_row_filter():
    frame = pl.DataFrame({"la_code": [None, "E06000001"], "n": [1, 2]})
    obligations = Obligations(row_filter=(("la_code", ("E06000001",)),))
    assert one(
        apply_obligations(frame, obligations, key=None, identifier_types={}, today=TODAY), "n"
    ) == [2]


def test_area_values_narrow_the_rows():
    out = apply_obligations(
        people(),
        Obligations(),
        key=None,
        identifier_types={},
        area_values={"la_code": ["E06000002"]},
        today=TODAY,
    )
    assert one(out, "source_row") == [2]


def test_allowed_fields_keep_only_those_and_the_provenance_columns():
    obligations = Obligations(allowed_fields=("la_code", "postcode"), drop_fields=("postcode",))
    out = apply_obligations(
        people(),
        obligations,
        key=None,
        identifier_types={},
        today=TODAY,
        keep_columns=["source_row"],
    )
    assert out.columns == ["la_code", "source_row"]
    unrestricted = apply_obligations(
        people(), Obligations(), key=None, identifier_types={}, today=TODAY
    )
    assert unrestricted.equals(people())


def test_pseudonymising_needs_a_key():
    with pytest.raises(ValueError, match="no pseudonymisation key"):
        apply_obligations(
            people(),
            Obligations(pseudonymise_fields=("nhs_number",)),
            key=None,
            identifier_types={},
            today=TODAY,
        )


def test_obligations_on_absent_columns_are_ignored():
    obligations = Obligations(
        drop_fields=("ethnicity",),
        pseudonymise_fields=("uprn",),
        generalise_fields=(("date_of_death", "year"),),
    )
    out = apply_obligations(people(), obligations, key=KEY, identifier_types={}, today=TODAY)
    assert out.equals(people())


def test_a_dropped_field_is_not_pseudonymised_back_into_the_frame():
    obligations = Obligations(drop_fields=("nhs_number",), pseudonymise_fields=("nhs_number",))
    out = apply_obligations(people(), obligations, key=KEY, identifier_types={}, today=TODAY)
    assert "nhs_number" not in out.columns


# --- extract files ------------------------------------------------------------------------------

METADATA = {
    "extract_id": "ext-0001",
    "agreement": "Kent free school meals ISP",
    "purpose": "Plan free school meals auto-enrolment",
    "caveats": '=HYPERLINK("http://evil") three returns missing',
}
HOSTILE = ["=1+2", "+44 1622", "-2+3+cmd|' /C calc'!A0", "@SUM(A1)", "\tab", "\rcr", "plain", None]


def hostile_frame() -> pl.DataFrame:
    n = len(HOSTILE)
    return pl.DataFrame(
        {
            "text": HOSTILE,
            "amount": [-5, 3, -1, 0, 1, 2, 3, None],
            "ratio": [-0.5, 1.5, 0.0, 2.0, -3.25, 1.0, 0.1, None],
            "when": [date(2025, 1, i + 1) for i in range(n)],
            "=cmd": ["x"] * n,
            "name": ["Zoë", "Siân", "Łukasz", "مريم", "李", "O'Neil", "Ana", "Bo"],
        }
    )


ESCAPED = ["'=1+2", "'+44 1622", "'-2+3+cmd|' /C calc'!A0", "'@SUM(A1)", "'\tab", "'\rcr", "plain"]


def test_csv_extract_is_a_zip_with_a_safe_csv_and_a_data_package(tmp_path: Path):
    written = write_extract(hostile_frame(), tmp_path / "extract.csv", fmt="csv", metadata=METADATA)
    assert written == tmp_path / "extract.zip"
    with zipfile.ZipFile(written) as archive:
        assert sorted(archive.namelist()) == ["datapackage.json", "extract.csv"]
        raw = archive.read("extract.csv")
        package = json.loads(archive.read("datapackage.json"))
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["text", "amount", "ratio", "when", "'=cmd", "name"]
    body = rows[1:]
    assert [row[0] for row in body] == [*ESCAPED, ""]
    assert [row[1] for row in body] == [
        "-5",
        "3",
        "-1",
        "0",
        "1",
        "2",
        "3",
        "",
    ]  # numbers as numbers
    assert body[0][2] == "-0.5"
    assert [row[5] for row in body][:5] == ["Zoë", "Siân", "Łukasz", "مريم", "李"]
    assert package["accord"] == METADATA
    resource = package["resources"][0]
    assert resource["path"] == "extract.csv"
    assert [(f["name"], f["type"]) for f in resource["schema"]["fields"]] == [
        ("text", "string"),
        ("amount", "integer"),
        ("ratio", "number"),
        ("when", "date"),
        ("'=cmd", "string"),
        ("name", "string"),
    ]


def test_csv_extract_of_many_rows_has_one_header(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(transform, "CSV_SLICE_ROWS", 3)
    frame = pl.DataFrame({"n": list(range(10)), "s": [f"=x{i}" for i in range(10)]})
    written = write_extract(frame, tmp_path / "many.zip", fmt="csv", metadata={})
    with zipfile.ZipFile(written) as archive:
        rows = list(csv.reader(io.StringIO(archive.read("extract.csv").decode("utf-8-sig"))))
    assert rows == [["n", "s"]] + [[str(i), f"'=x{i}"] for i in range(10)]


def test_csv_extract_of_no_rows_still_has_its_header(tmp_path: Path):
    frame = pl.DataFrame({"a": [], "b": []}, schema={"a": pl.String, "b": pl.Int64})
    written = write_extract(frame, tmp_path / "empty.csv", fmt="csv", metadata={})
    with zipfile.ZipFile(written) as archive:
        assert archive.read("extract.csv").decode("utf-8-sig").splitlines() == ["a,b"]


def test_xlsx_extract_is_safe_and_carries_its_metadata(tmp_path: Path):
    frame = hostile_frame().with_columns(bad=pl.lit("a\x00b"))
    written = write_extract(frame, tmp_path / "extract.xlsx", fmt="xlsx", metadata=METADATA)
    assert written == tmp_path / "extract.xlsx"
    workbook = load_workbook(written)
    assert workbook.sheetnames == ["Data", "About this extract"]
    data = workbook["Data"]
    rows = [[cell.value for cell in row] for row in data.iter_rows()]
    assert rows[0] == ["text", "amount", "ratio", "when", "'=cmd", "name", "bad"]
    # XML reads a carriage return back as a line feed; the leading ' is what matters.
    assert [row[0] for row in rows[1:]] == [*ESCAPED[:5], "'\ncr", "plain", None]
    assert all(cell.data_type != "f" for row in data.iter_rows() for cell in row)
    assert [row[1] for row in rows[1:]] == [-5, 3, -1, 0, 1, 2, 3, None]
    assert rows[1][2] == -0.5
    assert rows[1][3].date() == date(2025, 1, 1)
    assert rows[1][6] == "a\ufffdb"
    about = [[cell.value for cell in row] for row in workbook["About this extract"].iter_rows()]
    assert about[0] == ["Item", "Value"]
    assert dict((name, value) for name, value in about[1:]) == {
        **METADATA,
        "caveats": "'" + METADATA["caveats"],
    }
    assert workbook.properties.title == "Extract ext-0001"
    assert workbook.properties.subject == METADATA["purpose"]
    custom = {prop.name: prop.value for prop in workbook.custom_doc_props.props}
    assert custom["agreement"] == METADATA["agreement"]


def test_xlsx_extract_refuses_more_rows_than_a_sheet_holds(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(transform, "XLSX_MAX_ROWS", 5)
    with pytest.raises(ValueError, match="Choose CSV or Parquet"):
        write_extract(hostile_frame(), tmp_path / "big.xlsx", fmt="xlsx", metadata={})
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_parquet_extract_keeps_types_and_metadata(tmp_path: Path):
    frame = hostile_frame()
    written = write_extract(frame, tmp_path / "extract.parquet", fmt="parquet", metadata=METADATA)
    assert pl.read_parquet(written).equals(frame)  # Parquet is not a spreadsheet: no escaping
    stored = pl.read_parquet_metadata(written)
    assert {name: stored[name] for name in METADATA} == METADATA


def test_write_extract_refuses_unknown_formats_and_bad_metadata(tmp_path: Path):
    with pytest.raises(ValueError, match="not “ods”"):
        write_extract(hostile_frame(), tmp_path / "x.ods", fmt="ods", metadata={})
    with pytest.raises(ValueError, match="must be text"):
        write_extract(hostile_frame(), tmp_path / "x.parquet", fmt="parquet", metadata={"n": 1})  # type: ignore[dict-item]


def test_nested_columns_are_refused_for_spreadsheets(tmp_path: Path):
    frame = pl.DataFrame({"tags": [["a", "b"]]})
    with pytest.raises(ValueError, match="choose Parquet"):
        write_extract(frame, tmp_path / "x.csv", fmt="csv", metadata={})


def test_frames_with_no_rows_or_only_nulls_pass_through_pseudonymisation():
    empty = pl.DataFrame({"nhs": []}, schema={"nhs": pl.String})
    assert pseudonymise(empty, {"nhs": "nhs_number"}, KEY).shape == (0, 1)
    nulls = pl.DataFrame({"nhs": [None, None]}, schema={"nhs": pl.Null})
    assert one(pseudonymise(nulls, {"nhs": "nhs_number"}, KEY), "nhs") == [None, None]
