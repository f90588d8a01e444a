"""Refusals raised by the decision point's checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.audit.exceptions import NotPermitted

if TYPE_CHECKING:
    from .decisions import Decision

__all__ = ["AccessDenied"]


class AccessDenied(NotPermitted):
    """Shared data may not be read: the decision was a deny, has expired, or was made for another
    actor, action or item of data.

    ``reason`` is written for the person reading it; ``reasons`` holds every reason, and
    ``decision`` the decision that was checked (the deny itself was audited when it was made).
    It is a ``Refused``, so an action wrapped in ``audited`` also records the refusal.
    """

    def __init__(
        self,
        reason: str,
        *,
        decision: Decision | None = None,
        reasons: tuple[str, ...] = (),
    ) -> None:
        super().__init__(reason, target=decision.resource.ref if decision is not None else "")
        self.decision = decision
        self.reasons: tuple[str, ...] = reasons or (reason,)
