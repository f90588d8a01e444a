"""The bundled code list of real public geography: ONS areas (country, regions, county,
local authority districts, combined authority, wards, LSOAs) and the NHS integrated care board.

The codes and names are real and public (see ``data/GEOGRAPHY-SOURCES.md`` for where each row
was checked, and the attribution to show). The list is a small extract for the demo, not a full
code list: a code missing from it is not necessarily wrong.

``geography()`` reads the files once per process and returns a read-only ``Geography``; a broken
file fails loudly with its name, line and what is wrong. Later work (validation of area columns,
demo datasets) uses the lookups here:

    geo = geography()
    geo.get("E07000110").name                  # "Maidstone"
    geo.children("E07000110", AreaEntity.WARD) # Maidstone's wards
    geo.lad_of("E01024075")                    # the district an LSOA lies in
    geo.best_fit_ward("E01024075")             # ONS best-fit ward (an approximation)
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType

GEOGRAPHY_FILE = "geography.csv"
BESTFIT_FILE = "lsoa_ward_bestfit.csv"
GEOGRAPHY_COLUMNS = ("code", "name", "entity", "parent_code", "vintage", "source")
BESTFIT_COLUMNS = ("lsoa21cd", "ward_code", "vintage", "source")

ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right."
)


class AreaEntity(StrEnum):
    """Kinds of area in the code list, as spelled in its ``entity`` column."""

    COUNTRY = "country"
    REGION = "region"
    COUNTY = "county"
    DISTRICT = "district"  # lower-tier district in a two-tier county (E07)
    UNITARY = "unitary"  # unitary authority (E06)
    METROPOLITAN_DISTRICT = "metropolitan_district"  # (E08) none bundled yet
    LONDON_BOROUGH = "london_borough"  # (E09)
    COMBINED_AUTHORITY = "combined_authority"
    ICB = "icb"
    WARD = "ward"
    LSOA = "lsoa"


# Local authority districts: the lowest tier of local government, which wards and LSOAs sit in.
LAD_ENTITIES = frozenset(
    {
        AreaEntity.DISTRICT,
        AreaEntity.UNITARY,
        AreaEntity.METROPOLITAN_DISTRICT,
        AreaEntity.LONDON_BOROUGH,
    }
)

# What each kind of area must sit inside (its parent_code's entity). The ICB points to England:
# NHS geography does not nest inside local government areas.
ALLOWED_PARENTS: Mapping[AreaEntity, frozenset[AreaEntity]] = MappingProxyType(
    {
        AreaEntity.COUNTRY: frozenset(),
        AreaEntity.REGION: frozenset({AreaEntity.COUNTRY}),
        AreaEntity.COUNTY: frozenset({AreaEntity.REGION}),
        AreaEntity.DISTRICT: frozenset({AreaEntity.COUNTY}),
        AreaEntity.UNITARY: frozenset({AreaEntity.REGION}),
        AreaEntity.METROPOLITAN_DISTRICT: frozenset({AreaEntity.REGION, AreaEntity.COUNTY}),
        AreaEntity.LONDON_BOROUGH: frozenset({AreaEntity.REGION}),
        AreaEntity.COMBINED_AUTHORITY: frozenset({AreaEntity.REGION}),
        AreaEntity.ICB: frozenset({AreaEntity.COUNTRY}),
        AreaEntity.WARD: LAD_ENTITIES,
        AreaEntity.LSOA: LAD_ENTITIES,
    }
)


class GeographyError(ValueError):
    """The bundled code list is malformed or inconsistent."""


class UnknownArea(KeyError):
    """A code that is not in the bundled code list."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code!r} is not in the bundled geography code list."


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    entity: AreaEntity
    parent_code: str  # "" for a country
    vintage: str  # e.g. LAD25, WD24, LSOA21: which edition of the code list it was checked in
    source: str

    @property
    def is_lad(self) -> bool:
        return self.entity in LAD_ENTITIES

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class Geography:
    """Areas by code, with parent/child links and the LSOA → ward best-fit lookup."""

    areas: Mapping[str, Area]
    lsoa_best_fit_ward: Mapping[str, str]
    _children: Mapping[str, tuple[str, ...]] = field(repr=False)

    # Lookups ---------------------------------------------------------------------------

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self.areas

    def __iter__(self) -> Iterator[Area]:
        return iter(self.areas.values())

    def __len__(self) -> int:
        return len(self.areas)

    def find(self, code: str) -> Area | None:
        return self.areas.get(code.strip().upper())

    def get(self, code: str) -> Area:
        area = self.find(code)
        if area is None:
            raise UnknownArea(code)
        return area

    def name_of(self, code: str) -> str:
        return self.get(code).name

    def of_entity(self, *entities: AreaEntity) -> list[Area]:
        """Every area of the given kinds, in code order."""
        wanted = set(entities)
        return sorted((a for a in self.areas.values() if a.entity in wanted), key=_by_code)

    def local_authority_districts(self) -> list[Area]:
        return self.of_entity(*LAD_ENTITIES)

    # Hierarchy -------------------------------------------------------------------------

    def parent(self, code: str) -> Area | None:
        area = self.get(code)
        return self.areas[area.parent_code] if area.parent_code else None

    def ancestors(self, code: str) -> list[Area]:
        """The areas containing ``code``, nearest first (e.g. ward → district → county → ...)."""
        found: list[Area] = []
        parent = self.parent(code)
        while parent is not None:
            found.append(parent)
            parent = self.parent(parent.code)
        return found

    def children(self, code: str, entity: AreaEntity | None = None) -> list[Area]:
        """The areas directly inside ``code`` (optionally only one kind), in code order."""
        self.get(code)
        kids = (self.areas[c] for c in self._children.get(code.strip().upper(), ()))
        return [a for a in kids if entity is None or a.entity == entity]

    def descendants(self, code: str, entity: AreaEntity | None = None) -> list[Area]:
        """Every area inside ``code`` at any depth (optionally only one kind), in code order."""
        found: list[Area] = []
        stack = [self.get(code).code]
        while stack:
            for child in self.children(stack.pop()):
                found.append(child)
                stack.append(child.code)
        return sorted((a for a in found if entity is None or a.entity == entity), key=_by_code)

    def wards_of(self, lad_code: str) -> list[Area]:
        return self.children(lad_code, AreaEntity.WARD)

    def lsoas_of(self, lad_code: str) -> list[Area]:
        return self.children(lad_code, AreaEntity.LSOA)

    def lad_of(self, code: str) -> Area:
        """The local authority district a ward or LSOA lies in (or the district itself)."""
        area = self.get(code)
        for candidate in (area, *self.ancestors(code)):
            if candidate.is_lad:
                return candidate
        raise GeographyError(f"{area} is not inside a local authority district.")

    def is_within(self, code: str, container: str) -> bool:
        """Whether ``code`` lies inside ``container`` (an area is not inside itself)."""
        target = self.get(container).code
        return any(a.code == target for a in self.ancestors(code))

    # LSOA → ward (best fit, not containment) -------------------------------------------

    def best_fit_ward(self, lsoa_code: str) -> Area | None:
        """The ONS best-fit ward of an LSOA, or None when the list has none for it. An LSOA can
        cross a ward boundary; ONS assigns it by population-weighted centroid."""
        ward = self.lsoa_best_fit_ward.get(self.get(lsoa_code).code)
        return self.areas[ward] if ward else None

    def lsoas_best_fitting(self, ward_code: str) -> list[Area]:
        target = self.get(ward_code).code
        return sorted(
            (self.areas[lsoa] for lsoa, ward in self.lsoa_best_fit_ward.items() if ward == target),
            key=_by_code,
        )


