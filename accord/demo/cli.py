"""`accord demo`: set up the synthetic demo and serve it."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="load the synthetic demo and serve it")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-serve", action="store_true", help="set up and print logins only")
    parser.set_defaults(handler=lambda args: 0)
