"""Deletion certificates: the list an organisation's governance roles see, each certificate's
page, and its download as a self-contained JSON document."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accord.audit.actions import record
from accord.organisations.enums import Role
from accord.vault import queries
from accord.vault.exceptions import CertificateNotFound
from accord.vault.models import DeletionCertificate

from .common import actor, require_role

# Deletion certificates describe data, never contain it; those who answer for the data see them.
CERTIFICATE_READERS = (
    Role.ORGANISATION_ADMIN,
    Role.DPO,
    Role.SIRO,
    Role.INFORMATION_ASSET_OWNER,
    Role.DATA_OFFICER,
)


def _certificate(request: HttpRequest, object_id: str) -> DeletionCertificate:
    membership = require_role(request, *CERTIFICATE_READERS)
    try:
        return queries.certificate_for(membership.organisation, object_id)
    except CertificateNotFound as missing:
        raise Http404(missing.message) from missing


@login_required
def certificates(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, *CERTIFICATE_READERS)
    found = queries.certificates_for(membership.organisation)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "web/vault/certificates.html",
        {"page": page, "organisation": membership.organisation},
    )


@login_required
def certificate(request: HttpRequest, object_id: str) -> HttpResponse:
    found = _certificate(request, object_id)
    event = queries.certificate_event(found)
    return render(
        request,
        "web/vault/certificate.html",
        {
            "certificate": found,
            "object": found.object,
            "event": event,
            "details": event.details,
            "organisations": list(found.organisations.order_by("name")),
        },
    )


@login_required
def certificate_download(request: HttpRequest, object_id: str) -> HttpResponse:
    found = _certificate(request, object_id)
    record(
        by=actor(request),
        action="vault.certificate.downloaded",
        target=f"{found.object.kind}:{found.object_id}",
        details={"audit_seq": found.audit_seq},
    )
    body = json.dumps(queries.certificate_document(found), indent=2, sort_keys=True)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="accord-deletion-certificate-{found.object_id}.json"'
    )
    return response
