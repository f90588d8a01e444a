"""Link models: the vetted comparisons for people and properties, as analysts see them.

A ``LinkModel`` is plain data (JSON in and out) that says which comparisons a linkage job
uses, which identifiers link records outright, and where the thresholds sit. How each
comparison is carried out lives in ``splink_model``; this module has no Splink in it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, cast, get_args

Entity = Literal["person", "property"]
ENTITIES: tuple[Entity, ...] = get_args(Entity)

PERSON_COLUMNS = (
    "record_id",
    "nhs_number",
    "uprn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "address",
    "postcode",
)
PROPERTY_COLUMNS = ("record_id", "uprn", "address", "postcode")
COLUMNS: dict[Entity, tuple[str, ...]] = {"person": PERSON_COLUMNS, "property": PROPERTY_COLUMNS}

MODEL_JSON_VERSION = 1


@dataclass(frozen=True)
class Comparison:
    """One comparison of a template, shown to the analyst."""

    key: str
    label: str
    enabled: bool = True


_PERSON_COMPARISONS = (
    Comparison("nhs_number", "NHS number, where both records have a valid one"),
    Comparison("given_name", "Given names, allowing nicknames and typing errors"),
    Comparison("family_name", "Family names, allowing typing errors and how common a name is"),
    Comparison("date_of_birth", "Date of birth, allowing typing errors and day and month swapped"),
    Comparison("sex", "Sex"),
    Comparison(
        "address",
        "Address (or UPRN where both have one), allowing abbreviations and typing errors",
    ),
    Comparison("postcode", "Postcode, or the same postcode sector, district or area"),
)
_PROPERTY_COMPARISONS = (
    Comparison("uprn", "UPRN, where both records have a valid one"),
    Comparison("address", "Address, with house and flat numbers having to agree"),
    Comparison("postcode", "Postcode, or the same postcode sector, district or area"),
)
_COMPARISONS: dict[Entity, tuple[Comparison, ...]] = {
    "person": _PERSON_COMPARISONS,
    "property": _PROPERTY_COMPARISONS,
}
_EXACT_KEYS: dict[Entity, tuple[str, ...]] = {"person": ("nhs_number",), "property": ("uprn",)}

# Pairs at or above this probability link. Chosen on synthetic (100k and 1M a side) and FEBRL4
# data (bench/README.md): after one-to-one resolution precision stays at or above 0.998 from 0.5
# up, while recall falls steadily above 0.7.
DEFAULT_MATCH_THRESHOLD = 0.7
# Pairs from here up to the match threshold go to clerical review. Low enough that the pairs a
# reviewer can settle are offered: on the demo's single view, pairs from 0.2 to 0.7 are two in
# three true matches; above 0.5 there were almost none left to review.
DEFAULT_REVIEW_FROM = 0.2


@dataclass(frozen=True)
class LinkModel:
    """Which comparisons a job uses, its exact keys and its thresholds."""

    entity: Entity
    comparisons: tuple[Comparison, ...]
    exact_keys: tuple[str, ...]
    match_threshold: float = DEFAULT_MATCH_THRESHOLD
    review_from: float = DEFAULT_REVIEW_FROM
    one_to_one: bool = True

    @property
    def enabled_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.comparisons if c.enabled)

    @property
    def active_exact_keys(self) -> tuple[str, ...]:
        """Exact keys whose comparison is switched on (turning NHS number off stops both)."""
        enabled = set(self.enabled_keys)
        known = {c.key for c in self.comparisons}
        return tuple(k for k in self.exact_keys if k in enabled or k not in known)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MODEL_JSON_VERSION,
            "entity": self.entity,
            "comparisons": [
                {"key": c.key, "label": c.label, "enabled": c.enabled} for c in self.comparisons
            ],
            "exact_keys": list(self.exact_keys),
            "match_threshold": self.match_threshold,
            "review_from": self.review_from,
            "one_to_one": self.one_to_one,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkModel:
        """The model a ``to_json`` dictionary describes; ValueError in plain English if bad."""
        if not isinstance(data, dict):
            raise ValueError("The link model must be a JSON object.")
        version = data.get("version", MODEL_JSON_VERSION)
        if version != MODEL_JSON_VERSION:
            raise ValueError(
                f"The link model is version {version!r}; this version of Accord reads "
                f"version {MODEL_JSON_VERSION}."
            )
        entity = data.get("entity")
        if entity not in ENTITIES:
            raise ValueError(
                f"The link model's entity must be one of {', '.join(ENTITIES)}, not {entity!r}."
            )
        entity = cast(Entity, entity)
        known = {c.key: c for c in _COMPARISONS[entity]}
        raw = data.get("comparisons")
        if not isinstance(raw, list) or not raw:
            raise ValueError("The link model must list its comparisons.")
        comparisons: list[Comparison] = []
        for item in raw:
            if not isinstance(item, dict) or not isinstance(item.get("key"), str):
                raise ValueError("Each comparison must be an object with a key.")
            key = item["key"]
            if key not in known:
                raise ValueError(
                    f"A {entity} link model cannot compare {key!r}; it can compare "
                    f"{', '.join(known)}."
                )
            if any(c.key == key for c in comparisons):
                raise ValueError(f"The comparison {key!r} is listed twice.")
            label = item.get("label", known[key].label)
            enabled = item.get("enabled", True)
            if not isinstance(label, str) or not isinstance(enabled, bool):
                raise ValueError(
                    f"The comparison {key!r} needs a text label and enabled true or false."
                )
            comparisons.append(Comparison(key, label, enabled))
        exact = data.get("exact_keys", list(_EXACT_KEYS[entity]))
        if not isinstance(exact, list) or any(k not in _EXACT_KEYS[entity] for k in exact):
            raise ValueError(
                f"A {entity} link model's exact keys can only be {', '.join(_EXACT_KEYS[entity])}."
            )
        one_to_one = data.get("one_to_one", True)
        if not isinstance(one_to_one, bool):
            raise ValueError("one_to_one must be true or false.")
        model = cls(
            entity=entity,
            comparisons=tuple(comparisons),
            exact_keys=tuple(exact),
            match_threshold=_probability(
                data.get("match_threshold", DEFAULT_MATCH_THRESHOLD), "match threshold"
            ),
            review_from=_probability(
                data.get("review_from", DEFAULT_REVIEW_FROM), "start of the review band"
            ),
            one_to_one=one_to_one,
        )
        model._check()
        return model

    def with_changes(
        self,
        *,
        disabled: Iterable[str] = (),
        match_threshold: float | None = None,
        review_from: float | None = None,
        one_to_one: bool | None = None,
    ) -> LinkModel:
        """A copy with these comparisons switched off (all others on) and new settings."""
        off = set(disabled)
        unknown = off - {c.key for c in self.comparisons}
        if unknown:
            raise ValueError(f"This model has no comparison {', '.join(sorted(unknown))}.")
        model = replace(
            self,
            comparisons=tuple(replace(c, enabled=c.key not in off) for c in self.comparisons),
            match_threshold=(
                self.match_threshold
                if match_threshold is None
                else _probability(match_threshold, "match threshold")
            ),
            review_from=(
                self.review_from
                if review_from is None
                else _probability(review_from, "start of the review band")
            ),
            one_to_one=self.one_to_one if one_to_one is None else one_to_one,
        )
        model._check()
        return model

    def _check(self) -> None:
        if self.review_from > self.match_threshold:
            raise ValueError(
                "The review band must start at or below the match threshold "
                f"({self.review_from:g} is above {self.match_threshold:g})."
            )
        if not any(c.enabled for c in self.comparisons):
            raise ValueError("At least one comparison must be switched on.")


def _probability(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"The {what} must be a number between 0 and 1.")
    number = float(value)
    if not (math.isfinite(number) and 0.0 < number < 1.0):
        raise ValueError(f"The {what} must be between 0 and 1 (not {value!r}).")
    return number


def template(entity: Entity) -> LinkModel:
    """The vetted default model for people or properties."""
    if entity not in ENTITIES:
        raise ValueError(f"There is no template for {entity!r}.")
    return LinkModel(
        entity=entity,
        comparisons=_COMPARISONS[entity],
        exact_keys=_EXACT_KEYS[entity],
    )
