"""`accord demo` and `accord demo code`, run through the real command entry point."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.cli.main import main
from accord.demo.loader import ORGANISATIONS, PASSWORD_ENV, PERSONAS
from accord.demo.totp import current_code, secret_base32
from accord.organisations.models import Organisation, User

pytestmark = pytest.mark.django_db

OFFICER = "officer@maidstone.demo.accord.test"
VIEWER = "viewer@hackney.demo.accord.test"
SHARED_ANALYST = "analyst@midkent.demo.accord.test"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _printed_password(out: str) -> str:
    match = re.search(r"^Password for every persona: (\S+)$", out, re.MULTILINE)
    assert match, out
    return match.group(1)


def _row(out: str, username: str) -> str:
    (line,) = [line for line in out.splitlines() if line.startswith(username + " ")]
    return line


def test_lists_every_persona_with_organisation_roles_and_secret(capsys, keys_dir: Path):
    status, out, _ = _run(capsys, "demo", "--no-serve")
    assert status == 0
    for spec in PERSONAS:
        row = _row(out, spec.username)
        user = User.objects.get(username=spec.username)
        device = TOTPDevice.objects.filter(user=user).first()
        if device is None:
            assert row.endswith("not needed")
        else:
            assert row.endswith(secret_base32(device))
        if spec.memberships:
            first_org = next(o.name for o in ORGANISATIONS if o.key == spec.memberships[0][0])
            assert first_org in row
    assert "Viewer" in _row(out, VIEWER)
    assert "not needed" in _row(out, VIEWER)
    # The second organisation of the shared-service analyst is on the next line.
    lines = out.splitlines()
    after = lines[lines.index(_row(out, SHARED_ANALYST)) + 1]
    assert after.lstrip().startswith("Tunbridge Wells Borough Council")
    password = _printed_password(out)
    assert (keys_dir / "demo-password").read_text().strip() == password
    assert User.objects.get(username=OFFICER).check_password(password)
    assert "accord demo code USERNAME" in out


def test_a_second_run_reuses_the_password_the_secrets_and_the_data(capsys):
    _, first, _ = _run(capsys, "demo", "--no-serve")
    organisations = Organisation.objects.count()
    status, second, _ = _run(capsys, "demo", "--no-serve")
    assert status == 0
    assert "already installed" in second
    assert _printed_password(second) == _printed_password(first)
    for spec in PERSONAS:
        assert _row(second, spec.username) == _row(first, spec.username)
    assert Organisation.objects.count() == organisations


def test_a_given_password_is_printed_and_set_on_existing_personas(capsys, monkeypatch):
    _run(capsys, "demo", "--no-serve")
    monkeypatch.setenv(PASSWORD_ENV, "chosen-by-the-tester-7")
    status, out, _ = _run(capsys, "demo", "--no-serve")
    assert status == 0
    assert _printed_password(out) == "chosen-by-the-tester-7"
    assert f"from {PASSWORD_ENV}" in out
    assert User.objects.get(username=OFFICER).check_password("chosen-by-the-tester-7")


def test_a_lost_password_file_gives_everyone_the_new_printed_password(capsys, keys_dir: Path):
    _, first, _ = _run(capsys, "demo", "--no-serve")
    (keys_dir / "demo-password").unlink()
    _, second, _ = _run(capsys, "demo", "--no-serve")
    new = _printed_password(second)
    assert new != _printed_password(first)
    assert User.objects.get(username=OFFICER).check_password(new)
    assert "earlier demo password was not found" in second


def test_serves_unless_told_not_to(capsys, monkeypatch):
    import accord.cli.serve

    served: list[tuple[str, int]] = []
    monkeypatch.setattr(accord.cli.serve, "serve", lambda host, port: served.append((host, port)))
    assert main(["demo", "--host", "0.0.0.0", "--port", "8123"]) == 0  # noqa: S104
    assert served == [("0.0.0.0", 8123)]  # noqa: S104
    assert "http://0.0.0.0:8123/admin/" in capsys.readouterr().out


def test_code_prints_a_six_digit_code_that_sign_in_accepts(capsys):
    _run(capsys, "demo", "--no-serve")
    status, out, err = _run(capsys, "demo", "code", OFFICER)
    assert status == 0
    code = out.strip()
    assert re.fullmatch(r"\d{6}", code)
    assert "changes in" in err
    device = TOTPDevice.objects.get(user__username=OFFICER)
    assert device.verify_token(code)
    assert not device.verify_token(code)  # each code works once
    status, out, err = _run(capsys, "demo", "code", OFFICER.upper())
    assert status == 0
    assert "already used" in err


def test_code_explains_when_there_is_none(capsys):
    _run(capsys, "demo", "--no-serve")
    status, out, err = _run(capsys, "demo", "code", VIEWER)
    assert (status, out) == (1, "")
    assert "password alone" in err
    status, out, err = _run(capsys, "demo", "code", "nobody@example.org")
    assert (status, out) == (1, "")
    assert "no account" in err


def test_current_code_matches_the_rfc_6238_test_vector():
    user = User.objects.create(username="rfc@example.org", email="rfc@example.org")
    TOTPDevice.objects.create(
        user=user, confirmed=True, key=b"12345678901234567890".hex(), digits=6
    )
    now = current_code(user, at=59)
    assert now.code == "287082"  # RFC 6238 appendix B, SHA-1, T=59, last six digits
    assert now.seconds_left == 1
    assert not now.already_used


@pytest.mark.parametrize("argv", [["demo", "--no-serve"], ["demo", "code", OFFICER]])
def test_refuses_in_production(capsys, keys_dir: Path, argv):
    with override_settings(PRODUCTION=True, DEMO_MODE=False):
        status, out, err = _run(capsys, *argv)
    assert status == 2
    assert out == ""
    assert "demo installations only" in err
    assert "production" in err
    assert not Organisation.objects.exists()
    assert not User.objects.exists()
    assert not keys_dir.exists()
