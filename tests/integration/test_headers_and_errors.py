"""Security headers on every page, CSRF protection, and the service's own error pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accord.organisations.enums import Role
from accord.organisations.models import Membership
from tests.factories import PASSWORD

from .helpers import (
    HOME,
    SIGN_IN,
    SIGN_IN_CODE,
    assert_not_found_page,
    code_for,
    device_of,
    person,
    signed_in_client,
    signed_in_user_id,
    texts,
)

NONCE_IN_HEADER = re.compile(r"script-src [^;]*'nonce-([^']+)'")
NONCE_IN_PAGE = re.compile(r'<script nonce="([^"]+)"')


def _assert_security_headers(response) -> None:
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp
    header_nonce = NONCE_IN_HEADER.search(csp)
    assert header_nonce is not None, csp
    page_nonces = NONCE_IN_PAGE.findall(texts(response))
    assert page_nonces, "the page has no nonce'd script"
    assert set(page_nonces) == {header_nonce.group(1)}
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


def test_headers_on_a_signed_out_page(client: Client) -> None:
    response = client.get(SIGN_IN)
    assert response.status_code == 200
    _assert_security_headers(response)


def test_each_response_gets_a_fresh_nonce(client: Client) -> None:
    first = NONCE_IN_HEADER.search(client.get(SIGN_IN)["Content-Security-Policy"])
    second = NONCE_IN_HEADER.search(client.get(SIGN_IN)["Content-Security-Policy"])
    assert first is not None
    assert second is not None
    assert first.group(1) != second.group(1)


@pytest.mark.parametrize(
    "path", [HOME, "/organisation/members/", "/organisation/audit/", "/audit/checkpoints/"]
)
def test_headers_and_no_caching_on_signed_in_pages(council, path: str) -> None:
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN), council)
    response = client.get(path)
    assert response.status_code == 200
    _assert_security_headers(response)
    assert "no-store" in response["Cache-Control"]


def test_no_caching_of_downloads_when_signed_in(council) -> None:
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN), council)
    response = client.get("/organisation/audit/?format=csv")
    assert "no-store" in response["Cache-Control"]


# CSRF ----------------------------------------------------------------------------------------


def _sign_in_with_tokens(client: Client, user) -> None:
    """The real sign-in, with the CSRF token a browser would send."""
    client.get(SIGN_IN)
    token = client.cookies["csrftoken"].value
    response = client.post(
        SIGN_IN,
        {"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    if response.url == SIGN_IN_CODE:
        device = device_of(user)
        assert device is not None
        token = client.cookies["csrftoken"].value
        response = client.post(
            SIGN_IN_CODE, {"code": code_for(device), "csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302
    assert signed_in_user_id(client) == user.pk


def test_sign_in_without_the_csrf_token_is_refused(council) -> None:
    viewer = person(council, Role.VIEWER)
    client = Client(enforce_csrf_checks=True)
    response = client.post(SIGN_IN, {"username": viewer.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Your form could not be sent" in texts(response)
    assert signed_in_user_id(client) is None


def test_a_post_without_the_csrf_token_is_refused_with_the_styled_page(council) -> None:
    admin = person(council, Role.ORGANISATION_ADMIN)
    analyst = person(council, Role.ANALYST)
    target = Membership.objects.get(user=analyst)
    client = Client(enforce_csrf_checks=True)
    _sign_in_with_tokens(client, admin)

    for path, data in (
        (f"/organisation/members/{target.pk}/remove/", {}),
        (f"/organisation/members/{target.pk}/", {"roles": ["viewer"]}),
        ("/organisation/members/invite/", {"email": "x@example.org", "roles": ["viewer"]}),
        ("/sign-out/", {}),
    ):
        response = client.post(path, data)
        assert response.status_code == 403, path
        text = texts(response)
        assert "Your form could not be sent" in text
        assert "govuk-template" in text
        assert "CSRF" not in text  # no Django debug page

    target.refresh_from_db()
    assert target.is_active
    assert target.roles == ["analyst"]
    assert signed_in_user_id(client) == admin.pk

    # With the token, the same request works: the refusal was the token, not the person.
    token = client.cookies["csrftoken"].value
    response = client.post(
        f"/organisation/members/{target.pk}/remove/", {"csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert not target.is_active


# Error pages ---------------------------------------------------------------------------------


def test_404_uses_the_service_page(client: Client) -> None:
    response = client.get("/no-such-page/")
    assert_not_found_page(response)
    _assert_security_headers(response)


def test_404_when_signed_in_uses_the_service_page(council) -> None:
    client = signed_in_client(person(council, Role.VIEWER))
    assert_not_found_page(client.get("/organisation/members/not-a-number/"))


def test_403_uses_the_service_page_without_internals(council) -> None:
    client = signed_in_client(person(council, Role.VIEWER))
    response = client.get("/organisation/members/")
    assert response.status_code == 403
    text = texts(response)
    assert "You do not have permission to see this page" in text
    assert "govuk-template" in text
    assert "PermissionDenied" not in text
    assert "Traceback" not in text
    _assert_security_headers(response)
