"""Every audit action the code writes has a plain-English label for the pages."""

import re
from pathlib import Path

import pytest

from accord.audit.checkpoints import CHECKPOINT_ACTION
from accord.audit.labels import ACTION_LABELS, action_label

SOURCE = Path(__file__).resolve().parents[3] / "accord"
ACTION_LITERAL = re.compile(r'(?:action=|audited\()"([a-z_]+\.[a-z_.]+)"')


def written_actions() -> set[str]:
    found = {CHECKPOINT_ACTION}
    for path in SOURCE.rglob("*.py"):
        found.update(ACTION_LITERAL.findall(path.read_text()))
    return found


def test_the_scan_finds_the_actions() -> None:
    assert {"auth.signed_in", "organisation.invitation.sent"} <= written_actions()


@pytest.mark.parametrize("code", sorted(written_actions()))
def test_every_written_action_has_a_label(code: str) -> None:
    assert code in ACTION_LABELS, f"add a plain-English label for {code} in audit/labels.py"


def test_admin_and_unknown_actions() -> None:
    assert action_label("admin.organisation.created") == (
        "Platform staff created organisation in admin"
    )
    assert action_label("something.new") == "something.new"
