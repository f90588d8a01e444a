"""`accord extract` and `accord releases`: extracts and releases from the server's command line,
for operators and scripts.

    accord extract --source collection:ID|release:ID --purpose TEXT --format csv|xlsx|parquet
                   --as EMAIL [--organisation NAME_OR_CODE] --output FILE [--force] [--no-wait]
    accord extract --download EXTRACT_ID --as EMAIL [--organisation ...] --output FILE [--force]
    accord extract --list --as EMAIL [--organisation NAME_OR_CODE]
    accord releases outlets --as EMAIL [--organisation NAME_OR_CODE]
    accord releases publish --outlet KEY --label TEXT --as EMAIL [--organisation ...]
                            [--caveats TEXT] FILE
    accord releases remind [--now ISO]

Both act as the person named by ``--as``, through their membership of the organisation they act
for, with exactly the rules the pages apply: an extract is asked of the decision point (a deny
is audited and its reasons printed), built by the background task (run here, in this process,
unless ``--no-wait``; a worker elsewhere may take it first, and then this follows that worker),
and downloaded through ``open_extract``, which decides again and records the copy released.

Exit status: 0 done; 1 refused by the decision point (the reasons are printed) or, for
``publish``, the file did not pass its standard's checks (the row and column of each problem are
printed); 2 could not run: bad arguments, a source or outlet that does not exist or is not the
organisation's (the same message either way), a person who is not a member, and the like.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from accord.cli.common import (
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_UNUSABLE,
    CannotAct,
    acting_membership,
    command_group,
)

if TYPE_CHECKING:
    from accord.audit.actor import Actor
    from accord.organisations.models import Membership, Organisation

    from .extracts import Source
    from .models import Extract
    from .releases import Outlet

# The roles told that a release is overdue (those who may publish it).
REMINDED_ROLES = ("data_officer", "analyst", "information_asset_owner")


class CannotRun(Exception):
    """Why the command could not run, in words for the person running it (exit status 2)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    extract = subparsers.add_parser(
        "extract",
        help="ask for an extract of shared data and download it, as a member of the recipient",
        description=(
            "Ask for an extract of a compiled collection or a release for a purpose, acting as "
            "the person named (with their roles there); the decision point decides, the "
            "extract is built here and written to --output. Exit status 0: written; 1: refused "
            "(the reasons are printed); 2: could not run."
        ),
    )
    what = extract.add_mutually_exclusive_group()
    what.add_argument(
        "--source",
        metavar="collection:ID|release:ID",
        help="what to extract: a collection (its newest compilation) or a release",
    )
    what.add_argument(
        "--download",
        metavar="EXTRACT_ID",
        help="download an extract asked for earlier (for example with --no-wait)",
    )
    what.add_argument(
        "--list", action="store_true", help="list the organisation's extracts and stop"
    )
    extract.add_argument("--purpose", help="why the data is needed: a purpose of the agreement")
    extract.add_argument(
        "--format",
        choices=("csv", "xlsx", "parquet"),
        default=None,
        help="the file's format (csv is a zip with a data package description)",
    )
    _person_arguments(extract, acting="asking for it: a member of the recipient organisation")
    extract.add_argument("--output", metavar="FILE", help="where to write the extract")
    extract.add_argument(
        "--force", action="store_true", help="replace --output if it exists already"
    )
    extract.add_argument(
        "--no-wait",
        action="store_true",
        help="do not wait for the extract to be built: print its id and stop",
    )
    extract.set_defaults(handler=handle_extract)

    commands = command_group(subparsers, "releases", "publishing data to an agreement's recipients")
    outlets = commands.add_parser(
        "outlets",
        help="where the organisation can publish: each outlet's key, dataset and recipients",
    )
    _person_arguments(outlets, acting="asking: a member of the providing organisation")
    outlets.set_defaults(handler=handle_outlets)

    publish = commands.add_parser(
        "publish",
        help="check a file against the outlet's standard and publish it to every recipient",
        description=(
            "Check FILE against the standard of the outlet's dataset and, if every row is "
            "valid, publish it once to every recipient the agreement's flow names (each "
            "receives only its own slice). Exit status 0: published; 1: the file has problems "
            "(nothing was published); 2: could not run."
        ),
    )
    publish.add_argument(
        "--outlet", required=True, metavar="KEY", help="the outlet (see `accord releases outlets`)"
    )
    publish.add_argument("--label", required=True, help="the release's name, e.g. “Week 12”")
    _person_arguments(publish, acting="publishing: a member of the providing organisation")
    publish.add_argument("--caveats", default="", help="what people using the data should know")
    publish.add_argument("file", metavar="FILE", help="the CSV, XLSX or ODS file to publish")
    publish.set_defaults(handler=handle_publish)

    remind = commands.add_parser(
        "remind",
        help="remind providers whose next release is overdue (each reminder once)",
        description=(
            "Tell each providing organisation whose next release under an active agreement is "
            "overdue by its flow's frequency. Safe to run again: each overdue release is "
            "reminded about once. Run it daily from cron."
        ),
    )
    remind.add_argument(
        "--now",
        type=_moment,
        default=None,
        metavar="ISO",
        help="run as if it were this moment, e.g. 2026-03-02T09:00 (default: now)",
    )
    remind.set_defaults(handler=handle_remind)


