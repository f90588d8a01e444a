"""Benchmark: the decision point with 1,000 active agreements and 10,000 field grants.

    .venv/bin/python bench/decisions.py                     # SQLite in a temporary folder
    .venv/bin/python bench/decisions.py --decisions 20000
    .venv/bin/python bench/decisions.py --database-url postgres://postgres@127.0.0.1:5432/accord_bench_decisions

It makes its own temporary folder (owner-only) with a fresh ``ACCORD_DATA_DIR``, key store,
master key and, unless ``--database-url`` names another, SQLite database, migrates it, and
removes it afterwards unless ``--keep``. A PostgreSQL database named by ``--database-url`` must
exist and is migrated and filled here (use a throwaway one: the tables are not emptied).

Set-up (not timed): 200 organisations with an analyst each; 1,000 agreements (about 5% of
them suspended, expired or terminated) with one grant each of 10 fields on one of 12 datasets
(10,000 field grants), written in bulk straight into ``access.Grant`` as ``write_grants``
shapes them (pseudonymised identifiers, generalised dates and postcodes, a suppressed field,
the recipient's area as a row filter). Then the same random mix of requests (about half
permits: a recipient under its agreement, a controller reading its own data; and denies:
no agreement, a purpose the agreement does not name, a field not granted, an action not in
the flow, an agreement not in force) is timed, one call at a time, as:

(a) ``evaluate`` alone, on facts read beforehand (the rules: pure Python);
(b) ``facts_about`` + ``evaluate`` (the database reads a decision needs, no audit write);
(c) ``decide``: (b) plus the audit event, in its own transaction.

Goal (issue): decision p99 < 1 ms with 1,000 agreements and 10,000 field grants. Printed for
(a) and (b): p50, p95, p99 and p99 / 1 ms. No assertions: this prints figures (README.md).
"""

from __future__ import annotations

import argparse
import base64
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

GOAL_P99_S = 0.001
ORGANISATIONS = 200
AGREEMENTS = 1_000
FIELDS_PER_GRANT = 10
DATASETS = (
    "housing-benefit-claims",
    "council-tax-support",
    "free-school-meals",
    "care-home-status",
    "adult-social-care-clients",
    "homelessness-cases",
    "school-census",
    "blue-badge-holders",
    "electoral-register",
    "test-and-trace-cases",
    "vaccination-status",
    "fuel-poverty-flags",
)
PURPOSES = (
    "Target cost of living support",
    "Plan temporary accommodation",
    "Auto-enrol free school meals",
    "Safeguard vulnerable adults",
    "Plan winter pressures",
)
NOT_IN_FORCE = ("suspended", "expired", "terminated")


# --- set-up ---------------------------------------------------------------------------------


