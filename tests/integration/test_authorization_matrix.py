"""The authorization matrix (issue 7): who may use every page and API operation, as a table.

Each row is (route or API operation, method, persona, path parameters, situation) → outcome,
run through the real client on the world of ``matrix_world`` (built once for the module; each
row's changes are rolled back). The table must name every URL pattern and every API operation
that ``test_url_coverage`` enumerates, and nothing else.

Outcomes: ``ok`` (2xx, or a 3xx that is not to sign-in), ``sign_in`` (redirected to sign in),
``forbidden`` (403), ``not_found`` (404), ``unauthorised`` (401), and ``refused``: turned down
by a domain rule after the checks of who, with nothing done (a page redirecting back with an
error message, a form shown again with its error summary or no purpose to offer, or the API's
409/422 with its reason). No refusal's body shows rows of data (``matrix_world.ROWS``); none
to someone with no claim on the data names it (``matrix_world.NAMES``).

Situations (changes made just before the request): the agreement ``suspended``,
``terminated``, ``expired`` (its grants' end date passed, set on the Grant rows),
``not_started`` (its grants' start date in the future, set on the Grant rows), ``no_agreement``
(Maidstone's grant removed). Deleted data is the world's own crypto-shredded objects
(shredding destroys key files, which no rollback restores): rows labelled ``deleted``.

"Purpose not in agreement" and "field not granted" are decided by the decision point before any
page sees them: ``DECISIONS`` runs them through ``accord.access.decisions.decide``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse
from django.utils import timezone

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.organisations.actors import actor_for
from accord.vault.queries import resource_for
from tests.factories import care_home_csv
from tests.rolled_back import rolled_back
from tests.unit.access.sharing import PURPOSE

from .helpers import assert_redirects_to_sign_in
from .matrix_world import NAMES, SITUATIONS, MatrixWorld, build_world
from .matrix_world import ROWS as DATA_ROWS
from .test_url_coverage import _routes

UNKNOWN = "00000000-0000-4000-8000-000000000000"
OUTCOMES = ("ok", "sign_in", "forbidden", "not_found", "unauthorised", "refused")
AGREEMENT_STATES = ("suspended", "terminated", "expired", "not_started", "no_agreement")


# The world, once per module -------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker) -> Any:
    """Built inside a transaction that is rolled back when the module ends; every row runs in
    a savepoint inside it (pytest-django's own per-test transaction)."""
    with rolled_back(django_db_blocker):
        yield build_world()


# The table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    route: str  # "web:<name>", "api:<operation>" or "admin:*"
    method: str
    persona: str
    expected: str
    situation: str = ""
    # Path parameters, from the world; None uses the route's defaults (PARAMS).
    params: Callable[[MatrixWorld], dict[str, Any]] | None = None
    query: str = ""
    data: Callable[[MatrixWorld], Any] | None = None
    label: str = ""  # what the parameters point at, when not the default
    xfail: str = ""

    @property
    def id(self) -> str:
        extra = "".join(f"|{x}" for x in (self.label, self.situation) if x)
        return f"{self.route}|{self.persona}{extra}|{self.method}→{self.expected}"


def _std(w: MatrixWorld) -> dict[str, Any]:
    from accord.standards.queries import get_standard

    return {
        "slug": "care-home-daily-status",
        "version": get_standard("care-home-daily-status").version,
    }


def _step(w: MatrixWorld) -> dict[str, Any]:
    from accord.agreements.actions import document_of
    from accord.web import drafting

    first = drafting.steps_for(document_of(w.draft))[0]
    return {"agreement_id": w.draft.pk, "step": getattr(first, "slug", first)}


# Default path parameters of each route that has any.
PARAMS: dict[str, Callable[[MatrixWorld], dict[str, Any]]] = {
    "web:password_reset_confirm": lambda w: {"uidb64": "MQ", "token": "not-a-real-token"},
    "web:member": lambda w: {"membership_id": w.memberships["county_analyst"].pk},
    "web:remove_member": lambda w: {"membership_id": w.memberships["county_analyst"].pk},
    "web:revoke_invitation": lambda w: {"invitation_id": w.invitation.pk},
    "web:invitation": lambda w: {"token": w.invitation_token},
    "web:checkpoint_download": lambda w: {"checkpoint_id": w.checkpoint.pk},
    "web:standard": lambda w: {"slug": "care-home-daily-status"},
    "web:check_file": lambda w: {"slug": "care-home-daily-status"},
    "web:standard_version": _std,
    "web:standard_download": lambda w: {**_std(w), "fmt": "xlsx"},
    "web:deletion_certificate": lambda w: {"object_id": w.shredded.pk},
    "web:deletion_certificate_download": lambda w: {"object_id": w.shredded.pk},
    "web:attest_copy_deletion": lambda w: {"copy_id": w.copy.pk},
    "web:draft_step": _step,
    "web:framework": lambda w: {"slug": w.framework.slug},
    "web:collection": lambda w: {"collection_id": w.collection.pk},
    "web:add_contributor": lambda w: {"collection_id": w.collection.pk},
    "web:submit_return": lambda w: {"collection_id": w.collection.pk},
    "web:collection_status_form": lambda w: {"collection_id": w.collection.pk},
    "web:compiled_download": lambda w: {"collection_id": w.collection.pk},
    "web:submission": lambda w: {"submission_id": w.accepted.pk},
    "web:problems_download": lambda w: {"submission_id": w.rejected.pk},
    "web:data_request": lambda w: {"request_id": w.data_request.pk},
    "web:extract": lambda w: {"extract_id": w.extract.pk},
    "web:extract_download": lambda w: {"extract_id": w.extract.pk},
    "web:release": lambda w: {"release_id": w.release.pk},
    "web:report_outcomes": lambda w: {"agreement_id": w.agreement.pk, "index": 0},
    "web:outcome_report": lambda w: {"report_id": w.outcome_report.pk},
    "web:report_breach": lambda w: {"agreement_id": w.agreement.pk},
    "web:breach": lambda w: {"breach_id": w.breach.pk},
    "web:breach_suspend": lambda w: {"breach_id": w.breach.pk},
    "web:breach_step": lambda w: {"breach_id": w.breach.pk, "step": "containment"},
    "api:get_breach": lambda w: {"breach_id": w.breach.pk},
    "web:revoke_api_token": lambda w: {"token_id": _token_pk(w, "county_admin")},
    "web:task_progress": lambda w: {"progress_id": w.extract.progress_id},
    "api:get_framework": lambda w: {"slug": w.framework.slug},
    "api:get_collection": lambda w: {"collection_id": w.collection.pk},
    "api:submit_return": lambda w: {"collection_id": w.collection.pk},
    "api:get_compiled_collection": lambda w: {"collection_id": w.collection.pk},
    "api:get_submission": lambda w: {"submission_id": w.accepted.pk},
    "api:get_submission_problems": lambda w: {"submission_id": w.rejected.pk},
    "api:get_extract": lambda w: {"extract_id": w.extract.pk},
    "api:download_extract": lambda w: {"extract_id": w.extract.pk},
    "api:get_release": lambda w: {"release_id": w.release.pk},
    "web:output_dashboard": lambda w: {"definition_id": w.output_definition.pk},
    "web:output_download": lambda w: {"definition_id": w.output_definition.pk, "fmt": "csv"},
    "web:output_new": lambda w: {"collection_id": w.collection.pk},
    "web:flexible_table": lambda w: {"collection_id": w.hb_collection.pk},
    "api:get_output": lambda w: {"output_id": w.output_definition.pk},
    "web:linkage_job": lambda w: {"job_id": w.linkage_job.pk},
    "web:linkage_run": lambda w: {"job_id": w.linkage_job.pk},
    "web:linkage_review": lambda w: {"job_id": w.linkage_job.pk},
    "web:linkage_download": lambda w: {"job_id": w.linkage_job.pk, "which": "linked"},
    "api:get_job": lambda w: {"job_id": w.linkage_job.pk},
    "api:get_result": lambda w: {"job_id": w.linkage_job.pk, "which": "linked"},
    "web:optout_list": lambda w: {"list_id": w.optout_list.pk},
    "web:optout_upload": lambda w: {"list_id": w.optout_list.pk},
}
for _name in (
    "request",
    "comment_request",
    "approve_request",
    "decline_request",
    "withdraw_request",
):
    PARAMS[f"web:{_name}" if _name != "request" else "web:data_request"] = PARAMS[
        "web:data_request"
    ]
for _name in ("get_request", "comment_on_request", "approve_request", "decline_request"):
    PARAMS[f"api:{_name}"] = lambda w: {"request_id": w.data_request.pk}
PARAMS["api:withdraw_request"] = PARAMS["api:get_request"]
for _name in (
    "agreement_document",
    "agreement_json",
    "agreement_jsonld",
    "agreement_changes",
    "agreement",
    "submit_agreement",
    "sign_agreement",
    "activate_agreement",
    "suspend_agreement",
    "resume_agreement",
    "terminate_agreement",
    "return_agreement",
    "amend_agreement",
):
    PARAMS[f"web:{_name}"] = lambda w: {"agreement_id": w.agreement.pk}
for _name in (
    "return_agreement",
    "amend_agreement",
    "get_agreement_changes",
    "get_agreement",
    "save_agreement",
    "get_agreement_jsonld",
    "submit_agreement",
    "sign_agreement",
    "activate_agreement",
    "suspend_agreement",
    "resume_agreement",
    "terminate_agreement",
):
    PARAMS[f"api:{_name}"] = lambda w: {"agreement_id": w.agreement.pk}


def _token_pk(w: MatrixWorld, persona: str) -> int:
    from accord.organisations.models import ApiToken

    return ApiToken.objects.get(secret_hash=ApiToken.hash_secret(w.tokens[persona])).pk


def _unknown(key: str) -> Callable[[MatrixWorld], dict[str, Any]]:
    return lambda w: {key: UNKNOWN}


def _csv_upload(w: MatrixWorld) -> SimpleUploadedFile:
    return SimpleUploadedFile("status.csv", care_home_csv({}), content_type="text/csv")


def _status_answers(w: MatrixWorld) -> dict[str, str]:
    """A good day's status on the care home form: the standard's examples, for today."""
    from django.utils import timezone

    from accord.standards.queries import get_standard

    examples = {f.name: f.example for f in get_standard("care-home-daily-status").fields}
    return {**examples, "report_date": timezone.localdate().isoformat()}


def output_form(w: MatrixWorld) -> dict[str, Any]:
    return {
        "name": "Matrix output two",
        "slug": "matrix-two",
        "recipe": "care-home-status",
        "profile": "standard",
    }


def extract_form(w: MatrixWorld) -> dict[str, Any]:
    return {"purpose": PURPOSE, "format": "csv"}


def api_extract(w: MatrixWorld) -> dict[str, Any]:
    return {"source": f"release:{w.release.pk}", "purpose": PURPOSE, "format": "csv"}


def release_query(w: MatrixWorld) -> str:
    return f"source=release:{w.release.pk}"


ROWS: list[Row] = []


def rows(route: str, method: str, expected: dict[str, str], **kwargs: Any) -> None:
    """One row per persona: ``expected`` maps persona → outcome."""
    for persona, outcome in expected.items():
        ROWS.append(Row(route, method, persona, outcome, **kwargs))


# Who is refused how, for a page any signed-in member of any organisation may see.
ANY_MEMBER = {"anonymous": "sign_in", "district_viewer": "ok", "stranger": "ok"}
NO_SIGN_IN = {"anonymous": "ok", "district_viewer": "ok"}

# --- Public and account pages ------------------------------------------------------------------
rows("admin:*", "GET", {"anonymous": "ok", "staff": "ok", "county_admin": "ok"})
rows("web:home", "GET", {"anonymous": "sign_in", "district_viewer": "ok", "staff": "ok"})
rows("web:sign_in", "GET", NO_SIGN_IN)
# With no sign-in under way, the code and authenticator pages send you back to sign in.
rows("web:sign_in_code", "GET", {"anonymous": "sign_in"})
rows("web:two_factor_setup", "GET", {"anonymous": "sign_in"})
# Signing out lands on the sign-in page.
rows("web:sign_out", "POST", {"anonymous": "sign_in", "district_viewer": "sign_in"})
rows("web:password_reset", "GET", NO_SIGN_IN)
rows("web:password_reset_sent", "GET", NO_SIGN_IN)
rows("web:password_reset_confirm", "GET", NO_SIGN_IN)
rows("web:password_reset_done", "GET", NO_SIGN_IN)
rows("web:password_change", "GET", {"anonymous": "sign_in", "district_viewer": "ok"})
rows("web:register", "GET", NO_SIGN_IN)
rows("web:register_json", "GET", NO_SIGN_IN)
rows("web:public_key", "GET", NO_SIGN_IN)
rows("web:invitation", "GET", {"anonymous": "ok"})
rows(
    "web:invitation",
    "GET",
    {"anonymous": "not_found"},
    params=lambda w: {"token": "no-such-invitation"},
    label="unknown",
)
rows("web:switch_organisation", "GET", {"anonymous": "sign_in", "district_viewer": "ok"})
rows("web:task_progress", "GET", {"anonymous": "sign_in", "district_analyst": "ok"})
rows("web:task_progress", "GET", {"other_analyst": "not_found", "stranger": "not_found"})

# --- Organisation administration ---------------------------------------------------------------
ADMIN_ONLY = {
    "anonymous": "sign_in",
    "county_admin": "ok",
    "county_dpo": "forbidden",
    "district_viewer": "forbidden",
}
rows("web:members", "GET", ADMIN_ONLY)
rows("web:invite", "GET", ADMIN_ONLY)
rows("web:member", "GET", {**ADMIN_ONLY, "stranger": "not_found"})
rows("web:remove_member", "POST", {**ADMIN_ONLY, "stranger": "not_found"})
rows("web:revoke_invitation", "POST", {**ADMIN_ONLY, "stranger": "not_found"})
rows("web:api_tokens", "GET", {"anonymous": "sign_in", "district_viewer": "ok", "stranger": "ok"})
rows(
    "web:revoke_api_token",
    "POST",
    {"anonymous": "sign_in", "county_admin": "ok", "stranger": "not_found"},
)
# Another member's token, even within the organisation.
rows("web:revoke_api_token", "POST", {"county_analyst": "not_found"})

# --- Audit -------------------------------------------------------------------------------------
AUDITORS = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "county_admin": "ok",
    "county_analyst": "forbidden",
    "district_viewer": "forbidden",
    "staff": "forbidden",
}
rows("web:audit_events", "GET", AUDITORS)
rows("web:checkpoints", "GET", {**ANY_MEMBER})
rows("web:checkpoint_download", "GET", {**ANY_MEMBER})
rows(
    "web:checkpoint_download",
    "GET",
    {"district_viewer": "not_found"},
    params=lambda w: {"checkpoint_id": 999999},
    label="unknown",
)

