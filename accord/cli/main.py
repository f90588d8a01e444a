"""The `accord` command.

Each area adds its own subcommands through a ``register(subparsers)`` function; a subcommand's
handler takes the parsed arguments and returns the exit status.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

REGISTRARS = (
    "accord.cli.serve",
    "accord.demo.cli",
    "accord.audit.cli",
    "accord.vault.cli",
    "accord.vault.retention_cli",
    "accord.agreements.cli",
    "accord.vault.backup_cli",
    "accord.standards.cli",
    "accord.submissions.cli",
    "accord.submissions.collections_cli",
    "accord.tasks.cli",
    "accord.access.cli",
    "accord.outcomes.cli",
    "accord.outputs.cli",
    "accord.linkage.cli",
    "accord.optouts.cli",
    "accord.breaches.cli",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="accord",
        description="Accord: data sharing between public bodies under enforced agreements.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in REGISTRARS:
        importlib.import_module(module).register(subparsers)
    manage = subparsers.add_parser(
        "manage", help="run a Django management command (migrate, createsuperuser, ...)"
    )
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(handler=_manage)
    return parser


def _manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["accord manage", *args.rest])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.config.settings")
    import django

    django.setup()
    args = build_parser().parse_args(argv)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
