"""Security headers, the absolute session lifetime and the two-factor rule."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY as AUTH_SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse

from accord.organisations.models import User
from accord.web.middleware import (
    SIGNED_IN_AT,
    TWO_FACTOR_EXEMPT,
    RequireTwoFactorMiddleware,
    SecurityHeadersMiddleware,
    SessionLifetimeMiddleware,
    two_factor_verified,
)
from tests.factories import MembershipFactory, UserFactory, totp_device

pytestmark = pytest.mark.django_db

PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"
)


class Recorder:
    """The rest of the stack: records whether it was reached and answers with ``response``."""

    def __init__(self, response: HttpResponse | None = None) -> None:
        self.response = response or HttpResponse("the page")
        self.calls: list[HttpRequest] = []

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self.calls.append(request)
        return self.response


def _request(path: str = "/", user: Any = None, *, verified: bool | None = None) -> HttpRequest:
    request = RequestFactory().get(path)
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    request.user = user if user is not None else AnonymousUser()
    if verified is not None:
        request.user.is_verified = lambda: verified  # what django-otp's middleware adds
    return request


def _signed_in_request(user: User, path: str = "/") -> HttpRequest:
    """A request whose session really holds a signed-in user (so logout() has work to do)."""
    request = RequestFactory().get(path)
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    request.session[AUTH_SESSION_KEY] = str(user.pk)
    request.session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    request.session["_auth_user_hash"] = user.get_session_auth_hash()
    AuthenticationMiddleware(lambda r: HttpResponse()).process_request(request)
    assert request.user.is_authenticated
    return request


@pytest.fixture
def viewer() -> User:
    return MembershipFactory(roles=["viewer"]).user


@pytest.fixture
def analyst() -> User:
    return MembershipFactory(roles=["analyst"]).user


# SecurityHeadersMiddleware -----------------------------------------------------------------------


def test_anonymous_pages_get_security_headers_but_may_be_cached() -> None:
    response = SecurityHeadersMiddleware(Recorder())(_request())
    assert response.headers["Permissions-Policy"] == PERMISSIONS_POLICY
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Cache-Control" not in response.headers


def test_signed_in_pages_are_never_stored(viewer: User) -> None:
    response = SecurityHeadersMiddleware(Recorder())(_request("/organisation/", viewer))
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Permissions-Policy"] == PERMISSIONS_POLICY


def test_no_store_overrides_a_views_own_caching(viewer: User) -> None:
    page = HttpResponse("x")
    page.headers["Cache-Control"] = "public, max-age=600"
    response = SecurityHeadersMiddleware(Recorder(page))(_request("/", viewer))
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_stay_cacheable_when_signed_in(viewer: User) -> None:
    asset = HttpResponse("body{}")
    asset.headers["Cache-Control"] = "max-age=31536000, public, immutable"
    path = f"{settings.STATIC_URL}accord/app.css"
    response = SecurityHeadersMiddleware(Recorder(asset))(_request(path, viewer))
    assert response.headers["Cache-Control"] == "max-age=31536000, public, immutable"


def test_headers_a_view_set_itself_are_kept() -> None:
    page = HttpResponse("x")
    page.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    page.headers["Permissions-Policy"] = "camera=(self)"
    response = SecurityHeadersMiddleware(Recorder(page))(_request())
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response.headers["Permissions-Policy"] == "camera=(self)"


def test_the_whole_stack_sends_the_headers(client: Client, viewer: User) -> None:
    anonymous = client.get(reverse("web:sign_in"))
    assert anonymous.headers["Permissions-Policy"] == PERMISSIONS_POLICY
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in anonymous.headers["Content-Security-Policy"]

    client.force_login(viewer)
    signed_in = client.get(reverse("web:home"))
    assert signed_in.status_code == 200
    assert signed_in.headers["Cache-Control"] == "no-store"


# SessionLifetimeMiddleware ---------------------------------------------------------------------


def test_the_first_signed_in_request_starts_the_clock(viewer: User) -> None:
    request = _request("/", viewer)
    before = time.time()
    downstream = Recorder()
    response = SessionLifetimeMiddleware(downstream)(request)
    assert response is downstream.response
    assert before <= request.session[SIGNED_IN_AT] <= time.time()


def test_a_session_within_its_lifetime_carries_on(viewer: User) -> None:
    request = _request("/", viewer)
    started = time.time() - settings.SESSION_ABSOLUTE_SECONDS + 3600
    request.session[SIGNED_IN_AT] = started
    downstream = Recorder()
    SessionLifetimeMiddleware(downstream)(request)
    assert downstream.calls == [request]
    assert request.session[SIGNED_IN_AT] == started  # activity does not extend it


def test_a_session_past_its_lifetime_is_ended_however_active(viewer: User) -> None:
    request = _signed_in_request(viewer)
    request.session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    downstream = Recorder()
    response = SessionLifetimeMiddleware(downstream)(request)
    assert downstream.calls == []
    assert response.status_code == 302
    assert response.url == f"{reverse('web:sign_in')}?expired=1"
    assert not request.user.is_authenticated
    assert AUTH_SESSION_KEY not in request.session
    assert SIGNED_IN_AT not in request.session


def test_the_lifetime_is_the_setting(viewer: User, settings) -> None:
    settings.SESSION_ABSOLUTE_SECONDS = 10 * 24 * 3600
    request = _signed_in_request(viewer)
    request.session[SIGNED_IN_AT] = time.time() - 2 * 24 * 3600
    downstream = Recorder()
    SessionLifetimeMiddleware(downstream)(request)
    assert downstream.calls == [request]


def test_anonymous_sessions_are_not_timed() -> None:
    request = _request()
    downstream = Recorder()
    SessionLifetimeMiddleware(downstream)(request)
    assert downstream.calls == [request]
    assert SIGNED_IN_AT not in request.session


def test_an_expired_session_is_sent_to_sign_in_through_the_whole_stack(
    client: Client, viewer: User
) -> None:
    client.force_login(viewer)
    assert client.get(reverse("web:home")).status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 60
    session.save()
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response.url == f"{reverse('web:sign_in')}?expired=1"
    # Signed out: the next page asks for sign-in again.
    again = client.get(reverse("web:home"))
    assert again.status_code == 302
    assert again.url.startswith(reverse("web:sign_in"))


# RequireTwoFactorMiddleware ----------------------------------------------------------------------


def _two_factor(request: HttpRequest) -> tuple[HttpResponse, Recorder]:
    downstream = Recorder()
    return RequireTwoFactorMiddleware(downstream)(request), downstream


def test_someone_owing_a_second_factor_is_sent_to_set_it_up(analyst: User) -> None:
    response, downstream = _two_factor(_request("/organisation/members/", analyst, verified=False))
    assert downstream.calls == []
    assert response.status_code == 302
    assert response.url == reverse("web:two_factor_setup")


def test_a_verified_person_passes(analyst: User) -> None:
    _, downstream = _two_factor(_request("/", analyst, verified=True))
    assert len(downstream.calls) == 1


def test_a_viewer_needs_no_second_factor(viewer: User) -> None:
    _, downstream = _two_factor(_request("/", viewer, verified=False))
    assert len(downstream.calls) == 1


def test_staff_owe_a_second_factor() -> None:
    response, downstream = _two_factor(_request("/", UserFactory(is_staff=True), verified=False))
    assert downstream.calls == []
    assert response.url == reverse("web:two_factor_setup")


def test_a_user_without_is_verified_counts_as_unverified(analyst: User) -> None:
    assert two_factor_verified(analyst) is False
    _, downstream = _two_factor(_request("/", analyst))
    assert downstream.calls == []


def test_anonymous_requests_pass() -> None:
    _, downstream = _two_factor(_request("/"))
    assert len(downstream.calls) == 1


@pytest.mark.parametrize("name", TWO_FACTOR_EXEMPT)
def test_the_exempt_pages_stay_reachable(analyst: User, name: str) -> None:
    _, downstream = _two_factor(_request(reverse(name), analyst, verified=False))
    assert len(downstream.calls) == 1


def test_exempt_pages_are_setup_and_sign_out() -> None:
    assert set(TWO_FACTOR_EXEMPT) >= {"web:two_factor_setup", "web:sign_out"}


def test_static_files_stay_reachable(analyst: User) -> None:
    path = f"{settings.STATIC_URL}accord/app.js"
    _, downstream = _two_factor(_request(path, analyst, verified=False))
    assert len(downstream.calls) == 1


def test_a_role_gained_during_the_session_demands_a_second_factor(
    client: Client, viewer: User
) -> None:
    client.force_login(viewer)
    assert client.get(reverse("web:home")).status_code == 200
    membership = viewer.memberships.get()
    membership.roles = ["viewer", "analyst"]
    membership.save()
    response = client.get(reverse("web:home"))
    assert response.status_code == 302
    assert response.url == reverse("web:two_factor_setup")
    assert client.get(reverse("web:two_factor_setup")).status_code == 200


def test_a_role_gained_mid_session_with_an_enrolled_authenticator_reaches_the_code_page(
    client: Client, viewer: User
) -> None:
    totp_device(viewer, confirmed=True)
    client.force_login(viewer)
    membership = viewer.memberships.get()
    membership.roles = ["analyst"]
    membership.save()
    response = client.get(reverse("web:home"), follow=True)
    assert response.status_code == 200
    assert response.request["PATH_INFO"] == reverse("web:sign_in_code")
