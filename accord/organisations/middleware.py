"""Which organisation a signed-in person is acting for on this request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .models import Membership, User
from .queries import memberships_of

SESSION_KEY = "accord_organisation_id"


class CurrentOrganisationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.membership = None  # type: ignore[attr-defined]
        request.memberships = []  # type: ignore[attr-defined]
        user = request.user
        if user.is_authenticated and isinstance(user, User):
            memberships = list(memberships_of(user))
            current = choose_membership(request, memberships)
            if current is not None:
                request.session[SESSION_KEY] = str(current.organisation_id)
            request.membership = current  # type: ignore[attr-defined]
            request.memberships = memberships  # type: ignore[attr-defined]
        return self.get_response(request)


def choose_membership(request: HttpRequest, memberships: list[Membership]) -> Membership | None:
    """The organisation chosen in this session if the person still belongs to it, else the
    first of their organisations by name."""
    chosen = request.session.get(SESSION_KEY)
    current = next((m for m in memberships if str(m.organisation_id) == chosen), None)
    return current or (memberships[0] if memberships else None)
