"""The bundled geography: real codes, consistent links, and loud failures on a broken file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accord.demo.geography import (
    ALLOWED_PARENTS,
    BESTFIT_FILE,
    GEOGRAPHY_FILE,
    LAD_ENTITIES,
    AreaEntity,
    GeographyError,
    UnknownArea,
    codes,
    data_directory,
    geography,
    load,
)

# Real codes and official ONS names (GEOGRAPHY-SOURCES.md), with their kind and parent.
REAL_AREAS = [
    ("E92000001", "England", AreaEntity.COUNTRY, ""),
    ("E12000008", "South East", AreaEntity.REGION, "E92000001"),
    ("E10000016", "Kent", AreaEntity.COUNTY, "E12000008"),
    ("E07000110", "Maidstone", AreaEntity.DISTRICT, "E10000016"),
    ("E07000106", "Canterbury", AreaEntity.DISTRICT, "E10000016"),
    ("E07000116", "Tunbridge Wells", AreaEntity.DISTRICT, "E10000016"),
    ("E06000035", "Medway", AreaEntity.UNITARY, "E12000008"),
    ("E09000012", "Hackney", AreaEntity.LONDON_BOROUGH, "E12000007"),
    ("E09000019", "Islington", AreaEntity.LONDON_BOROUGH, "E12000007"),
    ("E47000001", "Greater Manchester", AreaEntity.COMBINED_AUTHORITY, "E12000002"),
    ("E54000032", "NHS Kent and Medway Integrated Care Board", AreaEntity.ICB, "E92000001"),
    ("E05010398", "Herne & Broomfield", AreaEntity.WARD, "E07000106"),
    ("E05015593", "Allington & Bridge", AreaEntity.WARD, "E07000110"),
    ("E01024075", "Canterbury 006C", AreaEntity.LSOA, "E07000106"),
]

LADS = ["E07000106", "E07000110", "E07000116", "E06000035", "E09000012", "E09000019"]

# The GSS entity prefix each kind of area must carry.
PREFIXES = {
    AreaEntity.COUNTRY: "E92",
    AreaEntity.REGION: "E12",
    AreaEntity.COUNTY: "E10",
    AreaEntity.DISTRICT: "E07",
    AreaEntity.UNITARY: "E06",
    AreaEntity.LONDON_BOROUGH: "E09",
    AreaEntity.COMBINED_AUTHORITY: "E47",
    AreaEntity.ICB: "E54",
    AreaEntity.WARD: "E05",
    AreaEntity.LSOA: "E01",
}


@pytest.mark.parametrize(("code", "name", "entity", "parent"), REAL_AREAS)
def test_real_codes_are_present_with_their_names_and_parents(code, name, entity, parent):
    area = geography().get(code)
    assert (area.name, area.entity, area.parent_code) == (name, entity, parent)
    assert area.vintage
    assert area.source


def test_every_code_is_well_formed_for_its_kind():
    for area in geography():
        assert len(area.code) == 9, area
        assert area.code[3:].isdigit(), area
        assert area.code.startswith(PREFIXES[area.entity]), area


def test_every_parent_exists_and_is_the_right_kind():
    geo = geography()
    for area in geo:
        parent = geo.parent(area.code)
        if area.entity is AreaEntity.COUNTRY:
            assert parent is None
        else:
            assert parent is not None, area
            assert parent.entity in ALLOWED_PARENTS[area.entity], area
        # Every chain of parents ends at England.
        assert (geo.ancestors(area.code) or [area])[-1].code == "E92000001"


def test_children_are_the_inverse_of_parents():
    geo = geography()
    for area in geo:
        for child in geo.children(area.code):
            assert child.parent_code == area.code
    assert sum(len(geo.children(a.code)) for a in geo) == len(geo) - 1


def test_every_lsoa_and_ward_lies_in_a_bundled_local_authority_district():
    geo = geography()
    lsoas = geo.of_entity(AreaEntity.LSOA)
    wards = geo.of_entity(AreaEntity.WARD)
    assert len(lsoas) == 48
    assert len(wards) == 36
    for area in [*lsoas, *wards]:
        lad = geo.lad_of(area.code)
        assert lad.entity in LAD_ENTITIES
        assert lad.code == area.parent_code
    assert codes(geo.local_authority_districts()) == sorted(LADS)
    for lad in LADS:
        assert len(geo.wards_of(lad)) == 6
        assert len(geo.lsoas_of(lad)) == 8


def test_every_lsoa_has_a_best_fit_ward_in_its_own_district():
    geo = geography()
    for lsoa in geo.of_entity(AreaEntity.LSOA):
        ward = geo.best_fit_ward(lsoa.code)
        assert ward is not None
        assert ward.entity is AreaEntity.WARD
        assert ward.parent_code == lsoa.parent_code
        assert lsoa in geo.lsoas_best_fitting(ward.code)
    assert geo.best_fit_ward("E01024075").code == "E05010398"


def test_lookups():
    geo = geography()
    assert " e07000110 " in geo
    assert geo.find("e07000110").name == "Maidstone"
    assert "E07999999" not in geo
    assert geo.find("E07999999") is None
    with pytest.raises(UnknownArea, match="E07999999"):
        geo.get("E07999999")
    assert geo.is_within("E01024075", "E10000016")
    assert not geo.is_within("E01024075", "E07000110")
    assert not geo.is_within("E10000016", "E10000016")
    kent = geo.descendants("E10000016", AreaEntity.LSOA)
    assert len(kent) == 24
    assert "E01024075" in codes(kent)
    assert codes(geo.children("E10000016")) == ["E07000106", "E07000110", "E07000116"]
    assert geo.name_of("E47000001") == "Greater Manchester"
    assert geography() is geo  # read once per process


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "geo"
    shutil.copytree(data_directory(), folder)
    return folder


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_an_unchanged_copy_loads_the_same(tmp_path: Path):
    assert load(_copy(tmp_path)).areas == geography().areas


MAIDSTONE = "E07000110,Maidstone,district"
BREAKAGES = [
    (GEOGRAPHY_FILE, "code,name,entity", "code,title,entity", "expected the columns"),
    (GEOGRAPHY_FILE, f"{MAIDSTONE},E10000016", f"{MAIDSTONE},E10000099", "parent E10000099"),
    (GEOGRAPHY_FILE, MAIDSTONE, "E07000110,Maidstone,borough", "unknown entity 'borough'"),
    (GEOGRAPHY_FILE, f"{MAIDSTONE},E10000016", f"{MAIDSTONE},E12000008", "inside a region"),
    (GEOGRAPHY_FILE, "E07000106,Canterbury,", "E07000110,Canterbury,", "listed twice"),
    (BESTFIT_FILE, "E01024075,E05010398", "E01024075,E05015593", "but its ward"),
    (BESTFIT_FILE, "E01024075,E05010398", "E01024075,E05099999", "is not a ward"),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), BREAKAGES)
def test_a_broken_file_fails_with_a_clear_message(tmp_path: Path, file, old, new, message):
    folder = _copy(tmp_path)
    _rewrite(folder / file, old, new)
    with pytest.raises(GeographyError, match=message) as raised:
        load(folder)
    assert file in str(raised.value)
