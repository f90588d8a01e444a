"""The world the subject rights tests share: the linkage world (Kent's social care, the ICB's
shielded patient list, Maidstone's council tax), with Maidstone's single view linked and, if
asked, an extract of Kent's social care taken by Maidstone."""

from __future__ import annotations

from accord.access.extracts import request_extract
from accord.demo.vulnerability_setup import PURPOSE
from accord.linkage import actions as linkage
from tests.tasks import run_queued_tasks
from tests.unit.linkage.world import LinkWorld, build_link_world


def build_rights_world(*, linked: bool = True, extract: bool = True) -> LinkWorld:
    world = build_link_world(
        link_actions=("view", "link", "extract") if extract else ("view", "link")
    )
    if linked:
        linkage.create_job(
            by=world.analyst, name="Single view", entity="person", refs=world.refs, purpose=PURPOSE
        )
    if extract:
        request_extract(
            by=world.analyst,
            source=world.social_care.compilations.latest("number").data,
            purpose=PURPOSE,
            fmt="csv",
        )
    run_queued_tasks()
    return world
