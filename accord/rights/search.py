"""Finding one person in everything Accord holds from an organisation: subject access.

A DPO asks by NHS number, by UPRN, or by family name with date of birth and postcode. Accord
reads every record-level object the organisation controls (each read a decision of the decision
point, and audited): the accepted rows of its returns, its compiled collections, its own linked
datasets and the datasets it keeps. Objects of one standard are decrypted to a private workspace
and scanned together, lazily, with one filter over all of them (Polars); nothing loops over
records in Python. Which of a standard's fields identify a person comes from the linkage
columns (``accord.linkage.columns``): the same parts, normalised the same way.

Then who received the person's data: every extract taken from an object the person is in, whose
rows (after its row filter) include them, and every linkage job of another organisation over a
collection the person is in, with when, for what purpose and under which agreement. Aggregate
outputs hold no records and are not listed.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from accord.access.decisions import decide
from accord.access.enums import Action, Task
from accord.audit.actor import Actor
from accord.linkage import columns
from accord.linkage.normalise import (
    normalise_name,
    normalise_nhs_number,
    normalise_postcode,
    normalise_uprn,
)
from accord.vault.models import VaultObject
from accord.vault.parquet import private_workspace
from accord.vault.queries import open_object, resource_for

PURPOSE = "Answer a data subject's request about their personal data"
_FILE = "__accord_file__"


class BadQuery(ValueError):
    """The search cannot be run as asked; the message says what to change."""


@dataclass(frozen=True)
class PersonQuery:
    """Who to look for: one of an NHS number, a UPRN, or family name + date of birth +
    postcode (given name optional, to narrow a household)."""

    nhs_number: str = ""
    uprn: str = ""
    family_name: str = ""
    given_name: str = ""
    date_of_birth: dt.date | None = None
    postcode: str = ""

    @property
    def method(self) -> str:
        """How the search was made, for the audit log (never the values)."""
        if self.nhs_number:
            return "NHS number"
        if self.uprn:
            return "UPRN"
        return "name, date of birth and postcode"

    def normalised(self) -> dict[str, Any]:
        """The query's values as the records are compared, or ``BadQuery``."""
        frame = pl.DataFrame(
            {
                "nhs_number": [self.nhs_number or None],
                "uprn": [self.uprn or None],
                "family_name": [self.family_name or None],
                "given_name": [self.given_name or None],
                "postcode": [self.postcode or None],
            },
            schema={
                k: pl.String
                for k in ("nhs_number", "uprn", "family_name", "given_name", "postcode")
            },
        ).select(
            normalise_nhs_number(pl.col("nhs_number")).alias("nhs_number"),
            normalise_uprn(pl.col("uprn")).alias("uprn"),
            normalise_name(pl.col("family_name")).alias("family_name"),
            normalise_name(pl.col("given_name")).alias("given_name"),
            normalise_postcode(pl.col("postcode")).alias("postcode"),
        )
        values = frame.row(0, named=True)
        if self.nhs_number:
            if values["nhs_number"] is None:
                raise BadQuery(
                    "Enter an NHS number of 10 digits, like 943 476 5919; the one given fails "
                    "its check digit."
                )
            return {"nhs_number": values["nhs_number"]}
        if self.uprn:
            if values["uprn"] is None:
                raise BadQuery("Enter a UPRN: a whole number of 1 to 12 digits.")
            return {"uprn": values["uprn"]}
        missing = [
            label
            for label, value in (
                ("family name", values["family_name"]),
                ("date of birth", self.date_of_birth),
                ("postcode", values["postcode"]),
            )
            if value is None
        ]
        if missing:
            raise BadQuery(
                "Search by NHS number, by UPRN, or by family name with date of birth and "
                f"postcode: enter the {' and '.join(missing)}."
            )
        return {
            "family_name": values["family_name"],
            "given_name": values["given_name"],
            "date_of_birth": self.date_of_birth,
            "postcode": values["postcode"],
        }


def _column(standard: str, part: str, names: Sequence[str]) -> pl.Expr | None:
    present = [f for f in columns.fields_for(standard, part) if f in names]
    if not present:
        return None
    if len(present) == 1:
        return pl.col(present[0])
    return pl.concat_str([pl.col(f) for f in present], separator=", ", ignore_nulls=True)


