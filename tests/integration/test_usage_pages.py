"""Who used our data (providers) and our access history (recipients): who may see them, that
each organisation sees only accesses to its own data or by itself, the filters, the chart and
the CSV download. The access events are real: written by the decision point itself."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accord.access.usage import CSV_HEADER, DOWNLOADED_ACTION
from accord.organisations.enums import Role

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_redirects_to_sign_in,
    last_seq,
    person,
    signed_in_client,
    texts,
)
from .usage_helpers import (
    EXTRACT_TITLE,
    FORMULA_PURPOSE,
    OUTSIDER_PURPOSE,
    OWN_PURPOSE,
    TASK_PURPOSE,
    Uses,
    make_uses,
)

USES = "/usage/"
HISTORY = "/usage/history/"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def uses(council, other_council) -> Uses:
    return make_uses(council, other_council)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith("attachment;")
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


# Who may see them ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [USES, HISTORY, USES + "?format=csv", HISTORY + "?format=csv"])
def test_signed_out_goes_to_sign_in(client: Client, url: str) -> None:
    before = last_seq()
    response = client.get(url)
    assert response.status_code == 302
    if "?" not in url:
        assert_redirects_to_sign_in(response, url)
    assert actions_after(before) == []


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.SENIOR_MANAGER])
def test_roles_that_may_not_see_who_used_the_data_are_refused(council, uses, role) -> None:
    client = signed_in_client(person(council, role), council)
    before = last_seq()
    response = client.get(USES)
    assert_forbidden_page(response)
    assert OUTSIDER_PURPOSE not in texts(response)
    assert_forbidden_page(client.get(USES + "?format=csv"))
    assert DOWNLOADED_ACTION not in actions_after(before)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SENIOR_MANAGER])
def test_roles_that_may_not_see_the_history_are_refused(other_council, uses, role) -> None:
    client = signed_in_client(person(other_council, role), other_council)
    response = client.get(HISTORY)
    assert_forbidden_page(response)
    assert OUTSIDER_PURPOSE not in texts(response)
    assert_forbidden_page(client.get(HISTORY + "?format=csv"))


@pytest.mark.parametrize(
    "role", [Role.DPO, Role.SIRO, Role.INFORMATION_ASSET_OWNER, Role.ORGANISATION_ADMIN]
)
def test_governance_roles_see_who_used_the_data(council, uses, role) -> None:
    client = signed_in_client(person(council, role), council)
    response = client.get(USES)
    assert response.status_code == 200
    text = texts(response)
    assert "Who used our data" in text
    assert uses.reader_email in text
    assert "Kent County Council" in text
    assert OUTSIDER_PURPOSE in text
    assert "Accord&#x27;s validation task" in text or "Accord's validation task" in text
    assert TASK_PURPOSE in text
    assert EXTRACT_TITLE in text  # the agreement an extract was delivered under
    assert "12 rows" in text
    assert "Refused" in text
    assert "Permitted" in text
    # The provider's own reads are left out by default; a third organisation's always.
    assert OWN_PURPOSE not in text
    assert uses.third_email not in text
    assert "Tunbridge Wells private data" not in text
    # The nav links to the page
    assert 'href="/usage/"' in text


def test_the_reader_sees_its_reads_in_its_history(other_council, uses) -> None:
    client = signed_in_client(person(other_council, Role.ANALYST), other_council)
    response = client.get(HISTORY)
    assert response.status_code == 200
    text = texts(response)
    assert "Our access history" in text
    assert OUTSIDER_PURPOSE in text
    assert "Data of Maidstone Borough Council" in text
    assert EXTRACT_TITLE in text
    assert TASK_PURPOSE not in text  # the task read for the provider, not for the reader
    assert OWN_PURPOSE not in text
    assert uses.third_email not in text
    # An analyst may see the history but not who used the organisation's own data.
    assert 'href="/usage/history/"' in text
    assert_forbidden_page(client.get(USES))


def test_a_third_organisation_sees_nothing_of_it(uses) -> None:
    third = uses.third
    client = signed_in_client(person(third, Role.DPO), third)
    for url in (USES, USES + "?who=all", HISTORY):
        text = texts(client.get(url))
        assert OUTSIDER_PURPOSE not in text
        assert uses.reader_email not in text
        assert TASK_PURPOSE not in text
        assert "Maidstone" not in text
        assert "Kent County Council" not in text
    assert read_csv(client.get(USES + "?format=csv")) == [list(CSV_HEADER)]
    rows = read_csv(client.get(USES + "?who=all&format=csv"))
    assert len(rows) == 2  # its own read of its own data only
    assert "Our own business" in rows[1]
    history = read_csv(client.get(HISTORY + "?format=csv"))
    assert len(history) == 2  # its own read of its own data only
    assert "Our own business" in history[1]


def test_acting_for_another_organisation_shows_that_organisations_uses(
    council, other_council, uses
) -> None:
    """A DPO of both sees the provider's uses only while acting for the provider."""
    from .helpers import act_for, join

    dpo = person(other_council, Role.DPO)
    join(dpo, council, Role.DPO)
    client = signed_in_client(dpo, other_council)
    assert OUTSIDER_PURPOSE not in texts(client.get(USES))
    act_for(client, council)
    assert OUTSIDER_PURPOSE in texts(client.get(USES))


