"""`accord audit ...` subcommands (verify, checkpoint). Filled in with the audit chain work."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("audit", help="verify and checkpoint the audit chain")
    parser.set_defaults(handler=lambda args: parser.print_help() or 2)
