"""Agreement documents out and in: printable page, canonical JSON, JSON-LD, JSON Schema,
differences between versions, and import of canonical JSON.

Reading an agreement is for members of the organisations that are parties to it, in any role;
anyone else gets "page not found" (``queries.agreement_for``), so an outsider cannot learn that
a draft exists. The JSON Schema is public. Importing starts a new draft through
``actions.start_draft`` and so is audited there; reading agreements is not audited here, as an
agreement is not shared data.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Layout, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from pydantic import ValidationError

from accord.agreements import actions, rules
from accord.agreements.diff import Change, counts, diff, humanise, term
from accord.agreements.diff import render as show
from accord.agreements.document import (
    DataSharingAgreement,
    LegalBasis,
    from_canonical_json,
    json_schema,
    to_canonical_json,
)
from accord.agreements.enums import DRAFTING_ROLES
from accord.agreements.jsonld import to_jsonld
from accord.agreements.models import Agreement, AgreementVersion
from accord.agreements.queries import PARTY_IDENTIFIER_FIELDS, agreement_for, match_parties
from accord.audit.exceptions import Refused
from accord.organisations.models import Membership

from .common import actor, current_membership

MAX_IMPORT_BYTES = 1024 * 1024
MAX_PROBLEMS_SHOWN = 25


# ---------------------------------------------------------------------------------------------
# Reading


def _visible(request: HttpRequest, agreement_id: object) -> tuple[Membership, Agreement]:
    membership = current_membership(request)
    return membership, agreement_for(membership.organisation_id, str(agreement_id))


def _document(version: AgreementVersion) -> DataSharingAgreement:
    return DataSharingAgreement.model_validate(version.document)


@login_required
def document(request: HttpRequest, agreement_id: uuid.UUID) -> HttpResponse:
    """The agreement as a printable page: every section in words, checks first."""
    _, agreement = _visible(request, agreement_id)
    version = agreement.current
    doc = _document(version)
    findings = rules.check(doc, today=timezone.localdate())
    return render(
        request,
        "web/agreements/document.html",
        {
            "agreement": agreement,
            "version": version,
            "doc": doc,
            "blockers": rules.blockers(findings),
            "warnings": rules.warnings(findings),
            "view": _Presented(doc),
            "status": humanise(agreement.status),
            "imported": request.GET.get("imported") == "1",
        },
    )


@login_required
def document_json(request: HttpRequest, agreement_id: uuid.UUID) -> HttpResponse:
    """The canonical JSON of the current version, as a download."""
    _, agreement = _visible(request, agreement_id)
    version = agreement.current
    response = HttpResponse(
        to_canonical_json(_document(version)), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="agreement-{agreement.pk}-v{version.number}.json"'
    )
    return response


@login_required
def document_jsonld(request: HttpRequest, agreement_id: uuid.UUID) -> HttpResponse:
    """The current version as an ODRL policy with DPV terms (JSON-LD)."""
    _, agreement = _visible(request, agreement_id)
    version = agreement.current
    body = json.dumps(to_jsonld(_document(version)), sort_keys=True, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/ld+json; charset=utf-8")
    response["Content-Disposition"] = (
        f'inline; filename="agreement-{agreement.pk}-v{version.number}.jsonld"'
    )
    return response


def schema(request: HttpRequest) -> JsonResponse:
    """The published JSON Schema of the agreement document: public, like the register."""
    response = JsonResponse(json_schema(), json_dumps_params={"indent": 2})
    response["Content-Type"] = "application/schema+json"
    return response


@dataclass(frozen=True)
class _Comparison:
    changes: list[Change]
    earlier: str  # what the current version is compared with, in words
    earlier_url: str | None


def _parent_id(value: str | None) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value.removeprefix("urn:uuid:"))
    except ValueError:
        return None


def _comparison(organisation_id: int, agreement: Agreement) -> _Comparison | None:
    """The current version against the one before it or, for an amendment drafted as a new
    agreement, against its parent's current version (if this organisation may see it)."""
    versions = list(agreement.versions.order_by("-number")[:2])
    current = _document(versions[0])
    if len(versions) == 2:
        return _Comparison(
            diff(_document(versions[1]), current), f"version {versions[1].number}", None
        )
    # An amendment started on Accord links to what it amends; an imported one may carry the
    # link in its document instead.
    amends = getattr(agreement, "amends_id", None)
    parent_id = amends if isinstance(amends, uuid.UUID) else _parent_id(current.parent_agreement_id)
    if parent_id is None or parent_id == agreement.pk:
        return None
    try:
        parent = agreement_for(organisation_id, str(parent_id))
    except Http404:
        return None
    return _Comparison(
        diff(_document(parent.current), current),
        f"the agreement it amends, “{parent.title}” (version {parent.current.number})",
        reverse("web:agreement_document", args=[parent.pk]),
    )


