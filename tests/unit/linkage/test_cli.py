"""`accord link` on the real database, vault and decision point: it links in the process with
a progress bar, prints the quality figures, and exits 0 linked, 1 refused, 2 could not run,
with a plain message and never a traceback."""

from __future__ import annotations

import pytest

from accord.agreements import actions as agreement_actions
from accord.cli.main import main
from accord.demo.sharing import signer_for
from accord.demo.vulnerability_setup import PURPOSE
from accord.linkage.models import JobState, LinkageJob

from .world import LinkWorld, build_link_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> LinkWorld:
    return build_link_world()


def _as(world: LinkWorld) -> list[str]:
    return ["--as", world.analyst.label, "--no-progress"]


def test_sources_lists_refs_and_purposes(world: LinkWorld, capsys) -> None:
    assert main(["link", "sources", *_as(world)]) == 0
    out = capsys.readouterr().out
    for ref in world.refs:
        assert ref in out
    assert PURPOSE in out


def test_single_view_links_and_prints_the_figures(world: LinkWorld, capsys) -> None:
    assert main(["link", "single-view", *_as(world)]) == 0
    out = capsys.readouterr().out
    assert "Exact match on a strong identifier: 2 pairs" in out
    assert "households in the single view" in out
    job = LinkageJob.objects.get()
    assert job.state == JobState.DONE
    assert main(["link", "list", *_as(world)]) == 0
    assert str(job.pk) in capsys.readouterr().out


def test_new_and_run_again(world: LinkWorld, capsys) -> None:
    arguments = ["--name", "Care", "--source", world.refs[1], "--source", world.refs[2]]
    assert main(["link", "new", *_as(world), *arguments, "--purpose", PURPOSE]) == 0
    job = LinkageJob.objects.get(name="Care")
    assert main(["link", "run", str(job.pk), *_as(world)]) == 0
    job.refresh_from_db()
    assert job.runs == 2


def test_refusals_exit_2_with_the_reason(world: LinkWorld, capsys) -> None:
    arguments = ["--name", "X", "--source", world.refs[1], "--source", world.refs[2]]
    code = main(["link", "new", *_as(world), *arguments, "--purpose", "Electoral canvassing"])
    assert code == 2
    err = capsys.readouterr().err
    assert "is not a purpose of the agreement" in err
    assert "Traceback" not in err
    assert main(["link", "run", "not-a-job", *_as(world)]) == 2
    assert "no linkage job" in capsys.readouterr().err
    assert main(["link", "list", "--as", "nobody@example.org"]) == 2
    assert "Nobody with the email address" in capsys.readouterr().err


def test_a_run_refused_on_the_way_exits_1(world: LinkWorld, capsys) -> None:
    assert main(["link", "single-view", *_as(world)]) == 0
    job = LinkageJob.objects.get()
    agreement_actions.suspend(
        by=signer_for(world.icb), agreement=world.shielded_agreement, reason="Breach"
    )
    assert main(["link", "run", str(job.pk), *_as(world)]) == 1
    assert "suspended" in capsys.readouterr().err