def person_mask(standard: str, names: Sequence[str], wanted: dict[str, Any]) -> pl.Expr | None:
    """A filter keeping the rows about the person ``wanted`` (``PersonQuery.normalised``) in a
    dataset of ``standard`` with these column ``names``; None when it cannot hold them (it has
    none of the fields asked by)."""
    if "nhs_number" in wanted:
        column = _column(standard, "nhs_number", names)
        if column is None:
            return None
        # The number asked for is valid already, so a record matches when its digits (spaces
        # and dashes removed, as linkage normalises) are those: no check digit to work out for
        # every record.
        digits = column.cast(pl.String).str.replace_all(r"[\s\-]", "")
        return (digits == wanted["nhs_number"]).fill_null(False)
    if "uprn" in wanted:
        column = _column(standard, "uprn", names)
        if column is None:
            return None
        return (normalise_uprn(column) == wanted["uprn"]).fill_null(False)
    family = _column(standard, "family_name", names)
    born = _column(standard, "date_of_birth", names)
    postcode = _column(standard, "postcode", names)
    if born is None or postcode is None:
        return None
    mask = (born.cast(pl.Date, strict=False) == wanted["date_of_birth"]) & (
        normalise_postcode(postcode) == wanted["postcode"]
    )
    if family is not None:
        mask = mask & (normalise_name(family) == wanted["family_name"])
    given = _column(standard, "given_name", names)
    if given is not None and wanted.get("given_name"):
        mask = mask & (
            normalise_name(given).str.starts_with(wanted["given_name"][:1]) | given.is_null()
        )
    return mask.fill_null(False)


@dataclass
class Holding:
    """Rows about the person in one object the organisation holds."""

    obj: VaultObject
    what: str  # "Accepted rows of return …", "Compiled collection …", "Linked dataset …"
    standard: str
    rows: pl.DataFrame  # the person's rows, every column

    @property
    def fields(self) -> list[tuple[str, list[Any]]]:
        """Each column with the person's values in it, for a page to show down the side."""
        return [(name, self.rows[name].to_list()) for name in self.rows.columns]


@dataclass
class Recipient:
    """A receipt of the person's data by another organisation."""

    organisation: str
    how: str  # "extract", "linkage"
    when: dt.datetime | None
    purpose: str
    agreement: str
    detail: str  # fields sent, rows, downloads
    link: str = ""
    organisation_id: int | None = None
    extract_id: str = ""  # the extract that carried it, if one did


@dataclass
class SubjectReport:
    organisation: str
    method: str
    searched: int  # objects read
    holdings: list[Holding] = field(default_factory=list)
    recipients: list[Recipient] = field(default_factory=list)
    made_at: dt.datetime | None = None

    @property
    def found(self) -> bool:
        return bool(self.holdings)


def candidates(organisation_id: int) -> list[tuple[VaultObject, str, str]]:
    """The organisation's record-level objects as (object, what it is, standard), Parquet only:
    accepted rows, compiled collections, its linked datasets, its kept datasets."""
    from accord.linkage.models import LinkageJob
    from accord.submissions.models import CompiledDataset, Submission

    live = {"deleted_at__isnull": True}
    found: dict[str, tuple[VaultObject, str, str]] = {}
    for submission in Submission.objects.filter(
        organisation_id=organisation_id,
        rows_object__isnull=False,
        rows_object__deleted_at__isnull=True,
    ).select_related("rows_object", "collection"):
        assert submission.rows_object is not None
        found[str(submission.rows_object_id)] = (
            submission.rows_object,
            f"Accepted rows of the return “{submission.filename}” to {submission.collection.name}",
            submission.collection.standard_slug,
        )
    for compiled in CompiledDataset.objects.filter(
        collection__owner_id=organisation_id, data__deleted_at__isnull=True
    ).select_related("data", "collection"):
        found[str(compiled.data_id)] = (
            compiled.data,
            f"Compiled collection {compiled.collection.name} (compilation {compiled.number})",
            compiled.collection.standard_slug,
        )
    for job in LinkageJob.objects.filter(organisation_id=organisation_id, linked__isnull=False):
        for obj, what in ((job.linked, "linked records"), (job.view, "household view")):
            if obj is not None and obj.deleted_at is None:
                found[str(obj.pk)] = (obj, f"Linkage job “{job.name}”: {what}", "linked")
    kept = (
        VaultObject.objects.filter(organisation_id=organisation_id, kind="submission", **live)
        .exclude(pk__in=list(found))
        .exclude(dataset="")
    )
    submissions = set(
        Submission.objects.filter(organisation_id=organisation_id).values_list(
            "upload_id", flat=True
        )
    ) | set(
        Submission.objects.filter(organisation_id=organisation_id).values_list(
            "problems_object_id", flat=True
        )
    )
    for obj in kept:
        if obj.pk not in submissions:
            found[str(obj.pk)] = (obj, f"Dataset “{obj.name}”", obj.dataset)
    return list(found.values())


