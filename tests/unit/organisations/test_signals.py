"""Sign-in events reach the audit chain: successes, sign-outs, failures and lockouts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accord.audit.models import AuditEvent
from accord.organisations import signals
from accord.organisations.models import User
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Events = Callable[[], list[AuditEvent]]


def _sign_in(client: Client, email: str, password: str):
    return client.post(reverse("web:sign_in"), {"username": email, "password": password})


@pytest.fixture
def viewer() -> User:
    """Someone who signs in with a password alone (viewer only: no second factor)."""
    return MembershipFactory(user=UserFactory(email="viewer@example.org"), roles=["viewer"]).user


def test_signing_in_is_audited(client: Client, viewer: User, new_events: Events) -> None:
    response = _sign_in(client, viewer.email, PASSWORD)
    assert response.status_code == 302
    signed_in = [e for e in new_events() if e.action == "auth.signed_in"]
    assert len(signed_in) == 1
    event = signed_in[0]
    assert event.outcome == "success"
    assert event.actor == f"user:{viewer.pk}"
    assert event.actor_label == viewer.email
    assert event.target == f"user:{viewer.pk}"


def test_signing_out_is_audited(client: Client, viewer: User, new_events: Events) -> None:
    client.force_login(viewer)
    client.post(reverse("web:sign_out"))
    signed_out = [e for e in new_events() if e.action == "auth.signed_out"]
    assert [(e.actor, e.target, e.outcome) for e in signed_out] == [
        (f"user:{viewer.pk}", f"user:{viewer.pk}", "success")
    ]


def test_a_wrong_password_is_audited_as_a_failure(
    client: Client, viewer: User, new_events: Events
) -> None:
    response = _sign_in(client, viewer.email, "not-the-password")
    assert response.status_code == 200
    failed = [e for e in new_events() if e.action == "auth.sign_in_failed"]
    assert len(failed) == 1
    event = failed[0]
    assert event.outcome == "failed"
    assert event.actor == "anonymous"
    assert event.actor_label == viewer.email
    assert event.reason == "Wrong email address or password"
    assert "not-the-password" not in str(event.details)
    assert not [e for e in new_events() if e.action == "auth.signed_in"]


def test_an_unknown_account_is_audited_as_a_failure(client: Client, new_events: Events) -> None:
    _sign_in(client, "nobody@example.org", "whatever-it-is-123")
    failed = [e for e in new_events() if e.action == "auth.sign_in_failed"]
    assert [e.actor_label for e in failed] == ["nobody@example.org"]


def test_repeated_failures_lock_the_account_and_the_lockout_is_audited(
    client: Client, viewer: User, new_events: Events
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, viewer.email, "not-the-password")
    locked = [e for e in new_events() if e.action == "auth.locked_out"]
    assert len(locked) == 1
    assert locked[0].outcome == "refused"
    assert locked[0].actor_label == viewer.email
    assert locked[0].reason == "Too many failed sign-in attempts"

    # Now even the right password is refused, and no sign-in is recorded.
    response = _sign_in(client, viewer.email, PASSWORD)
    assert response.status_code == 429
    assert not [e for e in new_events() if e.action == "auth.signed_in"]


def test_fewer_failures_than_the_limit_do_not_lock(
    client: Client, viewer: User, new_events: Events
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, viewer.email, "not-the-password")
    assert not [e for e in new_events() if e.action == "auth.locked_out"]
    assert _sign_in(client, viewer.email, PASSWORD).status_code == 302


# The receivers on their own (Axes' own receivers need a request its middleware has seen) --------


def test_signing_out_without_a_user_records_nothing(new_events: Events) -> None:
    signals.signed_out(sender=User, request=None, user=None)
    assert new_events() == []


def test_logged_in_signal_records_the_user(new_events: Events) -> None:
    user = UserFactory()
    signals.signed_in(sender=User, request=None, user=user)
    assert [(e.action, e.target) for e in new_events()] == [("auth.signed_in", f"user:{user.pk}")]


def test_a_failed_sign_in_label_is_cut_to_200_characters(new_events: Events) -> None:
    signals.sign_in_failed(sender=User, credentials={"username": "x" * 500})
    (event,) = new_events()
    assert event.actor_label == "x" * 200


def test_a_failed_sign_in_without_a_username_is_still_recorded(new_events: Events) -> None:
    signals.sign_in_failed(sender=User, credentials={})
    (event,) = new_events()
    assert (event.action, event.actor_label, event.outcome) == ("auth.sign_in_failed", "", "failed")


def test_a_lockout_without_a_username_is_still_recorded(new_events: Events) -> None:
    signals.locked_out(sender="axes", request=None, username=None)
    (event,) = new_events()
    assert (event.action, event.actor_label, event.outcome) == ("auth.locked_out", "", "refused")
