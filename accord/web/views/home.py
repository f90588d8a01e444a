from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.notifications.queries import recent_count
from accord.organisations.enums import Role

from .vault import CERTIFICATE_READERS


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
            "can_read_certificates": bool(membership and membership.has_role(*CERTIFICATE_READERS)),
            "notice_count": recent_count(membership.organisation) if membership else 0,
        },
    )


AUDIT_READERS = (Role.ORGANISATION_ADMIN, Role.DPO, Role.SIRO)
