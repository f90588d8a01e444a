"""The scope of an API token: which agreements it may use shared data under, and which access
actions it may take. Empty means any (any agreement the organisation is party to; any action).

The decision point reads a token's scope afresh at every decision (``access.queries``), so a
token can never do more than its scope says; its membership's roles still apply as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError

from accord.access.enums import Action
from accord.agreements.models import Agreement
from accord.audit.actions import audited, record
from accord.audit.actor import Actor

from .actions import API_TOKEN_DAYS, create_api_token
from .models import ApiToken, Membership, Organisation


def agreements_a_token_may_use(organisation: Organisation | int) -> list[Agreement]:
    """The agreements in force that ``organisation`` is a party to: what a token may be
    limited to."""
    pk = organisation.pk if isinstance(organisation, Organisation) else organisation
    return list(
        Agreement.objects.filter(parties__organisation_id=pk, status="active")
        .distinct()
        .order_by("title", "pk")
    )


def scope_of(token: ApiToken) -> tuple[list[Agreement], list[Action]]:
    """The token's scope: its agreements (by title) and actions, each empty for any."""
    agreements = list(token.agreements.order_by("title", "pk"))
    actions = [Action(a) for a in token.actions or () if a in Action.values]
    return agreements, actions


@audited("organisation.api_token.created")
def create_scoped_api_token(
    *,
    by: Actor,
    membership: Membership,
    name: str,
    days: int = API_TOKEN_DAYS,
    agreements: Iterable[Agreement] = (),
    actions: Sequence[str] = (),
) -> tuple[ApiToken, str]:
    """Make an API token for ``membership`` (``organisations.actions.create_api_token``), limited
    to ``agreements`` (in force, with the organisation a party) and ``actions``
    (``access.enums.Action`` values). Everything happens in one transaction: a token is never
    left without the scope asked for. Returns the token and its secret, shown once."""
    chosen = list(dict.fromkeys(agreements))
    allowed = {a.pk for a in agreements_a_token_may_use(membership.organisation_id)}
    unusable = [a.title for a in chosen if a.pk not in allowed]
    if unusable:
        raise ValidationError(
            {
                "agreements": "A token can be limited only to agreements in force that "
                f"{membership.organisation.name} is a party to, not: {'; '.join(unusable)}."
            }
        )
    wanted = list(dict.fromkeys(str(a) for a in actions))
    unknown = [a for a in wanted if a not in Action.values]
    if unknown:
        raise ValidationError(
            {
                "actions": f"Choose actions from: {', '.join(Action.values)}; "
                f"not {', '.join(unknown)}."
            }
        )
    token, secret = create_api_token(by=by, membership=membership, name=name, days=days)
    if chosen or wanted:
        token.actions = [a for a in Action.values if a in wanted]
        token.save(update_fields=["actions"])
        token.agreements.set(chosen)
        record(
            by=by,
            action="organisation.api_token.scoped",
            target=f"api_token:{token.pk}",
            details={
                "prefix": token.prefix,
                "agreements": [{"id": str(a.pk), "title": a.title} for a in chosen],
                "actions": list(token.actions),
            },
            subject_organisation_id=str(membership.organisation_id),
        )
    return token, secret
