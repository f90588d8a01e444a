"""A data standard: its published descriptor and the parsed, checked form the engine compiles.

The published form is a Frictionless Table Schema (JSON) with Accord's extra properties kept
under an ``"accord"`` key, at the top level and on each field, so any Table Schema tool can read
it and ignore what it does not know::

    {
      "name": "care-home-daily-status", "version": "1.0", "title": "...", "description": "...",
      "accord": {"personalData": false, "rowDescription": "One row per care home per day"},
      "fields": [
        {"name": "report_date", "title": "Report date", "type": "date", "format": "any",
         "description": "...", "example": "2026-03-01",
         "constraints": {"required": true, "minimum": "2020-01-01"},
         "accord": {"aliases": ["date"], "messages": {"required": "Enter the date ..."}}},
        {"name": "ltla_cd", "type": "string",
         "accord": {"identifier": "gss", "gssEntities": ["local_authority"], "codeList": "lad25"}}
      ],
      "primaryKey": ["report_date", "cqc_location_id"]
    }

Field types are Table Schema's ``string``, ``integer``, ``number``, ``boolean``, ``date`` and
``datetime``. A date's ``format`` is ``default`` (ISO 8601 ``YYYY-MM-DD`` only, as Table Schema
says) or ``any`` (also UK day-first dates and Excel serial dates, normalised to ISO).
Constraints are Table Schema's: ``required``, ``unique``, ``enum``, ``minimum``, ``maximum``,
``minLength``, ``maxLength``, ``pattern``. Accord's field properties:

- ``identifier``: an identifier type checked by :mod:`accord.standards.checks` (``nhs_number``,
  ``upn``, ``nino``, ``postcode``, ``uprn``, ``usrn``, ``gss``, ``ods``, ...);
- ``gssEntities``: for ``gss``, the kinds of area allowed (their code prefixes);
- ``codeList``: a bundled code list the value must belong to (:mod:`accord.standards.codelists`);
- ``aliases``: other headers councils use for the column;
- ``messages``: the standard's own wording for a rule, by rule id, with ``{value}`` in it;
- ``personal``: whether the column holds personal data (identifiers always do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .exceptions import StandardError

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
VERSION_PATTERN = re.compile(r"^\d+(?:\.\d+){0,2}$")
FIELD_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

TYPES = ("string", "integer", "number", "boolean", "date", "datetime")
DATE_FORMATS = ("default", "any")
TRUE_VALUES = ("true", "yes", "y", "1")
FALSE_VALUES = ("false", "no", "n", "0")
CONSTRAINTS = (
    "required",
    "unique",
    "enum",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
)
FIELD_ACCORD_KEYS = ("identifier", "gssEntities", "codeList", "aliases", "messages", "personal")


@dataclass(frozen=True)
class Field:
    """One column of a standard."""

    name: str
    title: str
    type: str = "string"
    format: str = "default"
    description: str = ""
    example: str = ""
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    minimum: int | float | str | None = None
    maximum: int | float | str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    identifier: str | None = None
    gss_entities: tuple[str, ...] = ()
    code_list: str | None = None
    aliases: tuple[str, ...] = ()
    messages: Mapping[str, str] = field(default_factory=dict)
    personal: bool = False
    true_values: tuple[str, ...] = TRUE_VALUES
    false_values: tuple[str, ...] = FALSE_VALUES

    @property
    def is_identifier(self) -> bool:
        return self.identifier is not None

    @property
    def as_text(self) -> bool:
        """Whether a spreadsheet must keep this column as text (identifiers, codes, patterns)."""
        return self.type == "string"


@dataclass(frozen=True)
class Standard:
    """A parsed, checked version of a data standard."""

    slug: str
    version: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    personal_data: bool = False
    row_description: str = ""
    descriptor: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.slug}@{self.version}"

    @property
    def identifiers(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.is_identifier)

    def field(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for versions: ``1.10`` after ``1.9``."""
    return tuple(int(part) for part in version.split("."))


def parse_standard(descriptor: Mapping[str, Any]) -> Standard:
    """Check a descriptor and return the Standard, or raise StandardError naming every problem."""
    problems: list[str] = []
    if not isinstance(descriptor, Mapping):
        raise StandardError(["The standard must be a JSON object."])
    slug = str(descriptor.get("name") or "")
    version = str(descriptor.get("version") or "")
    if not SLUG_PATTERN.match(slug):
        problems.append(
            "'name' must be a slug of lower-case letters, digits and hyphens, "
            "like care-home-daily-status."
        )
    if not VERSION_PATTERN.match(version):
        problems.append("'version' must be numbers separated by dots, like 1.0 or 2.1.3.")
    title = str(descriptor.get("title") or "").strip()
    if not title:
        problems.append("'title' is missing: give the standard a plain-English name.")
    accord = descriptor.get("accord") or {}
    if not isinstance(accord, Mapping):
        problems.append("'accord' must be an object.")
        accord = {}
    raw_fields = descriptor.get("fields")
    fields: list[Field] = []
    if not isinstance(raw_fields, list) or not raw_fields:
        problems.append("'fields' must be a non-empty list of columns.")
        raw_fields = []
    seen: set[str] = set()
    for position, raw in enumerate(raw_fields, start=1):
        parsed = _parse_field(raw, position, problems)
        if parsed is None:
            continue
        if parsed.name in seen:
            problems.append(f"Field {position}: the name '{parsed.name}' is used twice.")
        seen.add(parsed.name)
        fields.append(parsed)
    primary_key = descriptor.get("primaryKey") or ()
    if isinstance(primary_key, str):
        primary_key = (primary_key,)
    for name in primary_key:
        if name not in seen:
            problems.append(f"'primaryKey' names '{name}', which is not a field.")
    if problems:
        raise StandardError(problems)
    personal = bool(accord.get("personalData", any(f.personal for f in fields)))
    return Standard(
        slug=slug,
        version=version,
        title=title,
        description=str(descriptor.get("description") or ""),
        fields=tuple(fields),
        primary_key=tuple(primary_key),
        personal_data=personal,
        row_description=str(accord.get("rowDescription") or ""),
        descriptor=descriptor,
    )