def _person_arguments(parser: argparse.ArgumentParser, *, acting: str) -> None:
    parser.add_argument(
        "--as", dest="email", required=True, metavar="EMAIL", help=f"the person {acting}"
    )
    parser.add_argument(
        "--organisation",
        metavar="NAME_OR_CODE",
        help="the organisation acted for, by name, GSS or ODS code (needed only when the "
        "person can act for more than one)",
    )


def _moment(text: str) -> dt.datetime:
    from django.utils import timezone

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a moment; give it like 2026-03-02T09:00 or 2026-03-02."
        ) from exc
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _fail(command: str, message: str) -> int:
    print(f"accord {command}: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def _refused(command: str, reasons: Sequence[str]) -> int:
    print(f"accord {command}: refused.", file=sys.stderr)
    for reason in dict.fromkeys(reasons):  # each once, in order
        print(f"  - {reason}", file=sys.stderr)
    return EXIT_PROBLEM


# Who is acting -----------------------------------------------------------------------------------


def _membership(
    email: str,
    organisation: str | None,
    *,
    fits: Callable[[Membership], bool] | None = None,
) -> Membership:
    """The membership the person named acts through (``cli.common.acting_membership``)."""
    try:
        return acting_membership(email, organisation, fits=fits)
    except CannotAct as exc:
        raise CannotRun(str(exc)) from None


def _acting(
    email: str,
    organisation: str | None,
    *,
    fits: Callable[[Membership], bool] | None = None,
) -> tuple[Membership, Actor]:
    from accord.organisations.actors import actor_for

    membership = _membership(email, organisation, fits=fits)
    return membership, actor_for(membership.user, membership)


# accord extract ---------------------------------------------------------------------------------


def handle_extract(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    if args.list:
        return _list_extracts(args, out=out)
    if args.download:
        return _download_earlier(args, out=out)
    return _request(args, out=out)


def _request(args: argparse.Namespace, *, out: TextIO) -> int:
    from accord.audit.exceptions import Refused

    from . import extracts
    from .exceptions import AccessDenied

    try:
        missing = [
            name
            for name, value in (
                ("--source", args.source),
                ("--purpose", args.purpose),
                ("--format", args.format),
            )
            if not value
        ]
        if not args.no_wait and not args.output:
            missing.append("--output")
        if missing:
            raise CannotRun(
                f"Give {', '.join(missing)} (or --list to see the organisation's extracts)."
            )
        output = _output(args) if args.output else None
        ref = args.source.strip()
        membership, by = _acting(
            args.email, args.organisation, fits=lambda m: _visible(m.organisation_id, ref)
        )
        source = _source(membership.organisation, ref)
    except CannotRun as problem:
        return _fail("extract", str(problem))
    try:
        extract = extracts.request_extract(
            by=by,
            source=source.data,
            purpose=args.purpose,
            fmt=args.format,
            collection=source.collection,
            release=source.release,
        )
    except AccessDenied as denied:
        return _refused("extract", denied.reasons)
    except Refused as refusal:
        return _fail("extract", refusal.reason)
    print(
        f"Asked for an extract of {source.name} from {source.provider.name} for "
        f"{membership.organisation.name} (extract {extract.pk}).",
        file=out,
    )
    if args.no_wait:
        print(
            "It is being built; download it with `accord extract --download "
            f"{extract.pk} --as {args.email} --output FILE`.",
            file=out,
        )
        return EXIT_OK
    assert output is not None
    return _finish(extract, by, output, force=args.force, out=out)


def _download_earlier(args: argparse.Namespace, *, out: TextIO) -> int:
    from .extracts import extract_for
    from .models import Extract

    try:
        if not args.output:
            raise CannotRun("Give --output: the file to write the extract to.")
        output = _output(args)
        membership, by = _acting(args.email, args.organisation)
        try:
            extract = extract_for(membership.organisation_id, args.download.strip())
        except Extract.DoesNotExist:
            raise CannotRun(
                f"{membership.organisation.name} has no extract {args.download}. Run "
                "`accord extract --list` to see them."
            ) from None
    except CannotRun as problem:
        return _fail("extract", str(problem))
    return _finish(extract, by, output, force=args.force, out=out)


def _output(args: argparse.Namespace) -> Path:
    """Where to write, checked before anything is asked for."""
    output = Path(args.output).expanduser()
    if output.is_dir():
        raise CannotRun(f"{output} is a folder; give the name of the file to write.")
    if output.exists() and not args.force:
        raise CannotRun(
            f"{output} exists already; choose another name, or add --force to replace it."
        )
    if not output.parent.is_dir():
        raise CannotRun(f"There is no folder {output.parent} to write {output.name} into.")
    return output


def _visible(organisation_id: int | str, ref: str) -> bool:
    from .extracts import SourceNotFound, source_for

    try:
        source_for(organisation_id, ref)
    except SourceNotFound:
        return False
    return True


def _source(organisation: Organisation, ref: str) -> Source:
    """The source ``ref`` names, if ``organisation`` could be granted it; the same words for
    data that does not exist and data it could never see, as the pages and the API answer."""
    from .extracts import SourceNotFound, source_for

    try:
        return source_for(organisation.pk, ref)
    except SourceNotFound:
        raise CannotRun(
            f"There is no source {ref} that {organisation.name} can ask an extract of. Give it "
            "as collection:ID or release:ID, as the collection's or release's page shows it."
        ) from None


def _finish(extract: Extract, by: Actor, output: Path, *, force: bool, out: TextIO) -> int:
    """See the extract built, then download it to ``output``."""
    from .models import ExtractState

    if extract.state in (ExtractState.QUEUED, ExtractState.BUILDING):
        see_through(extract.progress_id)
        extract.refresh_from_db()
    if extract.state == ExtractState.REFUSED:
        return _refused("extract", [extract.message or "The decision point refused it."])
    if extract.state != ExtractState.READY:
        why = extract.message or "it did not finish"
        label = extract.get_state_display().lower()
        return _fail("extract", f"The extract was not built ({label}): {why}")
    return _download(extract, by, output, force=force, out=out)


def _download(extract: Extract, by: Actor, output: Path, *, force: bool, out: TextIO) -> int:
    from django.core.exceptions import ValidationError

    from accord.audit.exceptions import NotPermitted

    from .exceptions import AccessDenied
    from .extracts import delete_by, open_extract

    try:
        download = open_extract(extract, by=by)
    except AccessDenied as denied:
        return _refused("extract", denied.reasons)
    except NotPermitted as refusal:
        return _refused("extract", [refusal.reason])
    except ValidationError as problem:  # e.g. the copy could not be recorded
        return _fail("extract", " ".join(problem.messages))
    try:
        _write(download.reader, output, force=force)
    except CannotRun as problem:
        return _fail(
            "extract",
            f"{problem} Try again with `accord extract --download {extract.pk} --as "
            f"{by.label} --output FILE`.",
        )
    extract = download.extract
    print(
        f"Wrote {extract.rows or 0:,} rows ({len(extract.fields)} fields) to {output}.",
        file=out,
    )
    applied = extract.applied or {}
    if applied.get("pseudonymised"):
        print(f"Pseudonymised: {', '.join(applied['pseudonymised'])}.", file=out)
    if applied.get("generalised"):
        generalised = ", ".join(f"{name} ({level})" for name, level in applied["generalised"])
        print(f"Generalised: {generalised}.", file=out)
    for column, values in applied.get("rows_limited_to") or []:
        print(f"Only rows whose {column} is {', '.join(map(str, values))}.", file=out)
    if applied.get("fields_withheld"):
        print(f"Withheld: {', '.join(applied['fields_withheld'])}.", file=out)
    if extract.caveats:
        print(f"Caveats: {extract.caveats}", file=out)
    deadline = delete_by(extract)
    if deadline is not None:
        from django.utils import timezone

        print(
            f"Use it only for “{extract.purpose}”. Delete every copy by "
            f"{timezone.localtime(deadline):%-d %B %Y} and say so in Accord.",
            file=out,
        )
    else:
        print(f"Use it only for “{extract.purpose}”.", file=out)
    return EXIT_OK


def _write(chunks: Iterable[bytes], output: Path, *, force: bool) -> None:
    """Stream ``chunks`` to a private temporary file beside ``output``, then put it in place:
    never over an existing file unless ``force``, and never half-written."""
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed below, on every path)
        dir=output.parent, prefix=".accord-extract-", delete=False
    )
    temporary = Path(handle.name)
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
        if force:
            os.replace(temporary, output)
        else:
            try:
                os.link(temporary, output)  # fails if the file appeared meanwhile
            except FileExistsError:
                raise CannotRun(
                    f"{output} exists already; choose another name, or add --force to replace it."
                ) from None
    except CannotRun:
        raise
    except Exception as exc:  # the vault refused the stream, or the disk did
        raise CannotRun(f"The extract could not be written to {output}: {exc}") from None
    finally:
        temporary.unlink(missing_ok=True)