def setup_django(workdir: Path, database_url: str) -> None:
    data = workdir / "data"
    os.environ["ACCORD_DATA_DIR"] = str(data)
    os.environ["ACCORD_VAULT_KEYSTORE_DIR"] = str(workdir / "keystore")
    os.environ["ACCORD_MASTER_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{data / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "accord.config.settings"
    for name in ("ACCORD_VAULT_URL", "ACCORD_VAULT_DIR", "ACCORD_MASTER_KEY_FILE"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def field_grants(rng: random.Random) -> list[dict[str, Any]]:
    """Ten fields as an agreement's dataset lists them, with realistic transformations."""
    fixed = [
        ("person_id", "pseudonymise_keyed_hash", "string", None),
        ("nino", "pseudonymise_keyed_hash", "identifier", "nino"),
        ("date_of_birth", "generalise", "date", None),
        ("postcode", "generalise", "identifier", "postcode"),
        ("uprn", "none", "identifier", "uprn"),
        ("ltla_cd", "none", "identifier", "gss_code"),
        ("notes", "suppress", "string", None),
    ]
    extra = rng.sample(
        ["claim_status", "tenure", "household_size", "award_band", "start_date", "flag"], 3
    )
    return [
        {
            "name": name,
            "transformation": transformation,
            "data_type": data_type,
            "identifier_type": identifier,
            "personal": True,
        }
        for name, transformation, data_type, identifier in fixed
    ] + [
        {"name": n, "transformation": "none", "data_type": "code", "identifier_type": None}
        for n in extra
    ]


@dataclass
class World:
    organisations: list[Any]
    analysts: dict[int, Any]  # organisation pk -> Actor
    grants: list[Any]
    purposes: dict[str, str]  # agreement id -> purpose title


def build(rng: random.Random) -> World:
    from django.utils import timezone

    from accord.access.models import Grant
    from accord.agreements.models import Agreement
    from accord.organisations.actors import actor_for
    from accord.organisations.enums import Role, Sector
    from accord.organisations.models import Membership, Organisation, User

    run = uuid.uuid4().hex[:6]  # so a PostgreSQL database can be filled more than once
    organisations = Organisation.objects.bulk_create(
        Organisation(
            name=f"Bench Council {run} {n:03d}",
            sector=Sector.DISTRICT_COUNCIL,
            gss_code=f"E07{n:06d}",
        )
        for n in range(ORGANISATIONS)
    )
    users = User.objects.bulk_create(
        User(username=f"analyst-{run}-{n}@bench.invalid", email=f"analyst-{run}-{n}@bench.invalid")
        for n in range(ORGANISATIONS)
    )
    memberships = Membership.objects.bulk_create(
        Membership(user=user, organisation=organisation, roles=[Role.ANALYST.value])
        for user, organisation in zip(users, organisations, strict=True)
    )
    analysts = {}
    for membership, user, organisation in zip(memberships, users, organisations, strict=True):
        membership.user, membership.organisation = user, organisation
        analysts[organisation.pk] = actor_for(user, membership)

    today = timezone.localdate()
    agreements = []
    for n in range(AGREEMENTS):
        status = rng.choice(NOT_IN_FORCE) if rng.random() < 0.05 else "active"
        agreements.append(
            Agreement(
                title=f"Bench agreement {n}",
                agreement_type="data_disclosure_agreement",
                status=status,
                drafted_by=rng.choice(organisations),
            )
        )
    agreements = Agreement.objects.bulk_create(agreements)
    grants = []
    purposes = {}
    for agreement in agreements:
        provider, recipient = rng.sample(organisations, 2)
        purpose = rng.choice(PURPOSES)
        purposes[str(agreement.pk)] = purpose
        grants.append(
            Grant(
                agreement=agreement,
                flow_id="flow-1",
                dataset_id="dataset-1",
                provider=provider,
                recipient=recipient,
                dataset=rng.choice(DATASETS),
                fields=field_grants(rng),
                purposes=[["purpose-1", purpose]],
                actions=rng.choice([["view", "extract"], ["view"], ["aggregate_only"]]),
                row_filter={"column": "ltla_cd", "values": [recipient.gss_code]},
                prohibited_uses=[["marketing", "Marketing"], ["reidentification", "Re-id"]],
                starts_on=today - timedelta(days=rng.randint(1, 700)),
                ends_on=today + timedelta(days=rng.randint(1, 700)) if rng.random() < 0.5 else None,
                review_on=today + timedelta(days=rng.randint(1, 365)),
            )
        )
    grants = Grant.objects.bulk_create(grants)
    return World(organisations, analysts, grants, purposes)


# --- requests -------------------------------------------------------------------------------


def requests(world: World, rng: random.Random, count: int) -> list[tuple[Any, ...]]:
    """(actor, action, resource, purpose): a mix of permits and of denies for every reason."""
    from accord.access.decisions import Resource
    from accord.access.enums import Action, ResourceKind

    def resource(owner: int, dataset: str, fields: tuple[str, ...] = ()) -> Resource:
        return Resource(
            kind=ResourceKind.DATASET,
            id=str(uuid.UUID(int=rng.getrandbits(128))),
            owner_organisation_id=str(owner),
            dataset=dataset,
            fields=fields,
        )

    made: list[tuple[Any, ...]] = []
    for _ in range(count):
        grant = rng.choice(world.grants)
        purpose = world.purposes[str(grant.agreement_id)]
        reader = world.analysts[grant.recipient_id]
        data = resource(grant.provider_id, grant.dataset)
        roll = rng.random()
        if roll < 0.45:  # a recipient under its agreement (a deny if it is not in force)
            action = Action.AGGREGATE if grant.actions == ["aggregate_only"] else Action.VIEW
            made.append((reader, action, data, purpose))
        elif roll < 0.55:  # a controller's own data
            made.append((world.analysts[grant.provider_id], Action.EXTRACT, data, purpose))
        elif roll < 0.70:  # an organisation with no agreement
            stranger = world.analysts[rng.choice(world.organisations).pk]
            made.append((stranger, Action.VIEW, data, purpose))
        elif roll < 0.80:  # a purpose the agreement does not name
            other = rng.choice([p for p in PURPOSES if p != purpose])
            made.append((reader, Action.VIEW, data, other))
        elif roll < 0.90:  # a field not granted
            fields = ("nino", "bank_account")
            made.append(
                (reader, Action.VIEW, resource(grant.provider_id, grant.dataset, fields), purpose)
            )
        else:  # an action not in the flow
            made.append((reader, Action.LINK, data, purpose))
    return made


# --- timing ---------------------------------------------------------------------------------


def time_each(calls: list[Callable[[], Any]]) -> tuple[list[float], list[Any]]:
    timings, results = [], []
    clock = time.perf_counter
    for call in calls:
        started = clock()
        result = call()
        timings.append(clock() - started)
        results.append(result)
    return timings, results


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]


def report(label: str, timings: list[float], *, goal: bool) -> None:
    p50, p95, p99 = (quantile(timings, q) for q in (0.50, 0.95, 0.99))
    line = (
        f"{label:<34} n={len(timings):>6,}  p50 {p50 * 1e3:7.3f} ms  p95 {p95 * 1e3:7.3f} ms  "
        f"p99 {p99 * 1e3:7.3f} ms  max {max(timings) * 1e3:8.3f} ms"
    )
    if goal:
        verdict = "met" if p99 < GOAL_P99_S else "not met"
        line += f"  p99/1ms = {p99 / GOAL_P99_S:5.2f} ({verdict})"
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=5_000, help="requests per phase")
    parser.add_argument("--database-url", default="", help="e.g. postgres://... (default SQLite)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="accord-bench-decisions-", dir=args.workdir))
    workdir.chmod(0o700)
    try:
        setup_django(workdir, args.database_url)
        run(args)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.utils import timezone

    from accord.access.decisions import decide, evaluate
    from accord.access.queries import facts_about

    rng = random.Random(args.seed)  # noqa: S311  (synthetic data, not secrets)
    started = time.perf_counter()
    world = build(rng)
    from accord.access.models import Grant

    field_count = sum(len(g.fields) for g in world.grants)
    print(
        f"database {connection.vendor}; {len(world.organisations)} organisations, "
        f"{len(world.grants)} agreements with {Grant.objects.count()} grants and "
        f"{field_count:,} field grants; built in {time.perf_counter() - started:.1f} s"
    )
    print(f"python {platform.python_version()}, load average {os.getloadavg()}")
    asked = requests(world, rng, args.decisions)
    now = timezone.now()

    # Warm up: the first queries compile statements and fill Django's caches.
    for actor, action, resource, purpose in asked[:200]:
        evaluate(facts_about(actor, resource), action, resource, purpose, now)

    facts = [facts_about(actor, resource) for actor, _, resource, _ in asked]
    timings_a, decisions = time_each(
        [
            partial(evaluate, f, action, resource, purpose, now)
            for f, (_, action, resource, purpose) in zip(facts, asked, strict=True)
        ]
    )
    permits = sum(d.permitted for d in decisions)
    print(f"mix: {permits:,} permits, {len(decisions) - permits:,} denies")
    report("(a) evaluate", timings_a, goal=True)

    def read_and_evaluate(actor: Any, action: Any, resource: Any, purpose: str) -> Any:
        return evaluate(facts_about(actor, resource), action, resource, purpose, timezone.now())

    timings_b, _ = time_each([partial(read_and_evaluate, *a) for a in asked])
    report("(b) facts_about + evaluate", timings_b, goal=True)

    timings_c, _ = time_each(
        [
            partial(decide, actor=actor, action=action, resource=resource, purpose=purpose)
            for actor, action, resource, purpose in asked
        ]
    )
    report("(c) decide (with the audit write)", timings_c, goal=False)


if __name__ == "__main__":
    main()
