"""The database backend's worker, run in this process: in a background thread beside the web
server (``accord serve``, ``accord demo``), in the foreground (``accord worker``), or once over
the queue (``accord worker --batch``, and the tests' ``run_queued_tasks``).

It is django-tasks-db's own worker (the loop behind its ``db_worker`` command), so claiming,
locking and recording results work as they do there; only signals and threads are ours.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

logger = logging.getLogger(__name__)

DEFAULT_QUEUES = ("default",)


def uses_database_backend() -> bool:
    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def worker_id(role: str) -> str:
    """Unique across the pool (the backend requires it), and says where the worker runs."""
    host = socket.gethostname()[:24]
    return f"{role}-{host}-{os.getpid()}-{get_random_string(8)}"[:64]


class _CountingWorker(Worker):
    """The backend's worker, counting the tasks it ran (its own count is private)."""

    ran = 0

    def run_task(self, db_task_result: DBTaskResult) -> None:
        try:
            super().run_task(db_task_result)
        finally:
            self.ran += 1


def make_worker(
    *,
    role: str = "worker",
    batch: bool = False,
    interval: float = 1.0,
    max_tasks: int | None = None,
    queues: tuple[str, ...] = DEFAULT_QUEUES,
) -> _CountingWorker:
    return _CountingWorker(
        queue_names=list(queues),
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=max_tasks,
        worker_id=worker_id(role),
        excluded_queue_names=[],
    )


def run_queued(*, max_tasks: int | None = None, queues: tuple[str, ...] = DEFAULT_QUEUES) -> int:
    """Run every task that is ready now, in this thread, one after another (up to
    ``max_tasks``), then return how many ran. Tasks queued by those tasks run too.

    The backend's loop, less its connection housekeeping: this runs in the caller's thread,
    whose connection (and, in tests, transaction) is the caller's to close."""
    worker = make_worker(role="batch", batch=True, interval=0, max_tasks=max_tasks, queues=queues)
    ready = DBTaskResult.objects.ready().filter(backend_name=worker.backend_name)
    ready = ready.filter(queue_name__in=worker.queue_names)
    while max_tasks is None or worker.ran < max_tasks:
        with exclusive_transaction(ready.db):
            found = ready.get_locked()
            if found is not None:
                found.claim(worker.worker_id)
        if found is None:
            break
        worker.run_task(found)
    return worker.ran


@dataclass
class BackgroundWorker:
    """A worker on a daemon thread. ``stop`` lets a running task finish (up to ``timeout``)."""

    worker: _CountingWorker
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="accord-task-worker", daemon=True)

    def _run(self) -> None:
        while self.worker.running:
            try:
                self.worker.run()
            except Exception:  # a database outage: log, wait, and try again
                logger.exception("The background task worker failed; restarting it")
                close_old_connections()
                if self.worker.running:
                    threading.Event().wait(max(self.worker.interval, 1.0))
        close_old_connections()

    def start(self) -> BackgroundWorker:
        self.thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the worker to stop after its current task; True once it has."""
        self.worker.running = False
        self.thread.join(timeout)
        stopped = not self.thread.is_alive()
        if not stopped:
            logger.warning("The background task worker is still running a task; leaving it")
        return stopped

    @property
    def ran(self) -> int:
        return self.worker.ran


def start_background_worker(
    *, interval: float = 1.0, role: str = "serve", queues: tuple[str, ...] = DEFAULT_QUEUES
) -> BackgroundWorker | None:
    """Start the worker on a thread, if tasks go to the database and the in-process worker is on
    (``ACCORD_TASKS_WORKER``); otherwise None."""
    if not (uses_database_backend() and settings.TASKS_WORKER_IN_PROCESS):
        return None
    return BackgroundWorker(make_worker(role=role, interval=interval, queues=queues)).start()