def _by_code(area: Area) -> str:
    return area.code


def _rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = tuple(reader.fieldnames or ())
        if header != columns:
            raise GeographyError(
                f"{path.name}: expected the columns {', '.join(columns)}; "
                f"found {', '.join(header) or 'none'}."
            )
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise GeographyError(
                    f"{path.name} line {reader.line_num}: expected {len(columns)} values."
                )
            yield reader.line_num, {k: v.strip() for k, v in row.items()}


def _read_areas(path: Path) -> dict[str, Area]:
    areas: dict[str, Area] = {}
    lines: dict[str, int] = {}
    for line, row in _rows(path, GEOGRAPHY_COLUMNS):
        where = f"{path.name} line {line}"
        code = row["code"].upper()
        if not code or not row["name"]:
            raise GeographyError(f"{where}: every area needs a code and a name.")
        if code in areas:
            raise GeographyError(f"{where}: {code} is listed twice (also line {lines[code]}).")
        try:
            entity = AreaEntity(row["entity"])
        except ValueError:
            raise GeographyError(
                f"{where}: unknown entity {row['entity']!r}; expected one of "
                f"{', '.join(AreaEntity)}."
            ) from None
        areas[code] = Area(
            code=code,
            name=row["name"],
            entity=entity,
            parent_code=row["parent_code"].upper(),
            vintage=row["vintage"],
            source=row["source"],
        )
        lines[code] = line
    for area in areas.values():
        where = f"{path.name} line {lines[area.code]}"
        allowed = ALLOWED_PARENTS[area.entity]
        if not area.parent_code:
            if allowed:
                raise GeographyError(f"{where}: {area} needs a parent_code.")
            continue
        parent = areas.get(area.parent_code)
        if parent is None:
            raise GeographyError(
                f"{where}: the parent {area.parent_code} of {area} is not in the list."
            )
        if parent.entity not in allowed:
            raise GeographyError(
                f"{where}: a {area.entity} cannot sit inside a {parent.entity} ({parent})."
            )
    return areas


