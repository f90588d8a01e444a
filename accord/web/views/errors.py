"""Error pages in the service's own style. They never show a stack trace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.audit.actions import record
from accord.audit.enums import Outcome
from accord.organisations.actors import actor_for_request


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "web/error.html",
        {"title": title, "message": message, "status": status},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        400,
        "Sorry, there is a problem with that request",
        "Check the address or go back and try again.",
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = (
        str(exception)
        if exception and str(exception)
        else ("Your account does not have permission to see this page.")
    )
    # Every refusal is audited (DESIGN rule 6), in its own transaction.
    record(
        by=actor_for_request(request),
        action="web.page_refused",
        target=f"path:{request.path}"[:300],
        outcome=Outcome.REFUSED,
        reason=reason,
    )
    return _page(request, 403, "You do not have permission to see this page", reason)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request,
        404,
        "Page not found",
        "If you typed the web address, check it is "
        "correct. If you pasted the web address, check you copied the entire address.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        "Sorry, there is a problem with the service",
        "Try again later. Nothing you had already saved has been lost.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(
        request,
        403,
        "Your form could not be sent",
        "The page may have been open too long. Go back, refresh the page and try again.",
    )
