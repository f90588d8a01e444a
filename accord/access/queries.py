"""The facts the decision point needs, read from the database.

Only what the actor *says* it is doing (which organisation it acts for, which task it is) is
taken from the actor; everything that grants anything — the account's status, staff status,
membership, roles, the organisation's status — is read afresh here, never trusted from the
actor, whose roles may be stale.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from typing import Any

from django.db import connection, models
from django.utils import timezone

from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor, ActorKind
from accord.organisations.models import ApiToken, Membership, Organisation, User

from .decisions import Facts, FieldGrant, GrantFacts, MembershipFacts, Resource, TokenFacts
from .models import Grant


def _as_pk(value: str) -> int | None:
    """A primary key given as text, or None when it cannot be one ("", "abc", "٣")."""
    if value.isascii() and value.isdigit():
        return int(value)
    return None


def _user_id(actor: Actor) -> int | None:
    if actor.kind is not ActorKind.PERSON or not actor.ref.startswith("user:"):
        return None
    return _as_pk(actor.ref.removeprefix("user:"))


def facts_about(actor: Actor, resource: Resource | None = None) -> Facts:
    """What the decision point knows of ``actor`` (and, for ``resource``, of the grants to the
    organisation it acts for from the resource's controllers), as of now."""
    facts = Facts(
        actor_kind=actor.kind,
        actor_ref=actor.ref,
        acting_for=actor.organisation_id,
        task_name=actor.task_name,
    )
    user_id = _user_id(actor)
    if user_id is None:
        return facts
    found = _person_facts(user_id, actor.organisation_id, resource)
    if found is None:
        return facts
    user_active, is_staff, membership, grants = found
    return Facts(
        actor_kind=actor.kind,
        actor_ref=actor.ref,
        acting_for=actor.organisation_id,
        user_active=user_active,
        is_platform_staff=is_staff,
        membership=membership,
        grants=grants,
        token=_token_facts(actor, user_id),
    )


# The decision point asks on every read of shared data, so its two reads are single SQL
# statements prepared once (the ORM spent three quarters of the time building them). Columns are
# named from the models' metadata, so a renamed table or column still lines up.


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    assert field.column is not None
    return connection.ops.quote_name(field.column)


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


_GRANT_FIELDS = (
    "flow_id",
    "provider",
    "recipient",
    "dataset",
    "fields",
    "purposes",
    "actions",
    "row_filter",
    "prohibited_uses",
    "opt_out_purposes",
    "starts_on",
    "ends_on",
    "review_on",
)


@functools.cache
def _grant_columns() -> str:
    """The grant columns ``_grant_facts`` reads, with its agreement's title and status (read
    now, never copied) and, for a framework's grant, the framework's name."""
    g = functools.partial(_column, Grant)
    return ", ".join(
        [
            f"g.{g('agreement')}",
            f"a.{_column(Agreement, 'title')}",
            f"a.{_column(Agreement, 'status')}",
            f"f.{_column(Framework, 'name')}",
            *(f"g.{g(name)}" for name in _GRANT_FIELDS),
        ]
    )


@functools.cache
def _grant_joins() -> str:
    g = functools.partial(_column, Grant)
    return (
        f"LEFT JOIN {_table(Agreement)} a ON a.{_column(Agreement, 'id')} = g.{g('agreement')} "
        f"LEFT JOIN {_table(Framework)} f ON f.{_column(Framework, 'id')} = g.{g('framework')}"
    )


def _grant_conditions(providers: int, datasets: int = 1) -> str:
    """Grants to the recipient (the first parameter, or a column) on one of ``datasets``
    datasets, from any of ``providers`` controllers."""
    g = functools.partial(_column, Grant)
    marks = ", ".join(["%s"] * providers)
    if datasets == 1:
        return f"g.{g('dataset')} = %s AND g.{g('provider')} IN ({marks})"
    named = ", ".join(["%s"] * datasets)
    return f"g.{g('dataset')} IN ({named}) AND g.{g('provider')} IN ({marks})"


def datasets_of(resource: Resource) -> list[str]:
    """The datasets whose grants can bear on ``resource``: its own, or (for data made from
    several, with none of its own) each it was made from."""
    if resource.dataset:
        return [resource.dataset]
    return sorted({dataset for _, dataset in resource.source_datasets if dataset})


@functools.cache
def _grants_sql(providers: int, datasets: int = 1) -> str:
    g = functools.partial(_column, Grant)
    # Only quoted names from the models' metadata go into the text; every value is a parameter.
    return (
        f"SELECT {_grant_columns()} FROM {_table(Grant)} g {_grant_joins()} "  # noqa: S608
        f"WHERE g.{g('recipient')} = %s AND {_grant_conditions(providers, datasets)}"
    )


def _fetch(sql: str, parameters: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()


def _json(value: Any) -> Any:
    """A JSON column as Python: SQLite hands back text, PostgreSQL may have decoded it."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def grants_to(organisation_id: str, resource: Resource) -> tuple[GrantFacts, ...]:
    """Every grant to ``organisation_id`` on ``resource``'s dataset from its controllers, with
    each agreement's status now, in one query. Whether any is usable is for ``evaluate``."""
    recipient = _as_pk(organisation_id)
    providers = [pk for pk in map(_as_pk, resource.controllers) if pk is not None]
    datasets = datasets_of(resource)
    if recipient is None or not providers or not datasets:
        return ()
    sql = _grants_sql(len(providers), len(datasets))
    rows = _fetch(sql, [recipient, *datasets, *providers])
    return tuple(_grant_facts(row) for row in rows)


def _grant_facts(row: tuple[Any, ...]) -> GrantFacts:
    (agreement, title, status, framework, flow, provider, recipient, dataset) = row[:8]
    fields, purposes, actions, row_filter, prohibited, opt_out = map(_json, row[8:14])
    starts, ends, review = map(_date, row[14:])
    if agreement is not None:
        agreement = uuid.UUID(str(agreement))  # SQLite keeps UUIDs as 32 hex digits
    if agreement is None:  # a framework's grant of non-personal data: in force while it exists
        title, status = f"{framework} (framework)", "active"
    return GrantFacts(
        agreement_id=str(agreement or ""),
        agreement_title=title,
        agreement_status=status,
        flow_id=flow,
        provider_id=str(provider),
        recipient_id=str(recipient),
        dataset=dataset,
        fields=tuple(
            FieldGrant(
                name=str(f["name"]),
                transformation=str(f.get("transformation") or "none"),
                data_type=str(f.get("data_type") or "string"),
                identifier_type=str(f.get("identifier_type") or ""),
            )
            for f in fields
        ),
        purposes=tuple((str(i), str(t)) for i, t in purposes),
        actions=frozenset(str(a) for a in actions),
        row_filter=(
            (str(row_filter["column"]), tuple(str(v) for v in row_filter["values"]))
            if row_filter
            else None
        ),
        prohibited_uses=tuple((str(c), str(label)) for c, label in prohibited),
        opt_out_purposes=frozenset(str(p) for p in opt_out or ()),
        starts_on=starts,
        ends_on=ends,
        review_on=review,
    )


def _token_facts(actor: Actor, user_id: int) -> TokenFacts | None:
    """The scope of the API token the request came with, read afresh (None: no token)."""
    if not actor.credential:
        return None
    pk = _as_pk(actor.credential.removeprefix("api_token:"))
    token = (
        ApiToken.objects.filter(pk=pk, membership__user_id=user_id).first()
        if actor.credential.startswith("api_token:") and pk is not None
        else None
    )
    if token is None:
        return TokenFacts(ref=actor.credential, problem="This API token is not recognised.")
    problem = ""
    if token.revoked_at is not None:
        problem = "This API token has been revoked."
    elif token.expires_at <= timezone.now():
        problem = "This API token has expired."
    elif str(token.membership.organisation_id) != actor.organisation_id:
        problem = "This API token acts for another organisation."
    return TokenFacts(
        ref=actor.credential,
        problem=problem,
        agreement_ids=frozenset(str(pk) for pk in token.agreements.values_list("pk", flat=True)),
        actions=frozenset(str(a) for a in token.actions or ()),
    )


@functools.cache
def _person_sql(providers: int, datasets: int = 1) -> str:
    """The account, its membership of the organisation acted for and that organisation; and,
    when ``providers`` > 0, every grant to the organisation from those controllers on a
    dataset, joined on: one round trip for all a decision needs to know."""
    m = functools.partial(_column, Membership)
    u = functools.partial(_column, User)
    o = functools.partial(_column, Organisation)
    columns = (
        f"u.{u('is_active')}, u.{u('is_staff')}, m.{m('is_active')}, m.{m('roles')}, "
        f"o.{o('id')}, o.{o('name')}, o.{o('is_active')}"
    )
    grants = ""
    if providers:
        columns += f", {_grant_columns()}"
        grants = (
            f"LEFT JOIN {_table(Grant)} g ON g.{_column(Grant, 'recipient')} = o.{o('id')} "
            f"AND {_grant_conditions(providers, datasets)} {_grant_joins()} "
        )
    # Only quoted names from the models' metadata go into the text; every value is a parameter.
    return (
        f"SELECT {columns} FROM {_table(Membership)} m "  # noqa: S608
        f"JOIN {_table(User)} u ON u.{u('id')} = m.{m('user')} "
        f"JOIN {_table(Organisation)} o ON o.{o('id')} = m.{m('organisation')} "
        f"{grants}"
        f"WHERE m.{m('user')} = %s AND m.{m('organisation')} = %s"
    )


_PERSON_WIDTH = 7


def _person_facts(
    user_id: int, organisation_id: str, resource: Resource | None = None
) -> tuple[bool, bool, MembershipFacts | None, tuple[GrantFacts, ...]] | None:
    """The account's state, its membership of the organisation it acts for (active or not)
    and the grants to that organisation on ``resource``, in one query when it is a member;
    None when there is no such account."""
    organisation_pk = _as_pk(organisation_id)
    providers: list[int] = []
    parameters: list[Any] = []
    datasets = datasets_of(resource) if resource is not None else []
    if resource is not None and datasets:
        providers = [pk for pk in map(_as_pk, resource.controllers) if pk is not None]
        parameters = [*datasets, *providers] if providers else []
    rows: list[tuple[Any, ...]] = []
    if organisation_pk is not None:
        sql = _person_sql(len(providers), len(datasets) if providers else 1)
        rows = _fetch(sql, [*parameters, user_id, organisation_pk])
    if not rows:
        user = User.objects.filter(pk=user_id).values_list("is_active", "is_staff").first()
        return None if user is None else (bool(user[0]), bool(user[1]), None, ())
    user_active, is_staff, active, roles, organisation, name, organisation_active = rows[0][
        :_PERSON_WIDTH
    ]
    roles = _json(roles)
    grants = tuple(
        _grant_facts(row[_PERSON_WIDTH:])
        for row in rows
        if len(row) > _PERSON_WIDTH and row[_PERSON_WIDTH + 4] is not None  # a grant's flow
    )
    return (
        bool(user_active),
        bool(is_staff),
        MembershipFacts(
            organisation_id=str(organisation),
            organisation_name=name,
            organisation_active=bool(organisation_active),
            membership_active=bool(active),
            roles=frozenset(str(role) for role in (roles if isinstance(roles, list) else [])),
        ),
        grants,
    )


def purposes_open_to(organisation_id: str, resource: Resource) -> list[str]:
    """The purposes (as the agreements title them) for which every controller of ``resource``
    other than ``organisation_id`` grants it the data: what a reader may choose from. Empty when
    it is the only controller (its own data needs no agreement's purpose) or when none is
    common to all. Whether a read is permitted is still for the decision point."""
    others = [c for c in resource.controllers if c != organisation_id]
    if not others:
        return []
    grants = grants_to(organisation_id, resource)
    common: list[str] | None = None
    for controller in others:
        titles = [t for g in grants if g.provider_id == controller for _, t in g.purposes]
        common = titles if common is None else [t for t in common if t in titles]
    return list(dict.fromkeys(common or []))
