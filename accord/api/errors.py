"""How the API says no: one JSON shape, ``{"detail": "a sentence"}``, plus ``errors`` (each a
plain field path such as ``parties[0].id`` and a message) when the request was invalid.

| raised | status |
| --- | --- |
| no token, or one that is unknown, revoked, expired or whose membership has ended | 401 |
| ``NotPermitted`` (lacks the membership or role) | 403 |
| ``Http404`` (not there, or not a party to it) | 404 |
| ``Refused`` (not allowed now, e.g. a lifecycle move the agreement cannot make) | 409 |
| invalid body, path or query; ``Unprocessable``; Django ``ValidationError`` | 422 |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from accord.audit.exceptions import NotPermitted, Refused

from .auth import UNRECOGNISED

# Where ninja says an invalid value came from; dropped from the paths people read.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


def field_path(loc: Sequence[Any], body_params: Iterable[str] = ()) -> str:
    """``("body", "document", "parties", 0, "id")`` → ``parties[0].id``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        if source == "body" and parts and parts[0] in set(body_params):
            parts.pop(0)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


class Unprocessable(Exception):
    """A well-formed request the domain cannot take, e.g. parties that match no organisation."""

    def __init__(self, detail: str, errors: list[dict[str, str]]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors


def invalid(errors: list[dict[str, str]], detail: str = "") -> dict[str, Any]:
    return {
        "detail": detail or "The request is not valid. " + _summary(errors),
        "errors": errors,
    }


def _summary(errors: list[dict[str, str]]) -> str:
    first = errors[0] if errors else None
    if first is None:
        return ""
    where = f"{first['path']}: " if first["path"] else ""
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}{first['message']}{more}"


def install(api: NinjaAPI, *, body_params: Iterable[str]) -> None:
    """Register the handlers on ``api``. ``body_params`` are the names endpoints give their
    body parameter, which ninja puts in error locations but the caller never sent."""
    names = tuple(body_params)

    def reply(request: HttpRequest, data: dict[str, Any], status: int) -> HttpResponse:
        return api.create_response(request, data, status=status)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = exc.message if exc.message != "Unauthorized" else UNRECOGNISED
        response = reply(request, {"detail": message}, 401)
        response["WWW-Authenticate"] = 'Bearer realm="accord"'
        return response

    @api.exception_handler(NotPermitted)
    def not_permitted(request: HttpRequest, exc: NotPermitted) -> HttpResponse:
        return reply(request, {"detail": exc.reason}, 403)

    @api.exception_handler(Refused)
    def refused(request: HttpRequest, exc: Refused) -> HttpResponse:
        return reply(request, {"detail": exc.reason}, 409)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        message = str(exc) or "Not found."
        return reply(request, {"detail": message}, 404)

    @api.exception_handler(NinjaValidationError)
    def invalid_request(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [
            {"path": field_path(error.get("loc", ()), names), "message": _message(error)}
            for error in exc.errors
        ]
        return reply(request, invalid(errors), 422)

    @api.exception_handler(Unprocessable)
    def unprocessable(request: HttpRequest, exc: Unprocessable) -> HttpResponse:
        return reply(request, invalid(exc.errors, exc.detail), 422)

    @api.exception_handler(DjangoValidationError)
    def invalid_value(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = [
            {"path": "" if field == "__all__" else field, "message": message}
            for field, messages in _django_messages(exc)
            for message in messages
        ]
        return reply(request, invalid(errors), 422)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return reply(request, {"detail": exc.message}, exc.status_code)


def _message(error: dict[str, Any]) -> str:
    # pydantic prefixes messages from the document's own validators with "Value error, ".
    return str(error.get("msg", "")).removeprefix("Value error, ")


def _django_messages(exc: DjangoValidationError) -> list[tuple[str, list[str]]]:
    if hasattr(exc, "error_dict"):
        return [
            (field, DjangoValidationError(errors).messages)
            for field, errors in exc.error_dict.items()
        ]
    return [("__all__", list(exc.messages))]