# --- Deletion certificates, copies, notices ----------------------------------------------------
CERTIFICATES = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "county_analyst": "forbidden",
    "district_dpo": "not_found",
    "stranger": "not_found",
}
rows("web:deletion_certificates", "GET", {"anonymous": "sign_in", "county_dpo": "ok"})
rows("web:deletion_certificates", "GET", {"county_analyst": "forbidden"})
rows("web:deletion_certificate", "GET", CERTIFICATES)
rows("web:deletion_certificate_download", "GET", CERTIFICATES)
rows("web:copies", "GET", {"anonymous": "sign_in", "district_dpo": "ok", "county_dpo": "ok"})
rows("web:copies", "GET", {"district_viewer": "forbidden"})
rows(
    "web:attest_copy_deletion",
    "GET",
    {
        "anonymous": "sign_in",
        "district_dpo": "ok",
        "district_analyst": "forbidden",
        "county_dpo": "not_found",
        "stranger": "not_found",
    },
)
rows("web:notices", "GET", {"anonymous": "sign_in", "district_viewer": "ok"})

# --- Standards ---------------------------------------------------------------------------------
for _route in ("web:standards", "web:standard", "web:standard_version", "web:standard_download"):
    rows(_route, "GET", ANY_MEMBER)
rows("web:check_file", "GET", ANY_MEMBER)
rows("web:publish_standard", "GET", {"anonymous": "sign_in", "staff": "ok"})
rows("web:publish_standard", "GET", {"county_admin": "forbidden", "stranger": "forbidden"})