@login_required
def changes(request: HttpRequest, agreement_id: uuid.UUID) -> HttpResponse:
    membership, agreement = _visible(request, agreement_id)
    comparison = _comparison(membership.organisation_id, agreement)
    return render(
        request,
        "web/agreements/document_changes.html",
        {
            "agreement": agreement,
            "version": agreement.current,
            "comparison": comparison,
            "counts": counts(comparison.changes) if comparison else None,
        },
    )


# ---------------------------------------------------------------------------------------------
# The printable page's words: codes as labels with links to the law, ids as names


@dataclass(frozen=True)
class _Row:
    key: str
    value: str
    url: str | None = None


def _rows(model: Any, *skip: str) -> list[_Row]:
    """A section's filled-in values as (label, words) rows."""
    if model is None:
        return []
    data = model.model_dump(mode="json", by_alias=True)
    return [
        _Row(humanise(key).capitalize(), show(value, key))
        for key, value in data.items()
        if key not in skip and value not in (None, "", [], {})
    ]


class _Presented:
    """What the template shows, worked out once: names for ids, labels for codes."""

    def __init__(self, doc: DataSharingAgreement):
        self.doc = doc
        self.party_names = {p.id: p.name or p.id for p in doc.parties}
        self.dataset_names = {d.id: d.name or d.id for d in doc.datasets}
        self.purpose_titles = {p.id: p.title or p.id for p in doc.purposes}

    def party(self, party_id: str | None) -> str:
        return self.party_names.get(party_id or "", party_id or "not named")

    def parties_named(self, ids: list[str]) -> str:
        return ", ".join(self.party(i) for i in ids) or "none named"

    @property
    def agreement_type(self) -> str:
        return term("agreement_types", self.doc.agreement_type).label

    @property
    def jurisdictions(self) -> str:
        return ", ".join(humanise(j).title() for j in self.doc.jurisdictions)

    @property
    def data_subjects(self) -> str:
        return ", ".join(humanise(s) for s in self.doc.data_subjects)

    @property
    def parties(self) -> list[dict[str, Any]]:
        return [
            {
                "party": party,
                "sector": term("sectors", party.sector).label if party.sector else "",
                "roles": [term("party_roles", r) for r in party.roles],
                "identifiers": [
                    f"{humanise(i.scheme).upper() if len(i.scheme) <= 4 else humanise(i.scheme)}"
                    f" {i.value}"
                    for i in party.org_identifiers
                ],
                "contacts": [
                    (humanise(role).capitalize() if len(role) > 4 else role.upper(), contact)
                    for role, contact in (
                        ("dpo", party.contacts.dpo if party.contacts else None),
                        ("siro", party.contacts.siro if party.contacts else None),
                        (
                            "caldicott_guardian",
                            party.contacts.caldicott_guardian if party.contacts else None,
                        ),
                        ("operational", party.contacts.operational if party.contacts else None),
                        ("WASPI designated person", party.waspi_designated_person),
                    )
                    if contact is not None
                ],
            }
            for party in self.doc.parties
        ]

    @property
    def datasets(self) -> list[dict[str, Any]]:
        return [
            {
                "dataset": dataset,
                "provider": self.party(dataset.provider_party_id),
                "granularity": humanise(dataset.granularity) if dataset.granularity else "",
                "geography": humanise(dataset.geography_level) if dataset.geography_level else "",
                "disclosure_control": _rows(dataset.disclosure_control),
                "fields": [
                    {
                        "field": f,
                        "data_type": humanise(f.data_type),
                        "identifier_type": humanise(f.identifier_type) if f.identifier_type else "",
                        "category": humanise(f.personal_data_category),
                        "transformation": humanise(f.transformation_before_share),
                    }
                    for f in dataset.fields
                ],
            }
            for dataset in self.doc.datasets
        ]

    @property
    def flows(self) -> list[dict[str, Any]]:
        return [
            {
                "flow": flow,
                "from": self.party(flow.from_party_id),
                "to": self.parties_named(flow.to_party_ids),
                "datasets": ", ".join(self.dataset_names.get(i, i) for i in flow.dataset_ids),
                "purposes": "; ".join(self.purpose_titles.get(i, i) for i in flow.purpose_ids),
                "how": [
                    _Row(humanise(k).capitalize(), show(getattr(flow, k), k))
                    for k in ("direction", "frequency", "transfer_method", "format", "actions")
                    if getattr(flow, k)
                ],
                "row_filter": (
                    f"Only rows whose {flow.row_filter.column} is the recipient's own area"
                    if flow.row_filter and flow.row_filter.scope == "recipient_area"
                    else f"Only rows whose {flow.row_filter.column} is one of "
                    f"{', '.join(flow.row_filter.values)}"
                    if flow.row_filter
                    else ""
                ),
                "legal_basis": _legal(flow.legal_basis_override)
                if flow.legal_basis_override
                else None,
            }
            for flow in self.doc.flows
        ]

    @property
    def legal_basis(self) -> dict[str, Any]:
        return _legal(self.doc.legal_basis)

    @property
    def retention(self) -> list[dict[str, str]]:
        return [
            {
                "dataset": self.dataset_names.get(r.dataset_id, r.dataset_id),
                "party": self.party(r.party_id),
                "period": show(r.period, "period") if r.period else "",
                "event": r.event or "",
                "disposal": humanise(r.disposal_method) if r.disposal_method else "",
                "evidence": humanise(r.evidence) if r.evidence else "",
            }
            for r in self.doc.retention
        ]

    @property
    def security(self) -> list[_Row]:
        return _rows(self.doc.security)

    @property
    def onward_sharing(self) -> dict[str, Any] | None:
        onward = self.doc.onward_sharing
        if onward is None:
            return None
        return {
            "permitted": onward.permitted,
            "recipients": self.parties_named(onward.permitted_recipients)
            if onward.permitted_recipients
            else "",
            "conditions": onward.conditions,
            "processors": [
                {"processor": p, "rows": _rows(p, "name", "org_identifiers")}
                for p in onward.processors
            ],
        }

    @property
    def dpia(self) -> dict[str, Any] | None:
        dpia = self.doc.dpia
        if dpia is None:
            return None
        return {
            "reasons": [term("dpia_high_risk_criteria", r) for r in dpia.screening_reason],
            "rows": _rows(dpia, "screening_reason"),
        }

    @property
    def rights_handling(self) -> list[_Row]:
        rows = _rows(self.doc.rights_handling, "single_point_of_contact_party")
        rights = self.doc.rights_handling
        if rights and rights.single_point_of_contact_party:
            rows.insert(
                0, _Row("Single point of contact", self.party(rights.single_point_of_contact_party))
            )
        return rows

    @property
    def privacy_notices(self) -> list[str]:
        return self.doc.transparency.privacy_notice_urls if self.doc.transparency else []

    @property
    def art14_exemption(self) -> str:
        transparency = self.doc.transparency
        return (transparency.art14_exemption_relied_on or "") if transparency else ""

    @property
    def breach_handling(self) -> list[_Row]:
        breach = self.doc.breach_handling
        rows = _rows(breach, "contact_point", "ico_notification_owner")
        if breach and breach.ico_notification_owner:
            rows.append(_Row("Who notifies the ICO", self.party(breach.ico_notification_owner)))
        if breach and breach.contact_point:
            contact = breach.contact_point
            rows.append(
                _Row(
                    "Contact point",
                    ", ".join(v for v in (contact.name, contact.email, contact.telephone) if v),
                )
            )
        return rows

    @property
    def data_quality(self) -> list[_Row]:
        return _rows(self.doc.data_quality)

    @property
    def termination(self) -> list[_Row]:
        return _rows(self.doc.termination)

    @property
    def publication(self) -> list[_Row]:
        return _rows(self.doc.publication)

    @property
    def prohibited_uses(self) -> list[dict[str, Any]]:
        return [
            {"term": term("prohibited_uses", use.code), "description": use.description}
            for use in self.doc.prohibited_uses
        ]

    @property
    def report_back(self) -> list[dict[str, str]]:
        return [
            {
                "what": item.what,
                "due": show(item.due, "due"),
                "to": self.parties_named(item.to_party_ids),
            }
            for item in self.doc.report_back
        ]

    @property
    def handling_caveats(self) -> list[_Row]:
        return _rows(self.doc.handling_caveats)

    @property
    def signatories(self) -> list[dict[str, str]]:
        return [
            {
                "party": self.party(s.party_id),
                "role": term("signatory_roles", s.role).label,
                "name": s.name,
                "position": s.position,
                "date": show(s.signed_date.isoformat()) if s.signed_date else "",
                "method": humanise(s.method) if s.method else "",
            }
            for s in self.doc.signatories
        ]

    @property
    def change_log(self) -> list[dict[str, str]]:
        provenance = self.doc.provenance
        if provenance is None:
            return []
        return [
            {"version": e.version, "date": show(e.date.isoformat()), "summary": e.summary}
            for e in provenance.change_log
        ]


