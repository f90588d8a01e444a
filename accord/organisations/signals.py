"""Sign-in events go to the audit chain: successes, failures and lockouts."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome

from .actors import actor_for, actor_signing_in
from .models import User


@receiver(user_logged_in)
def signed_in(sender: Any, request: Any, user: User, **kwargs: Any) -> None:
    by = actor_signing_in(request, user) if request is not None else actor_for(user)
    record(by=by, action="auth.signed_in", target=f"user:{user.pk}")


@receiver(user_logged_out)
def signed_out(sender: Any, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        by = actor_for(user, getattr(request, "membership", None))
        record(by=by, action="auth.signed_out", target=f"user:{user.pk}")


@receiver(user_login_failed)
def sign_in_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    record(
        by=Actor.anonymous(str(credentials.get("username", ""))[:200]),
        action="auth.sign_in_failed",
        outcome=Outcome.FAILED,
        reason="Wrong email address or password",
    )


@receiver(user_locked_out)
def locked_out(sender: Any, request: Any, username: str | None, **kwargs: Any) -> None:
    record(
        by=Actor.anonymous(str(username or "")[:200]),
        action="auth.locked_out",
        outcome=Outcome.REFUSED,
        reason="Too many failed sign-in attempts",
    )
