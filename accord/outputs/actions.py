"""Defining outputs, making them from a collection's compiled data, and returning them.

An output is made by the outputs task on the collection owner's behalf: the decision point
permits the task only to aggregate (never a record-level read), the aggregate is protected
by the definition's disclosure control profile before it is stored, and it is decided again
before it is delivered, so a collection deleted meanwhile stops it. Every organisation whose
returns it was made from, and the definition's audience, gets a grant to read it
("Returned to you"); reading it is a decision like any other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accord.access.decisions import decide
from accord.access.enums import Action, ResourceKind, Task
from accord.access.models import Grant
from accord.agreements.actions import document_of
from accord.audit.actions import audited, record
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.notifications.actions import notify
from accord.notifications.models import Topic
from accord.optouts.queries import OptOutUnavailable, drop_for_output
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from accord.submissions.models import Collection, CompiledDataset, Contributor
from accord.tasks.actions import advance, enqueue, fail
from accord.tasks.models import TaskProgress
from accord.vault import actions as vault
from accord.vault.exceptions import ObjectDeleted
from accord.vault.parquet import read_frame, store_frame
from accord.vault.queries import resource_for

from . import disclosure, recipes
from .models import Output, OutputDefinition, OutputQuery, OutputState, Profile

# Who may define an output over their organisation's collection.
DEFINING_ROLES = frozenset(
    {Role.ANALYST, Role.DATA_OFFICER, Role.INFORMATION_ASSET_OWNER, Role.DPO}
)
# The purpose every output is read for, as its grants name it.
OUTPUT_PURPOSE = "Disclosure-controlled outputs returned to contributors"
MAKE_PURPOSE = "Make disclosure-controlled outputs for the collection's contributors"
MAKE_FAILED = (
    "Making the output stopped unexpectedly. Nothing was published; it will be made again with "
    "the next return, and if this happens again, contact support."
)
# Aggregates of people are kept a year, like the records they were made from by default.
OUTPUT_RETENTION = "P1Y"
# How long after the last period an output covers the next is due, by the collection's schedule.
SCHEDULE_DAYS = {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92, "annually": 366}
FIELDS = recipes.COLUMNS
_PROFILES = {
    Profile.STANDARD: disclosure.STANDARD,
    Profile.STRICT: disclosure.STRICT,
    Profile.CELL_KEY: disclosure.CELL_KEY,
}
# Stricter profiles first: when a contributor's agreement asks for more, it wins.
_STRICTNESS = {Profile.STANDARD: 0, Profile.CELL_KEY: 1, Profile.STRICT: 2}


def _target(thing: OutputDefinition | Output) -> str:
    kind = "output_definition" if isinstance(thing, OutputDefinition) else "output"
    return f"{kind}:{thing.pk}"


# --- defining -----------------------------------------------------------------------------------


@audited("output.defined")
def define_output(
    *,
    by: Actor,
    collection: Collection,
    slug: str,
    name: str,
    recipe: str,
    profile: str = Profile.STANDARD,
    description: str = "",
    audience: Iterable[Organisation] = (),
    control_organisational: bool = False,
) -> OutputDefinition:
    """Define an output over ``collection`` (which ``by``'s organisation owns), made by
    ``recipe`` under ``profile``, returned to every contributor and shown to ``audience``."""
    target = f"collection:{collection.pk}"
    if str(by.organisation_id) != str(collection.owner_id):
        raise NotPermitted(
            f"Only {collection.owner.name}, which runs {collection.name}, can define its outputs.",
            target=target,
        )
    if not set(by.roles) & {str(r) for r in DEFINING_ROLES}:
        raise NotPermitted(
            "Only an analyst, data officer, information asset owner or data protection officer "
            "can define outputs.",
            target=target,
        )
    try:
        made_by = recipes.recipe_for(recipe)
    except KeyError as exc:
        raise Refused(str(exc.args[0]), target=target) from None
    if made_by.standard != collection.standard_slug:
        raise Refused(
            f"“{made_by.title}” is made from {made_by.standard} returns, but {collection.name} "
            f"collects {collection.standard_slug}. Choose a recipe for its standard.",
            target=target,
        )
    if profile not in Profile.values:
        raise Refused(f"Choose a profile: {', '.join(Profile.values)}.", target=target)
    if profile == Profile.CELL_KEY:
        raise Refused(
            "Cell key perturbation needs record-level data about people with record keys; this "
            "recipe adds up figures the contributors have already counted. Choose the standard "
            "or strict profile.",
            target=target,
        )
    if not name.strip() or not slug.strip():
        raise Refused("Give the output a name and a short name (slug).", target=target)
    if OutputDefinition.objects.filter(slug=slug).exists():
        raise Refused(f"There is already an output called {slug}; choose another.", target=target)
    definition = OutputDefinition.objects.create(
        slug=slug,
        name=name.strip(),
        description=description.strip() or made_by.description,
        collection=collection,
        recipe=made_by.slug,
        profile=profile,
        control_organisational=control_organisational,
        created_by=by.label,
    )
    definition.audience.set(list(audience))
    record(
        by=by,
        action="output.defined",
        target=_target(definition),
        subject_organisation_id=str(collection.owner_id),
        details={
            "collection": collection.slug,
            "recipe": made_by.slug,
            "profile": profile,
            "audience": sorted(str(o.pk) for o in audience),
        },
    )
    if collection.compilations.exists():
        queue_output(definition)
    return definition


# --- which profile, which grants ----------------------------------------------------------------


def profile_for(definition: OutputDefinition) -> tuple[disclosure.Profile, str]:
    """The profile an output is protected by, and why: the definition's, unless an agreement a
    contributor sends under asks for stricter disclosure control of this dataset."""
    chosen = Profile(definition.profile)
    why = "the output's definition"
    for contributor in Contributor.objects.filter(
        collection=definition.collection, is_active=True, agreement__isnull=False
    ).select_related("agreement", "organisation"):
        asked = _agreement_profile(contributor, definition.collection.standard_slug)
        if asked is not None and _STRICTNESS[asked] > _STRICTNESS[chosen]:
            chosen = asked
            why = f"the agreement {contributor.organisation.name} sends under"
    profile = _PROFILES[chosen]
    if definition.control_organisational:
        profile = profile.controlling_organisational()
    return profile, why


def _agreement_profile(contributor: Contributor, standard: str) -> Profile | None:
    """The profile the contributor's agreement asks for on the collection's dataset, if it sets
    disclosure control: a minimum cell count of 10 or more, or suppression of zeros, means
    strict; any other setting, standard."""
    agreement = contributor.agreement
    if agreement is None:
        return None
    document = document_of(agreement)
    flows = [f for f in document.flows if not contributor.flow_id or f.id == contributor.flow_id]
    wanted = {dataset_id for flow in flows for dataset_id in flow.dataset_ids}
    for dataset in document.datasets:
        control = dataset.disclosure_control
        if dataset.id not in wanted or control is None:
            continue
        if (dataset.standard or "").split("@", 1)[0] != standard:
            continue
        rule = (control.suppression_rule or "").lower()
        if (control.min_cell_count or 0) >= disclosure.STRICT.threshold or "zero" in rule:
            return Profile.STRICT
        return Profile.STANDARD
    return None


def _basis(definition: OutputDefinition, organisation: Organisation) -> dict[str, Any] | None:
    """What a grant of the output to ``organisation`` rests on: the agreement it contributes
    under, or the collection's framework. None when there is neither."""
    collection = definition.collection
    contributor = (
        Contributor.objects.filter(collection=collection, organisation=organisation)
        .exclude(agreement=None)
        .first()
    )
    if contributor is not None:
        return {"agreement": contributor.agreement, "framework": None}
    if collection.framework_id is not None:
        return {"agreement": None, "framework": collection.framework}
    return None


def grant_output(definition: OutputDefinition, organisation: Organisation) -> Grant | None:
    """The grant that lets ``organisation`` read ``definition``'s outputs: aggregate only, for
    the outputs purpose. Written once; None when nothing could ground it."""
    owner = definition.collection.owner
    if organisation.pk == owner.pk:
        return None
    basis = _basis(definition, organisation)
    if basis is None:
        return None
    grant, _ = Grant.objects.update_or_create(
        agreement=basis["agreement"],
        framework=basis["framework"],
        flow_id=f"returns:{definition.slug}"[:100],
        dataset_id=definition.dataset[:100],
        provider=owner,
        recipient=organisation,
        defaults={
            "dataset": definition.dataset[:100],
            "dataset_name": definition.name,
            "fields": [
                {"name": name, "transformation": "none", "data_type": "string", "personal": False}
                for name in FIELDS
            ],
            "purposes": [["outputs", OUTPUT_PURPOSE]],
            "actions": ["aggregate_only"],
        },
    )
    return grant


# --- making -------------------------------------------------------------------------------------


def queue_output(definition: OutputDefinition) -> Output:
    """Queue the next output of ``definition`` from its collection's latest compilation."""
    from .tasks import make_output_task

    with transaction.atomic():
        # One waiting to start will read the latest compilation when it does (make_output
        # locks the row before starting, so it cannot start between this check and commit).
        waiting = (
            Output.objects.select_for_update()
            .filter(definition=definition, state=OutputState.QUEUED)
            .first()
        )
        if waiting is not None:
            return waiting
        last = (
            Output.objects.select_for_update()
            .filter(definition=definition)
            .order_by("-number")
            .first()
        )
        output = Output.objects.create(
            definition=definition, number=(last.number if last else 0) + 1
        )
        progress = enqueue(
            make_output_task,
            kind="output_make",
            label=f"Making {definition.name}",
            owner=definition.collection.owner,
            target=_target(output),
            args=[str(output.pk)],
        )
        Output.objects.filter(pk=output.pk, progress__isnull=True).update(progress=progress)
    output.refresh_from_db()
    return output


def queue_outputs_of(collection: Collection) -> list[Output]:
    """Queue every output defined over ``collection``: called when it is compiled, so each
    contributor gets back what was made from its latest returns."""
    return [queue_output(d) for d in OutputDefinition.objects.filter(collection=collection)]


def _task_actor(collection: Collection) -> Actor:
    return Actor.task(
        Task.OUTPUTS.value,
        organisation_id=str(collection.owner_id),
        organisation_name=collection.owner.name,
    )


def _refuse(output: Output, progress: TaskProgress | None, reason: str) -> Output:
    Output.objects.filter(pk=output.pk).update(state=OutputState.REFUSED, message=reason)
    if progress is not None and not progress.is_finished:
        fail(progress, message=f"Refused: {reason}")
    return Output.objects.get(pk=output.pk)


def make_output(
    output_id: str, *, progress: TaskProgress | None = None, attempt: int = 1
) -> Output:
    """Make a queued output: decide, read the compiled collection, aggregate, protect, store,
    decide again, deliver."""
    with transaction.atomic():
        output = (
            Output.objects.select_for_update()
            .select_related("definition__collection__owner")
            .get(pk=output_id)
        )
        if output.state != OutputState.QUEUED:
            return output
        output.state = OutputState.BUILDING
        output.save(update_fields=["state"])
    definition = output.definition
    collection = definition.collection
    compilation = (
        CompiledDataset.objects.filter(collection=collection)
        .select_related("data")
        .order_by("-number")
        .first()
    )
    if compilation is None or compilation.data.deleted_at is not None:
        return _refuse(output, progress, f"{collection.name} has no compiled data to make it from.")
    by = _task_actor(collection)
    source = resource_for(compilation.data)
    decision = decide(actor=by, action=Action.AGGREGATE, resource=source, purpose=MAKE_PURPOSE)
    if decision.denied:
        return _refuse(output, progress, decision.reason)
    if progress is not None:
        advance(progress, done=1, total=4, message="Reading the returns", force=True)
    try:
        frame = read_frame(compilation.data.id, by=by, decision=decision, action=Action.AGGREGATE)
    except ObjectDeleted:
        # Compiled again, or rewritten by an erasure, since it was chosen: start again from the
        # compilation that replaced it.
        if attempt >= 3:
            raise
        Output.objects.filter(pk=output.pk).update(state=OutputState.QUEUED)
        return make_output(output_id, progress=progress, attempt=attempt + 1)
    # People who opted out are removed before anything is counted, for the contributors whose
    # agreements apply the National Data Opt-out (ADR 0015); only the count is kept.
    try:
        frame, opted_out = drop_for_output(frame, compilation)
    except OptOutUnavailable as exc:
        return _refuse(output, progress, exc.reason)
    recipe = recipes.recipe_for(definition.recipe)
    profile, why = profile_for(definition)
    if progress is not None:
        advance(progress, done=2, message="Adding up and protecting the figures", force=True)
    table = recipes.make_output(recipe, frame, profile)
    contributors = _contributors(frame, compilation)
    if progress is not None:
        advance(progress, done=3, message="Storing the output", force=True)
    stored = store_frame(
        by=by,
        organisation=collection.owner,
        kind=ResourceKind.OUTPUT,
        name=f"{definition.name}, output {output.number}"[:200],
        frame=table,
        description=f"Disclosure-controlled ({profile.name}) output of {collection.name}"[:2000],
        retention=OUTPUT_RETENTION,
        retention_basis="outputs are kept a year",
        dataset=definition.dataset,
    )
    delivery = decide(actor=by, action=Action.AGGREGATE, resource=source, purpose=MAKE_PURPOSE)
    if delivery.denied:
        vault.crypto_shred(by=by, obj=stored, reason=f"Output refused: {delivery.reason}")
        return _refuse(output, progress, delivery.reason)
    return _deliver(
        by=by,
        output=output,
        stored=stored,
        table=table,
        compilation=compilation,
        contributors=contributors,
        rules=_rules(profile, why, recipe),
        opted_out=opted_out,
    )


def _contributors(frame: pl.DataFrame, compilation: CompiledDataset) -> list[Organisation]:
    """The organisations whose returns are in ``frame`` (the compilation's submissions)."""
    submissions = (
        set(frame.get_column("submission").unique().to_list())
        if "submission" in frame.columns
        else set()
    )
    ids = {
        s.organisation_id
        for s in compilation.submissions.all()
        if not submissions or str(s.pk) in submissions
    }
    return list(Organisation.objects.filter(pk__in=ids).order_by("name"))


def _rules(profile: disclosure.Profile, why: str, recipe: recipes.Recipe) -> dict[str, Any]:
    return {
        "profile": profile.name,
        "chosen_by": why,
        "threshold": profile.threshold,
        "zeros_suppressed": profile.suppress_zeros,
        "rounding_base": profile.rounding_base,
        "secondary_suppression": profile.secondary,
        "min_n_for_rates": profile.min_n_derived,
        "organisational_measures_controlled": profile.control_organisational,
        "totals": "computed from the exact figures, then protected like any other cell",
        "people_measures": [m.name for m in recipe.measures if m.people],
        "magnitude_rules": (
            {
                "min_contributors": profile.min_contributors,
                "p_percent": profile.p_percent,
                "dominance": [profile.dominance_n, profile.dominance_k],
            }
            if profile.control_organisational
            else None
        ),
        "recipe": recipe.slug,
    }


def _summary(table: pl.DataFrame) -> dict[str, int]:
    counts = dict(table.group_by(disclosure.STATUS).len().iter_rows())
    return {
        "cells": table.height,
        "suppressed": int(counts.get(disclosure.SUPPRESSED, 0)),
        "rounded": int(counts.get(disclosure.ROUNDED, 0)),
        "perturbed": int(counts.get(disclosure.PERTURBED, 0)),
    }


@audited("output.made")
def _deliver(
    *,
    by: Actor,
    output: Output,
    stored: Any,
    table: pl.DataFrame,
    compilation: CompiledDataset,
    contributors: list[Organisation],
    rules: dict[str, Any],
    opted_out: int | None = None,
) -> Output:
    definition = output.definition
    collection = definition.collection
    periods = table.get_column(recipes.PERIOD)
    summary = _summary(table)
    if opted_out is not None:
        summary["opted_out"] = opted_out
    previous = list(
        Output.objects.filter(definition=definition, state=OutputState.READY)
        .exclude(pk=output.pk)
        .select_related("data")
    )
    Output.objects.filter(pk=output.pk).update(
        state=OutputState.READY,
        data=stored,
        compilation=compilation,
        caveats=list(compilation.caveats or []),
        rules=rules,
        summary=summary,
        periods_from=periods.min() if table.height else None,
        periods_to=periods.max() if table.height else None,
        made_at=timezone.now(),
        message="",
    )
    output.refresh_from_db()
    output.contributors.set(contributors)
    readers = {o.pk: o for o in [*contributors, *definition.audience.all()]}
    for organisation in readers.values():
        grant_output(definition, organisation)
    record(
        by=by,
        action="output.made",
        target=_target(output),
        subject_organisation_id=str(collection.owner_id),
        details={
            "definition": definition.slug,
            "number": output.number,
            "object": str(stored.pk),
            "compilation": compilation.number,
            "contributors": [str(o.pk) for o in contributors],
            **summary,
            "profile": rules["profile"],
        },
    )
    link = reverse("web:output_dashboard", args=[definition.pk])
    for organisation in readers.values():
        if organisation.pk == collection.owner_id:
            continue
        notify(
            by=by,
            organisation=organisation,
            topic=Topic.OUTPUT_RETURNED,
            subject=f"Updated: {definition.name}"[:200],
            body=(
                f"{collection.owner.name} has updated “{definition.name}”, made from "
                f"{collection.name}. Your area's figures, compared with others, are on your "
                "Returned to you page."
            ),
            link=link,
            roles=(),
        )
    for old in previous:
        Output.objects.filter(pk=old.pk).update(state=OutputState.REFUSED, message="Replaced")
        if old.data is not None and old.data.deleted_at is None:
            vault.crypto_shred(by=by, obj=old.data, reason=f"Replaced by output {output.number}")
    return output


def withdraw_stale(definition: OutputDefinition, *, by: Actor) -> int:
    """Shred the data of ``definition``'s outputs whose compilation has gone (a source was
    deleted): derived data goes with its sources. How many were withdrawn."""
    gone = 0
    for output in Output.objects.filter(
        definition=definition, state=OutputState.READY
    ).select_related("data", "compilation__data"):
        compilation = output.compilation
        if compilation is not None and compilation.data.deleted_at is None:
            continue
        if output.data is not None and output.data.deleted_at is None:
            vault.crypto_shred(
                by=by, obj=output.data, reason="The data it was made from was deleted"
            )
        Output.objects.filter(pk=output.pk).update(state=OutputState.REFUSED, message="Withdrawn")
        gone += 1
    return gone


def due_after(last: dt.date | None, schedule: str) -> dt.date | None:
    """When the next output is due after one covering the period ``last``: the day after the
    next period ends, by the collection's schedule (None before the first is made)."""
    if last is None:
        return None
    return last + dt.timedelta(days=SCHEDULE_DAYS.get(schedule, 7) + 1)


def log_query(
    *,
    by: Actor,
    kind: str,
    cells: int,
    output: Output | None = None,
    collection: Collection | None = None,
    breakdowns: list[str] | None = None,
) -> OutputQuery:
    """Log one read of ``output``, or one flexible table of ``collection``, by ``by``'s
    organisation (the decision that permitted it is in the audit chain already): what the
    daily limit counts."""
    return OutputQuery.objects.create(
        output=output,
        collection=collection,
        breakdowns=breakdowns or [],
        organisation_id=int(by.organisation_id),
        by_label=by.label[:300],
        kind=kind,
        cells=cells,
    )
