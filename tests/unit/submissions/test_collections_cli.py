"""`accord submit` and `accord collections` on the real database, vault and task queue: the
command runs the queued check itself (nothing is mocked), prints the outcome and exits 0
accepted, 1 rejected, 2 could not submit, with a plain message and never a traceback."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from accord.cli.main import main
from accord.notifications.models import SentReminder
from accord.organisations.enums import Role, Sector
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.collections_cli import see_through
from accord.submissions.models import Submission
from accord.tasks.models import TaskProgress
from tests.factories import (
    OrganisationFactory,
    care_home_csv,
    combined_authority,
    framework_of,
    member_actor,
)
from tests.tasks import queued_task_count

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CARE_HOME = get_standard("care-home-daily-status", database=False)


@pytest.fixture
def gmca():
    return combined_authority()


@pytest.fixture
def home():
    return OrganisationFactory(name="Oakleigh Care Home", sector=Sector.CARE_PROVIDER)


@pytest.fixture
def collection(gmca, home):
    from accord.agreements.models import Framework

    framework_of(gmca, home)
    runner = member_actor(gmca, Role.ANALYST)
    made = actions.create_collection(
        by=runner,
        slug="care-homes-gm",
        name="Care home status, Greater Manchester",
        standard=CARE_HOME,
        schedule="daily",
        starts_on=TODAY - dt.timedelta(days=3),
        framework=Framework.objects.get(),
    )
    actions.add_contributor(by=runner, collection=made, organisation=home)
    return made


@pytest.fixture
def officer(home):
    member_actor(home, Role.DATA_OFFICER, email="officer@oakleigh.example")
    return "officer@oakleigh.example"


def upload(tmp_path, *rows, name="status.csv"):
    path = tmp_path / name
    path.write_bytes(care_home_csv(*rows))
    return str(path)


def good(**change):
    return {"report_date": TODAY.isoformat(), **change}


def submit(*extra: str, file: str, email: str, period: str = "", collection="care-homes-gm"):
    return main(
        [
            "submit",
            "--collection",
            collection,
            "--period",
            period or TODAY.isoformat(),
            "--as",
            email,
            *extra,
            file,
        ]
    )


def test_a_good_return_is_sent_checked_here_and_accepted(
    collection, officer, tmp_path, capsys
) -> None:
    status = submit(
        "--caveats", "Closed wing not counted.", file=upload(tmp_path, good()), email=officer
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Received status.csv from Oakleigh Care Home" in out
    assert "Accepted: 1 rows, 1 valid, 0 errors" in out
    submission = Submission.objects.get()
    assert (submission.state, submission.via, submission.caveats) == (
        "accepted",
        "cli",
        "Closed wing not counted.",
    )
    assert submission.submitted_by == officer
    assert TaskProgress.objects.get(pk=submission.progress_id).state == "done"
    assert queued_task_count() == 1  # the compilation it queued is left to the workers


def test_a_bad_return_is_rejected_with_its_first_problems(
    collection, officer, tmp_path, capsys
) -> None:
    file = upload(tmp_path, good(postcode="ME14 1XX9", registered_beds="forty"))
    assert submit(file=file, email=officer) == 1
    out, _ = capsys.readouterr()
    assert "Rejected: 1 rows, 0 valid, 2 errors" in out
    assert "rows have errors" in out  # the reason
    assert "First 2 of 2 problems:" in out
    assert "  - row 2, " in out
    assert "ME14 1XX9" in out  # the sender's own problems, read through the decision point
    assert Submission.objects.get().state == "rejected"


@pytest.mark.parametrize(
    ("who", "extra", "period", "collection_slug", "message"),
    [
        ("nobody@example.org", (), "", "care-homes-gm", "Nobody with the email address"),
        ("viewer", (), "", "care-homes-gm", "Only someone with one of these roles"),
        ("outsider", (), "", "care-homes-gm", "is not expected to send returns"),
        ("officer", ("--organisation", "Elsewhere"), "", "care-homes-gm", "not a member of"),
        ("officer", (), "", "no-such-collection", "There is no collection called"),
        ("officer", (), "March", "care-homes-gm", "is not a reporting period"),
        ("officer", (), "2001-01-01", "care-homes-gm", "choose that period or a later one"),
    ],
)
def test_what_cannot_be_sent_is_refused_in_plain_words(
    collection, officer, home, tmp_path, capsys, who, extra, period, collection_slug, message
) -> None:
    emails = {"officer": officer}
    emails["viewer"] = member_actor(home, Role.VIEWER).label
    emails["outsider"] = member_actor(
        OrganisationFactory(name="Elsewhere Care Home", sector=Sector.CARE_PROVIDER),
        Role.DATA_OFFICER,
    ).label
    status = submit(
        *extra,
        file=upload(tmp_path, good()),
        email=emails.get(who, who),
        period=period,
        collection=collection_slug,
    )
    out, err = capsys.readouterr()
    assert status == 2
    assert message in err
    assert err.startswith("accord submit: ")
    assert "Traceback" not in err + out
    assert not Submission.objects.exists()


def test_a_missing_file_and_an_ambiguous_person_are_refused(
    collection, officer, gmca, tmp_path, capsys
) -> None:
    assert submit(file=str(tmp_path / "absent.csv"), email=officer) == 2
    assert "There is no file at" in capsys.readouterr().err
    # A member of two contributors must say which one they send for.
    other = OrganisationFactory(name="Kingfisher Care Home", sector=Sector.CARE_PROVIDER)
    framework = collection.framework
    from accord.agreements import actions as agreements
    from accord.audit.actor import Actor

    agreements.add_framework_member(by=Actor.system(), framework=framework, organisation=other)
    actions.add_contributor(
        by=member_actor(gmca, Role.ANALYST), collection=collection, organisation=other
    )
    from accord.organisations.models import User
    from tests.factories import MembershipFactory

    MembershipFactory(
        user=User.objects.get(email=officer), organisation=other, roles=["data_officer"]
    )
    assert submit(file=upload(tmp_path, good()), email=officer) == 2
    assert "say which with --organisation" in capsys.readouterr().err
    assert (
        submit(
            "--organisation", "kingfisher care home", file=upload(tmp_path, good()), email=officer
        )
        == 0
    )
    assert Submission.objects.get().organisation == other


def test_no_wait_leaves_the_check_queued(collection, officer, tmp_path, capsys) -> None:
    assert submit("--no-wait", file=upload(tmp_path, good()), email=officer) == 0
    assert "The check is queued" in capsys.readouterr().out
    assert Submission.objects.get().state == "received"
    assert queued_task_count() == 1


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db(transaction=True)
def test_on_a_terminal_the_bar_follows_the_check_as_it_runs(collection, home, tmp_path) -> None:
    submission = actions.receive(
        by=member_actor(home, Role.DATA_OFFICER),
        collection=collection,
        period=TODAY,
        filename="status.csv",
        source=care_home_csv(good()),
    )
    screen = Terminal()
    progress = see_through(submission, out=screen)
    assert progress is not None
    assert progress.state == "done"
    submission.refresh_from_db()
    assert submission.state == "accepted"
    assert "Checking status.csv" in screen.getvalue()  # the bar, drawn beside the work


def test_collections_list_and_remind(collection, capsys) -> None:
    assert main(["collections", "list"]) == 0
    out = capsys.readouterr().out
    assert "SLUG" in out.splitlines()[0]
    line = next(row for row in out.splitlines() if row.startswith("care-homes-gm"))
    assert "Greater Manchester Combined Authority" in line
    assert "care-home-daily-status@" in line
    assert "Daily" in line

    later = (timezone.now() + dt.timedelta(days=2)).isoformat()
    assert main(["collections", "remind", "--now", later]) == 0
    first = capsys.readouterr().out
    assert "looked at 1 collection(s)" in first
    assert SentReminder.objects.exists()
    assert main(["collections", "remind", "--now", later]) == 0
    again = capsys.readouterr().out
    assert "sent 0 due and 0 late" in again
    assert f"{SentReminder.objects.count()} already sent before" in again


def test_a_bad_moment_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["collections", "remind", "--now", "yesterday"])
    assert exit.value.code == 2
    assert "is not a moment" in capsys.readouterr().err
