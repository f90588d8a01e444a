"""What changed between two versions of an agreement, in plain English.

``diff(old, new)`` walks both documents side by side and returns one :class:`Change` per
difference a reviewer needs to read before signing an amendment. List items (parties,
datasets, fields, flows, retention rules ...) are matched by their identifying keys, not
their position, so inserting a dataset shows one addition rather than every later dataset as
changed. Lists of codes (lawful bases, actions, roles) are compared as sets: each code added or
taken away is one change. Codes are shown with their vocabulary labels where one applies.

Status, signatures and provenance change as a matter of course and are left out, as are the
document's own id and its link to a parent agreement (an amendment drafted as a new agreement
always differs from its parent in those).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from .document import DataSharingAgreement
from .vocabularies import UnknownCode, load

Kind = Literal["added", "removed", "changed"]

IGNORED = frozenset({"id", "status", "signatories", "provenance", "parent_agreement_id"})

GATEWAY_PREFIX = "ukdsa:gateway/"

# Document key → the bundled vocabulary its codes come from.
VOCABULARY_OF: Mapping[str, str] = {
    "agreement_type": "agreement_types",
    "article6": "article6",
    "article6_ea_condition": "article6_ea_conditions",
    "article9": "article9",
    "dpa2018_schedule1": "schedule1",
    "confidentiality_basis": "confidentiality_bases",
    "screening_reason": "dpia_high_risk_criteria",
    "sector": "sectors",
    "roles": "party_roles",
    "role": "signatory_roles",
}

# Plain-English names for document keys whose spelt-out form reads badly.
KEY_LABELS: Mapping[str, str] = {
    "agreement_type": "kind of agreement",
    "article6": "Article 6 lawful bases",
    "article6_ea_condition": "Article 6(1)(ea) condition",
    "article9": "Article 9 conditions",
    "article10": "criminal offence data (Article 10)",
    "dpa2018_schedule1": "DPA 2018 Schedule 1 conditions",
    "dpa2018_part3": "DPA 2018 Part 3 (law enforcement)",
    "dpia": "DPIA",
    "dpv_purpose": "DPV purposes",
    "dpv_pd": "DPV personal data categories",
    "org_identifiers": "identifiers",
    "to_party_ids": "recipients",
    "from_party_id": "provider",
    "provider_party_id": "provider",
    "dataset_ids": "datasets",
    "purpose_ids": "purposes",
    "party_id": "party",
    "dataset_id": "dataset",
    "sar_routing": "subject access request routing",
    "art14_exemption_relied_on": "Article 14 exemption relied on",
    "s35_condition": "section 35 condition",
    "schedule8_condition": "Schedule 8 condition",
    "ico_notification_owner": "who notifies the ICO",
    "notify_parties_within_hours": "hours within which to notify the other parties",
    "foi_exemptions": "FOI exemptions",
    "url": "web address",
    "legal_basis_override": "legal basis for this flow",
    "review_frequency_months": "review every (months)",
    "waspi_designated_person": "WASPI designated person",
    "siro": "SIRO",
    "dpo": "DPO",
}

SECTION_LABELS: Mapping[str, str] = {
    "legal_basis": "Legal basis",
    "dpia": "DPIA",
    "onward_sharing": "Onward sharing",
    "rights_handling": "Rights of the people the data is about",
    "breach_handling": "Breach handling",
    "data_quality": "Data quality",
    "handling_caveats": "Handling caveats",
}


@dataclass(frozen=True)
class Change:
    """One difference: where it is (as a path and in words), what kind, and the values."""

    path: str
    kind: Kind
    where: str
    old: str | None = None
    new: str | None = None

    @property
    def sentence(self) -> str:
        if self.kind == "added":
            return f"{self.where}: added {self.new}" if self.new else f"{self.where}: added"
        if self.kind == "removed":
            return f"{self.where}: removed {self.old}" if self.old else f"{self.where}: removed"
        return f"{self.where}: changed from {self.old} to {self.new}"


@dataclass(frozen=True)
class Term:
    """A code with its vocabulary label and, where there is one, the law it comes from."""

    code: str
    label: str
    url: str | None = None

    def __str__(self) -> str:
        # Legal references (6.1.e, s1p1.3, dea2017-s35) are worth showing beside the label;
        # snake_case codes (london_borough) only repeat it.
        if self.label == self.code or not any(ch.isdigit() for ch in self.code):
            return self.label
        return f"{self.label} ({self.code})"


def term(vocabulary: str, code: str) -> Term:
    """CODE in VOCABULARY with its label and legislation link; the bare code when unknown."""
    lookup = code.removeprefix(GATEWAY_PREFIX) if vocabulary == "gateways" else code
    try:
        entry = load(vocabulary).get(lookup)
    except UnknownCode:
        return Term(code=code, label=code)
    url = entry.legislation or entry.get("url")
    return Term(code=code, label=entry.label, url=url)


def humanise(key: str) -> str:
    """A document key or enumeration value as words: 'record_level_identifiable' → 'record
    level identifiable'."""
    return KEY_LABELS.get(key) or key.replace("_", " ")


