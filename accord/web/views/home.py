from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.organisations.enums import Role


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = getattr(request, "membership", None)
    return render(
        request,
        "web/home.html",
        {
            "membership": membership,
            "is_admin": bool(membership and membership.has_role(Role.ORGANISATION_ADMIN)),
            "can_read_audit": bool(membership and membership.has_role(*AUDIT_READERS)),
        },
    )


AUDIT_READERS = (Role.ORGANISATION_ADMIN, Role.DPO, Role.SIRO)
