"""Who did something: the actor recorded on every audit event and handed to every action.

References are text ("user:12", "task:retention"), never foreign keys, so the audit log never
blocks or is blocked by live data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActorKind(StrEnum):
    PERSON = "person"
    TASK = "task"  # Accord's own background processing on the controllers' behalf
    SYSTEM = "system"  # set-up and maintenance commands
    ANONYMOUS = "anonymous"  # someone not signed in (e.g. a failed sign-in)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    ref: str
    label: str
    organisation_id: str = ""
    organisation_name: str = ""
    roles: tuple[str, ...] = field(default=())
    is_platform_staff: bool = False
    # The credential the request came with, when not a signed-in session: "api_token:<pk>".
    # The decision point reads the credential's scope (its agreements and actions) afresh.
    credential: str = ""

    @classmethod
    def system(cls, label: str = "Accord") -> Actor:
        return cls(kind=ActorKind.SYSTEM, ref="system", label=label)

    @classmethod
    def task(cls, name: str, *, organisation_id: str = "", organisation_name: str = "") -> Actor:
        return cls(
            kind=ActorKind.TASK,
            ref=f"task:{name}",
            label=name,
            organisation_id=organisation_id,
            organisation_name=organisation_name,
        )

    @classmethod
    def anonymous(cls, label: str = "") -> Actor:
        return cls(kind=ActorKind.ANONYMOUS, ref="anonymous", label=label)

    @property
    def user_id(self) -> int | None:
        if self.kind is ActorKind.PERSON and self.ref.startswith("user:"):
            return int(self.ref.removeprefix("user:"))
        return None

    @property
    def task_name(self) -> str:
        return self.ref.removeprefix("task:") if self.kind is ActorKind.TASK else ""
