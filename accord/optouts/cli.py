"""`accord optouts`: opt-out lists from the server's command line (platform operators).

    accord optouts list
    accord optouts load --list NAME FILE [--create --kind KIND --owner ORG] [--no-progress]

``list`` prints every list: its kind, owner, size and when it was last replaced (never who is
on it). ``load`` replaces a list's NHS numbers with those in FILE (CSV, XLSX or ODS with a
column headed "NHS number"), showing progress; the old version is crypto-shredded. With
``--create`` a list that does not exist yet is made first (``--kind`` national_data_opt_out or
local_objection; ``--owner`` the organisation's name, GSS or ODS code). A file with rows that
are not NHS numbers changes nothing: each bad row is printed. Exit status: 0 loaded or listed;
1 the file was refused; 2 could not run (no such list or organisation).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, command_group

ACTOR_LABEL = "accord optouts (platform operator)"


def register(subparsers: argparse._SubParsersAction) -> None:
    commands = command_group(subparsers, "optouts", "opt-out lists (National Data Opt-out)")
    listing = commands.add_parser("list", help="every opt-out list, its size and last update")
    listing.set_defaults(handler=handle_list)
    load = commands.add_parser("load", help="replace an opt-out list's NHS numbers from a file")
    load.add_argument("--list", dest="name", required=True, help="the list's name")
    load.add_argument("file", type=Path, help="CSV, XLSX or ODS with a column 'NHS number'")
    load.add_argument("--create", action="store_true", help="make the list if it is new")
    load.add_argument(
        "--kind",
        default="national_data_opt_out",
        choices=["national_data_opt_out", "local_objection"],
        help="for --create: the kind of list",
    )
    load.add_argument("--owner", help="for --create: the organisation (name, GSS or ODS code)")
    load.add_argument("--no-progress", action="store_true", help="never show a bar")
    load.set_defaults(handler=handle_load)


def handle_list(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    from .models import OptOutList

    out = out or sys.stdout
    lists = list(OptOutList.objects.select_related("owner").order_by("name"))
    if not lists:
        print("There are no opt-out lists.", file=out)
    for item in lists:
        updated = f"{item.updated_at:%Y-%m-%d %H:%M}" if item.updated_at else "never loaded"
        print(
            f"{item.name}\t{item.get_kind_display()}\t{item.owner.name}\t"
            f"{item.count} people\tversion {item.version}\t{updated}",
            file=out,
        )
    return EXIT_OK


def _owner(text: str | None) -> object:
    from django.db.models import Q

    from accord.organisations.models import Organisation

    if not text:
        return None
    text = text.strip()
    return Organisation.objects.filter(
        Q(name__iexact=text) | Q(gss_code__iexact=text) | Q(ods_code__iexact=text)
    ).first()


def handle_load(
    args: argparse.Namespace, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    from tqdm import tqdm

    from accord.audit.actor import Actor
    from accord.audit.exceptions import Refused

    from . import actions
    from .models import OptOutList

    out, err = out or sys.stdout, err or sys.stderr
    by = Actor.system(ACTOR_LABEL)
    opt_out_list = OptOutList.objects.filter(name__iexact=args.name.strip()).first()
    if opt_out_list is None:
        if not args.create:
            print(
                f"accord optouts load: there is no list called {args.name}. Add --create "
                "--kind KIND --owner ORG to make it.",
                file=err,
            )
            return EXIT_UNUSABLE
        owner = _owner(args.owner)
        if owner is None:
            print("accord optouts load: give --owner, an organisation on Accord.", file=err)
            return EXIT_UNUSABLE
        try:
            opt_out_list = actions.create_list(
                by=by,
                name=args.name,
                kind=args.kind,
                owner=owner,  # type: ignore[arg-type]
            )
        except Refused as refusal:
            print(f"accord optouts load: {refusal.reason}", file=err)
            return EXIT_UNUSABLE
    with tqdm(unit=" rows", disable=args.no_progress or None, file=sys.stderr) as bar:

        def moved(rows: int, estimate: int | None) -> None:
            if estimate and bar.total != estimate:
                bar.total = estimate
            bar.update(rows - bar.n)

        try:
            loaded = actions.load_list(
                by=by, opt_out_list=opt_out_list, source=args.file, on_progress=moved
            )
        except actions.InvalidList as invalid:
            bar.close()
            print(f"accord optouts load: {invalid.reason}", file=err)
            for problem in invalid.problems:
                print(f"  {problem}", file=err)
            return EXIT_PROBLEM
    print(
        f"{loaded.name}: version {loaded.version} loaded, {loaded.count} people.",
        file=out,
    )
    return EXIT_OK
