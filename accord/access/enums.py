"""The vocabulary of the decision point: what can be done to shared data, to what, and by which
of Accord's own tasks.

Each task may take only the actions, on only the kinds of data, that its work needs (DESIGN.md:
"what the task needs, nothing more"). Widening a task's needs is a change to this file and to
its tests, and should be reviewed as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.db import models

# The audit log's purpose column holds 500 characters; a longer purpose is refused, not cut.
PURPOSE_MAX_LENGTH = 500
# A resource is named "<kind>:<id>" in the audit log's 300-character target column.
RESOURCE_ID_MAX_LENGTH = 200


class Action(models.TextChoices):
    """Ways of reading shared data. Each is decided separately."""

    VIEW = "view", "View the records"
    EXTRACT = "extract", "Take a record-level extract"
    AGGREGATE = "aggregate", "Make aggregate figures"
    LINK = "link", "Link records with other data"
    API_READ = "api_read", "Read the records through the API"


class ResourceKind(models.TextChoices):
    """Kinds of shared data held in the vault."""

    SUBMISSION = "submission", "Submission"
    COLLECTION = "collection", "Collection"
    DATASET = "dataset", "Dataset"
    EXTRACT = "extract", "Extract"
    OUTPUT = "output", "Output"
    LINKED_DATASET = "linked_dataset", "Linked dataset"
    OPT_OUT_LIST = "opt_out_list", "Opt-out list"


class Task(models.TextChoices):
    """Accord's own background tasks, which process data on the controllers' behalf.

    The value is the task's name, as in ``Actor.task(name)`` and the actor ref ``task:<name>``.
    """

    VALIDATION = "validation", "Validating a submission"
    COMPILATION = "compilation", "Compiling a collection"
    OUTPUTS = "outputs", "Making outputs"
    RETENTION = "retention", "Enforcing retention"
    LINKAGE = "linkage", "Linking records"
    EXTRACT_BUILD = "extract_build", "Building an extract"
    SUBJECT_RIGHTS = "subject_rights", "Answering a data subject's request"
    OPT_OUTS = "opt_outs", "Applying opt-outs"


@dataclass(frozen=True)
class TaskNeeds:
    """What one task may do: these actions, on these kinds of data, and nothing else."""

    actions: frozenset[Action]
    resource_kinds: frozenset[ResourceKind]
    why: str

    def allows(self, action: Action, kind: ResourceKind) -> bool:
        return action in self.actions and kind in self.resource_kinds


_SOURCES = frozenset(
    {
        ResourceKind.SUBMISSION,
        ResourceKind.COLLECTION,
        ResourceKind.DATASET,
        ResourceKind.LINKED_DATASET,
    }
)

TASK_NEEDS: Mapping[Task, TaskNeeds] = MappingProxyType(
    {
        Task.VALIDATION: TaskNeeds(
            actions=frozenset({Action.VIEW}),
            resource_kinds=frozenset({ResourceKind.SUBMISSION}),
            why="reads one submission to check it against its standard",
        ),
        Task.COMPILATION: TaskNeeds(
            actions=frozenset({Action.VIEW}),
            resource_kinds=frozenset({ResourceKind.SUBMISSION, ResourceKind.COLLECTION}),
            why="reads submissions (and the collection it rebuilds) to compile a collection",
        ),
        Task.OUTPUTS: TaskNeeds(
            actions=frozenset({Action.AGGREGATE}),
            resource_kinds=_SOURCES,
            why="makes aggregate, disclosure-controlled outputs; never record-level reads",
        ),
        Task.RETENTION: TaskNeeds(
            # Deleting needs no read at all; "view" is for disposal by anonymisation, which
            # reads the records it reduces. Retention never extracts, aggregates or links.
            actions=frozenset({Action.VIEW}),
            resource_kinds=frozenset(ResourceKind),
            why="enforces retention: shreds keys, or anonymises records where agreed",
        ),
        Task.LINKAGE: TaskNeeds(
            actions=frozenset({Action.LINK}),
            resource_kinds=_SOURCES,
            why="matches records across datasets into a linked dataset",
        ),
        Task.SUBJECT_RIGHTS: TaskNeeds(
            # A controller must answer for everything it holds about a person (UK GDPR Art 15):
            # the task reads its record-level data only to find that person's rows, for a
            # DPO whose search is audited. It reads nothing of another controller's.
            actions=frozenset({Action.VIEW}),
            resource_kinds=_SOURCES,
            why="finds one person's records in their controller's data, for its DPO",
        ),
        Task.EXTRACT_BUILD: TaskNeeds(
            actions=frozenset({Action.EXTRACT}),
            resource_kinds=_SOURCES,
            why="builds a record-level extract from its sources",
        ),
        Task.OPT_OUTS: TaskNeeds(
            # Reads an opt-out list's NHS numbers only to remove those people from data that
            # is about to flow; never any other kind of data.
            actions=frozenset({Action.VIEW}),
            resource_kinds=frozenset({ResourceKind.OPT_OUT_LIST}),
            why="reads opt-out lists to remove the people on them from data about to flow",
        ),
    }
)