def _decrypt_to(folder: Path, obj: VaultObject, *, by: Actor) -> Path | None:
    """Write ``obj``'s plaintext to ``folder`` if the decision point lets ``by`` (the subject
    rights task, acting for the object's controller) view it (an audited decision); None when
    refused."""
    decision = decide(actor=by, action=Action.VIEW, resource=resource_for(obj), purpose=PURPOSE)
    if decision.denied:
        return None
    reader = open_object(obj.pk, by=by, decision=decision, action=Action.VIEW)
    path = folder / f"{obj.pk}.parquet"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in reader:
            handle.write(chunk)
    return path


def _linked_mask(names: Sequence[str], wanted: dict[str, Any]) -> pl.Expr | None:
    """Linked records carry each source's own columns side by side: try every standard."""
    masks = [
        mask
        for standard in columns.ROLES.keys() | {""}
        if (mask := person_mask(standard, names, wanted)) is not None
    ]
    if not masks:
        return None
    return pl.any_horizontal(masks)


def rights_task(organisation_id: int | str, organisation_name: str = "") -> Actor:
    """Accord's subject rights task, acting for the controller whose data it searches."""
    return Actor.task(
        Task.SUBJECT_RIGHTS.value,
        organisation_id=str(organisation_id),
        organisation_name=organisation_name,
    )


def scan(
    objects: Iterable[tuple[VaultObject, str, str]], wanted: dict[str, Any], *, by: Actor
) -> tuple[list[Holding], int]:
    """The person's rows in ``objects``, read as ``by`` (``rights_task``), and how many
    objects were read."""
    by_standard: dict[str, list[tuple[VaultObject, str]]] = defaultdict(list)
    for obj, what, standard in objects:
        by_standard[standard].append((obj, what))
    holdings: list[Holding] = []
    read = 0
    with private_workspace() as folder:
        for standard, items in by_standard.items():
            paths: dict[str, tuple[VaultObject, str]] = {}
            for obj, what in items:
                path = _decrypt_to(folder, obj, by=by)
                if path is not None:
                    paths[str(path)] = (obj, what)
            read += len(paths)
            for file, rows in search_files(standard, paths, wanted).items():
                obj, what = paths[file]
                holdings.append(Holding(obj, what, standard, rows))
    return holdings, read


def search_files(
    standard: str, files: Iterable[str], wanted: dict[str, Any]
) -> dict[str, pl.DataFrame]:
    """The person's rows in each of these Parquet ``files`` of ``standard`` that holds any.
    Files with the same columns are scanned as one: a single lazy filter over all of them, each
    row tagged with the file it came from."""
    by_schema: dict[tuple[tuple[str, Any], ...], list[str]] = defaultdict(list)
    for file in files:
        by_schema[tuple(pl.read_parquet_schema(file).items())].append(str(file))
    found: dict[str, pl.DataFrame] = {}
    for schema, group in by_schema.items():
        mask = mask_for(standard, [name for name, _ in schema], wanted)
        if mask is None:
            continue
        rows = pl.scan_parquet(group, include_file_paths=_FILE).filter(mask).collect()
        for (file,), part in rows.partition_by(_FILE, as_dict=True).items():
            found[str(file)] = part.drop(_FILE)
    return found


def mask_for(standard: str, names: Sequence[str], wanted: dict[str, Any]) -> pl.Expr | None:
    """The person's rows in an object of ``standard`` ("linked" for linked records)."""
    if standard == "linked":
        return _linked_mask(names, wanted)
    return person_mask(standard, names, wanted)
