"""Helpers for the JSON API's integration tests: members with API tokens made through the real
action, and calls with the real test client carrying ``Authorization: Bearer``."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from accord.organisations import actions
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import ApiToken, Membership, Organisation
from tests.factories import MembershipFactory

API = "/api/v1"


def member(organisation: Organisation, *roles: Role | str, **user: Any) -> Membership:
    extra = {"user__" + k: v for k, v in user.items()}
    membership = MembershipFactory(
        organisation=organisation, roles=[str(r) for r in roles or [Role.VIEWER]], **extra
    )
    assert isinstance(membership, Membership)
    return membership


def token_of(membership: Membership, name: str = "Test system", days: int = 90) -> str:
    """A new token's secret, made by the member themself through the real action."""
    _, secret = actions.create_api_token(
        by=actor_for(membership.user, membership), membership=membership, name=name, days=days
    )
    return secret


def token_for(organisation: Organisation, *roles: Role | str) -> str:
    return token_of(member(organisation, *roles))


def stored(secret: str) -> ApiToken:
    return ApiToken.objects.get(secret_hash=ApiToken.hash_secret(secret))


class Api:
    """Calls the API as the holder of ``secret`` (or with no token when it is None)."""

    def __init__(self, secret: str | None = None, *, header: str | None = None) -> None:
        self.client = Client(enforce_csrf_checks=True)
        if header is not None:
            self.headers = {"Authorization": header}
        else:
            self.headers = {"Authorization": f"Bearer {secret}"} if secret else {}

    def get(self, path: str, **query: Any):
        return self.client.get(API + path, query, headers=self.headers)

    def post(self, path: str, body: Any = None):
        return self._send("post", path, body)

    def put(self, path: str, body: Any = None):
        return self._send("put", path, body)

    def _send(self, method: str, path: str, body: Any):
        data = json.dumps(body if body is not None else {})
        return getattr(self.client, method)(
            API + path, data, content_type="application/json", headers=self.headers
        )


def detail(response) -> str:
    return str(response.json()["detail"])