# --- Agreements and their documents -----------------------------------------------------------
PARTIES_ONLY = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "district_viewer": "ok",
    "stranger": "not_found",
}
for _route in (
    "web:agreement",
    "web:agreement_document",
    "web:agreement_json",
    "web:agreement_jsonld",
    "web:agreement_changes",
):
    rows(_route, "GET", PARTIES_ONLY)
rows(
    "web:agreement",
    "GET",
    {"district_viewer": "not_found"},
    params=_unknown("agreement_id"),
    label="unknown",
)
# The agreement schema is public, as in the API (it describes the format, holds no data).
rows("web:agreement_schema", "GET", NO_SIGN_IN)
rows("web:agreement_import", "GET", {"anonymous": "sign_in", "district_dpo": "ok"})
rows("web:agreement_import", "GET", {"district_viewer": "forbidden"})
rows("web:agreements", "GET", ANY_MEMBER)
rows("web:new_agreement", "GET", {"anonymous": "sign_in", "district_dpo": "ok"})
rows("web:new_agreement", "GET", {"district_viewer": "forbidden"})
rows(
    "web:draft_step",
    "GET",
    {
        "anonymous": "sign_in",
        "district_dpo": "ok",
        "district_viewer": "forbidden",
        "stranger": "not_found",
    },
)
# A viewer at a party is refused by the action (a message on the agreement's page).
LIFECYCLE = {
    "anonymous": "sign_in",
    "district_viewer": "refused",
    "stranger": "not_found",
}
for _route in (
    "web:submit_agreement",
    "web:sign_agreement",
    "web:activate_agreement",
    "web:resume_agreement",
    "web:return_agreement",
    "web:amend_agreement",
):
    rows(_route, "POST", LIFECYCLE)
for _route in ("web:suspend_agreement", "web:terminate_agreement"):
    rows(_route, "POST", {**LIFECYCLE, "county_dpo": "ok"}, data=lambda w: {"reason": "Matrix"})
rows("web:frameworks", "GET", ANY_MEMBER)
rows("web:framework", "GET", ANY_MEMBER)
rows("web:framework", "GET", {"district_viewer": "not_found"}, params=lambda w: {"slug": "nope"})

# --- Data requests -----------------------------------------------------------------------------
rows("web:requests", "GET", ANY_MEMBER)
rows("web:new_request", "GET", {"anonymous": "sign_in", "district_dpo": "ok"})
rows("web:new_request", "GET", {"district_viewer": "forbidden"})
rows("web:confirm_request", "GET", {"anonymous": "sign_in", "district_dpo": "ok"})
rows("web:confirm_request", "GET", {"district_viewer": "forbidden"})
rows("web:data_request", "GET", {**ANY_MEMBER, "county_dpo": "ok", "stranger": "not_found"})
rows(
    "web:comment_request",
    "POST",
    {"anonymous": "sign_in", "district_dpo": "ok", "county_dpo": "ok"},
    data=lambda w: {"body": "Matrix comment"},
)
# Only a holder answers; the requester is refused with a message.
for _route in ("web:approve_request", "web:decline_request"):
    rows(
        _route,
        "POST",
        {
            "anonymous": "sign_in",
            "district_dpo": "refused",
            "district_viewer": "refused",
            "stranger": "not_found",
        },
    )
rows(
    "web:withdraw_request",
    "POST",
    {
        "anonymous": "sign_in",
        "district_dpo": "ok",
        "county_dpo": "refused",
        "stranger": "not_found",
    },
)

