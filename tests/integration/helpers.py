"""Helpers for the integration tests: people with roles, signing in through the real pages,
and reading the audit events a request wrote.

Everything goes through Django's test client against the real database: the real password
check (with django-axes in front), the real authenticator codes (django-otp), the real audit
chain. Nothing is mocked.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import parse_qs, urlencode, urlsplit

from django.test import Client
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.models import AuditEvent
from accord.organisations.enums import Role
from accord.organisations.middleware import SESSION_KEY
from accord.organisations.models import Membership, Organisation, User
from tests.factories import PASSWORD, MembershipFactory, UserFactory, totp_device

SIGN_IN = "/sign-in/"
SIGN_IN_CODE = "/sign-in/code/"
ENROL = "/sign-in/authenticator/"
HOME = "/"

# Text of the styled 403 page (accord/web/views/errors.py), never a bare "403 Forbidden".
FORBIDDEN_TITLE = "You do not have permission to see this page"
NOT_FOUND_TITLE = "Page not found"


def person(
    organisation: Organisation | None = None,
    *roles: Role | str,
    device: bool | None = None,
    **user_fields: object,
) -> User:
    """A person, optionally a member of ``organisation`` with ``roles``. Anyone with a role that
    needs two-factor sign-in gets a confirmed authenticator unless ``device=False``."""
    user = UserFactory(**user_fields)
    assert isinstance(user, User)
    if organisation is not None:
        MembershipFactory(
            user=user, organisation=organisation, roles=[str(r) for r in roles or [Role.VIEWER]]
        )
    if device is None:
        device = user.requires_two_factor()
    if device:
        totp_device(user)
    return user


def join(user: User, organisation: Organisation, *roles: Role | str) -> Membership:
    membership = MembershipFactory(
        user=user, organisation=organisation, roles=[str(r) for r in roles]
    )
    assert isinstance(membership, Membership)
    return membership


def device_of(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def code_for(device: TOTPDevice) -> str:
    """A code the device will accept now: the current step, or the step after the last code it
    accepted (django-otp refuses a code for a step already used, so signing the same person in
    twice within 30 seconds needs the next step's code, which is within its default tolerance)."""
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step) + device.drift
    step = max(now_step, device.last_t + 1)
    return f"{hotp(device.bin_key, step, device.digits):0{device.digits}d}"


def code_from_secret(key: bytes, *, digits: int = 6) -> str:
    step = int(time.time() // 30)
    return f"{hotp(key, step, digits):0{digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    """A six-digit code that is none of the codes the device would accept right now."""
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step) + device.drift
    accepted = {
        f"{hotp(device.bin_key, now_step + offset, device.digits):06d}"
        for offset in (-2, -1, 0, 1, 2)
    }
    return next(c for c in (f"{n:06d}" for n in range(0, 1_000_000, 7919)) if c not in accepted)


def sign_in(
    client: Client,
    user: User,
    *,
    password: str = PASSWORD,
    next_url: str | None = None,
):
    """Sign ``user`` in through the sign-in page and, when they have an authenticator, the
    security code page. Returns the last response (the redirect after signing in)."""
    url = SIGN_IN + (f"?{urlencode({'next': next_url})}" if next_url else "")
    response = client.post(url, {"username": user.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    device = device_of(user)
    if response.url == SIGN_IN_CODE:
        assert device is not None
        response = client.post(SIGN_IN_CODE, {"code": code_for(device)})
        assert response.status_code == 302, response.content.decode()[:2000]
    assert signed_in_user_id(client) == user.pk, f"{user.email} was not signed in"
    return response


def signed_in_user_id(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


def acting_for(client: Client) -> str | None:
    return client.session.get(SESSION_KEY)


def act_for(client: Client, organisation: Organisation) -> None:
    """Choose the organisation through the real switch page."""
    response = client.post("/organisation/switch/", {"organisation": str(organisation.pk)})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert acting_for(client) == str(organisation.pk)


def signed_in_client(user: User, organisation: Organisation | None = None) -> Client:
    client = Client()
    sign_in(client, user)
    if organisation is not None and acting_for(client) != str(organisation.pk):
        act_for(client, organisation)
    return client


def events_after(seq: int, action: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(seq__gt=seq)
    if action is not None:
        found = found.filter(action=action)
    return list(found.order_by("seq"))


def last_seq() -> int:
    newest = AuditEvent.objects.order_by("-seq").first()
    return newest.seq if newest else 0


def actions_after(seq: int) -> list[str]:
    return [e.action for e in events_after(seq)]


def assert_redirects_to_sign_in(response, path: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response.url)
    assert location.path == SIGN_IN, response.url
    assert parse_qs(location.query) == {"next": [path]}, response.url


def assert_forbidden_page(response, *, reason: str | None = None) -> None:
    assert response.status_code == 403
    text = response.content.decode()
    assert FORBIDDEN_TITLE in text
    assert "govuk-template" in text  # the service's own page, not Django's bare one
    assert "Traceback" not in text
    if reason is not None:
        assert reason in text, text


def assert_not_found_page(response) -> None:
    assert response.status_code == 404
    text = response.content.decode()
    assert NOT_FOUND_TITLE in text
    assert "govuk-template" in text
    assert "Traceback" not in text


def texts(response) -> str:
    return response.content.decode()


def roles_of(membership: Membership) -> list[str]:
    membership.refresh_from_db()
    return list(membership.roles)


def only(items: Iterable[AuditEvent]) -> AuditEvent:
    found = list(items)
    assert len(found) == 1, [e.action for e in found]
    return found[0]
