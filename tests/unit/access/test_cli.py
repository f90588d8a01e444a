"""`accord extract` and `accord releases` on the real database, vault, decision point and task
queue: the command runs the queued build itself (nothing is mocked), downloads through
``open_extract``, and exits 0 done, 1 refused (with the reasons), 2 could not run, with a plain
message and never a traceback."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile

import polars as pl
import pytest

from accord.access import releases
from accord.access.cli import see_through
from accord.access.models import Extract, ExtractState, Release
from accord.audit.models import AuditEvent
from accord.cli.main import main
from accord.notifications.models import Notification, SentReminder, Topic
from accord.organisations.enums import Role
from accord.vault.models import ExtractCopy
from tests.factories import OrganisationFactory, member_actor

from .sharing import PURPOSE, county_shares_housing_benefit, hb_frame

pytestmark = pytest.mark.django_db

ANALYST = "analyst@maidstone.example"
OFFICER = "officer@kent.example"
STRANGER = "analyst@hackney.example"


@pytest.fixture
def world():
    made = county_shares_housing_benefit()
    member_actor(made.district, Role.ANALYST, email=ANALYST)
    member_actor(made.county, Role.DATA_OFFICER, email=OFFICER)
    member_actor(made.stranger, Role.ANALYST, email=STRANGER)
    return made


@pytest.fixture
def release(world) -> Release:
    return releases.publish(
        by=member_actor(world.county, Role.DATA_OFFICER),
        agreement=world.agreement,
        flow_id=world.flow_id,
        dataset_id=world.dataset_id,
        label="Housing benefit, November",
        frame=hb_frame(),
    )


def outlet_key(world) -> str:
    return f"{world.agreement.pk}|{world.flow_id}|{world.dataset_id}"


def extract(*extra: str, source: str, email: str = ANALYST, output=None, fmt: str = "csv"):
    return main(
        [
            "extract",
            "--source",
            source,
            "--purpose",
            PURPOSE,
            "--format",
            fmt,
            "--as",
            email,
            *(["--output", str(output)] if output is not None else []),
            *extra,
        ]
    )


def read_csv_extract(path) -> pl.DataFrame:
    with zipfile.ZipFile(path) as archive:
        return pl.read_csv(archive.read("extract.csv"), infer_schema=False)


def good_frame() -> pl.DataFrame:
    """The test world's rows as a provider's file must hold them: every required column."""
    return hb_frame().with_columns(
        pl.Series("nino", ["JM123456C", "JM123457C", "JM123458C"]),
        pl.lit("council").alias("tenure"),
        pl.lit(dt.date(2025, 11, 30)).alias("extract_date"),
    )


def hb_csv(tmp_path, frame: pl.DataFrame | None = None, name: str = "hb.csv"):
    path = tmp_path / name
    (frame if frame is not None else good_frame()).write_csv(path)
    return path


# accord extract ---------------------------------------------------------------------------------


def test_a_district_analyst_extracts_its_own_slice(world, release, tmp_path, capsys) -> None:
    output = tmp_path / "slice.zip"
    status = extract(source=f"release:{release.pk}", output=output)
    out, err = capsys.readouterr()
    assert status == 0, err
    assert "Traceback" not in out + err
    made = Extract.objects.get()
    assert made.state == ExtractState.READY
    assert made.organisation == world.district
    assert f"extract {made.pk}" in out
    assert f"Wrote 2 rows ({len(made.fields)} fields) to {output}." in out
    assert "Pseudonymised: " in out
    assert "nino" in out

    frame = read_csv_extract(output)
    assert frame.height == 2
    assert set(frame["ltla_cd"]) == {world.district.gss_code}  # its own rows only
    assert all(len(v) == 64 for v in frame["nino"])  # pseudonymised
    assert not set(frame["nino"]) & set(hb_frame()["nino"])
    assert set(frame.columns) <= set(made.fields)  # only the granted fields
    grant = world.agreement.grants.get(recipient=world.district)
    assert set(frame.columns) - {"period", "organisation"} <= {f["name"] for f in grant.fields}
    # The copy now held outside Accord is recorded, and the district's receipt.
    assert ExtractCopy.objects.filter(recipient=world.district, object=made.data).count() == 1
    made.refresh_from_db()
    assert made.downloads == 1
    assert made.first_downloaded_at is not None
    assert release.recipients.get(organisation=world.district).received_at is not None
    assert oct(output.stat().st_mode & 0o777) == oct(0o600)  # not readable by others


def test_an_unrelated_council_is_told_there_is_no_such_source(
    world, release, tmp_path, capsys
) -> None:
    """As on the pages and through the API: data it could never see is answered like data
    that does not exist, and nothing is read or released."""
    status = extract(source=f"release:{release.pk}", email=STRANGER, output=tmp_path / "x.zip")
    out, err = capsys.readouterr()
    assert status == 2
    assert f"There is no source release:{release.pk}" in err
    assert "Traceback" not in out + err
    assert not Extract.objects.exists()
    assert not (tmp_path / "x.zip").exists()


def test_a_purpose_the_agreement_does_not_name_is_refused(world, release, tmp_path, capsys) -> None:
    status = main(
        [
            "extract",
            "--source",
            f"release:{release.pk}",
            "--purpose",
            "Checking council tax arrears",
            "--format",
            "csv",
            "--as",
            ANALYST,
            "--output",
            str(tmp_path / "x.zip"),
        ]
    )
    assert status == 1
    assert "is not a purpose of the agreement" in capsys.readouterr().err
    assert not Extract.objects.exists()


@pytest.mark.parametrize(
    "source",
    [
        lambda: f"release:{uuid.uuid4()}",
        lambda: f"collection:{uuid.uuid4()}",
        lambda: "release:not-an-id",
        lambda: f"submission:{uuid.uuid4()}",
    ],
)
def test_an_unknown_source_cannot_be_extracted(world, release, tmp_path, capsys, source) -> None:
    ref = source()
    status = extract(source=ref, output=tmp_path / "x.zip")
    out, err = capsys.readouterr()
    assert status == 2
    assert err.startswith(
        f"accord extract: There is no source {ref} that Maidstone Borough Council can ask an "
        "extract of."
    )
    assert "Traceback" not in out + err
    assert not Extract.objects.exists()


@pytest.mark.parametrize(
    ("email", "extra", "message"),
    [
        ("nobody@example.org", (), "Nobody with the email address nobody@example.org"),
        (ANALYST, ("--organisation", "Kent County Council"), "is not a member of an"),
        ("loner", (), "is not a member of any organisation"),
    ],
)
def test_someone_who_is_not_a_member_cannot_extract(
    world, release, tmp_path, capsys, email, extra, message
) -> None:
    if email == "loner":
        from tests.factories import UserFactory

        email = UserFactory().email
    status = extract(*extra, source=f"release:{release.pk}", email=email, output=tmp_path / "x")
    out, err = capsys.readouterr()
    assert status == 2
    assert message in err
    assert "Traceback" not in out + err
    assert not Extract.objects.exists()


def test_an_existing_file_is_not_overwritten_without_force(
    world, release, tmp_path, capsys
) -> None:
    output = tmp_path / "slice.zip"
    output.write_bytes(b"keep me")
    assert extract(source=f"release:{release.pk}", output=output) == 2
    assert "exists already" in capsys.readouterr().err
    assert output.read_bytes() == b"keep me"
    assert not Extract.objects.exists()  # refused before anything was asked for

    assert extract("--force", source=f"release:{release.pk}", output=output) == 0
    assert read_csv_extract(output).height == 2


def test_missing_arguments_are_named(world, release, capsys) -> None:
    assert main(["extract", "--source", f"release:{release.pk}", "--as", ANALYST]) == 2
    err = capsys.readouterr().err
    assert "Give --purpose, --format, --output" in err


def test_no_wait_then_download_later_and_list(world, release, tmp_path, capsys) -> None:
    assert extract("--no-wait", source=f"release:{release.pk}", fmt="parquet") == 0
    out = capsys.readouterr().out
    made = Extract.objects.get()
    assert made.state == ExtractState.QUEUED
    assert f"accord extract --download {made.pk}" in out

    assert main(["extract", "--list", "--as", ANALYST]) == 0
    listing = capsys.readouterr().out
    assert listing.splitlines()[0].startswith("ID")
    assert str(made.pk) in listing
    assert "Waiting to start" in listing

    output = tmp_path / "slice.parquet"
    argv = ["extract", "--download", str(made.pk), "--as", ANALYST, "--output", str(output)]
    assert main(argv) == 0, capsys.readouterr().err
    assert pl.read_parquet(output).height == 2
    # Someone else's extract is not there for them, in the same words as a missing one.
    other = tmp_path / "other.parquet"
    assert (
        main(["extract", "--download", str(made.pk), "--as", STRANGER, "--output", str(other)]) == 2
    )
    assert "has no extract" in capsys.readouterr().err


def test_see_through_returns_at_once_without_a_task() -> None:
    see_through(None)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.django_db(transaction=True)
def test_on_a_terminal_the_bar_follows_the_build(world, release) -> None:
    from accord.access.extracts import request_extract
    from accord.organisations.actors import actor_for
    from accord.organisations.models import Membership

    membership = Membership.objects.get(user__email=ANALYST)
    made = request_extract(
        by=actor_for(membership.user, membership),
        source=release.data,
        purpose=PURPOSE,
        fmt="xlsx",
        release=release,
    )
    screen = Terminal()
    see_through(made.progress_id, out=screen)
    made.refresh_from_db()
    assert made.state == ExtractState.READY, made.message
    assert "Building Extract of Housing benefit, November" in screen.getvalue()


# accord releases -------------------------------------------------------------------------------


def test_outlets_are_listed_for_the_provider(world, capsys) -> None:
    assert main(["releases", "outlets", "--as", OFFICER]) == 0
    out = capsys.readouterr().out
    assert outlet_key(world) in out
    assert world.agreement.title in out
    assert "Maidstone Borough Council" in out
    assert "Canterbury City Council" in out

    assert main(["releases", "outlets", "--as", ANALYST]) == 0
    assert "nowhere to publish" in capsys.readouterr().out


def test_publish_a_good_file(world, tmp_path, capsys) -> None:
    status = main(
        [
            "releases",
            "publish",
            "--outlet",
            outlet_key(world),
            "--label",
            "Housing benefit, December",
            "--as",
            OFFICER,
            "--caveats",
            "Two wards estimated.",
            str(hb_csv(tmp_path)),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 0, err
    release = Release.objects.get()
    assert (release.label, release.rows, release.caveats) == (
        "Housing benefit, December",
        3,
        "Two wards estimated.",
    )
    assert "3 rows to 2 recipient(s)" in out
    assert "  - Canterbury City Council: 1 rows" in out
    assert "  - Maidstone Borough Council: 2 rows" in out


def test_publish_a_bad_file_names_the_row_and_column(world, tmp_path, capsys) -> None:
    bad = good_frame().with_columns(pl.Series("nino", ["JM123456C", "not a nino", "JM123458C"]))
    status = main(
        [
            "releases",
            "publish",
            "--outlet",
            outlet_key(world),
            "--label",
            "Housing benefit, December",
            "--as",
            OFFICER,
            str(hb_csv(tmp_path, bad)),
        ]
    )
    out, err = capsys.readouterr()
    assert status == 1
    assert "nothing was published" in err
    assert "Row 3, column" in err
    assert "nino" in err
    assert "Traceback" not in out + err
    assert not Release.objects.exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--outlet", "nope", "--as", OFFICER], "has no outlet nope"),
        (["--outlet", "KEY", "--as", ANALYST], "has no outlet"),
        (["--outlet", "KEY", "--as", "nobody@example.org"], "Nobody with the email address"),
    ],
)
def test_what_cannot_be_published_is_refused_in_plain_words(
    world, tmp_path, capsys, argv, message
) -> None:
    argv = [a.replace("KEY", outlet_key(world)) for a in argv]
    path = str(hb_csv(tmp_path))
    assert main(["releases", "publish", "--label", "December", *argv, path]) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert "Traceback" not in out + err
    assert not Release.objects.exists()


def test_a_missing_file_cannot_be_published(world, tmp_path, capsys) -> None:
    argv = ["--outlet", outlet_key(world), "--label", "December", "--as", OFFICER]
    assert main(["releases", "publish", *argv, str(tmp_path / "absent.csv")]) == 2
    assert "There is no file at" in capsys.readouterr().err


def test_a_viewer_cannot_publish(world, tmp_path, capsys) -> None:
    viewer = member_actor(world.county, Role.VIEWER).label
    argv = ["--outlet", outlet_key(world), "--label", "December", "--as", viewer]
    assert main(["releases", "publish", *argv, str(hb_csv(tmp_path))]) == 2
    assert "Only a data officer, analyst or information asset owner" in capsys.readouterr().err
    assert not Release.objects.exists()


def test_remind_tells_the_provider_once_of_an_overdue_release(world, release, capsys) -> None:
    on_time = (release.published_at + dt.timedelta(days=10)).isoformat()
    assert main(["releases", "remind", "--now", on_time]) == 0
    assert "sent 0 overdue reminder(s)" in capsys.readouterr().out
    assert not SentReminder.objects.exists()

    late = (release.published_at + dt.timedelta(days=40)).isoformat()
    assert main(["releases", "remind", "--now", late]) == 0
    first = capsys.readouterr().out
    assert "looked at 1 provider(s); sent 1 overdue reminder(s); 0 already sent" in first
    assert "Kent County Council" in first
    notices = Notification.objects.filter(organisation=world.county, topic=Topic.RELEASE_OVERDUE)
    assert notices.count() == 1
    assert notices.get().subject.startswith("Release overdue: ")

    assert main(["releases", "remind", "--now", late]) == 0
    again = capsys.readouterr().out
    assert "sent 0 overdue reminder(s); 1 already sent before" in again
    assert notices.count() == 1
    assert AuditEvent.objects.filter(action="release.reminded").count() == 1

    # The next release resets the schedule: its own due date is reminded about in turn.
    newer = releases.publish(
        by=member_actor(world.county, Role.DATA_OFFICER),
        agreement=world.agreement,
        flow_id=world.flow_id,
        dataset_id=world.dataset_id,
        label="Housing benefit, December",
        frame=hb_frame(),
    )
    Release.objects.filter(pk=newer.pk).update(
        published_at=release.published_at + dt.timedelta(days=35)
    )
    later = (release.published_at + dt.timedelta(days=70)).isoformat()
    assert main(["releases", "remind", "--now", later]) == 0
    assert "sent 1 overdue reminder(s)" in capsys.readouterr().out
    assert notices.count() == 2


def test_an_organisation_with_nothing_shared_is_not_reminded(capsys) -> None:
    OrganisationFactory()
    assert main(["releases", "remind"]) == 0
    assert "looked at 0 provider(s)" in capsys.readouterr().out


def test_a_bad_moment_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["releases", "remind", "--now", "yesterday"])
    assert exit.value.code == 2
    assert "is not a moment" in capsys.readouterr().err
