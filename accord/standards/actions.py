"""Publishing a new standard, or a new version of one, with the audit event in the same
transaction. Published versions are immutable: correcting one means publishing the next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome

from .exceptions import StandardError
from .models import PublishedStandard
from .queries import versions_of
from .schema import Standard, parse_standard, version_key

if TYPE_CHECKING:
    from accord.submissions.engine import ValidationReport


def publish(*, by: Actor, descriptor: Mapping[str, Any]) -> Standard:
    """Publish ``descriptor`` as a new standard or a newer version of an existing one."""
    standard = parse_standard(descriptor)
    existing = versions_of(standard.slug)
    if any(s.version == standard.version for s in existing):
        raise StandardError(
            [
                f"{standard.label} is already published, and published versions never "
                "change. Give the corrected standard a higher version number."
            ]
        )
    if existing and version_key(standard.version) < version_key(existing[-1].version):
        raise StandardError(
            [
                f"{standard.slug} is already at version {existing[-1].version}; a new version "
                f"must be higher than that, not {standard.version}."
            ]
        )
    try:
        with transaction.atomic():
            PublishedStandard.objects.create(
                slug=standard.slug,
                version=standard.version,
                title=standard.title,
                descriptor=dict(descriptor),
                published_by=by.label,
            )
            record(
                by=by,
                action="standard.published",
                target=f"standard:{standard.label}",
                details={
                    "slug": standard.slug,
                    "version": standard.version,
                    "title": standard.title,
                    "columns": len(standard.fields),
                    "personal_data": standard.personal_data,
                    "new_standard": not existing,
                },
            )
    except IntegrityError as exc:  # published by someone else a moment ago
        raise StandardError([f"{standard.label} is already published."]) from exc
    return standard


def record_file_check(
    *,
    by: Actor,
    standard: Standard,
    size_bytes: int,
    report: ValidationReport | None = None,
    unusable: str | None = None,
) -> None:
    """Audit that someone checked a file against ``standard``: counts only, never a value or
    the file's name, since the file may hold personal data and Accord keeps none of it."""
    details: dict[str, object] = {"standard": standard.label, "size_bytes": size_bytes}
    if report is not None:
        details.update(
            rows=report.rows,
            valid_rows=report.valid_rows,
            errors=report.errors.height,
            warnings=report.warnings.height,
        )
    else:
        details["unusable"] = unusable
    record(
        by=by,
        action="standard.file_checked",
        target=f"standard:{standard.label}",
        outcome=Outcome.SUCCESS if report is not None else Outcome.FAILED,
        details=details,
    )
