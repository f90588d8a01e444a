"""The public register of agreements in force: no sign-in, as a page and as JSON. It shows what
an agreement is for and on what basis, never the names or contacts of people."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from accord.agreements.queries import public_register

MAX_SEARCH = 200


def register(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "")[:MAX_SEARCH]
    return render(
        request,
        "web/register/register.html",
        {"entries": public_register(search), "search": search},
    )


def register_json(request: HttpRequest) -> JsonResponse:
    search = request.GET.get("q", "")[:MAX_SEARCH]
    entries = [entry.as_json() for entry in public_register(search)]
    return JsonResponse({"agreements": entries, "count": len(entries)})
