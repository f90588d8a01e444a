"""What the `accord` subcommands share: exit statuses and the shape of a command group."""

from __future__ import annotations

import argparse

EXIT_OK = 0  # done, or intact
EXIT_PROBLEM = 1  # ran, and found or left something wrong (each named in the output)
EXIT_UNUSABLE = 2  # could not run: bad input or set-up; nothing was changed


def command_group(
    subparsers: argparse._SubParsersAction, name: str, help_text: str
) -> argparse._SubParsersAction:
    """`accord NAME COMMAND ...`: a group whose bare name prints its help and exits 2."""
    parser = subparsers.add_parser(name, help=help_text)
    parser.set_defaults(handler=lambda args: parser.print_help() or EXIT_UNUSABLE)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