def _read_best_fit(path: Path, areas: Mapping[str, Area]) -> dict[str, str]:
    best_fit: dict[str, str] = {}
    for line, row in _rows(path, BESTFIT_COLUMNS):
        where = f"{path.name} line {line}"
        lsoa, ward = areas.get(row["lsoa21cd"].upper()), areas.get(row["ward_code"].upper())
        if lsoa is None or lsoa.entity != AreaEntity.LSOA:
            raise GeographyError(f"{where}: {row['lsoa21cd']} is not an LSOA in {GEOGRAPHY_FILE}.")
        if ward is None or ward.entity != AreaEntity.WARD:
            raise GeographyError(f"{where}: {row['ward_code']} is not a ward in {GEOGRAPHY_FILE}.")
        if lsoa.code in best_fit:
            raise GeographyError(f"{where}: {lsoa.code} is listed twice.")
        if lsoa.parent_code != ward.parent_code:
            raise GeographyError(
                f"{where}: LSOA {lsoa} is in {lsoa.parent_code} but its ward {ward} is in "
                f"{ward.parent_code}."
            )
        best_fit[lsoa.code] = ward.code
    return best_fit


def load(directory: Path | str) -> Geography:
    """Read and check the code list in ``directory`` (uncached; see ``geography()``)."""
    folder = Path(directory)
    areas = _read_areas(folder / GEOGRAPHY_FILE)
    best_fit = _read_best_fit(folder / BESTFIT_FILE, areas)
    children: dict[str, list[str]] = {}
    for area in sorted(areas.values(), key=_by_code):
        if area.parent_code:
            children.setdefault(area.parent_code, []).append(area.code)
    return Geography(
        areas=MappingProxyType(areas),
        lsoa_best_fit_ward=MappingProxyType(best_fit),
        _children=MappingProxyType({k: tuple(v) for k, v in children.items()}),
    )


def data_directory() -> Path:
    return Path(str(resources.files("accord.demo") / "data"))


@functools.cache
def geography() -> Geography:
    """The bundled code list, read once per process."""
    return load(data_directory())


def codes(areas: Iterable[Area]) -> list[str]:
    return [a.code for a in areas]
