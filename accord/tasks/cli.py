"""`accord worker`: run queued background tasks, for deployments with separate worker processes
(``accord serve`` runs one in a thread unless ``ACCORD_TASKS_WORKER=off``). And ``follow``: a
progress record shown as a progress bar on the command line until the work ends.

    accord worker [--batch] [--max-tasks N] [--interval SECONDS] [--queue NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
import uuid
from typing import TextIO

from tqdm import tqdm

from accord.cli.common import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE

from .enums import ProgressState
from .models import TaskProgress
from .queries import progress_for


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="run queued background tasks",
        description="Run the background tasks queued in the database, until stopped (Ctrl+C "
        "lets the current task finish). `accord serve` runs a worker of its own unless "
        "ACCORD_TASKS_WORKER=off; run this for separate worker processes.",
    )
    parser.add_argument("--batch", action="store_true", help="run the tasks queued now, then stop")
    parser.add_argument(
        "--max-tasks", type=_positive, default=None, help="stop after running this many tasks"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=1.0,
        help="seconds to wait before looking again when the queue is empty (default 1)",
    )
    parser.add_argument(
        "--queue",
        action="append",
        dest="queues",
        metavar="NAME",
        help="a queue to take tasks from (repeatable; default: default)",
    )
    parser.set_defaults(handler=handle)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a whole number above 0")
    return value


def handle(args: argparse.Namespace) -> int:
    from accord.cli.serve import migrate

    from .worker import make_worker, run_queued, uses_database_backend

    if not uses_database_backend():
        print(
            "Tasks are not queued in the database (ACCORD_TASKS_BACKEND is not 'database'), so "
            "there is nothing for a worker to run.",
            file=sys.stderr,
        )
        return EXIT_UNUSABLE
    migrate()
    if args.batch:
        ran = run_queued(max_tasks=args.max_tasks, queues=tuple(args.queues or ("default",)))
        print(f"Ran {ran} task{'s' if ran != 1 else ''}.", flush=True)
        return EXIT_OK
    worker = make_worker(
        role="worker",
        interval=max(0.0, args.interval),
        max_tasks=args.max_tasks,
        queues=tuple(args.queues or ("default",)),
    )
    print("Accord's task worker is running (press Ctrl+C to stop).", flush=True)
    worker.configure_signals()
    worker.run()
    print(f"Ran {worker.ran} task{'s' if worker.ran != 1 else ''}.", flush=True)
    return EXIT_OK


def follow(
    progress_id: uuid.UUID | str,
    *,
    interval: float = 0.5,
    timeout: float | None = None,
    out: TextIO | None = None,
    disable: bool | None = None,
) -> TaskProgress | None:
    """Show the work's progress as a bar on ``out`` (standard error) until it finishes, and
    return its last state; None if there is no such record. Stops waiting after ``timeout``
    seconds if given (the work carries on). The bar hides itself when ``out`` is not a
    terminal unless ``disable=False``."""
    progress = progress_for(progress_id)
    if progress is None:
        return None
    deadline = None if timeout is None else time.monotonic() + timeout
    with tqdm(
        total=progress.total,
        desc=progress.label,
        file=out or sys.stderr,
        disable=disable,
        dynamic_ncols=True,
    ) as bar:
        while True:
            if progress.total is not None and bar.total != progress.total:
                bar.total = progress.total
            bar.n = progress.done
            if progress.message:
                bar.set_postfix_str(progress.message, refresh=False)
            bar.refresh()
            if progress.is_finished or (deadline is not None and time.monotonic() >= deadline):
                return progress
            time.sleep(interval)
            fresh = progress_for(progress_id)
            if fresh is None:  # deleted while we watched
                return progress
            progress = fresh


def exit_status(progress: TaskProgress | None) -> int:
    """The exit status for a command that followed work to its end."""
    if progress is None or not progress.is_finished:
        return EXIT_UNUSABLE if progress is None else EXIT_PROBLEM
    return EXIT_OK if progress.state == ProgressState.DONE else EXIT_PROBLEM


# Seeing a queued task through from a command ---------------------------------------------------

WAIT_INTERVAL = 0.5


def see_through(
    progress_id: uuid.UUID | str | None,
    *,
    out: TextIO | None = None,
    interval: float = WAIT_INTERVAL,
    bar_name: str = "accord-task-bar",
) -> TaskProgress | None:
    """Wait for the task whose progress record is ``progress_id`` to end, and return the record.

    A command that queued the task (``accord submit``, ``accord extract``) has no worker of its
    own, so it runs queued tasks here, one at a time, until that one has ended (tasks queued
    before it run first, as a worker would run them). If another worker took it, this follows
    that worker instead. On a terminal, a progress bar (``follow``) is drawn from a thread
    beside the work."""
    from .worker import run_queued, uses_database_backend

    if progress_id is None:
        return None
    if not uses_database_backend():  # the immediate backend ran it already
        return progress_for(str(progress_id))
    stream = out or sys.stderr
    bar = _Bar(str(progress_id), stream, bar_name) if _is_terminal(stream) else None
    try:
        while True:
            progress = progress_for(str(progress_id))
            if progress is None or progress.is_finished:
                return progress
            if run_queued(max_tasks=1) == 0:
                time.sleep(interval)  # queued elsewhere, or being run by another worker
    finally:
        if bar is not None:
            bar.stop()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Bar:
    """``follow`` on a thread of its own, with a database connection of its own: drawing only."""

    def __init__(self, progress_id: str, out: TextIO, name: str) -> None:
        self.thread = threading.Thread(
            target=self._run, args=(progress_id, out), name=name, daemon=True
        )
        self.thread.start()

    @staticmethod
    def _run(progress_id: str, out: TextIO) -> None:
        from django.db import DatabaseError, connections

        try:
            follow(progress_id, out=out, disable=False, interval=0.2)
        except DatabaseError:
            pass  # the bar is only a picture of the work; the work goes on
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.thread.join(timeout=5)
