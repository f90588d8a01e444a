"""Data standards: the list, each standard's page with its template downloads, checking a file
against a standard, and (platform staff) publishing a new standard or version.

Checking a file keeps nothing: the upload is read, checked and deleted within the request, and
only the counts go into the audit log. Standards are metadata, so any signed-in person may read
them; checking a file is for members of an organisation.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accord.standards import actions, queries, templates
from accord.standards.exceptions import StandardError, StandardNotFound
from accord.standards.schema import Standard
from accord.submissions import report as reports
from accord.submissions.engine import validate_file
from accord.submissions.exceptions import UnusableFile
from accord.submissions.reading import Limits

from ..forms import CheckFileForm, PublishStandardForm
from .common import actor, current_membership

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
PAGE_PROBLEMS = 200  # problems listed on the page; the downloads have them all


def _standard(slug: str, version: str | None = None) -> Standard:
    try:
        return queries.get_standard(slug, version)
    except StandardNotFound as missing:
        raise Http404(str(missing)) from missing


@login_required
def standards(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/standards/list.html",
        {"standards": queries.latest_versions(), "can_publish": request.user.is_staff},
    )


@login_required
def standard(request: HttpRequest, slug: str, version: str | None = None) -> HttpResponse:
    found = _standard(slug, version)
    return render(
        request,
        "web/standards/detail.html",
        {
            "standard": found,
            "versions": queries.versions_of(found.slug),
            "latest": queries.get_standard(found.slug),
        },
    )


@login_required
def template_download(request: HttpRequest, slug: str, version: str, fmt: str) -> HttpResponse:
    found = _standard(slug, version)
    if fmt not in templates.WRITERS:
        raise Http404("There is no template in that format.")
    buffer = io.BytesIO()
    templates.WRITERS[fmt](found, buffer)
    return _attachment(buffer, CONTENT_TYPES[fmt], templates.default_filename(found, fmt))


@login_required
def check_file(request: HttpRequest, slug: str) -> HttpResponse:
    """Check a file against the standard's newest version, or the version chosen."""
    current_membership(request)  # checking files is for members of an organisation
    found = _standard(slug, request.GET.get("version") or request.POST.get("version") or None)
    form = CheckFileForm(request.POST or None, request.FILES or None)
    context = {"standard": found, "form": form, "max_mb": _max_mb()}
    if request.method != "POST" or not form.is_valid():
        return render(request, "web/standards/check.html", context)
    upload: UploadedFile = form.cleaned_data["file"]
    want = form.cleaned_data["result"]
    with _as_path(upload) as path:
        try:
            result = validate_file(
                path,
                found,
                limits=Limits(max_bytes=settings.ACCORD_CHECK_MAX_BYTES),
                display_name=upload.name,
            )
        except UnusableFile as exc:
            actions.record_file_check(
                by=actor(request), standard=found, size_bytes=upload.size or 0, unusable=exc.code
            )
            form.add_error("file", f"Accord could not check {upload.name}: {exc.message}")
            return render(request, "web/standards/check.html", context, status=422)
        actions.record_file_check(
            by=actor(request), standard=found, size_bytes=upload.size or 0, report=result
        )
        if want == "csv":
            buffer = io.BytesIO()
            reports.write_csv(result, buffer)
            return _attachment(buffer, "text/csv; charset=utf-8", _stem(upload) + "-problems.csv")
        if want == "xlsx":
            buffer = io.BytesIO()
            reports.write_annotated_xlsx(result, path, buffer)
            return _attachment(buffer, CONTENT_TYPES["xlsx"], _stem(upload) + "-checked.xlsx")
    return render(
        request,
        "web/standards/report.html",
        {
            "standard": found,
            "report": result,
            "summary": reports.to_dict(result),
            "shown": result.problems.head(PAGE_PROBLEMS).to_dicts(),
            "page_limit": PAGE_PROBLEMS,
            "rule_label": reports.rule_label,
        },
    )


@login_required
def publish(request: HttpRequest) -> HttpResponse:
    """Platform staff publish a new standard, or a new version, from its JSON descriptor."""
    if not request.user.is_staff:
        raise PermissionDenied("Only platform staff can publish data standards.")
    form = PublishStandardForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            published = actions.publish(by=actor(request), descriptor=form.cleaned_data["schema"])
        except StandardError as exc:
            for problem in exc.problems:
                form.add_error("schema", problem)
        else:
            return redirect(
                reverse("web:standard_version", args=[published.slug, published.version])
                + "?published=1"
            )
    return render(request, "web/standards/publish.html", {"form": form})


def _max_mb() -> int:
    return int(settings.ACCORD_CHECK_MAX_BYTES // (1024 * 1024))


class _as_path:
    """The upload as a file on disk for the engine, removed afterwards whatever happens."""

    def __init__(self, upload: UploadedFile):
        self.upload = upload
        self._temp: tempfile._TemporaryFileWrapper | None = None

    def __enter__(self) -> Path:
        existing = getattr(self.upload, "temporary_file_path", None)
        if existing is not None:
            return Path(existing())
        self._temp = tempfile.NamedTemporaryFile(prefix="accord-check-", suffix=".upload")
        for chunk in self.upload.chunks():
            self._temp.write(chunk)
        self._temp.flush()
        return Path(self._temp.name)

    def __exit__(self, *exc: object) -> None:
        if self._temp is not None:
            self._temp.close()


def _stem(upload: UploadedFile) -> str:
    stem = Path(upload.name or "file").stem
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in stem)[:60] or "file"


def _attachment(buffer: io.BytesIO, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
