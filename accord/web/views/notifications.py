"""The notices an organisation has been sent, newest first; any member may read them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accord.notifications.queries import notices_for

from .common import current_membership


@login_required
def notices(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    page = Paginator(notices_for(membership.organisation), 25).get_page(request.GET.get("page"))
    return render(
        request,
        "web/notifications/notices.html",
        {"page": page, "organisation": membership.organisation},
    )
