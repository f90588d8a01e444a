"""Every page has integration tests of who may not use it.

Adding a URL without adding it here fails this test: write the tests of its denials (signed
out, wrong organisation, wrong role) and of its permits, then list the module below.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver

HERE = Path(__file__).resolve().parent

# Route name → the module in tests/integration that covers its denials and permits.
COVERED_BY: dict[str, str] = {
    "admin:*": "test_admin",
    "web:home": "test_sign_in",
    "web:sign_in": "test_sign_in",
    "web:sign_in_code": "test_sign_in",
    "web:two_factor_setup": "test_sign_in",
    "web:sign_out": "test_sign_in",
    "web:password_reset": "test_passwords",
    "web:password_reset_sent": "test_passwords",
    "web:password_reset_confirm": "test_passwords",
    "web:password_reset_done": "test_passwords",
    "web:password_change": "test_passwords",
    "web:switch_organisation": "test_switch_organisation",
    "web:members": "test_members",
    "web:invite": "test_members",
    "web:member": "test_members",
    "web:remove_member": "test_members",
    "web:revoke_invitation": "test_members",
    "web:invitation": "test_invitation",
    "web:audit_events": "test_audit_log",
    "web:checkpoints": "test_checkpoints",
    "web:checkpoint_download": "test_checkpoints",
    "web:public_key": "test_checkpoints",
    "web:deletion_certificates": "test_deletion_certificates",
    "web:deletion_certificate": "test_deletion_certificates",
    "web:deletion_certificate_download": "test_deletion_certificates",
    "web:notices": "test_deletion_certificates",
    "web:copies": "test_copies",
    "web:attest_copy_deletion": "test_copies",
    "web:standards": "test_standards",
    "web:standard": "test_standards",
    "web:standard_version": "test_standards",
    "web:standard_download": "test_standards",
    "web:check_file": "test_standards",
    "web:publish_standard": "test_standards",
    "web:register": "test_register",
    "web:register_json": "test_register",
    "web:agreement_document": "test_agreement_exports",
    "web:agreement_json": "test_agreement_exports",
    "web:agreement_jsonld": "test_agreement_exports",
    "web:agreement_schema": "test_agreement_exports",
    "web:agreement_changes": "test_agreement_exports",
    "web:agreement_import": "test_agreement_exports",
    "web:api_tokens": "test_api_tokens",
    "web:revoke_api_token": "test_api_tokens",
    "web:task_progress": "test_task_progress",
    "web:agreements": "test_agreements_pages",
    "web:new_agreement": "test_agreements_pages",
    "web:agreement": "test_agreements_pages",
    "web:draft_step": "test_agreements_pages",
    "web:submit_agreement": "test_agreements_pages",
    "web:sign_agreement": "test_agreements_pages",
    "web:activate_agreement": "test_agreements_pages",
    "web:suspend_agreement": "test_agreements_pages",
    "web:resume_agreement": "test_agreements_pages",
    "web:terminate_agreement": "test_agreements_pages",
    "web:return_agreement": "test_agreements_pages",
    "web:amend_agreement": "test_agreements_pages",
    "web:frameworks": "test_agreements_pages",
    "web:framework": "test_agreements_pages",
    "web:requests": "test_data_requests_pages",
    "web:new_request": "test_data_requests_pages",
    "web:confirm_request": "test_data_requests_pages",
    "web:data_request": "test_data_requests_pages",
    "web:comment_request": "test_data_requests_pages",
    "web:approve_request": "test_data_requests_pages",
    "web:decline_request": "test_data_requests_pages",
    "web:withdraw_request": "test_data_requests_pages",
    "web:collections": "test_collections_pages",
    "web:new_collection": "test_collections_pages",
    "web:collection": "test_collections_pages",
    "web:add_contributor": "test_collections_pages",
    "web:submit_return": "test_collections_pages",
    "web:compiled_download": "test_collections_pages",
    "web:submission": "test_collections_pages",
    "web:problems_download": "test_collections_pages",
    "web:collection_status_form": "test_care_home_status_form",
    "web:shared": "test_sharing_pages",
    "web:extracts": "test_sharing_pages",
    "web:extract_new": "test_sharing_pages",
    "web:extract": "test_sharing_pages",
    "web:extract_download": "test_sharing_pages",
    "web:releases": "test_sharing_pages",
    "web:release_new": "test_sharing_pages",
    "web:release": "test_sharing_pages",
    "web:outputs": "test_outputs_pages",
    "web:returned": "test_outputs_pages",
    "web:output_dashboard": "test_outputs_pages",
    "web:output_download": "test_outputs_pages",
    "web:output_new": "test_outputs_pages",
    "web:flexible_table": "test_flexible_pages",
    "web:subject_access": "test_rights_pages",
    "web:subject_change": "test_subject_change_pages",
    "web:subject_change_certificate": "test_subject_change_pages",
    "web:subject_change_notices": "test_subject_change_pages",
    "web:linkage_jobs": "test_linkage_pages",
    "web:linkage_new": "test_linkage_pages",
    "web:linkage_single_view": "test_linkage_pages",
    "web:linkage_job": "test_linkage_pages",
    "web:linkage_run": "test_linkage_pages",
    "web:linkage_review": "test_linkage_pages",
    "web:linkage_download": "test_linkage_pages",
    "web:optouts": "test_optouts_pages",
    "web:optout_list": "test_optouts_pages",
    "web:optout_upload": "test_optouts_pages",
    "web:breaches": "test_breaches_pages",
    "web:report_breach": "test_breaches_pages",
    "web:breach": "test_breaches_pages",
    "web:breach_suspend": "test_breaches_pages",
    "web:breach_step": "test_breaches_pages",
    "web:outcomes": "test_outcomes_pages",
    "web:outcomes_received": "test_outcomes_pages",
    "web:report_outcomes": "test_outcomes_pages",
    "web:outcome_report": "test_outcomes_pages",
    # The JSON API (accord/api): each operation is a route named after its function.
    "api:api-root": "test_api_agreements",
    "api:openapi-json": "test_api_agreements",
    "api:openapi-view": "test_api_agreements",
    "api:agreement_schema": "test_api_agreements",
    "api:public_register": "test_api_agreements",
    "api:list_agreements": "test_api_agreements",
    "api:import_agreement": "test_api_agreements",
    "api:get_agreement": "test_api_agreements",
    "api:save_agreement": "test_api_agreements",
    "api:get_agreement_jsonld": "test_api_agreements",
    "api:submit_agreement": "test_api_agreements",
    "api:sign_agreement": "test_api_agreements",
    "api:activate_agreement": "test_api_agreements",
    "api:suspend_agreement": "test_api_agreements",
    "api:resume_agreement": "test_api_agreements",
    "api:terminate_agreement": "test_api_agreements",
    "api:draft_agreement_from_framework": "test_api_agreement_changes",
    "api:return_agreement": "test_api_agreement_changes",
    "api:amend_agreement": "test_api_agreement_changes",
    "api:get_agreement_changes": "test_api_agreement_changes",
    "api:list_requests": "test_api_data_requests",
    "api:suggest_for_request": "test_api_data_requests",
    "api:post_request": "test_api_data_requests",
    "api:get_request": "test_api_data_requests",
    "api:comment_on_request": "test_api_data_requests",
    "api:approve_request": "test_api_data_requests",
    "api:decline_request": "test_api_data_requests",
    "api:withdraw_request": "test_api_data_requests",
    "api:list_frameworks": "test_api_frameworks",
    "api:get_framework": "test_api_frameworks",
    "api:list_collections": "test_api_collections",
    "api:get_collection": "test_api_collections",
    "api:submit_return": "test_api_collections",
    "api:get_submission": "test_api_collections",
    "api:get_submission_problems": "test_api_collections",
    "api:get_compiled_collection": "test_api_collections",
    "web:usage": "test_usage_pages",
    "web:usage_history": "test_usage_pages",
    "web:audit_bundle": "test_audit_bundle_pages",
    "api:list_data_uses": "test_api_usage",
    "api:list_access_history": "test_api_usage",
    "api:get_audit_bundle": "test_api_audit_bundle",
    "api:list_audit_checkpoints": "test_api_audit_bundle",
    "api:list_shared": "test_api_sharing",
    "api:list_extracts": "test_api_sharing",
    "api:request_extract": "test_api_sharing",
    "api:get_extract": "test_api_sharing",
    "api:download_extract": "test_api_sharing",
    "api:list_releases": "test_api_sharing",
    "api:publish_release": "test_api_sharing",
    "api:list_outlets": "test_api_sharing",
    "api:get_release": "test_api_sharing",
    "api:list_outputs": "test_api_outputs",
    "api:get_output": "test_api_outputs",
    "api:list_sources": "test_api_linkage",
    "api:list_jobs": "test_api_linkage",
    "api:create_job": "test_api_linkage",
    "api:get_job": "test_api_linkage",
    "api:get_result": "test_api_linkage",
    "api:list_breaches": "test_api_breaches",
    "api:get_breach": "test_api_breaches",
    "api:report_breach": "test_api_breaches",
    "api:list_outcome_commitments": "test_api_outcomes",
    "api:list_outcome_reports": "test_api_outcomes",
}


def _routes(patterns: list, namespace: str = "", prefix: str = "") -> Iterator[tuple[str, str]]:
    """(route name, URL pattern) for every route; a third-party site (admin) counts as one."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                yield "admin:*", prefix + str(entry.pattern)
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _routes(entry.url_patterns, inner, prefix + str(entry.pattern))
        else:
            assert isinstance(entry, URLPattern)
            yield f"{namespace}{entry.name}" if entry.name else "", prefix + str(entry.pattern)


