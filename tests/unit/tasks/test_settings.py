"""ACCORD_TASKS_BACKEND chooses where tasks go: the database by default, or run at once."""

from __future__ import annotations

import pytest

from tests.settings_process import start_django

SCRIPT = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.TASKS['default']['BACKEND'], settings.TASKS_WORKER_IN_PROCESS)"
)


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, "django_tasks_db.DatabaseBackend True"),
        ({"ACCORD_TASKS_BACKEND": "database"}, "django_tasks_db.DatabaseBackend True"),
        (
            {"ACCORD_TASKS_BACKEND": "Immediate"},
            "django_tasks.backends.immediate.ImmediateBackend True",
        ),
        ({"ACCORD_TASKS_WORKER": "off"}, "django_tasks_db.DatabaseBackend False"),
    ],
)
def test_the_backend_comes_from_the_environment(
    tmp_path, variables: dict[str, str], expected: str
) -> None:
    result = start_django(SCRIPT, {"ACCORD_DATA_DIR": str(tmp_path), **variables})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_an_unknown_backend_is_refused(tmp_path) -> None:
    result = start_django(
        SCRIPT, {"ACCORD_DATA_DIR": str(tmp_path), "ACCORD_TASKS_BACKEND": "celery"}
    )
    assert result.returncode != 0
    assert "ACCORD_TASKS_BACKEND must be 'database' or 'immediate'" in result.stderr
