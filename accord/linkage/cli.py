"""`accord link`: record linkage from the command line, with a progress bar.

    accord link sources --as analyst@example.gov.uk
    accord link single-view --as analyst@example.gov.uk [--organisation "Maidstone Borough Council"]
    accord link new --as EMAIL --name NAME --entity person --source REF --source REF --purpose TEXT
    accord link run JOB_ID --as EMAIL
    accord link list --as EMAIL

The command acts as the person named by ``--as`` through their membership (of
``--organisation`` when they have several), with the same decisions as the pages: every
dataset is decided for linkage, and each refusal is in the audit chain. ``new``, ``single-view``
and ``run`` link in this process, showing progress, and print the quality figures. Exit status:
0 linked; 1 the run was refused or failed (the reason is printed); 2 it could not start (bad
input, not permitted).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from accord.cli.common import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_UNUSABLE,
    CannotAct,
    acting_membership,
    command_group,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(
        subparsers, "link", "link records about the same people or properties across datasets"
    )

    def acting(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--as", dest="email", required=True, metavar="EMAIL", help="act as this person"
        )
        parser.add_argument(
            "--organisation",
            metavar="NAME|GSS|ODS",
            help="the organisation to act for, if they have several",
        )
        parser.add_argument("--no-progress", action="store_true", help="never show a bar")

    sources = commands.add_parser("sources", help="datasets you may link, and their refs")
    acting(sources)
    sources.set_defaults(handler=handle_sources)
    listing = commands.add_parser("list", help="your organisation's linkage jobs")
    acting(listing)
    listing.set_defaults(handler=handle_list)
    single = commands.add_parser(
        "single-view", help="run the ready-made single view of vulnerability"
    )
    acting(single)
    single.set_defaults(handler=handle_single_view)
    new = commands.add_parser("new", help="make a linkage job and run it")
    acting(new)
    new.add_argument("--name", required=True)
    new.add_argument("--entity", choices=("person", "property"), default="person")
    new.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="REF",
        help="a dataset's ref from `accord link sources` (two or more)",
    )
    new.add_argument("--purpose", required=True)
    new.add_argument(
        "--leave-out",
        action="append",
        default=[],
        metavar="COMPARISON",
        help="switch off one of the template's comparisons",
    )
    new.add_argument(
        "--keyed", action="store_true", help="link on keyed hashes of NHS numbers and UPRNs only"
    )
    new.set_defaults(handler=handle_new)
    run = commands.add_parser("run", help="run a job again (with the decisions made since)")
    acting(run)
    run.add_argument("job", metavar="JOB_ID")
    run.set_defaults(handler=handle_run)


def _actor(args: argparse.Namespace) -> Any:
    from accord.organisations.actors import actor_for

    membership = acting_membership(args.email, args.organisation)
    return actor_for(membership.user, membership)


def _guarded(args: argparse.Namespace, body: Any, out: TextIO | None) -> int:
    from accord.access.exceptions import AccessDenied
    from accord.audit.exceptions import NotPermitted, Refused

    out = out or sys.stdout
    try:
        return int(body(_actor(args), out))
    except (CannotAct, Refused, NotPermitted, AccessDenied) as refusal:
        reason = getattr(refusal, "reason", "") or str(refusal)
        print(f"accord link: {reason}", file=sys.stderr)
        return EXIT_UNUSABLE


def handle_sources(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.linkage import queries
    from accord.organisations.models import Organisation

    def body(by: Any, out: TextIO) -> int:
        organisation = Organisation.objects.get(pk=by.organisation_id)
        for s in queries.linkable_sources(organisation):
            whose = "yours" if s.own else f"from {s.provider}"
            purposes = "; ".join(s.purposes) or "any purpose of yours"
            print(f"{s.ref}  {s.name} ({whose}) — for: {purposes}", file=out)
        return EXIT_OK

    return _guarded(args, body, out)


def handle_list(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.linkage import queries

    def body(by: Any, out: TextIO) -> int:
        for job in queries.jobs_for(by.organisation_id):
            print(f"{job.pk}  {job.get_state_display():8}  {job.name}", file=out)
        return EXIT_OK

    return _guarded(args, body, out)


def _run(job: Any, args: argparse.Namespace, out: TextIO) -> int:
    """Link ``job`` here and now (it is queued), with a bar, and print its figures."""
    from tqdm import tqdm

    from accord.linkage import actions
    from accord.linkage.models import JobState

    with tqdm(total=100, unit="%", disable=args.no_progress or None, file=sys.stderr) as bar:

        def moved(done: int, message: str) -> None:
            bar.set_description_str(message[:40])
            bar.update(max(0, done - bar.n))

        job = actions.run_job(str(job.pk), progress=job.progress, on_progress=moved)
        bar.update(100 - bar.n)
    if job.state != JobState.DONE:
        print(f"accord link: {job.get_state_display()}: {job.message}", file=sys.stderr)
        return EXIT_PROBLEM
    print(summary(job), file=out)
    return EXIT_OK


def summary(job: Any) -> str:
    from accord.linkage.queries import percent, quality

    q = quality(job)
    assert q is not None
    lines = [f"Linked “{job.name}” (job {job.pk}, run {job.runs}) for: {job.purpose}"]
    lines += [f"  {name}: {n} records" for name, n in q.records]
    lines += [f"  {label}: {n} pairs" for label, n in q.stages]
    noun = "people" if job.entity == "person" else "properties"
    lines.append(f"  {q.entities} {noun}; {q.matched_records} records linked to another")
    lines.append(f"  estimated precision {percent(q.precision)}, recall {percent(q.recall)}")
    if q.households is not None:
        lines.append(f"  {q.households} households in the single view")
    if q.seconds is not None:
        lines.append(f"  took {q.seconds} s")
    return "\n".join(lines)


def handle_new(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.linkage import actions

    def body(by: Any, out: TextIO) -> int:
        job = actions.create_job(
            by=by,
            name=args.name,
            entity=args.entity,
            refs=args.source,
            purpose=args.purpose,
            disabled=args.leave_out,
            keyed=args.keyed,
        )
        return _run(job, args, out)

    return _guarded(args, body, out)


def handle_single_view(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.linkage import actions, queries, single_view
    from accord.linkage.models import Entity
    from accord.organisations.models import Organisation

    def body(by: Any, out: TextIO) -> int:
        organisation = Organisation.objects.get(pk=by.organisation_id)
        sources = queries.single_view_sources(queries.linkable_sources(organisation))
        if not sources:
            raise CannotAct(
                f"{organisation.name} has fewer than two of the single view's datasets to link."
            )
        purposes = queries.link_purposes(sources)
        job = actions.create_job(
            by=by,
            name=single_view.NAME,
            entity=Entity.PERSON,
            refs=[s.ref for s in sources],
            purpose=purposes[0] if purposes else single_view.NAME,
            recipe=single_view.RECIPE,
        )
        return _run(job, args, out)

    return _guarded(args, body, out)


def handle_run(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.linkage import actions, queries

    def body(by: Any, out: TextIO) -> int:
        try:
            job = queries.job_for(by.organisation_id, args.job)
        except queries.JobNotFound:
            raise CannotAct(f"There is no linkage job {args.job} of your organisation.") from None
        actions.run_again(by=by, job=job)
        return _run(job, args, out)

    return _guarded(args, body, out)