# Filters ---------------------------------------------------------------------------------------


def test_filters(council, other_council, uses) -> None:
    client = signed_in_client(person(council, Role.DPO), council)

    def shown(query: str) -> str:
        response = client.get(USES + query)
        assert response.status_code == 200
        return texts(response)

    refused = shown("?outcome=refused")
    assert OUTSIDER_PURPOSE in refused
    assert TASK_PURPOSE not in refused
    permitted = shown("?outcome=permitted")
    assert TASK_PURPOSE in permitted
    assert OUTSIDER_PURPOSE not in permitted
    assert EXTRACT_TITLE in permitted

    by_reader = shown(f"?organisation={other_council.pk}")
    assert OUTSIDER_PURPOSE in by_reader
    assert TASK_PURPOSE not in by_reader
    by_tasks = shown("?organisation=tasks")
    assert TASK_PURPOSE in by_tasks
    assert OUTSIDER_PURPOSE not in by_tasks

    ours = shown("?who=ours")
    assert OWN_PURPOSE in ours
    assert OUTSIDER_PURPOSE not in ours
    assert TASK_PURPOSE not in ours
    everyone = shown("?who=all")
    assert OWN_PURPOSE in everyone
    assert OUTSIDER_PURPOSE in everyone

    by_agreement = shown(f"?agreement={uses.agreement_id}")
    assert "12 rows" in by_agreement
    assert OUTSIDER_PURPOSE not in by_agreement

    by_action = shown("?action=download")
    assert "12 rows" in by_action
    assert OUTSIDER_PURPOSE not in by_action
    views = shown("?action=view")
    assert OUTSIDER_PURPOSE in views
    assert "12 rows" not in views
    assert "Planning" not in shown("?action=aggregate")

    today = timezone.localdate()
    tomorrow = today + timedelta(days=1)
    assert OUTSIDER_PURPOSE in shown(f"?since={today:%d/%m/%Y}&until={today:%d/%m/%Y}")
    assert OUTSIDER_PURPOSE not in shown(f"?since={tomorrow:%d/%m/%Y}")
    assert OUTSIDER_PURPOSE not in shown(f"?until={today - timedelta(days=1):%d/%m/%Y}")


