"""`accord serve`: the web application, with audit checkpoints signed and the retention task
run on a schedule, and a worker running queued background tasks."""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable

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


def start_scheduler(
    name: str, interval: int, job: Callable[[], object], *, run_at_start: bool = False
) -> threading.Event | None:
    """Run ``job`` every ``interval`` seconds on a daemon thread (first at once, if
    ``run_at_start``). Returns a stop switch, or None when ``interval`` is not positive."""
    if interval <= 0:
        return None
    stop = threading.Event()

    def tick() -> None:
        # Drop connections a database restart broke, so one outage does not stop every later
        # run; and close ours after use, as a request would.
        close_old_connections()
        try:
            job()
        except Exception:  # keep serving; the next tick tries again
            logger.exception("Scheduled %s failed", name)
        finally:
            close_old_connections()

    def run() -> None:
        if run_at_start and not stop.is_set():
            tick()
        while not stop.wait(interval):
            tick()

    threading.Thread(target=run, name=name, daemon=True).start()
    return stop


def start_checkpoint_scheduler(interval: int) -> threading.Event | None:
    """Sign the chain head every ``interval`` seconds while it moves. Returns a stop switch."""
    from accord.audit.checkpoints import checkpoint_if_moved

    return start_scheduler("audit-checkpoints", interval, checkpoint_if_moved)


def start_retention_scheduler(interval: int) -> threading.Event | None:
    """Crypto-shred expired objects at start and every ``interval`` seconds after."""
    from accord.vault import retention

    def run() -> None:
        report = retention.run()
        if report.deleted or report.failed:
            logger.warning(
                "Retention: %d deleted, %d held, %d failed",
                len(report.deleted),
                len(report.held),
                len(report.failed),
            )

    return start_scheduler("vault-retention", interval, run, run_at_start=True)


def serve(host: str, port: int, threads: int = 8) -> None:
    from waitress import serve as waitress_serve

    from accord.config.wsgi import application
    from accord.tasks.worker import start_background_worker

    start_checkpoint_scheduler(settings.AUDIT_CHECKPOINT_INTERVAL)
    start_retention_scheduler(settings.RETENTION_INTERVAL)
    # Background tasks queued in the database run on a thread beside the web server (ADR 0009).
    worker = start_background_worker()
    _stop_on_sigterm()
    print(f"Accord is running at http://{host}:{port}/  (press Ctrl+C to stop)", flush=True)
    try:
        waitress_serve(application, host=host, port=port, threads=threads, ident="Accord")
    finally:
        if worker is not None:
            worker.stop()


def _stop_on_sigterm() -> None:
    """Stop on SIGTERM (a service manager's stop) as on Ctrl+C: the web server closes and the
    task worker finishes its current task, rather than the process dying mid-task."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def handle(args: argparse.Namespace) -> int:
    migrate()
    serve(args.host, args.port, args.threads)
    return 0
