"""The progress of background work, as the progress indicator polls it: only the members of the
organisation whose work it is see it; everyone else gets 404, as if there were no such work."""

from __future__ import annotations

import pytest

from accord.organisations.enums import Role
from accord.tasks import actions
from accord.tasks.models import TaskProgress
from tests.tasks import count_rows, run_queued_tasks

from .helpers import (
    assert_not_found_page,
    assert_redirects_to_sign_in,
    join,
    person,
    signed_in_client,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(progress: TaskProgress) -> str:
    return f"/tasks/{progress.id}/progress/"


@pytest.fixture
def progress(council) -> TaskProgress:
    work = actions.start(
        kind="test.count", label="Checking 200 rows", owner=council, target="thing:1", total=200
    )
    actions.advance(work, done=50, force=True)
    return work


def test_signed_out_people_are_sent_to_sign_in(client, progress) -> None:
    assert_redirects_to_sign_in(client.get(url(progress)), url(progress))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.DATA_OFFICER, Role.DPO])
def test_members_of_the_owner_see_the_bar_and_its_poll(council, progress, role) -> None:
    client = signed_in_client(person(council, role), council)
    response = client.get(url(progress))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Checking 200 rows" in html
    assert '<progress class="accord-task-progress__bar"' in html
    assert 'max="100" value="25"' in html
    assert "25% done (50 of 200)" in html
    assert f'hx-get="/tasks/{progress.id}/progress/?shown=' in html
    assert 'hx-trigger="every 1s"' in html
    assert 'hx-swap="outerHTML"' in html
    assert "<script" not in html  # nothing inline for the CSP to refuse


def test_people_of_another_organisation_get_not_found(other_council, progress) -> None:
    client = signed_in_client(person(other_council, Role.DPO), other_council)
    assert_not_found_page(client.get(url(progress)))


def test_a_member_elsewhere_too_sees_it_while_acting_for_another(
    council, other_council, progress
) -> None:
    user = person(other_council, Role.VIEWER)
    client = signed_in_client(user, other_council)
    assert_not_found_page(client.get(url(progress)))
    join(user, council, Role.VIEWER)
    assert client.get(url(progress)).status_code == 200


def test_people_in_no_organisation_and_unknown_work_get_not_found(council, progress) -> None:
    client = signed_in_client(person(None))
    assert_not_found_page(client.get(url(progress)))
    member = signed_in_client(person(council, Role.VIEWER), council)
    assert_not_found_page(member.get("/tasks/5f0c6f0e-2b7e-4d7c-9d43-4f1f6bb1a111/progress/"))


def test_work_with_no_owner_is_shown_to_nobody(council) -> None:
    work = actions.start(kind="test.count", label="Nobody's", total=2)
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN), council)
    assert_not_found_page(client.get(url(work)))


def test_an_unchanged_step_answers_no_content_so_the_page_stays_as_it_is(council, progress) -> None:
    client = signed_in_client(person(council, Role.VIEWER), council)
    same = client.get(url(progress), {"shown": progress.shown_step}, **HTMX)
    assert same.status_code == 204
    actions.advance(progress, done=120, force=True)  # 60%: a new step
    moved = client.get(url(progress), {"shown": "running:20:"}, **HTMX)
    assert moved.status_code == 200
    assert "60% done (120 of 200)" in moved.content.decode()


def test_finished_work_stops_polling(council) -> None:
    work = actions.enqueue(
        count_rows, kind="test.count", label="Counting rows", owner=council, args=[5]
    )
    client = signed_in_client(person(council, Role.VIEWER), council)
    waiting = client.get(url(work)).content.decode()
    assert "Waiting to start." in waiting
    assert "hx-trigger" in waiting
    run_queued_tasks()
    finished = client.get(url(work), {"shown": "queued::"}, **HTMX).content.decode()
    assert "Finished." in finished
    assert "Counted 5 rows." in finished
    assert 'value="100"' in finished
    assert "hx-get" not in finished
    assert "hx-trigger" not in finished


def test_failed_work_says_so_and_stops_polling(council, progress) -> None:
    actions.fail(progress, message="The file could not be read. Upload it again.")
    client = signed_in_client(person(council, Role.VIEWER), council)
    html = client.get(url(progress)).content.decode()
    assert "Failed" in html
    assert "The file could not be read. Upload it again." in html
    assert "hx-trigger" not in html


def test_only_get_is_allowed(council, progress) -> None:
    client = signed_in_client(person(council, Role.VIEWER), council)
    assert client.post(url(progress)).status_code == 405