_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _duration(value: str) -> str | None:
    match = _DURATION.match(value)
    if not match or not any(match.groups()):
        return None
    parts = []
    for number, unit in zip(match.groups(), ("year", "month", "week", "day"), strict=True):
        if number:
            parts.append(f"{int(number)} {unit}{'' if int(number) == 1 else 's'}")
    return " ".join(parts)


def render(value: Any, key: str = "") -> str:
    """A value from the document as words: vocabulary labels, dates as 1 April 2025,
    durations spelt out, yes/no for booleans."""
    if value is None or value == "" or value == []:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(render(item, key) for item in value)
    if isinstance(value, dict):
        return _summary(value)
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if key in VOCABULARY_OF:
        return str(term(VOCABULARY_OF[key], text))
    if key == "code" and text.startswith(GATEWAY_PREFIX):
        return str(term("gateways", text))
    if _DATE.match(text):
        try:
            return f"{date.fromisoformat(text):%-d %B %Y}"
        except ValueError:
            return text
    spelt = _duration(text) if key in {"period", "due"} else None
    if spelt:
        return f"{spelt} ({text})"
    if key in _ENUM_KEYS:
        return humanise(text)
    return f"“{text}”"


# Keys whose values are enumeration codes without a bundled vocabulary: shown as words.
_ENUM_KEYS = frozenset(
    {
        "jurisdictions",
        "data_subjects",
        "granularity",
        "geography_level",
        "data_type",
        "identifier_type",
        "personal_data_category",
        "transformation_before_share",
        "direction",
        "frequency",
        "transfer_method",
        "format",
        "actions",
        "scope",
        "power_type",
        "classification",
        "encryption_in_transit",
        "hosting_location",
        "access_control",
        "assurance",
        "disposal_method",
        "evidence",
        "outcome",
        "residual_risk",
        "match_method",
        "matching_keys",
        "on_termination",
        "method",
        "register",
        "scheme",
    }
)


def _summary(value: Mapping[str, Any]) -> str:
    """A whole object, as 'key: value; ...' for the parts that are filled in."""
    parts = [
        f"{humanise(key)}: {render(item, key)}"
        for key, item in value.items()
        if item not in (None, "", [], {}, False)
    ]
    return "; ".join(parts) if parts else "(empty)"


def _brief(item: Mapping[str, Any], show: Callable[[Any, str], str] = render) -> str:
    """A list item added or removed, in short: its filled-in values, with nested lists
    counted rather than spelt out."""
    parts = []
    for key, value in item.items():
        if key in IDENTITY_KEYS or _is_empty(value) or value is False:
            continue
        if isinstance(value, list) and isinstance(value[0], dict):
            noun = ITEM_NOUNS.get(key, humanise(key))
            parts.append(f"{len(value)} {noun}{'' if len(value) == 1 else 's'}")
        elif isinstance(value, dict):
            continue
        else:
            parts.append(f"{humanise(key)}: {show(value, key)}")
    return "; ".join(parts)


