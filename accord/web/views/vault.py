"""Deletion certificates (the list an organisation's governance roles see, each certificate's
page and its download as a self-contained JSON document), and copies held outside Accord with
their recipients' deletion attestations."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accord.audit.actions import record
from accord.audit.exceptions import Refused
from accord.organisations.enums import Role
from accord.vault import copies as copy_rules
from accord.vault import queries
from accord.vault.exceptions import CertificateNotFound
from accord.vault.models import DeletionCertificate, ExtractCopy

from ..forms import AttestDeletionForm
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


# Those who may say, for the recipient, that its copies are gone.
ATTESTERS = (Role.DPO, Role.INFORMATION_ASSET_OWNER, Role.ORGANISATION_ADMIN)


@login_required
def copies(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, *CERTIFICATE_READERS)
    organisation = membership.organisation
    return render(
        request,
        "web/vault/copies.html",
        {
            "organisation": organisation,
            "held": list(copy_rules.copies_held_by(organisation)),
            "given": list(copy_rules.copies_of_data_of(organisation)),
            "now": timezone.now(),
            "can_attest": membership.has_role(*ATTESTERS),
        },
    )


@login_required
def attest(request: HttpRequest, copy_id: int) -> HttpResponse:
    membership = require_role(request, *ATTESTERS)
    copy = (
        copy_rules.copies_held_by(membership.organisation)
        .filter(pk=copy_id, attested_at__isnull=True)
        .first()
    )
    if copy is None:
        raise Http404("There is no copy waiting for your organisation to attest its deletion.")
    form = AttestDeletionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            copy_rules.attest_deletion(
                by=actor(request), copy=copy, statement=form.cleaned_data["statement"]
            )
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            return redirect("web:copies")
    return render(
        request,
        "web/vault/attest.html",
        {
            "form": form,
            "heading": f"Confirm your copy of “{copy.object.name}” is deleted",
            "copy": _describe(copy),
        },
    )


def _describe(copy: ExtractCopy) -> str:
    return (
        f"{copy.object.name}, from {copy.object.organisation.name}, released "
        f"{timezone.localtime(copy.released_at):%-d %B %Y}, to be deleted by "
        f"{timezone.localtime(copy.delete_by):%-d %B %Y}."
    )