def _legal(basis: LegalBasis) -> dict[str, Any]:
    part3 = basis.dpa2018_part3
    return {
        "article6": [term("article6", c) for c in basis.article6],
        "ea_condition": term("article6_ea_conditions", basis.article6_ea_condition)
        if basis.article6_ea_condition
        else None,
        "article9": [term("article9", c) for c in basis.article9],
        "schedule1": [term("schedule1", c) for c in basis.dpa2018_schedule1],
        "policy_url": basis.appropriate_policy_document_url,
        "article10": basis.article10,
        "part3": _rows(part3) if part3 and part3.applies else [],
        "gateways": [
            {
                "term": term("gateways", g.code),
                "url": g.url or term("gateways", g.code).url,
                "provision": g.provision_text,
                "power_type": humanise(g.power_type),
            }
            for g in basis.statutory_gateways
        ],
        "confidentiality": term("confidentiality_bases", basis.confidentiality_basis)
        if basis.confidentiality_basis
        else None,
        "lia": basis.legitimate_interest_assessment_ref,
    }


# ---------------------------------------------------------------------------------------------
# Importing


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Upload the agreement's JSON file",
        required=False,
        help_text="The file you downloaded as “Agreement as JSON”, up to 1 MB.",
    )
    text = forms.CharField(
        label="Or paste the agreement's JSON",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field("file"),
            Field.textarea("text", label_size=Size.SMALL),
            Button("submit", "Import as a new draft"),
        )

    def source_field(self) -> str:
        return "file" if self.files.get("file") else "text"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if upload is not None and text:
            raise forms.ValidationError(
                "Either upload a file or paste the JSON, not both", code="both"
            )
        if upload is not None:
            if (upload.size or 0) > MAX_IMPORT_BYTES:
                self.add_error("file", "The file must be 1 MB or smaller")
                return data
            raw = upload.read(MAX_IMPORT_BYTES + 1)
            try:
                data["json"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("file", "The file must be JSON text in UTF-8")
        elif text:
            if len(text.encode()) > MAX_IMPORT_BYTES:
                self.add_error("text", "The pasted JSON must be 1 MB or smaller")
                return data
            data["json"] = text
        else:
            self.add_error("file", "Upload the agreement's JSON file, or paste its JSON below")
        return data


def _located(loc: tuple[int | str, ...], raw: Any) -> str:
    """A pydantic error location as a path that names list items by their id or name:
    datasets[care-home].fields[resident_count].data_type."""
    text = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            name = None
            if isinstance(item, dict):
                name = next(
                    (str(item[k]) for k in ("id", "name", "party_id", "code") if item.get(k)),
                    None,
                )
            text += f"[{name if name is not None else part + 1}]"
            node = item
        else:
            text += f".{part}" if text else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return text or "the agreement"


def _brief_input(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "…"


def plain_problems(exc: ValidationError, raw: Any) -> list[str]:
    """Pydantic's errors as sentences: which field, what was wrong, how to put it right."""
    problems = []
    for error in exc.errors(include_url=False):
        where = _located(tuple(error["loc"]), raw)
        kind = error["type"]
        message = re.sub(r"^Value error, ", "", str(error["msg"])).rstrip(".")
        given = error.get("input")
        if kind == "missing":
            problems.append(f"{where} is missing; it must be given")
        elif kind == "extra_forbidden":
            problems.append(
                f"{where} is not part of the agreement format; check its spelling or remove it"
            )
        elif kind == "literal_error":
            problems.append(f"{where} cannot be {_brief_input(given)}. {message}")
        elif kind == "value_error":
            problems.append(f"{where}: {message}")
        else:
            problems.append(f"{where} is wrong ({_brief_input(given)}): {message}")
    return problems


def _unmatched(doc: DataSharingAgreement, unmatched: list[str]) -> list[str]:
    """A sentence naming each party that matches no organisation on Accord, and how it was
    looked for."""
    problems = []
    parties = {party.id: party for party in doc.parties}
    for party_id in unmatched:
        party = parties[party_id]
        tried = [
            f"{humanise(i.scheme).upper()} {i.value}"
            for i in party.org_identifiers
            if i.scheme in PARTY_IDENTIFIER_FIELDS and i.value.strip()
        ]
        if party.name.strip():
            tried.append(f"the name “{party.name}”")
        label = f"“{party.name}” ({party.id})" if party.name else f"“{party.id}”"
        how = " or ".join(tried) if tried else "anything: it has no name or identifier"
        problems.append(
            f"Party {label} does not match any organisation on Accord, or matches one already "
            f"matched to another party (looked for by {how})"
        )
    return problems


@login_required
def import_document(request: HttpRequest) -> HttpResponse:
    """Start a new draft from an agreement's canonical JSON, uploaded or pasted."""
    membership = current_membership(request)
    if not membership.has_role(*DRAFTING_ROLES):
        raise PermissionDenied(
            "Only people who draft agreements for "
            f"{membership.organisation.name} can import one: organisation admins, data "
            "officers, analysts, data protection officers, SIROs, information asset owners "
            "and Caldicott Guardians."
        )
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    context = {"form": form, "max_mb": MAX_IMPORT_BYTES // (1024 * 1024)}
    if not posted or not form.is_valid():
        status = 422 if posted else 200
        return render(request, "web/agreements/document_import.html", context, status=status)
    field = form.source_field()
    text: str = form.cleaned_data["json"]
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        form.add_error(
            field,
            f"This is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        )
        return render(request, "web/agreements/document_import.html", context, status=422)
    if not isinstance(raw, dict):
        form.add_error(field, "The JSON must be one agreement: an object in { }, not a list")
        return render(request, "web/agreements/document_import.html", context, status=422)
    try:
        doc = from_canonical_json(text)
    except ValidationError as exc:
        problems = plain_problems(exc, raw)
        for problem in problems[:MAX_PROBLEMS_SHOWN]:
            form.add_error(field, problem)
        if len(problems) > MAX_PROBLEMS_SHOWN:
            form.add_error(field, f"And {len(problems) - MAX_PROBLEMS_SHOWN} more problems")
        return render(request, "web/agreements/document_import.html", context, status=422)
    parties, unmatched = match_parties(doc)
    problems = _unmatched(doc, unmatched)
    if not problems and membership.organisation not in parties.values():
        problems.append(
            f"{membership.organisation.name} is not one of the parties to this agreement; you "
            "can only import an agreement your organisation is a party to"
        )
    if problems:
        for problem in problems:
            form.add_error(field, problem)
        return render(request, "web/agreements/document_import.html", context, status=422)
    # A new draft has signatures of its own to gather: earlier ones do not carry over.
    doc = doc.model_copy(update={"signatories": []})
    try:
        agreement = actions.start_draft(by=actor(request), document=doc, parties=parties)
    except Refused as refusal:
        form.add_error(field, refusal.reason)
        return render(request, "web/agreements/document_import.html", context, status=422)
    return redirect(reverse("web:agreement_document", args=[agreement.pk]) + "?imported=1")


urlpatterns: list[URLPattern] = [
    path("agreements/schema.json", schema, name="agreement_schema"),
    path("agreements/import/", import_document, name="agreement_import"),
    path("agreements/<uuid:agreement_id>/document/", document, name="agreement_document"),
    path("agreements/<uuid:agreement_id>/agreement.json", document_json, name="agreement_json"),
    path(
        "agreements/<uuid:agreement_id>/agreement.jsonld",
        document_jsonld,
        name="agreement_jsonld",
    ),
    path("agreements/<uuid:agreement_id>/changes/", changes, name="agreement_changes"),
]