# --- Collections, submissions, compiled data, problems -----------------------------------------
rows("web:collections", "GET", ANY_MEMBER)
rows("web:new_collection", "GET", {"anonymous": "sign_in", "county_analyst": "ok"})
rows("web:new_collection", "GET", {"district_viewer": "forbidden"})
rows(
    "web:collection",
    "GET",
    {
        "anonymous": "sign_in",
        "county_analyst": "ok",
        "district_viewer": "ok",
        "stranger": "not_found",
    },
)
rows(
    "web:collection",
    "GET",
    {"county_analyst": "not_found"},
    params=_unknown("collection_id"),
    label="unknown",
)
rows(
    "web:add_contributor",
    "POST",
    {
        "anonymous": "sign_in",
        "county_analyst": "ok",
        "district_analyst": "refused",
        "stranger": "not_found",
    },
    data=lambda w: {"organisation": str(w.stranger.pk)},
)
rows(
    "web:submit_return",
    "GET",
    {
        "anonymous": "sign_in",
        "district_analyst": "ok",
        "district_viewer": "forbidden",
        "stranger": "not_found",
    },
)
rows(
    "web:submit_return",
    "POST",
    {"anonymous": "sign_in", "stranger": "not_found"},
    data=lambda w: {"period": "2026-01-01", "upload": _csv_upload(w)},
)
# The care home's daily status on one form: for a contributor's submitting roles only.
rows(
    "web:collection_status_form",
    "GET",
    {
        "anonymous": "sign_in",
        "district_analyst": "ok",
        "other_analyst": "ok",
        "district_viewer": "forbidden",
        "county_analyst": "forbidden",  # runs the collection; does not send to it
        "stranger": "not_found",
        "staff": "forbidden",  # no organisation to act for
    },
)
rows(
    "web:collection_status_form",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("collection_id"),
    label="unknown",
)
rows(
    "web:collection_status_form",
    "POST",
    {
        "anonymous": "sign_in",
        "district_analyst": "refused",  # no answers: the form is shown again with its errors
        "district_viewer": "forbidden",
        "county_analyst": "forbidden",
        "stranger": "not_found",
    },
    data=lambda w: {"report_date": ""},
)
rows(
    "web:collection_status_form",
    "POST",
    {"district_analyst": "ok"},  # a good day's status: sent, and on to its submission page
    data=lambda w: _status_answers(w),
    label="good answers",
)
COMPILED = {
    "anonymous": "sign_in",
    "county_analyst": "ok",
    "county_dpo": "ok",
    "district_analyst": "refused",
    "district_viewer": "refused",
    "stranger": "not_found",
    "staff": "forbidden",  # no organisation to act for
}
rows("web:compiled_download", "GET", COMPILED)
rows(
    "web:compiled_download",
    "GET",
    {"county_analyst": "refused"},
    params=lambda w: {"collection_id": w.collection_shredded.pk},
    label="deleted",
)
rows(
    "web:compiled_download",
    "GET",
    {"county_analyst": "not_found"},
    params=_unknown("collection_id"),
    label="unknown",
)
rows(
    "web:submission",
    "GET",
    {
        "anonymous": "sign_in",
        "district_analyst": "ok",
        "county_analyst": "ok",
        "other_analyst": "not_found",
        "stranger": "not_found",
    },
)
PROBLEMS = {
    "anonymous": "sign_in",
    "other_analyst": "ok",
    "county_analyst": "refused",
    "district_analyst": "not_found",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:problems_download", "GET", PROBLEMS)
rows(
    "web:problems_download",
    "GET",
    {"other_analyst": "not_found"},
    params=_unknown("submission_id"),
    label="unknown",
)

# --- Shared data: what is shared, extracts, releases -------------------------------------------
READER = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "stranger": "ok",
    "staff": "forbidden",  # metadata only, never shared data
}
rows("web:shared", "GET", READER)
rows("web:extracts", "GET", READER)
rows("web:releases", "GET", {**READER, "county_officer": "ok"})
rows("web:outputs", "GET", {**READER, "county_analyst": "ok"})
rows("web:returned", "GET", {**READER, "county_analyst": "ok"})
OUTPUT = {
    "anonymous": "sign_in",
    "county_analyst": "ok",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "other_analyst": "not_found",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:output_dashboard", "GET", OUTPUT)
rows("web:output_download", "GET", OUTPUT)
rows(
    "web:output_download",
    "GET",
    {"county_analyst": "not_found"},
    params=lambda w: {"definition_id": w.output_definition.pk, "fmt": "pdf"},
    label="unknown_format",
)
rows(
    "web:output_dashboard",
    "GET",
    {"county_analyst": "not_found"},
    params=_unknown("definition_id"),
    label="unknown",
)
DEFINE_OUTPUT = {
    "anonymous": "sign_in",
    "county_analyst": "ok",
    "county_dpo": "ok",
    "district_analyst": "not_found",
    "district_viewer": "forbidden",
    "stranger": "not_found",
    "staff": "forbidden",
}
# Flexible tables of the county's housing benefit collection: its own, and the districts' under
# the agreement (the form; the table itself for the agreement's purpose).
TABLE = {
    "anonymous": "sign_in",
    "county_analyst": "ok",
    "district_analyst": "ok",
    "other_analyst": "ok",
    "district_viewer": "forbidden",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:flexible_table", "GET", TABLE)
# (The county's own table has its own purpose, so the agreement's is not a choice: the form
# says so, a 200 like any form shown again on GET.)
rows("web:flexible_table", "GET", TABLE, query="table")
for _situation in AGREEMENT_STATES:
    rows(
        "web:flexible_table",
        "GET",
        # With no grant at all the collection is not the district's to see: 404.
        {"district_analyst": "not_found" if _situation == "no_agreement" else "forbidden"},
        query="table",
        situation=_situation,
    )
rows(
    "web:flexible_table",
    "GET",
    {"county_analyst": "not_found"},
    params=lambda w: {"collection_id": w.collection.pk},
    label="organisational_data",
)
rows("web:output_new", "GET", DEFINE_OUTPUT)
rows("web:output_new", "POST", DEFINE_OUTPUT, data=output_form)
for _situation in AGREEMENT_STATES:
    rows("web:shared", "GET", {"district_analyst": "ok"}, situation=_situation)

# --- Data subjects' rights: subject access -----------------------------------------------------
# Data protection roles of any organisation search their own data; a search with nothing to go
# on is shown again with its error.
SEARCHERS = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "district_dpo": "ok",
    "county_analyst": "forbidden",
    "district_viewer": "forbidden",
    "staff": "forbidden",
}
rows("web:subject_access", "GET", SEARCHERS)
rows(
    "web:subject_access",
    "POST",
    {**SEARCHERS, "county_dpo": "refused", "district_dpo": "refused"},
    data=lambda w: {"family_name": "Nobody"},
)
# Correcting or erasing goes back to the search form when there is nothing to go on.
rows("web:subject_change", "GET", {**SEARCHERS, "county_dpo": "ok", "district_dpo": "ok"})
rows(
    "web:subject_change",
    "POST",
    SEARCHERS,
    data=lambda w: {"family_name": "Nobody", "change": "erase", "reason": "Article 17"},
)
rows(
    "web:subject_change_certificate",
    "GET",
    {"anonymous": "sign_in", "county_dpo": "not_found", "county_analyst": "forbidden"},
    params=_unknown("change_id"),
)
rows(
    "web:subject_change_notices",
    "GET",
    {"anonymous": "sign_in", "district_viewer": "ok", "stranger": "ok", "county_dpo": "ok"},
)
rows(
    "web:subject_change_notices",
    "POST",
    {"anonymous": "sign_in", "district_analyst": "not_found", "district_viewer": "forbidden"},
    data=lambda w: {"notice": "999999"},
)

# --- Record linkage ----------------------------------------------------------------------------
# Maidstone's job (made without a run: who may reach its pages, not what its results hold;
# results under each agreement state are tests/integration/test_linkage_pages.py's).
LINKERS = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "county_admin": "forbidden",
    "stranger": "ok",
    "staff": "forbidden",
}
rows("web:linkage_jobs", "GET", LINKERS)
rows("web:linkage_new", "GET", LINKERS)
# One dataset (the shared housing benefit claims, which its agreement does not let anyone
# link) is refused on the form.
rows(
    "web:linkage_new",
    "POST",
    {**LINKERS, "district_analyst": "refused", "stranger": "refused", "district_dpo": "refused"},
    data=lambda w: {
        "name": "Matrix",
        "entity": "person",
        "sources": [f"collection:{w.hb_collection.pk}"],
        "purpose": "Anything",
    },
)
# With nothing of the single view's to link, there is no single view to run.
rows(
    "web:linkage_single_view",
    "POST",
    {
        **LINKERS,
        "district_analyst": "not_found",
        "district_dpo": "not_found",
        "stranger": "not_found",
    },
)
JOB = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "county_analyst": "not_found",
    "other_analyst": "not_found",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:linkage_job", "GET", JOB)
rows("web:linkage_run", "POST", JOB)
# The job has not run, so it has no pairs or results to show yet.
NO_RESULT = {**JOB, "district_analyst": "not_found", "district_dpo": "not_found"}
rows("web:linkage_review", "GET", NO_RESULT)
rows("web:linkage_download", "GET", NO_RESULT)
rows(
    "web:linkage_job",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("job_id"),
    label="unknown",
)
rows(
    "web:linkage_download",
    "GET",
    {"district_analyst": "not_found"},
    params=lambda w: {"job_id": w.linkage_job.pk, "which": "secrets"},
    label="unknown_result",
)

# --- Opt-outs ----------------------------------------------------------------------------------
# Every member sees the lists (sizes and dates only); Kent's objection list is managed by Kent's
# DPO alone. An upload with a row that is not an NHS number is shown again with the row named
# (nothing changes: a successful upload would shred the world's list).
rows(
    "web:optouts",
    "GET",
    {**ANY_MEMBER, "county_dpo": "ok", "county_analyst": "ok", "staff": "forbidden"},
)
OPT_OUT_MANAGERS = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "county_analyst": "forbidden",
    "county_admin": "forbidden",
    "district_dpo": "not_found",
    "district_viewer": "forbidden",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:optout_list", "GET", OPT_OUT_MANAGERS)
rows("web:optout_upload", "GET", OPT_OUT_MANAGERS)
rows(
    "web:optout_upload",
    "POST",
    {**OPT_OUT_MANAGERS, "county_dpo": "refused"},
    data=lambda w: {
        "upload": SimpleUploadedFile("list.csv", b"NHS number\n12345\n", content_type="text/csv")
    },
)
rows(
    "web:optout_list",
    "GET",
    {"county_dpo": "not_found"},
    params=_unknown("list_id"),
    label="unknown",
)

EXTRACT = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "other_analyst": "not_found",
    "county_analyst": "not_found",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:extract", "GET", EXTRACT)
rows("web:extract_download", "GET", EXTRACT)
rows(
    "web:extract_download",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("extract_id"),
    label="unknown",
)
for _situation in AGREEMENT_STATES:
    rows("web:extract_download", "GET", {"district_analyst": "forbidden"}, situation=_situation)
    rows("web:extract", "GET", {"district_analyst": "ok"}, situation=_situation)
rows(
    "web:extract_download",
    "GET",
    {"district_analyst": "forbidden"},
    params=lambda w: {"extract_id": w.extract_shredded.pk},
    label="deleted",
)
rows(
    "web:extract_download",
    "GET",
    {"district_analyst": "forbidden"},
    params=lambda w: {"extract_id": w.extract_of_shredded.pk},
    label="source_deleted",
)

NEW_EXTRACT = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "district_viewer": "forbidden",
    "county_analyst": "ok",  # the provider's own release: the form says no purpose applies
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:extract_new", "GET", NEW_EXTRACT, query="release")
rows(
    "web:extract_new",
    "POST",
    {**NEW_EXTRACT, "county_analyst": "refused"},
    query="release",
    data=extract_form,
)
for _situation in AGREEMENT_STATES:
    rows(
        "web:extract_new",
        "POST",
        # With no grant at all the form has no purpose to offer: refused, not a 403.
        {"district_analyst": "refused" if _situation == "no_agreement" else "forbidden"},
        query="release",
        data=extract_form,
        situation=_situation,
    )