def see_through(progress_id: object, *, out: TextIO | None = None) -> None:
    """See the extract's build through, as ``accord submit`` sees a check through."""
    from accord.tasks.cli import see_through as through

    through(
        None if progress_id is None else str(progress_id), out=out, bar_name="accord-extract-bar"
    )


def _list_extracts(args: argparse.Namespace, *, out: TextIO) -> int:
    from django.utils import timezone

    from .extracts import delete_by, extracts_of

    try:
        membership, _ = _acting(args.email, args.organisation)
    except CannotRun as problem:
        return _fail("extract", str(problem))
    found = list(extracts_of(membership.organisation))
    if not found:
        print(f"{membership.organisation.name} has no extracts yet.", file=out)
        return EXIT_OK

    def day(moment: dt.datetime | None) -> str:
        return f"{timezone.localtime(moment):%Y-%m-%d}" if moment is not None else ""

    rows = [
        (
            str(e.pk),
            e.name,
            e.provider.name,
            e.get_state_display(),
            "" if e.rows is None else f"{e.rows:,}",
            e.format,
            day(e.created_at),
            day(delete_by(e)),
        )
        for e in found
    ]
    _table(("ID", "NAME", "FROM", "STATE", "ROWS", "FORMAT", "ASKED", "DELETE BY"), rows, out=out)
    return EXIT_OK


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, out: TextIO) -> None:
    widths = [max(len(str(r[n])) for r in [header, *rows]) for n in range(len(header))]
    for row in [header, *rows]:
        print(
            "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(),
            file=out,
        )


