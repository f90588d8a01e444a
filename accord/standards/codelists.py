"""Bundled, versioned code lists (GSS areas and others) with their source, vintage and licence.

Each list is two files in ``data/codelists/``: ``NAME.csv`` with ``code,name`` columns (a name
may be blank) and ``NAME.json`` with ``name``, ``title``, ``entity``, ``source``, ``vintage``,
``licence``, ``attribution`` and ``generated_from`` (what file or package it was derived from,
and how). ``scripts/build_codelists.py`` regenerates them; it is run by hand, never at install.

GSS codes are never reused but change when boundaries change, so a list is for one vintage:
Sheffield is ``E08000039`` in ``lad25``, not the ``E08000019`` of older lists.
"""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import polars as pl

DATA_DIR = Path(__file__).parent / "data" / "codelists"
METADATA_KEYS = (
    "name",
    "title",
    "entity",
    "source",
    "vintage",
    "licence",
    "attribution",
    "generated_from",
)


class UnknownCodeList(LookupError):
    """No bundled code list has that name."""

    def __init__(self, name: str):
        self.name = name
        names = ", ".join(available()) or "none"
        super().__init__(
            f"There is no bundled code list called '{name}'. The lists Accord has are: {names}."
        )


@dataclass(frozen=True)
class CodeList:
    """One vintage of a code list: its codes, their names, and where they came from."""

    name: str
    title: str
    entity: str
    source: str
    vintage: str
    licence: str
    attribution: str
    codes: frozenset[str]
    names: Mapping[str, str] = field(compare=False, hash=False, repr=False)
    generated_from: str = field(default="", compare=False)

    def __contains__(self, code: object) -> bool:
        return code in self.codes

    def __len__(self) -> int:
        return len(self.codes)

    def name_of(self, code: str) -> str:
        """The code's name, or "" when the list has none for it."""
        return self.names.get(code, "")


@functools.cache
def available() -> tuple[str, ...]:
    """Names of the bundled code lists, sorted."""
    return tuple(
        sorted(path.stem for path in DATA_DIR.glob("*.json") if path.with_suffix(".csv").is_file())
    )


@functools.cache
def load(name: str) -> CodeList:
    """The bundled code list called ``name`` (read once, then cached)."""
    if name not in available():
        raise UnknownCodeList(name)
    metadata = json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    missing = [key for key in METADATA_KEYS if not str(metadata.get(key) or "").strip()]
    if missing:
        raise ValueError(f"Code list '{name}' has no {', '.join(missing)} in its JSON file.")
    names: dict[str, str] = {}
    with (DATA_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["code", "name"]:
            raise ValueError(f"Code list '{name}' must have the columns code,name.")
        for row in reader:
            code = row["code"]
            if not code or code in names:
                raise ValueError(f"Code list '{name}' has a blank or repeated code: {code!r}.")
            names[code] = row["name"] or ""
    return CodeList(
        name=metadata["name"],
        title=metadata["title"],
        entity=metadata["entity"],
        source=metadata["source"],
        vintage=metadata["vintage"],
        licence=metadata["licence"],
        attribution=metadata["attribution"],
        codes=frozenset(names),
        names=MappingProxyType({code: n for code, n in names.items() if n}),
        generated_from=metadata["generated_from"],
    )


@functools.cache
def _sorted_codes(name: str) -> tuple[str, ...]:
    return tuple(sorted(load(name).codes))


def membership_fails(name: str, expr: pl.Expr) -> pl.Expr:
    """True where a (cleaned) value is not in the list; false where it is, or is null.

    Raises UnknownCodeList at once (not when the expression runs) for a list Accord lacks.
    """
    codes = pl.lit(pl.Series("codes", _sorted_codes(name), dtype=pl.String)).implode()
    return (~expr.is_in(codes)).fill_null(False)