# How the items of each list are told apart, and how one is named in words.
def _retention_key(item: Mapping[str, Any]) -> str:
    return f"{item.get('dataset_id')}@{item.get('party_id')}"


IDENTITY: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "retention": _retention_key,
    "org_identifiers": lambda item: str(item.get("scheme")),
    "statutory_gateways": lambda item: str(item.get("code")),
    "prohibited_uses": lambda item: str(item.get("code")),
    "report_back": lambda item: str(item.get("what")),
    "change_log": lambda item: str(item.get("version")),
    "signatories": lambda item: f"{item.get('party_id')}:{item.get('role')}",
}
IDENTITY_KEYS = ("id", "name", "party_id", "code")

ITEM_NOUNS: Mapping[str, str] = {
    "parties": "party",
    "purposes": "purpose",
    "datasets": "dataset",
    "fields": "field",
    "flows": "flow",
    "retention": "retention rule",
    "org_identifiers": "identifier",
    "statutory_gateways": "statutory gateway",
    "processors": "processor",
    "prohibited_uses": "prohibited use",
    "report_back": "report back",
}

# Keys whose values are ids of the document's own parties or datasets: shown by name.
PARTY_REFERENCES = frozenset(
    {
        "from_party_id",
        "to_party_ids",
        "provider_party_id",
        "party_id",
        "permitted_recipients",
        "single_point_of_contact_party",
        "ico_notification_owner",
    }
)
DATASET_REFERENCES = frozenset({"dataset_ids", "dataset_id"})


def _identity(list_key: str, item: Mapping[str, Any]) -> str:
    if list_key in IDENTITY:
        return IDENTITY[list_key](item)
    for key in IDENTITY_KEYS:
        if item.get(key) not in (None, ""):
            return str(item[key])
    return ""


def _keyed(list_key: str, items: list[Any]) -> dict[str, Mapping[str, Any]]:
    """Items by identity; a repeated identity gets #2, #3 so nothing is dropped."""
    keyed: dict[str, Mapping[str, Any]] = {}
    for item in items:
        base = _identity(list_key, item) or "item"
        key, n = base, 1
        while key in keyed:
            n += 1
            key = f"{base}#{n}"
        keyed[key] = item
    return keyed


class _Namer:
    """Names list items in words, using the new document's names first (then the old)."""

    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]):
        self.datasets = self._names(old, new, "datasets", "name")
        self.parties = self._names(old, new, "parties", "name")

    @staticmethod
    def _names(
        old: Mapping[str, Any], new: Mapping[str, Any], key: str, name_key: str
    ) -> dict[str, str]:
        names: dict[str, str] = {}
        for doc in (old, new):
            for item in doc.get(key) or []:
                if item.get("id"):
                    names[item["id"]] = item.get(name_key) or item["id"]
        return names

    def item(self, list_key: str, identity: str, item: Mapping[str, Any]) -> str:
        noun = ITEM_NOUNS.get(list_key) or humanise(list_key)
        if list_key == "datasets":
            return f"{noun} '{self.datasets.get(identity, identity)}'"
        if list_key == "parties":
            return f"{noun} '{self.parties.get(identity, identity)}'"
        if list_key == "purposes":
            return f"{noun} '{item.get('title') or identity}'"
        if list_key == "retention":
            dataset = self.datasets.get(item.get("dataset_id", ""), item.get("dataset_id"))
            party = self.parties.get(item.get("party_id", ""), item.get("party_id"))
            return f"{noun} for '{dataset}' held by '{party}'"
        if list_key == "org_identifiers":
            return f"{noun} ({humanise(identity)})"
        if list_key == "statutory_gateways":
            return f"{noun} '{term('gateways', identity).label}'"
        return f"{noun} '{identity}'"


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _join(where: list[str]) -> str:
    text = ", ".join(where)
    return text[:1].upper() + text[1:]


