"""Security headers, session lifetime and the two-factor rule, applied to every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

Handler = Callable[[HttpRequest], HttpResponse]

SIGNED_IN_AT = "accord_signed_in_at"


class SecurityHeadersMiddleware:
    """Headers Django does not set itself, and no caching of signed-in pages."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        )
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if request.user.is_authenticated and not request.path.startswith(settings.STATIC_URL):
            response.headers["Cache-Control"] = "no-store"
        return response


class SessionLifetimeMiddleware:
    """Ends a session a fixed time after sign-in, however active (idle expiry is the cookie's)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.get(SIGNED_IN_AT)
            if started is None:
                request.session[SIGNED_IN_AT] = time.time()
            elif time.time() - float(started) > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(f"{reverse('web:sign_in')}?expired=1")
        return self.get_response(request)


def two_factor_verified(user: object) -> bool:
    """Whether this request's user passed a second factor (django-otp adds is_verified)."""
    return bool(getattr(user, "is_verified", lambda: False)())


# Pages a person who still owes a second factor may see.
TWO_FACTOR_EXEMPT = ("web:two_factor_setup", "web:sign_in_code", "web:sign_out")


class RequireTwoFactorMiddleware:
    """Anyone whose roles let them see personal data must have passed two-factor sign-in.

    Sign-in normally completes the second step before logging a person in; this catches the
    rest, such as a viewer given an analyst role during their session.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(settings.STATIC_URL)
            and not two_factor_verified(user)
            and getattr(user, "requires_two_factor", lambda: False)()
        ):
            exempt = {reverse(name) for name in TWO_FACTOR_EXEMPT}
            if request.path not in exempt:
                return redirect("web:two_factor_setup")
        return self.get_response(request)