def test_bad_filters_say_what_is_wrong(council, uses) -> None:
    client = signed_in_client(person(council, Role.DPO), council)
    response = client.get(USES + "?since=31/02/2026")
    assert response.status_code == 200
    assert "is not a real date" in texts(response)
    assert "Error: Who used our data" in texts(response)
    response = client.get(USES + "?since=2/3/2026&until=1/3/2026")
    assert "The to date must be the same as or after the from date" in texts(response)
    response = client.get(USES + "?organisation=999999")
    assert "Select a valid choice" in texts(response)
    # No download of "everything" for filters that did not make sense
    before = last_seq()
    response = client.get(USES + "?since=31/02/2026&format=csv")
    assert response["Content-Type"].startswith("text/html")
    assert DOWNLOADED_ACTION not in actions_after(before)


def test_the_chart_counts_permitted_and_refused_per_organisation(council, uses) -> None:
    client = signed_in_client(person(council, Role.DPO), council)
    text = texts(client.get(USES))
    assert 'id="chart-organisations"' in text
    assert 'id="chart-weeks"' in text
    assert "Accord&#x27;s own tasks" in text or "Accord's own tasks" in text
    assert "4 uses found: 2 permitted, 2 refused." in text
    chart = text.split('id="chart-organisations"')[1].split("</table>")[0]
    kent = chart.split("Kent County Council")[1].split("</tr>")[0]
    # Kent: 1 permitted (the extract delivered), 2 refused, each with a bar and its figure
    assert kent.count("<meter") == 2
    assert "</meter> 1</td>" in kent
    assert "</meter> 2</td>" in kent


def test_pagination(council, other_council) -> None:
    from accord.access.decisions import decide
    from accord.access.enums import Action
    from accord.vault.queries import resource_for
    from tests.factories import member_actor

    from .usage_helpers import stored_submission

    resource = resource_for(stored_submission(council))
    outsider = member_actor(other_council, Role.ANALYST)
    for n in range(55):
        decide(actor=outsider, action=Action.VIEW, resource=resource, purpose=f"Purpose {n:02d}")
    client = signed_in_client(person(council, Role.DPO), council)
    first = texts(client.get(USES))
    assert "Purpose 54" in first
    assert "Purpose 04" not in first
    assert 'class="govuk-pagination"' in first
    second = texts(client.get(USES + "?page=2"))
    assert "Purpose 04" in second
    assert "Purpose 54" not in second


# CSV -------------------------------------------------------------------------------------------


def test_csv_holds_the_filtered_rows_and_is_safe(council, uses) -> None:
    client = signed_in_client(person(council, Role.DATA_OFFICER), council)
    before = last_seq()
    rows = read_csv(client.get(USES + "?format=csv"))
    assert rows[0] == list(CSV_HEADER)
    body = rows[1:]
    assert len(body) == 4  # two refusals, the task's read, the extract delivered
    column = {name: n for n, name in enumerate(CSV_HEADER)}
    purposes = {r[column["Purpose"]] for r in body}
    assert OUTSIDER_PURPOSE in purposes
    assert "'" + FORMULA_PURPOSE in purposes  # shown, never run, as a formula
    assert OWN_PURPOSE not in purposes
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell
    extract = next(r for r in body if r[column["Agreement"]] == EXTRACT_TITLE)
    assert extract[column["Rows"]] == "12"
    assert extract[column["Fields"]] == "home_id; beds"
    assert extract[column["Agreement id"]] == uses.agreement_id
    assert extract[column["Outcome"]] == "Permitted"
    # The download itself is recorded.
    assert actions_after(before) == [DOWNLOADED_ACTION]

    refused = read_csv(client.get(USES + "?outcome=refused&format=csv"))
    assert len(refused) == 3
    assert {r[column["Outcome"]] for r in refused[1:]} == {"Refused"}


def test_history_csv(other_council, uses) -> None:
    client = signed_in_client(person(other_council, Role.ANALYST), other_council)
    rows = read_csv(client.get(HISTORY + "?format=csv"))
    column = {name: n for n, name in enumerate(CSV_HEADER)}
    assert len(rows) == 4  # header, two refusals, the extract
    assert {r[column["Providing organisation"]] for r in rows[1:]} == {"Maidstone Borough Council"}
    assert {r[column["Person or task"]] for r in rows[1:]} == {uses.reader_email}
