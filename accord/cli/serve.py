"""`accord serve`: the web application, with audit checkpoints signed on a schedule."""

from __future__ import annotations

import argparse
import logging
import threading

from django.conf import settings
from django.core.management import call_command
from django.db import close_old_connections

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="serve Accord over HTTP")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=8)
    parser.set_defaults(handler=handle)


def migrate() -> None:
    call_command("migrate", interactive=False, verbosity=0)


def start_checkpoint_scheduler(interval: int) -> threading.Event | None:
    """Sign the chain head every ``interval`` seconds while it moves. Returns a stop switch."""
    if interval <= 0:
        return None
    from accord.audit.checkpoints import checkpoint_if_moved

    stop = threading.Event()

    def run() -> None:
        while not stop.wait(interval):
            # Drop connections a database restart broke, so one outage does not stop every
            # later checkpoint; and close ours after use, as a request would.
            close_old_connections()
            try:
                checkpoint_if_moved()
            except Exception:  # keep serving; the next tick tries again
                logger.exception("Scheduled audit checkpoint failed")
            finally:
                close_old_connections()

    threading.Thread(target=run, name="audit-checkpoints", daemon=True).start()
    return stop


def serve(host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from accord.config.wsgi import application

    start_checkpoint_scheduler(settings.AUDIT_CHECKPOINT_INTERVAL)
    print(f"Accord is running at http://{host}:{port}/  (press Ctrl+C to stop)", flush=True)
    waitress_serve(application, host=host, port=port, threads=threads, ident="Accord")


def handle(args: argparse.Namespace) -> int:
    migrate()
    serve(args.host, args.port, args.threads)
    return 0
