"""The `accord` command: its parser and `accord manage`."""

from __future__ import annotations

import pytest

from accord.cli import serve
from accord.cli.main import build_parser, main


@pytest.mark.django_db
def test_manage_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manage", "check"]) == 0
    assert "System check identified no issues" in capsys.readouterr().out


def test_manage_reports_an_unknown_management_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["manage", "no-such-command"])
    assert exit_info.value.code == 1
    assert "Unknown command: 'no-such-command'" in capsys.readouterr().err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "frobnicate" in capsys.readouterr().err


def test_every_area_registers_its_subcommands() -> None:
    parser = build_parser()
    subcommands = next(action for action in parser._actions if action.dest == "command").choices
    assert {"serve", "manage"} <= set(subcommands)
    assert len(subcommands) > 2  # the demo and audit areas add theirs


def test_serve_defaults_to_localhost() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.threads) == ("127.0.0.1", 8000, 8)
    assert args.handler is serve.handle


def test_serve_options() -> None:
    args = build_parser().parse_args(
        ["serve", "--host", "0.0.0.0", "--port", "9000", "--threads", "2"]  # noqa: S104
    )
    assert (args.host, args.port, args.threads) == ("0.0.0.0", 9000, 2)  # noqa: S104


def test_serve_refuses_a_non_numeric_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--port", "eighty"])
    assert "invalid int value" in capsys.readouterr().err