def test_every_route_is_named() -> None:
    unnamed = [pattern for name, pattern in _routes(get_resolver().url_patterns) if not name]
    assert unnamed == [], f"Give these URL patterns a name so they can be listed: {unnamed}"


def test_every_route_has_integration_tests() -> None:
    routes = dict(_routes(get_resolver().url_patterns))
    missing = sorted(
        f"{name} ({pattern})" for name, pattern in routes.items() if name not in COVERED_BY
    )
    assert missing == [], (
        "These pages have no integration tests listed in tests/integration/test_url_coverage.py. "
        "Write tests of who may not use them (signed out, wrong organisation, wrong role) and who "
        f"may, then list them: {missing}"
    )


def test_the_table_names_only_real_routes() -> None:
    routes = set(dict(_routes(get_resolver().url_patterns)))
    stale = sorted(set(COVERED_BY) - routes)
    assert stale == [], f"These routes no longer exist; remove them from COVERED_BY: {stale}"


def test_every_web_route_is_in_accord_web_urls() -> None:
    """The walk really did see the web app's own URL list."""
    own = {f"web:{p.name}" for p in get_resolver("accord.web.urls").url_patterns}
    assert own
    assert own <= set(COVERED_BY)


def test_each_listed_module_exists_and_has_tests() -> None:
    for module in sorted(set(COVERED_BY.values())):
        path = HERE / f"{module}.py"
        assert path.is_file(), f"{module} is listed but tests/integration/{module}.py is missing"
        tree = ast.parse(path.read_text())
        tests = [
            node.name
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
        ]
        assert tests, f"tests/integration/{module}.py has no tests"


def test_every_api_operation_is_called_by_its_module() -> None:
    """API routes share URL patterns between methods (GET and PUT of one agreement), so for
    each operation in the OpenAPI document, the module listed for it must call that method on
    that path: an operation nobody calls has no tests of its denials."""
    from accord.api.main import api

    spec = api.get_openapi_schema()
    unlisted, uncalled = [], []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            name = next(
                (
                    key
                    for key in COVERED_BY
                    if key.startswith("api:") and operation["operationId"].endswith(key[4:])
                ),
                None,
            )
            if name is None:
                unlisted.append(f"{method.upper()} {path}")
                continue
            source = (HERE / f"{COVERED_BY[name]}.py").read_text()
            literals = [
                chunk.strip("/")
                for chunk in re.split(r"\{[^}]+\}", path.removeprefix("/api/v1"))
                if chunk.strip("/")
            ]
            if f".{method}(" not in source or not all(c in source for c in literals):
                uncalled.append(f"{method.upper()} {path} ({COVERED_BY[name]})")
    assert unlisted == [], f"List these API operations in COVERED_BY: {unlisted}"
    assert uncalled == [], f"These API operations are never called by their module: {uncalled}"