rows(
    "web:extract_new",
    "POST",
    {"district_analyst": "forbidden"},
    query="shredded",
    data=extract_form,
    label="deleted",
)
RELEASE = {
    "anonymous": "sign_in",
    "county_officer": "ok",
    "county_dpo": "ok",
    "district_analyst": "ok",
    "other_analyst": "ok",
    "district_viewer": "forbidden",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:release", "GET", RELEASE)
rows(
    "web:release",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("release_id"),
    label="unknown",
)
rows(
    "web:release",
    "POST",
    {
        "anonymous": "sign_in",
        "district_analyst": "ok",
        "district_viewer": "forbidden",
        "stranger": "not_found",
    },
    data=extract_form,
)
for _situation in AGREEMENT_STATES:
    rows(
        "web:release",
        "POST",
        {"district_analyst": "refused" if _situation == "no_agreement" else "forbidden"},
        data=extract_form,
        situation=_situation,
    )
rows(
    "web:release_new",
    "GET",
    {
        "anonymous": "sign_in",
        "county_officer": "ok",
        "county_dpo": "forbidden",
        "district_analyst": "forbidden",
        "district_viewer": "forbidden",
        "stranger": "forbidden",
        "staff": "forbidden",
    },
)

# --- Outcomes recipients report back ----------------------------------------------------------
# Maidstone (the district) has reported its first outcomes to Kent; Canterbury (the other
# district) still owes its report. Whether a report is owed is read from the agreement's
# document and status, not from the grants, so only suspension and termination refuse it.
OUTCOME_READER = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "county_dpo": "ok",
    "county_officer": "ok",
    "stranger": "ok",  # nothing owed or reported is listed
    "staff": "forbidden",
}
rows("web:outcomes", "GET", OUTCOME_READER)
rows("web:outcomes_received", "GET", OUTCOME_READER)
REPORT_OUTCOMES = {
    "anonymous": "sign_in",
    "district_analyst": "ok",
    "other_analyst": "ok",
    "district_viewer": "forbidden",
    "county_dpo": "not_found",  # the provider owes nothing
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:report_outcomes", "GET", REPORT_OUTCOMES)


def outcome_form(w: MatrixWorld) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "period_start": f"{today.day}/{today.month}/{today.year}",
        "period_end": f"{today.day}/{today.month}/{today.year}",
        "measure_0": "Residents contacted",
        "value_0": "20",
    }


rows(
    "web:report_outcomes",
    "POST",
    # Maidstone has reported for every due date so far: refused with the reason.
    {**REPORT_OUTCOMES, "district_analyst": "refused"},
    data=outcome_form,
)
rows(
    "web:report_outcomes",
    "GET",
    {"other_analyst": "not_found"},
    params=lambda w: {"agreement_id": UNKNOWN, "index": 0},
    label="unknown",
)
for _situation in ("suspended", "terminated"):
    rows(
        "web:report_outcomes",
        "POST",
        {"other_analyst": "refused"},
        data=outcome_form,
        situation=_situation,
    )
rows(
    "web:outcome_report",
    "GET",
    {
        "anonymous": "sign_in",
        "district_analyst": "ok",
        "district_dpo": "ok",
        "district_viewer": "forbidden",
        "county_dpo": "ok",
        "county_officer": "ok",
        "other_analyst": "not_found",
        "stranger": "not_found",
        "staff": "forbidden",
    },
)
rows(
    "web:outcome_report",
    "GET",
    {"county_dpo": "not_found"},
    params=_unknown("report_id"),
    label="unknown",
)
for _situation in ("suspended", "terminated"):
    rows("web:outcome_report", "GET", {"county_dpo": "ok"}, situation=_situation)

# --- Breaches ------------------------------------------------------------------------------------
# Kent's DPO reported a suspected breach under the housing benefit agreement (Kent, Maidstone
# and Canterbury are its parties). Data-protection roles at a party see and act on it; anyone
# there who handles the data may report one; other organisations find nothing.
BREACH_READER = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "district_dpo": "ok",
    "county_analyst": "forbidden",
    "county_admin": "forbidden",
    "district_viewer": "forbidden",
    "staff": "forbidden",
}
rows("web:breaches", "GET", {**BREACH_READER, "stranger": "ok"})  # nothing listed
rows("web:breach", "GET", {**BREACH_READER, "stranger": "not_found"})
rows(
    "web:breach", "GET", {"county_dpo": "not_found"}, params=_unknown("breach_id"), label="unknown"
)
rows("web:breach", "GET", {"county_dpo": "ok"}, situation="suspended")
rows("web:breach_step", "GET", {**BREACH_READER, "stranger": "not_found"})
rows(
    "web:breach_step",
    "GET",
    {"county_dpo": "not_found"},
    params=lambda w: {"breach_id": w.breach.pk, "step": "nothing"},
    label="no such step",
)


def containment_form(w: MatrixWorld) -> dict[str, Any]:
    now = timezone.localtime()
    return {"containment": "Copy deleted", "contained_at": f"{now:%d/%m/%Y %H:%M}"}


rows("web:breach_step", "POST", {**BREACH_READER, "stranger": "not_found"}, data=containment_form)
rows("web:breach_step", "POST", {"district_dpo": "refused"}, data=lambda w: {"containment": ""})
rows("web:breach_suspend", "POST", {**BREACH_READER, "stranger": "not_found"})
# Already suspended: refused with the reason.
rows("web:breach_suspend", "POST", {"district_dpo": "refused"}, situation="suspended")
REPORT_BREACH = {
    "anonymous": "sign_in",
    "county_dpo": "ok",
    "district_analyst": "ok",
    "other_analyst": "ok",
    "county_officer": "ok",
    "county_admin": "forbidden",
    "district_viewer": "forbidden",
    "stranger": "not_found",
    "staff": "forbidden",
}
rows("web:report_breach", "GET", REPORT_BREACH)
rows(
    "web:report_breach",
    "GET",
    {"county_dpo": "not_found"},
    params=_unknown("agreement_id"),
    label="unknown",
)


def breach_form(w: MatrixWorld) -> dict[str, Any]:
    then = timezone.localtime() - dt.timedelta(hours=1)
    return {
        "what_happened": "A list was printed and left on a train.",
        "discovered_at": f"{then:%d/%m/%Y %H:%M}",
        "involved": [w.agreement.current.document["datasets"][0]["id"]],
    }


rows("web:report_breach", "POST", REPORT_BREACH, data=breach_form)
rows("web:report_breach", "POST", {"district_dpo": "ok"}, data=breach_form, situation="suspended")
rows("web:report_breach", "POST", {"district_dpo": "refused"}, data=lambda w: {"involved": []})

# --- Usage and the audit bundle ----------------------------------------------------------------
rows(
    "web:usage",
    "GET",
    {
        "anonymous": "sign_in",
        "county_dpo": "ok",
        "county_analyst": "forbidden",
        "district_viewer": "forbidden",
        "staff": "forbidden",
    },
)
rows(
    "web:usage_history",
    "GET",
    {
        "anonymous": "sign_in",
        "county_analyst": "ok",
        "district_analyst": "ok",
        "district_viewer": "forbidden",
        "staff": "forbidden",
    },
)
rows("web:audit_bundle", "GET", AUDITORS)

# --- The JSON API ------------------------------------------------------------------------------
# Tokens: "anonymous" sends none; "revoked" is Maidstone's analyst's revoked token;
# "scoped_other_agreement" is Maidstone's analyst's token limited to the care home agreement.
# The API has no document at its root.
rows("api:api-root", "GET", {"anonymous": "not_found", "district_analyst": "not_found"})
rows("api:openapi-json", "GET", {"anonymous": "ok"})
rows("api:openapi-view", "GET", {"anonymous": "ok"})
rows("api:agreement_schema", "GET", {"anonymous": "ok"})
rows("api:public_register", "GET", {"anonymous": "ok"})