class _Walker:
    def __init__(self, namer: _Namer):
        self.namer = namer

    def show(self, value: Any, key: str) -> str:
        """VALUE in words; ids of parties and datasets by their names."""
        names = (
            self.namer.parties
            if key in PARTY_REFERENCES
            else self.namer.datasets
            if key in DATASET_REFERENCES
            else None
        )
        if names is not None and isinstance(value, str) and value in names:
            return f"{names[value]} ({value})" if names[value] != value else value
        if names is not None and isinstance(value, list):
            return ", ".join(self.show(item, key) for item in value)
        return render(value, key)

    def value(
        self, old: Any, new: Any, *, key: str, path: str, where: list[str]
    ) -> Iterator[Change]:
        if old == new:
            return
        if isinstance(old, dict) and isinstance(new, dict):
            yield from self.mapping(old, new, path=path, where=where)
        elif isinstance(old, list | type(None)) and isinstance(new, list | type(None)):
            yield from self.sequence(old or [], new or [], key=key, path=path, where=where)
        elif _is_empty(old):
            yield Change(path, "added", _join(where), new=self.show(new, key))
        elif _is_empty(new):
            yield Change(path, "removed", _join(where), old=self.show(old, key))
        else:
            old_text, new_text = self.show(old, key), self.show(new, key)
            yield Change(path, "changed", _join(where), old_text, new_text)

    def mapping(
        self, old: Mapping[str, Any], new: Mapping[str, Any], *, path: str, where: list[str]
    ) -> Iterator[Change]:
        for key in dict.fromkeys([*old, *new]):
            if not path and key in IGNORED:
                continue
            here = f"{path}.{key}" if path else key
            label = SECTION_LABELS.get(key, humanise(key)) if not path else humanise(key)
            yield from self.value(
                old.get(key), new.get(key), key=key, path=here, where=[*where, label]
            )

    def sequence(
        self, old: list[Any], new: list[Any], *, key: str, path: str, where: list[str]
    ) -> Iterator[Change]:
        if all(isinstance(item, dict) for item in [*old, *new]):
            yield from self.items(old, new, key=key, path=path, where=where)
            return
        # Codes and strings: each one added or taken away is a change; order is not.
        before = list(dict.fromkeys(str(i) for i in old))
        after = list(dict.fromkeys(str(i) for i in new))
        for item in before:
            if item not in after:
                yield Change(f"{path}[{item}]", "removed", _join(where), old=self.show(item, key))
        for item in after:
            if item not in before:
                yield Change(f"{path}[{item}]", "added", _join(where), new=self.show(item, key))

    def items(
        self, old: list[Any], new: list[Any], *, key: str, path: str, where: list[str]
    ) -> Iterator[Change]:
        before, after = _keyed(key, old), _keyed(key, new)
        # A section's own heading (e.g. "Datasets") is dropped: the item noun says it.
        outer = where[:-1]
        for identity in dict.fromkeys([*before, *after]):
            here = f"{path}[{identity}]"
            was, now = before.get(identity), after.get(identity)
            name = self.namer.item(key, identity, now or was or {})
            if was is None:
                yield Change(here, "added", _join([*outer, name]), new=_brief(now or {}, self.show))
            elif now is None:
                yield Change(here, "removed", _join([*outer, name]), old=_brief(was, self.show))
            else:
                yield from self.mapping(was, now, path=here, where=[*outer, name])


def diff(old: DataSharingAgreement, new: DataSharingAgreement) -> list[Change]:
    """The differences of NEW from OLD, in document order."""
    before = old.model_dump(mode="json", by_alias=True)
    after = new.model_dump(mode="json", by_alias=True)
    walker = _Walker(_Namer(before, after))
    return list(walker.mapping(before, after, path="", where=[]))


def counts(changes: list[Change]) -> dict[str, int]:
    """How many changes of each kind."""
    found = {"added": 0, "removed": 0, "changed": 0}
    for change in changes:
        found[change.kind] += 1
    return found
