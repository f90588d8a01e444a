"""The demo's datasets: stored encrypted in the vault, readable through the decision point,
never in plaintext at rest, and one of them past its deadline so the retention task deletes it
and leaves a certificate for Kent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from django.conf import settings
from django.db import connection

from accord.access.decisions import decide
from accord.access.enums import Action, Task
from accord.audit.actor import Actor
from accord.demo.datasets import MAIDSTONE, demo_datasets, lsoas_in
from accord.demo.geography import geography
from accord.demo.loader import load_demo
from accord.vault import queries, retention
from accord.vault.exceptions import ObjectDeleted
from accord.vault.models import DeletionCertificate, VaultObject
from accord.vault.parquet import read_frame

from .conftest import DEMO_PASSWORD

PILOT = "Covid tests by LSOA, weekly (pilot)"
RISK = "Household risk index"


def _read(obj: VaultObject) -> pl.DataFrame:
    actor = Actor.task(
        Task.VALIDATION.value,
        organisation_id=str(obj.organisation_id),
        organisation_name=obj.organisation.name,
    )
    decision = decide(
        actor=actor,
        action=Action.VIEW,
        resource=queries.resource_for(obj),
        purpose="Check the demo dataset",
    )
    return read_frame(obj.id, by=actor, decision=decision)


@pytest.mark.django_db
def test_every_demo_dataset_is_in_the_vault_and_reads_back() -> None:
    load_demo(password=DEMO_PASSWORD)
    everything = VaultObject.objects.select_related("organisation")
    stored = everything.filter(name__in={d.name for d in demo_datasets()})
    assert stored.count() == len(demo_datasets())
    # Besides: returns (as sent, and their accepted rows), collections compiled from them
    # (the replaced compilations destroyed), outputs made from those, UKHSA's releases, and the
    # ICB's National Data Opt-out list.
    others = everything.exclude(pk__in=stored)
    assert {o.kind for o in others} == {
        "submission",
        "collection",
        "output",
        "dataset",
        "opt_out_list",
    }
    assert [o.organisation.name for o in others.filter(kind="opt_out_list")] == [
        "NHS Kent and Medway Integrated Care Board"
    ]
    datasets = others.filter(kind="dataset")
    assert [o.organisation.name for o in datasets] == ["UK Health Security Agency"] * 2
    live = others.filter(deleted_at=None)
    # One compilation per collection: 3, and the single view's 4.
    assert live.filter(kind="collection").count() == 3 + 4
    assert live.filter(kind="output").count() == 2  # the care home and vaccination dashboards
    risk = _read(stored.get(name=RISK))
    assert risk.height == 500
    assert risk["uprn"].str.len_chars().eq(12).all()
    assert risk["uprn_is_synthetic"].all()
    assert set(risk["lsoa21cd"]) <= set(lsoas_in(MAIDSTONE))
    assert set(risk["risk_category"]) <= {"low", "medium", "high", "critical"}
    places = geography()
    pilot = _read(stored.get(name=PILOT))
    assert all(
        places.get(places.lsoa_best_fit_ward[c]).parent_code == MAIDSTONE for c in pilot["lsoa21cd"]
    )
    homes = stored.filter(name="Care home daily status, last 28 days")
    assert sorted(o.organisation.name for o in homes) == [
        "Kingfisher Court Care Home (synthetic)",
        "Oakleigh House Care Home (synthetic)",
        "Riverside View Care Home (synthetic)",
    ]
    for home in homes:
        status = _read(home)
        assert status.height == 28
        assert (status["occupied_beds"] <= status["registered_beds"]).all()


@pytest.mark.django_db
def test_the_pilot_is_past_its_deadline_and_retention_deletes_it_with_a_certificate() -> None:
    load_demo(password=DEMO_PASSWORD)
    pilot = VaultObject.objects.get(name=PILOT)
    assert "counted from receipt on" in pilot.retention_rule
    planned = retention.run(dry_run=True)
    assert [item.name for item in planned.deleted] == [PILOT]
    report = retention.run()
    assert [item.name for item in report.deleted] == [PILOT]
    certificate = DeletionCertificate.objects.get(object=pilot)
    assert [o.name for o in certificate.organisations.all()] == ["Kent County Council"]
    with pytest.raises(ObjectDeleted, match="retention deadline"):
        _read(pilot)
    # Loading the demo again does not bring the deleted dataset back.
    load_demo(password=DEMO_PASSWORD)
    assert VaultObject.objects.filter(name=PILOT).count() == 1
    assert retention.run().deleted == []


def _at_rest() -> list[tuple[str, bytes]]:
    """Everything at rest: the files under the data folder, and the database (its files on
    SQLite; a full pg_dump on PostgreSQL)."""
    found = [(str(p), p.read_bytes()) for p in Path(settings.DATA_DIR).rglob("*") if p.is_file()]
    if connection.vendor == "sqlite":
        database = Path(connection.settings_dict["NAME"])
        found += [(str(p), p.read_bytes()) for p in database.parent.glob(database.name + "*")]
    else:
        params = connection.settings_dict
        dump = subprocess.run(  # noqa: S603 - fixed arguments, the test database
            [
                shutil.which("pg_dump") or "/usr/bin/pg_dump",
                "--data-only",
                "-h",
                params["HOST"] or "127.0.0.1",
                "-p",
                str(params["PORT"] or 5432),
                "-U",
                params["USER"] or "postgres",
                params["NAME"],
            ],
            check=True,
            capture_output=True,
        )
        found.append(("pg_dump", dump.stdout))
    return found


@pytest.mark.django_db(transaction=True)
def test_no_demo_value_is_found_in_plaintext_at_rest() -> None:
    load_demo(password=DEMO_PASSWORD)
    risk = VaultObject.objects.get(name=RISK)
    plaintext = queries.open_object(
        risk.id,
        by=Actor.task(Task.VALIDATION.value, organisation_id=str(risk.organisation_id)),
        decision=decide(
            actor=Actor.task(Task.VALIDATION.value, organisation_id=str(risk.organisation_id)),
            action=Action.VIEW,
            resource=queries.resource_for(risk),
            purpose="Check the demo dataset",
        ),
    ).read_all()
    # Parquet compresses the values themselves out of sight, so look for what an unencrypted
    # Parquet file always shows in the clear: its magic number and, in its footer, the column
    # names. The control checks they really are in the stored plaintext.
    known = [b"PAR1", b"uprn_is_synthetic", b"asc_open_service", b"fsm_in_household"]
    assert all(value in plaintext for value in known)
    connection.close()  # let SQLite fold its journal into the file, as at rest
    places = _at_rest()
    assert any(name.endswith(".key") for name, _ in places)
    assert any(risk.blob_key in name for name, _ in places)
    for name, content in places:
        for value in known:
            assert value not in content, f"{value!r} found in plaintext in {name}"