TOKEN_NEEDED = {"anonymous": "unauthorised", "revoked": "unauthorised"}
for _op in ("list_agreements", "list_requests", "list_frameworks", "list_collections"):
    rows(f"api:{_op}", "GET", {**TOKEN_NEEDED, "district_viewer": "ok", "stranger": "ok"})
rows("api:get_framework", "GET", {**TOKEN_NEEDED, "district_viewer": "ok"})
rows(
    "api:get_framework", "GET", {"district_viewer": "not_found"}, params=lambda w: {"slug": "nope"}
)

API_PARTIES = {**TOKEN_NEEDED, "county_dpo": "ok", "district_viewer": "ok", "stranger": "not_found"}
for _op in ("get_agreement", "get_agreement_jsonld", "get_agreement_changes"):
    rows(f"api:{_op}", "GET", API_PARTIES)
rows(
    "api:get_agreement",
    "GET",
    {"county_dpo": "not_found"},
    params=_unknown("agreement_id"),
    label="unknown",
)
rows(
    "api:save_agreement",
    "PUT",
    {**TOKEN_NEEDED, "district_viewer": "forbidden", "stranger": "not_found"},
    data=lambda w: w.agreement.current.document,
)
rows(
    "api:import_agreement",
    "POST",
    {**TOKEN_NEEDED, "district_viewer": "forbidden"},
    data=lambda w: w.agreement.current.document,
)
rows(
    "api:draft_agreement_from_framework",
    "POST",
    {**TOKEN_NEEDED, "district_viewer": "forbidden"},
    data=lambda w: {
        "framework": w.framework.slug,
        "agreement_type": "data_disclosure_agreement",
        "other_organisation_id": w.county.pk,
        "direction": "receive",
        "title": "Matrix API draft",
    },
)
# The API checks the agreement's state before the caller's role: a viewer at a party asking to
# sign an active agreement hears that only one in review can be signed (409), which it may
# read anyway; every other lifecycle step refuses the viewer with 403.
rows(
    "api:sign_agreement",
    "POST",
    {"district_viewer": "refused"},
    data=lambda w: {"role": "dpo"},
    label="active",
)
for _op, _body in (
    ("submit_agreement", None),
    ("sign_agreement", {"role": "dpo"}),
    ("activate_agreement", None),
    ("resume_agreement", None),
    ("return_agreement", {"reason": "Matrix"}),
    ("amend_agreement", None),
):
    rows(
        f"api:{_op}",
        "POST",
        {
            **TOKEN_NEEDED,
            **({} if _op == "sign_agreement" else {"district_viewer": "forbidden"}),
            "stranger": "not_found",
        },
        data=(lambda b: lambda w: b)(_body),
    )
for _op in ("suspend_agreement", "terminate_agreement"):
    rows(
        f"api:{_op}",
        "POST",
        {
            **TOKEN_NEEDED,
            "county_dpo": "ok",
            "district_viewer": "forbidden",
            "stranger": "not_found",
        },
        data=lambda w: {"reason": "Matrix"},
    )

rows("api:get_request", "GET", {**TOKEN_NEEDED, "district_viewer": "ok", "stranger": "not_found"})
rows(
    "api:get_request",
    "GET",
    {"stranger": "not_found"},
    params=_unknown("request_id"),
    label="unknown",
)
rows(
    "api:post_request",
    "POST",
    {**TOKEN_NEEDED, "district_dpo": "ok", "district_viewer": "forbidden"},
    data=lambda w: {
        "title": "Matrix API request",
        "question": "What?",
        "reason": "Why.",
        "holders": [w.county.pk],
        "frequency": "one_off",
        "data_description": "Anything.",
    },
)
rows(
    "api:suggest_for_request",
    "POST",
    {**TOKEN_NEEDED, "district_dpo": "ok"},
    data=lambda w: {"title": "Housing benefit"},
)
rows(
    "api:comment_on_request",
    "POST",
    {**TOKEN_NEEDED, "district_dpo": "ok", "county_dpo": "ok"},
    data=lambda w: {"body": "Matrix comment"},
)
rows(
    "api:decline_request",
    "POST",
    {**TOKEN_NEEDED, "county_dpo": "ok", "district_dpo": "forbidden", "stranger": "not_found"},
    data=lambda w: {"reasons": "Matrix"},
)
rows(
    "api:approve_request",
    "POST",
    {**TOKEN_NEEDED, "district_dpo": "forbidden", "stranger": "not_found"},
    data=lambda w: {"framework": w.framework.slug, "agreement_type": "data_disclosure_agreement"},
)
rows(
    "api:withdraw_request",
    "POST",
    {**TOKEN_NEEDED, "district_dpo": "ok", "county_dpo": "forbidden", "stranger": "not_found"},
    data=lambda w: {},
)

rows(
    "api:get_collection",
    "GET",
    {**TOKEN_NEEDED, "county_analyst": "ok", "district_viewer": "ok", "stranger": "not_found"},
)
rows(
    "api:submit_return",
    "POST",
    {**TOKEN_NEEDED, "district_viewer": "forbidden", "stranger": "not_found"},
    data=lambda w: {"period": "2026-01-01", "file": _csv_upload(w)},
)
API_COMPILED = {
    **TOKEN_NEEDED,
    "county_analyst": "ok",
    "district_analyst": "forbidden",
    "district_viewer": "forbidden",
    "stranger": "not_found",
}
rows("api:get_compiled_collection", "GET", API_COMPILED)
rows(
    "api:get_compiled_collection",
    "GET",
    {"county_analyst": "forbidden"},
    params=lambda w: {"collection_id": w.collection_shredded.pk},
    label="deleted",
)
rows(
    "api:get_submission",
    "GET",
    {
        **TOKEN_NEEDED,
        "district_analyst": "ok",
        "other_analyst": "not_found",
        "stranger": "not_found",
    },
)
rows(
    "api:get_submission_problems",
    "GET",
    {
        **TOKEN_NEEDED,
        "other_analyst": "ok",
        "county_analyst": "forbidden",
        "district_analyst": "not_found",
        "stranger": "not_found",
    },
)

API_USAGE = {
    **TOKEN_NEEDED,
    "county_dpo": "ok",
    "county_analyst": "forbidden",
    "district_viewer": "forbidden",
}
rows("api:list_data_uses", "GET", API_USAGE)
rows("api:list_access_history", "GET", {**API_USAGE, "county_analyst": "ok"})
rows("api:get_audit_bundle", "GET", {**API_USAGE, "county_admin": "ok"})
rows("api:list_audit_checkpoints", "GET", {**TOKEN_NEEDED, "district_viewer": "ok"})

API_READER = {
    **TOKEN_NEEDED,
    "district_analyst": "ok",
    "district_viewer": "forbidden",
    "stranger": "ok",
    "scoped_other_agreement": "ok",
}
rows("api:list_shared", "GET", API_READER)
rows("api:list_extracts", "GET", API_READER)
rows("api:list_releases", "GET", {**API_READER, "county_officer": "ok"})
# Outcomes: any role that may see outcome reports; a stranger or a token limited to another
# agreement is answered with an empty list.
for _op in ("list_outcome_commitments", "list_outcome_reports"):
    rows(f"api:{_op}", "GET", {**API_READER, "county_dpo": "ok", "county_officer": "ok"})
# Breaches: data-protection roles at a party see them; anyone there handling the data reports
# one; a token limited to another agreement sees none and cannot report under this one.
API_BREACHES = {
    **TOKEN_NEEDED,
    "county_dpo": "ok",
    "district_dpo": "ok",
    "district_analyst": "forbidden",
    "district_viewer": "forbidden",
    "stranger": "ok",  # nothing listed
}
rows("api:list_breaches", "GET", API_BREACHES)
rows("api:get_breach", "GET", {**API_BREACHES, "stranger": "not_found"})
rows(
    "api:get_breach",
    "GET",
    {"county_dpo": "not_found"},
    params=_unknown("breach_id"),
    label="unknown",
)