def _parse_field(raw: Any, position: int, problems: list[str]) -> Field | None:
    from . import checks, codelists

    where = f"Field {position}"
    if not isinstance(raw, Mapping):
        problems.append(f"{where} must be an object.")
        return None
    name = str(raw.get("name") or "")
    if not FIELD_NAME_PATTERN.match(name):
        problems.append(
            f"{where}: name '{name}' must be lower case letters, digits and underscores, "
            "starting with a letter."
        )
        return None
    where = f"Field '{name}'"
    kind = raw.get("type", "string")
    if kind not in TYPES:
        problems.append(f"{where}: type '{kind}' is not one of {', '.join(TYPES)}.")
        return None
    fmt = raw.get("format", "default")
    if kind in ("date", "datetime") and fmt not in DATE_FORMATS:
        problems.append(f"{where}: a {kind} format must be 'default' (ISO 8601) or 'any'.")
    constraints = raw.get("constraints") or {}
    accord = raw.get("accord") or {}
    for key in constraints:
        if key not in CONSTRAINTS:
            problems.append(f"{where}: unknown constraint '{key}'.")
    for key in accord:
        if key not in FIELD_ACCORD_KEYS:
            problems.append(f"{where}: unknown Accord property '{key}'.")
    pattern = constraints.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"{where}: the pattern is not a valid regular expression ({exc}).")
    enum = constraints.get("enum")
    if enum is not None and (not isinstance(enum, list) or not enum):
        problems.append(f"{where}: 'enum' must be a non-empty list of allowed values.")
        enum = None
    identifier = accord.get("identifier")
    if identifier is not None and identifier not in checks.IDENTIFIER_TYPES:
        problems.append(
            f"{where}: identifier type '{identifier}' is not one Accord checks "
            f"({', '.join(sorted(checks.IDENTIFIER_TYPES))})."
        )
    gss_entities = tuple(accord.get("gssEntities") or ())
    for entity in gss_entities:
        if entity not in checks.GSS_ENTITY_PREFIXES:
            problems.append(f"{where}: '{entity}' is not a GSS entity Accord knows.")
    code_list = accord.get("codeList")
    if code_list is not None and code_list not in codelists.available():
        problems.append(f"{where}: code list '{code_list}' is not bundled with Accord.")
    minimum, maximum = constraints.get("minimum"), constraints.get("maximum")
    bounds_ok = True
    for bound_name, bound in (("minimum", minimum), ("maximum", maximum)):
        problem = _bound_problem(kind, bound)
        if problem:
            problems.append(f"{where}: {bound_name} {bound!r} {problem}")
            bounds_ok = False
    if bounds_ok and minimum is not None and maximum is not None and minimum > maximum:
        problems.append(f"{where}: minimum {minimum} is above maximum {maximum}.")
    messages = accord.get("messages") or {}
    if not isinstance(messages, Mapping):
        problems.append(f"{where}: 'messages' must map rule ids to sentences.")
        messages = {}
    true_values = tuple(str(v).lower() for v in raw.get("trueValues", TRUE_VALUES))
    false_values = tuple(str(v).lower() for v in raw.get("falseValues", FALSE_VALUES))
    return Field(
        name=name,
        title=str(raw.get("title") or name.replace("_", " ").capitalize()),
        type=kind,
        format=fmt,
        description=str(raw.get("description") or ""),
        example=str(raw.get("example") or ""),
        required=bool(constraints.get("required", False)),
        unique=bool(constraints.get("unique", False)),
        enum=tuple(str(v) for v in enum) if enum else None,
        minimum=minimum,
        maximum=maximum,
        min_length=constraints.get("minLength"),
        max_length=constraints.get("maxLength"),
        pattern=pattern,
        identifier=identifier,
        gss_entities=gss_entities,
        code_list=code_list,
        aliases=tuple(str(a) for a in accord.get("aliases") or ()),
        messages=dict(messages),
        personal=bool(accord.get("personal", _identifier_is_personal(identifier))),
        true_values=true_values,
        false_values=false_values,
    )


def _identifier_is_personal(identifier: str | None) -> bool:
    from . import checks

    kind = checks.IDENTIFIER_TYPES.get(identifier or "")
    return bool(kind and kind.personal)


def _bound_problem(kind: str, bound: Any) -> str:
    """Why ``bound`` cannot be a minimum or maximum of a ``kind`` column ("" when it can), so a
    published standard can never make the engine fail on every file it checks."""
    if bound is None:
        return ""
    if kind in ("integer", "number"):
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            return f"must be a number for a {kind} column."
        if kind == "integer" and not float(bound).is_integer():
            return "must be a whole number for an integer column."
        return ""
    if kind == "date":
        import datetime as dt

        try:
            dt.date.fromisoformat(bound if isinstance(bound, str) else "")
        except ValueError:
            return "must be a date written YYYY-MM-DD."
        if len(bound) != 10:
            return "must be a date written YYYY-MM-DD."
        return ""
    return f"cannot be set on a {kind} column; only numbers and dates have ranges."