# accord releases -------------------------------------------------------------------------------


def _providing(membership: Membership) -> bool:
    from .releases import outlets_of

    return bool(outlets_of(membership.organisation_id))


def handle_outlets(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from django.utils import timezone

    from .releases import schedules_of

    out = out or sys.stdout
    try:
        membership, _ = _acting(args.email, args.organisation, fits=_providing)
    except CannotRun as problem:
        return _fail("releases outlets", str(problem))
    schedules = schedules_of(membership.organisation)
    if not schedules:
        print(
            f"{membership.organisation.name} provides no dataset under an active agreement, so "
            "it has nowhere to publish.",
            file=out,
        )
        return EXIT_OK
    for schedule in schedules:
        outlet = schedule.outlet
        print(outlet.key, file=out)
        print(f"  Dataset:    {outlet.dataset_name or outlet.dataset} ({outlet.dataset})", file=out)
        print(f"  Agreement:  {outlet.agreement.title}", file=out)
        names = ", ".join(r.name for r in outlet.recipients)
        print(f"  Recipients: {len(outlet.recipients)}: {names}", file=out)
        if outlet.frequency:
            print(f"  Frequency:  {outlet.frequency}", file=out)
        if schedule.last is not None:
            last = timezone.localtime(schedule.last.published_at)
            print(f"  Last:       {schedule.last.label} ({last:%Y-%m-%d %H:%M})", file=out)
        if schedule.due is not None:
            late = " (overdue)" if schedule.overdue() else ""
            print(f"  Next due:   {timezone.localtime(schedule.due):%Y-%m-%d}{late}", file=out)
    return EXIT_OK


def handle_publish(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from accord.audit.exceptions import Refused
    from accord.standards.exceptions import StandardNotFound

    from .releases import PUBLISHING_ROLES, frame_from_file, outlet_for, publish, standard_of

    out = out or sys.stdout
    command = "releases publish"
    key = args.outlet.strip()
    try:
        path = Path(args.file).expanduser()
        if not path.is_file():
            raise CannotRun(f"There is no file at {path}.")
        membership, by = _acting(
            args.email,
            args.organisation,
            fits=lambda m: outlet_for(m.organisation, key) is not None,
        )
        outlet = outlet_for(membership.organisation, key)
        if outlet is None:
            raise CannotRun(
                f"{membership.organisation.name} has no outlet {key}. Run `accord releases "
                "outlets` to see where it can publish."
            )
        try:
            standard = standard_of(outlet)
        except StandardNotFound:
            raise CannotRun(
                f"The dataset {outlet.dataset_name or outlet.dataset} follows no published "
                f"standard ({outlet.dataset or 'none named'}), so a file cannot be checked "
                "against it."
            ) from None
        content = path.read_bytes()
    except CannotRun as problem:
        return _fail(command, str(problem))
    except OSError as exc:
        return _fail(command, f"{args.file} could not be read: {exc.strerror or exc}.")
    if not set(by.roles) & PUBLISHING_ROLES:  # publish says so too; before the file is read
        return _fail(
            command, "Only a data officer, analyst or information asset owner can publish data."
        )
    try:
        frame = frame_from_file(standard, path.name, content)
    except Refused as refusal:
        print(f"accord {command}: {refusal.reason}", file=sys.stderr)
        return EXIT_PROBLEM
    try:
        release = publish(
            by=by,
            agreement=outlet.agreement,
            flow_id=outlet.flow_id,
            dataset_id=outlet.dataset_id,
            label=args.label,
            frame=frame,
            caveats=args.caveats,
        )
    except Refused as refusal:
        return _fail(command, refusal.reason)
    recipients = list(release.recipients.select_related("organisation"))
    print(
        f"Published “{release.label}” (release {release.pk}): {release.rows:,} rows to "
        f"{len(recipients)} recipient(s) under “{outlet.agreement.title}”.",
        file=out,
    )
    for recipient in recipients:
        print(f"  - {recipient.organisation.name}: {recipient.rows:,} rows", file=out)
    return EXIT_OK


# accord releases remind -------------------------------------------------------------------------


@dataclass
class ReminderRun:
    providers: int = 0
    sent: int = 0
    already_sent: int = 0
    reminded: list[str] = field(default_factory=list)


def send_release_reminders(*, now: dt.datetime, by: Actor | None = None) -> ReminderRun:
    """Tell each provider, once per due date, of each outlet whose next release is overdue."""
    from accord.audit.actor import Actor
    from accord.organisations.models import Organisation

    from .models import Grant
    from .releases import schedules_of

    by = by or Actor.task("release-reminders")
    run = ReminderRun()
    provider_ids = (
        Grant.objects.filter(agreement__status="active", agreement__isnull=False)
        .values_list("provider_id", flat=True)
        .distinct()
    )
    for provider in Organisation.objects.filter(pk__in=provider_ids).order_by("name"):
        run.providers += 1
        for schedule in schedules_of(provider):
            if schedule.due is not None and schedule.overdue(now):
                _remind_once(by, run, provider, schedule.outlet, schedule.due, now)
    return run


def _remind_once(
    by: Actor,
    run: ReminderRun,
    provider: Organisation,
    outlet: Outlet,
    due: dt.datetime,
    now: dt.datetime,
) -> None:
    from django.db import IntegrityError, transaction
    from django.urls import reverse
    from django.utils import timezone

    from accord.audit.actions import record
    from accord.notifications.actions import notify
    from accord.notifications.models import SentReminder, Topic

    key = f"release:{outlet.agreement.pk}:{outlet.flow_id}:{outlet.dataset_id}:{due:%Y%m%d%H%M%S}"
    key = key[:200]
    if SentReminder.objects.filter(key=key).exists():
        run.already_sent += 1
        return
    name = outlet.dataset_name or outlet.dataset
    when = f"{timezone.localtime(due):%-d %B %Y}"
    late = (timezone.localtime(now).date() - timezone.localtime(due).date()).days
    try:
        with transaction.atomic():
            SentReminder.objects.create(key=key)
            notify(
                by=by,
                organisation=provider,
                topic=Topic.RELEASE_OVERDUE,
                subject=f"Release overdue: {name}, {outlet.agreement.title}"[:200],
                body=(
                    f"Under the agreement “{outlet.agreement.title}”, {provider.name} publishes "
                    f"{name} {outlet.frequency} to {len(outlet.recipients)} recipient(s). The "
                    f"next release was due by {when} and nothing has been published since"
                    + (f" ({late} day(s) ago)." if late > 0 else ".")
                    + " Publish it as soon as you can."
                ),
                link=reverse("web:releases"),
                roles=REMINDED_ROLES,
            )
            record(
                by=by,
                action="release.reminded",
                target=f"agreement:{outlet.agreement.pk}",
                subject_organisation_id=str(provider.pk),
                details={
                    "flow": outlet.flow_id,
                    "dataset": outlet.dataset_id,
                    "due": due.isoformat(),
                },
            )
    except IntegrityError:  # another run sent it first
        run.already_sent += 1
        return
    run.sent += 1
    run.reminded.append(f"{provider.name}: {name} ({outlet.agreement.title}), due {when}")


def handle_remind(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from django.db import DatabaseError
    from django.utils import timezone

    out = out or sys.stdout
    now = args.now or timezone.now()
    try:
        run = send_release_reminders(now=now)
    except DatabaseError as exc:
        return _fail("releases remind", str(exc))
    print(
        f"Release reminders at {timezone.localtime(now):%Y-%m-%d %H:%M}: looked at "
        f"{run.providers} provider(s); sent {run.sent} overdue reminder(s); "
        f"{run.already_sent} already sent before.",
        file=out,
    )
    for line in run.reminded:
        print(f"  - {line}", file=out)
    return EXIT_OK