def api_breach(w: MatrixWorld) -> dict[str, Any]:
    return {
        "agreement": str(w.agreement.pk),
        "what_happened": "A list was printed and left on a train.",
        "discovered_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "data": [w.agreement.current.document["datasets"][0]["id"]],
    }


rows(
    "api:report_breach",
    "POST",
    {
        **TOKEN_NEEDED,
        "county_dpo": "ok",
        "district_analyst": "ok",
        "county_admin": "forbidden",
        "district_viewer": "forbidden",
        "stranger": "not_found",
        "scoped_other_agreement": "not_found",
    },
    data=api_breach,
)
rows(
    "api:report_breach",
    "POST",
    {"district_dpo": "refused"},
    data=lambda w: {**api_breach(w), "data": ["nonsense"]},
)

# Outputs: the owner, and each contributor whose data is in it; the other district's return
# was rejected, so nothing was made from its data and it finds nothing.
rows("api:list_outputs", "GET", {**API_READER, "county_analyst": "ok"})
API_OUTPUT = {
    **TOKEN_NEEDED,
    "county_analyst": "ok",
    "district_analyst": "ok",
    "district_dpo": "ok",
    "district_viewer": "forbidden",
    "other_analyst": "not_found",
    "stranger": "not_found",
    # The output's grant rests on the framework, not the agreement this token is limited to.
    "scoped_other_agreement": "forbidden",
}
rows("api:get_output", "GET", API_OUTPUT)
rows(
    "api:get_output",
    "GET",
    {"county_analyst": "not_found"},
    params=_unknown("output_id"),
    label="unknown",
)
# Record linkage through the API (see the pages' rows above).
API_LINKERS = {
    **TOKEN_NEEDED,
    "district_analyst": "ok",
    "district_viewer": "forbidden",
    "county_admin": "forbidden",
    "stranger": "ok",
}
rows("api:list_sources", "GET", API_LINKERS)
rows("api:list_jobs", "GET", API_LINKERS)
# Two datasets, one of which nobody may link (the housing benefit agreement allows no
# linkage): the district is refused by the decision point (403, with the agreement's reason);
# a stranger, for whom neither is its to use, before any decision (409).
rows(
    "api:create_job",
    "POST",
    {**API_LINKERS, "district_analyst": "forbidden", "stranger": "refused"},
    data=lambda w: {
        "name": "Matrix",
        "entity": "person",
        "sources": [f"collection:{w.hb_collection.pk}", f"collection:{w.collection.pk}"],
        "purpose": "Anything",
    },
)
API_JOB = {
    **TOKEN_NEEDED,
    "district_analyst": "ok",
    "district_viewer": "forbidden",
    "county_analyst": "not_found",
    "stranger": "not_found",
}
rows("api:get_job", "GET", API_JOB)
rows("api:get_result", "GET", {**API_JOB, "district_analyst": "not_found"})
rows(
    "api:get_job",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("job_id"),
    label="unknown",
)
rows(
    "api:list_outlets",
    "GET",
    {**TOKEN_NEEDED, "county_officer": "ok", "district_viewer": "forbidden"},
)
API_EXTRACT = {
    **TOKEN_NEEDED,
    "district_analyst": "ok",
    "district_viewer": "forbidden",
    "other_analyst": "not_found",
    "county_analyst": "not_found",
    "stranger": "not_found",
    "scoped_other_agreement": "forbidden",
}
# A token limited to another agreement still reads the extract's description (as /shared lists
# what it may not use, with token_may_use false); it cannot download it.
rows("api:get_extract", "GET", {**API_EXTRACT, "scoped_other_agreement": "ok"})
rows("api:download_extract", "GET", API_EXTRACT)
rows(
    "api:download_extract",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("extract_id"),
    label="unknown",
)
for _situation in AGREEMENT_STATES:
    rows("api:download_extract", "GET", {"district_analyst": "forbidden"}, situation=_situation)
rows(
    "api:download_extract",
    "GET",
    {"district_analyst": "forbidden"},
    params=lambda w: {"extract_id": w.extract_shredded.pk},
    label="deleted",
)
rows(
    "api:download_extract",
    "GET",
    {"district_analyst": "forbidden"},
    params=lambda w: {"extract_id": w.extract_of_shredded.pk},
    label="source_deleted",
)
rows(
    "api:request_extract",
    "POST",
    {
        **TOKEN_NEEDED,
        "district_analyst": "ok",
        "district_viewer": "forbidden",
        "stranger": "not_found",
        "scoped_other_agreement": "forbidden",
    },
    data=api_extract,
)
for _situation in AGREEMENT_STATES:
    rows(
        "api:request_extract",
        "POST",
        {"district_analyst": "forbidden"},
        data=api_extract,
        situation=_situation,
    )
rows(
    "api:request_extract",
    "POST",
    {"district_analyst": "forbidden"},
    data=lambda w: {**api_extract(w), "source": f"release:{w.release_shredded.pk}"},
    label="deleted",
)
rows(
    "api:get_release",
    "GET",
    {
        **TOKEN_NEEDED,
        "county_officer": "ok",
        "district_analyst": "ok",
        "district_viewer": "forbidden",
        "stranger": "not_found",
    },
)
rows(
    "api:get_release",
    "GET",
    {"district_analyst": "not_found"},
    params=_unknown("release_id"),
    label="unknown",
)
rows(
    "api:publish_release",
    "POST",
    {
        **TOKEN_NEEDED,
        "county_officer": "ok",
        "county_dpo": "forbidden",
        # Holding a publishing role but no outlet: the outlet asked for is not one of theirs.
        "district_analyst": "refused",
        "stranger": "refused",
    },
    data=lambda w: {
        "outlet": w.outlet,
        "label": "Matrix API release",
        "file": SimpleUploadedFile("hb.csv", _hb_csv(), content_type="text/csv"),
    },
)


def _hb_csv() -> bytes:
    import polars as pl

    from tests.unit.access.sharing import hb_frame

    return (
        hb_frame()
        .with_columns(
            pl.Series("nino", ["JH123456C", "JH123457C", "JH123458C"]),
            pl.lit("council").alias("tenure"),
            pl.lit("2026-03-01").alias("extract_date"),
        )
        .write_csv()
        .encode()
    )


# Running a row --------------------------------------------------------------------------------


def _path(row: Row, w: MatrixWorld) -> str:
    if row.route == "admin:*":
        return "/admin/"
    params = row.params or PARAMS.get(row.route)
    kwargs = {k: str(v) for k, v in (params(w) if params else {}).items()}
    path = reverse(row.route, kwargs=kwargs)
    if row.query == "release":
        path += "?" + release_query(w)
    elif row.query == "shredded":
        path += f"?source=release:{w.release_shredded.pk}"
    elif row.query == "table":
        path += "?" + urlencode({"by": "ltla_cd", "purpose": PURPOSE})
    return path


def _send(row: Row, w: MatrixWorld, path: str):
    data = row.data(w) if row.data else None
    if row.route.startswith("api:"):
        headers = (
            {"Authorization": f"Bearer {w.tokens[row.persona]}"}
            if row.persona != "anonymous"
            else {}
        )
        client = Client()
        if row.method == "GET":
            return client.get(path, headers=headers)
        if isinstance(data, dict) and any(isinstance(v, SimpleUploadedFile) for v in data.values()):
            return client.post(path, data, headers=headers)
        import json

        body = json.dumps(data if data is not None else {}, default=str)
        send = client.put if row.method == "PUT" else client.post
        return send(path, body, content_type="application/json", headers=headers)
    client = w.client(row.persona)
    if row.method == "GET":
        return client.get(path)
    return client.post(path, data or {})


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _error_message(response) -> bool:
    """Whether the page queued an error message for the next page (a refusal)."""
    from django.contrib.messages import constants

    store = getattr(getattr(response, "wsgi_request", None), "_messages", None)
    return any(m.level == constants.ERROR for m in getattr(store, "_queued_messages", []))


