"""The organisation's audit log, and the signed checkpoints anyone signed in can download."""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render

from accord.audit import queries
from accord.audit.actions import record
from accord.audit.checkpoints import checkpoint_document
from accord.audit.models import AuditCheckpoint
from accord.audit.signing import public_key_pem

from ..forms import AuditFilterForm
from .common import actor, require_role
from .home import AUDIT_READERS


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def events(request: HttpRequest) -> HttpResponseBase:
    membership = require_role(request, *AUDIT_READERS)
    organisation = membership.organisation
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    found = queries.events_for_organisation(
        str(organisation.pk),
        action=filters.get("action") or None,
        actor=filters.get("person") or None,
        outcome=filters.get("outcome") or None,
        since=filters.get("since"),
        until=filters.get("until"),
    )
    # A download with filters that did not make sense would otherwise hold every event.
    if request.GET.get("format") == "csv" and not form.errors:
        record(
            by=actor(request),
            action="audit.events.downloaded",
            target=f"organisation:{organisation.pk}",
            details={k: str(v) for k, v in filters.items() if v},
        )
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in queries.csv_rows(found)), content_type="text/csv"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="accord-audit-{organisation.pk}.csv"'
        )
        return response
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "web/audit/events.html",
        {
            "form": form,
            "page": page,
            "organisation": organisation,
            "query": query.urlencode(),
        },
    )


@login_required
def checkpoints(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/audit/checkpoints.html",
        {"checkpoints": queries.list_checkpoints()[:100]},
    )


@login_required
def checkpoint_download(request: HttpRequest, checkpoint_id: int) -> HttpResponse:
    checkpoint = get_object_or_404(AuditCheckpoint, pk=checkpoint_id)
    body = json.dumps(checkpoint_document(checkpoint), indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="accord-checkpoint-{checkpoint.seq}.json"'
    )
    return response


def public_key(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(public_key_pem(), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="accord-audit-public-key.pem"'
    return response
