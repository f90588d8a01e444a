"""A task that ends without finishing its progress record (it raised before ``tracking`` could
catch it, or never used it) still ends its record, so no page polls for ever."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.signals import task_finished

from . import actions


@receiver(task_finished)
def settle_progress(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    actions.settle(str(task_result.id), failed=task_result.status == TaskResultStatus.FAILED)