def outcome_of(response, method: str, body: str) -> str:
    status = response.status_code
    if status == 401:
        return "unauthorised"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if status in (409, 422):
        return "refused"  # the API's refusal of a request that passed its checks of who
    if 300 <= status < 400:
        if urlsplit(response["Location"]).path == "/sign-in/":
            return "sign_in"
        return "refused" if _error_message(response) else "ok"
    if 200 <= status < 300:
        if method == "POST" and any(
            marker in body for marker in ("govuk-error-summary", "No agreement in force")
        ):
            return "refused"
        return "ok"
    return f"status {status}"


def _params(table: list[Row]) -> list[Any]:
    return [
        pytest.param(
            row,
            id=row.id,
            marks=[pytest.mark.xfail(strict=True, reason=row.xfail)] if row.xfail else [],
        )
        for row in table
    ]


@pytest.mark.parametrize("row", _params(ROWS))
def test_matrix(world: MatrixWorld, row: Row) -> None:
    assert row.expected in OUTCOMES
    if row.situation:
        SITUATIONS[row.situation](world)
    path = _path(row, world)
    response = _send(row, world, path)
    body = _body(response)
    outcome = outcome_of(response, row.method, body)
    assert outcome == row.expected, f"{row.id}: {response.status_code} {body[:600]}"
    if row.expected == "sign_in":
        location = urlsplit(response["Location"])
        if location.query:  # the pages that need a signed-in person say where to come back
            assert_redirects_to_sign_in(response, path)
    if row.expected != "ok":
        # No refusal shows rows of data; none shown to someone with no claim on the data (any
        # refusal but the agreement's state, which its own parties are told about) names it.
        leaked = [s for s in DATA_ROWS if s in body]
        if not row.situation and row.expected != "refused":  # refused: they may see it
            leaked += [s for s in NAMES if s in body]
        assert not leaked, f"{row.id}: the refusal shows {leaked}"


# Every route and operation is in the table, and the table names only real ones ---------------


def _api_operations() -> set[tuple[str, str]]:
    """(route name, method) for every operation in the OpenAPI document."""
    from accord.api.main import api

    found = set()
    for operations in api.get_openapi_schema()["paths"].values():
        for method, operation in operations.items():
            found.add((_operation_route(operation["operationId"]), method.upper()))
    return found


def _operation_route(operation_id: str) -> str:
    routes = {name for name, _ in _routes(get_resolver().url_patterns) if name.startswith("api:")}
    matches = [r for r in routes if operation_id.endswith("_" + r[4:])]
    assert matches, operation_id
    return max(matches, key=len)


def test_every_url_pattern_and_operation_is_in_the_table() -> None:
    routes = {name for name, _ in _routes(get_resolver().url_patterns)}
    named = {row.route for row in ROWS}
    missing = sorted(routes - named)
    assert missing == [], f"Add rows to the authorization matrix for: {missing}"
    operations = _api_operations()
    listed = {(row.route, row.method) for row in ROWS}
    missing_ops = sorted(f"{m} {r}" for r, m in operations - listed)
    assert missing_ops == [], f"Add rows to the authorization matrix for: {missing_ops}"


def test_the_table_names_only_real_routes_and_operations() -> None:
    routes = {name for name, _ in _routes(get_resolver().url_patterns)}
    stale = sorted({row.route for row in ROWS} - routes)
    assert stale == [], f"These routes do not exist: {stale}"
    operations = _api_operations()
    api_routes = {r for r, _ in operations}
    wrong = sorted(
        f"{row.method} {row.route}"
        for row in ROWS
        if row.route in api_routes and (row.route, row.method) not in operations
    )
    assert wrong == [], f"These API operations do not exist: {wrong}"


def test_the_table_has_the_cases_the_issue_names() -> None:
    situations = {row.situation for row in ROWS}
    assert set(SITUATIONS) <= situations
    labels = {row.label for row in ROWS}
    assert {"deleted", "source_deleted", "unknown"} <= labels
    personas = {row.persona for row in ROWS}
    assert {
        "revoked",
        "scoped_other_agreement",
        "stranger",
        "district_viewer",
        "anonymous",
    } <= personas


# Decisions: purpose not in the agreement, field not granted -----------------------------------


@dataclass(frozen=True)
class DecisionRow:
    persona: str
    resource: str  # "release" (the published housing benefit data)
    action: str
    purpose: str
    fields: tuple[str, ...] = ()
    situation: str = ""
    permitted: bool = False
    reason: str = ""
    xfail: str = ""

    @property
    def id(self) -> str:
        extra = f"|{self.situation}" if self.situation else ""
        fields = ",".join(self.fields) or "all"
        verdict = "permit" if self.permitted else "deny"
        asked = f"{self.persona}|{self.resource}|{self.action}|{self.purpose[:20]}|{fields}"
        return f"{asked}{extra}→{verdict}"


DECISIONS = [
    DecisionRow("district_analyst", "release", "extract", PURPOSE, permitted=True),
    DecisionRow(
        "district_analyst", "release", "view", PURPOSE, ("uprn", "ltla_cd"), permitted=True
    ),
    DecisionRow(
        "district_analyst",
        "release",
        "extract",
        "Planning school places",
        reason="is not a purpose",
    ),
    DecisionRow("district_analyst", "release", "extract", "Marketing", reason="rules out this use"),
    DecisionRow("district_analyst", "release", "extract", "", reason="State the purpose"),
    DecisionRow(
        "district_analyst",
        "release",
        "extract",
        PURPOSE,
        ("uprn", "bank_account"),
        reason="does not grant these fields: bank_account",
    ),
    DecisionRow("district_viewer", "release", "extract", PURPOSE, reason="do not include reading"),
    DecisionRow(
        "stranger", "release", "extract", PURPOSE, reason="No active data sharing agreement"
    ),
    DecisionRow("staff", "release", "view", PURPOSE, reason=""),
    DecisionRow("county_analyst", "release", "extract", "Anything at all", permitted=True),
    DecisionRow("other_analyst", "release", "extract", PURPOSE, permitted=True),
    DecisionRow(
        "district_analyst", "release", "extract", PURPOSE, situation="suspended", reason="suspended"
    ),
    DecisionRow(
        "district_analyst",
        "release",
        "extract",
        PURPOSE,
        situation="terminated",
        reason="terminated",
    ),
    DecisionRow(
        "district_analyst", "release", "extract", PURPOSE, situation="expired", reason="ended on"
    ),
    DecisionRow(
        "district_analyst",
        "release",
        "extract",
        PURPOSE,
        situation="not_started",
        reason="starts on",
    ),
    DecisionRow(
        "district_analyst",
        "release",
        "extract",
        PURPOSE,
        situation="no_agreement",
        reason="No active",
    ),
    DecisionRow("district_analyst", "release_shredded", "extract", PURPOSE, reason=""),
]


@pytest.mark.parametrize(
    "row",
    [
        pytest.param(
            r, id=r.id, marks=[pytest.mark.xfail(strict=True, reason=r.xfail)] if r.xfail else []
        )
        for r in DECISIONS
    ],
)
def test_decision(world: MatrixWorld, row: DecisionRow) -> None:
    from dataclasses import replace

    from accord.audit.actor import Actor

    if row.situation:
        SITUATIONS[row.situation](world)
    release = world.release_shredded if row.resource == "release_shredded" else world.release
    release.data.refresh_from_db()
    resource = replace(resource_for(release.data), fields=row.fields)
    if row.persona == "staff":
        actor = (
            Actor.for_user(world.users["staff"])
            if hasattr(Actor, "for_user")
            else actor_for(world.users["staff"], None)
        )
    else:
        actor = actor_for(world.users[row.persona], world.memberships[row.persona])
    decision = decide(
        actor=actor, action=Action(row.action), resource=resource, purpose=row.purpose
    )
    assert decision.permitted is row.permitted, decision.reason
    if row.reason:
        assert row.reason in decision.reason, decision.reason
