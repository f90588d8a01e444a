"""Bearer-token authentication: an API token stands for one membership, and so for the same
audit Actor the pages build for that person acting for that organisation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome
from accord.organisations.actors import actor_for
from accord.organisations.models import ApiToken, Membership

# last_used_at is written at most this often per token, so reads do not each cost a write.
LAST_USED_PRECISION = timedelta(minutes=1)

UNRECOGNISED = (
    "Send a valid API token in the Authorization header: 'Authorization: Bearer acc_...'. "
    "Create one on the API tokens page of your organisation."
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token, its membership and the actor actions are given."""

    token: ApiToken
    membership: Membership
    actor: Actor

    @property
    def organisation_id(self) -> int:
        return self.membership.organisation_id


def token_for(secret: str) -> ApiToken:
    """The usable token behind ``secret``; AuthenticationError (401) saying why otherwise."""
    secret = secret.strip()
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organisation")
        .filter(secret_hash=ApiToken.hash_secret(secret))
        .first()
        if secret.startswith("acc_")
        else None
    )
    if token is None:
        raise AuthenticationError(message=f"This API token is not recognised. {UNRECOGNISED}")
    membership = token.membership
    reason = _why_unusable(token)
    if reason:
        # A real token refused is audited (DESIGN rule 6); unknown secrets are not, so
        # guessing cannot flood the log.
        record(
            by=Actor.anonymous(f"API token acc_{token.prefix}_… of {membership.user.email}"),
            action="api.token_refused",
            target=f"api_token:{token.pk}",
            outcome=Outcome.REFUSED,
            reason=reason,
            organisation_id=str(membership.organisation_id),
            organisation_name=membership.organisation.name,
        )
        raise AuthenticationError(message=reason)
    return token


def _why_unusable(token: ApiToken) -> str:
    membership = token.membership
    if token.revoked_at is not None:
        return "This API token has been revoked."
    if token.expires_at <= timezone.now():
        return (
            f"This API token expired on {timezone.localtime(token.expires_at):%-d %B %Y}. "
            "Create a new one."
        )
    if not membership.is_active or not membership.user.is_active:
        return (
            "The person this API token acts for is no longer a member of "
            f"{membership.organisation.name}."
        )
    if not membership.organisation.is_active:
        return f"{membership.organisation.name} has been switched off on Accord."
    return ""


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class TokenAuth(HttpBearer):
    """``Authorization: Bearer acc_<prefix>_<random>``."""

    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        found = token_for(token)
        _touch(found)
        membership = found.membership
        person = actor_for(membership.user, membership)
        return Caller(
            token=found,
            membership=membership,
            actor=dataclasses.replace(person, credential=f"api_token:{found.pk}"),
        )


def caller(request: HttpRequest) -> Caller:
    """The authenticated caller of an endpoint that requires a token."""
    found = getattr(request, "auth", None)
    if not isinstance(found, Caller):
        raise AuthenticationError(message=UNRECOGNISED)
    return found
