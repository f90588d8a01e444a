"""The JSON API, mounted at /api/v1/ (ADR 0007). OpenAPI at /api/v1/openapi.json; interactive
docs at /api/v1/docs, served from django-ninja's bundled files (no CDN), inside the site's CSP."""

from __future__ import annotations

from ninja import NinjaAPI, Swagger

from . import (
    agreement_changes,
    breaches,
    collections,
    data_requests,
    errors,
    frameworks,
    linkage,
    outcomes,
    outputs,
    sharing,
    usage,
)
from .agreements import public, router
from .auth import TokenAuth

api = NinjaAPI(
    title="Accord API",
    version="1",
    description=(
        "Data sharing agreements between public bodies, through the same rules as the pages. "
        "Authenticate with an API token from your organisation's API tokens page: "
        "`Authorization: Bearer acc_...`. A token acts for one person in one organisation, "
        'with that membership\'s roles. Errors are `{"detail": "..."}`; invalid requests '
        "(422) add `errors`, each with a field `path` and a `message`."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Paths the public router owns come first, so /agreements/schema is not read as an id;
# likewise agreement_changes' /agreements/from-framework.
api.add_router("/", public)
api.add_router("/", agreement_changes.router)
api.add_router("/", router)
api.add_router("/", data_requests.router)
api.add_router("/", frameworks.router)
api.add_router("/", collections.router)
api.add_router("/", usage.router)
api.add_router("/", sharing.router)
api.add_router("/", outputs.router)
api.add_router("/", outcomes.router)
api.add_router("/", linkage.router)
api.add_router("/", breaches.router)
errors.install(api, body_params=("document", "body"))
