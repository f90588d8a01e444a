"""Who used our data and our access history through the API: the same rows as the pages, for
the caller's organisation only, paginated, and refused without a usable token or role."""

from __future__ import annotations

import pytest

from accord.organisations import actions
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role

from .api_helpers import Api, detail, member, stored, token_for, token_of
from .usage_helpers import EXTRACT_TITLE, OUTSIDER_PURPOSE, OWN_PURPOSE, TASK_PURPOSE, make_uses


@pytest.fixture
def uses(council, other_council):
    return make_uses(council, other_council)


def purposes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["purpose"] for item in response.json()["items"]]


def test_no_token_is_refused(uses) -> None:
    for path in ("/usage/", "/usage/history/"):
        response = Api().get(path)
        assert response.status_code == 401
        assert "API token" in detail(response)


def test_a_revoked_token_is_refused(council, uses) -> None:
    membership = member(council, Role.DPO)
    secret = token_of(membership)
    actions.revoke_api_token(by=actor_for(membership.user, membership), token=stored(secret))
    response = Api(secret).get("/usage/")
    assert response.status_code == 401
    assert detail(response) == "This API token has been revoked."


def test_the_wrong_role_is_refused(council, other_council, uses) -> None:
    response = Api(token_for(council, Role.ANALYST)).get("/usage/")
    assert response.status_code == 403
    assert "see who used its data" in detail(response)
    response = Api(token_for(other_council, Role.VIEWER)).get("/usage/history/")
    assert response.status_code == 403


def test_the_provider_sees_uses_of_its_data(council, uses) -> None:
    response = Api(token_for(council, Role.DPO)).get("/usage/")
    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 4
    assert body["limit"] == 50
    assert body["offset"] == 0
    found = purposes(response)
    assert OUTSIDER_PURPOSE in found
    assert TASK_PURPOSE in found
    assert OWN_PURPOSE not in found
    extract = next(i for i in body["items"] if i["agreement_title"] == EXTRACT_TITLE)
    assert extract["rows"] == 12
    assert extract["fields"] == ["home_id", "beds"]
    assert extract["permitted"] is True
    assert extract["reader_organisation"] == "Kent County Council"
    assert extract["provider_organisation"] == "Maidstone Borough Council"
    refused = next(i for i in body["items"] if i["purpose"] == OUTSIDER_PURPOSE)
    assert refused["permitted"] is False
    assert refused["person"] == uses.reader_email
    assert refused["reason"]


def test_filters_and_pagination(council, other_council, uses) -> None:
    api = Api(token_for(council, Role.SIRO))
    assert purposes(api.get("/usage/", outcome="permitted")).count(OUTSIDER_PURPOSE) == 0
    assert purposes(api.get("/usage/", organisation="tasks")) == [TASK_PURPOSE]
    assert OWN_PURPOSE in purposes(api.get("/usage/", who="ours"))
    assert len(purposes(api.get("/usage/", agreement=uses.agreement_id))) == 1
    assert len(purposes(api.get("/usage/", action="view"))) == 2
    first = api.get("/usage/", limit=2).json()
    second = api.get("/usage/", limit=2, offset=2).json()
    assert first["count"] == second["count"] == 4
    assert len(first["items"]) == len(second["items"]) == 2
    seqs = [i["seq"] for i in first["items"] + second["items"]]
    assert seqs == sorted(seqs, reverse=True)
    assert len(set(seqs)) == 4
    assert api.get("/usage/", action="steal").status_code == 422
    assert api.get("/usage/", limit=0).status_code == 422
    assert api.get("/usage/", since="2026-03-02", until="2026-03-01").status_code == 422


def test_the_reader_sees_its_history(other_council, uses) -> None:
    body = Api(token_for(other_council, Role.ANALYST)).get("/usage/history/").json()
    assert body["count"] == 3
    assert {i["provider_organisation"] for i in body["items"]} == {"Maidstone Borough Council"}
    assert TASK_PURPOSE not in [i["purpose"] for i in body["items"]]


def test_another_organisation_sees_nothing_of_it(uses) -> None:
    api = Api(token_for(uses.third, Role.DPO))
    for path, query in (("/usage/", {"who": "all"}), ("/usage/history/", {})):
        items = api.get(path, **query).json()["items"]
        assert all(i["provider_organisation_id"] == str(uses.third.pk) for i in items)
        assert all(i["reader_organisation_id"] == str(uses.third.pk) for i in items)
        assert OUTSIDER_PURPOSE not in [i["purpose"] for i in items]
    # Naming another organisation as the reader finds nothing of the provider's.
    items = api.get("/usage/", organisation=str(uses.reader.pk)).json()["items"]
    assert items == []


def test_the_operations_are_in_the_openapi_document() -> None:
    spec = Api().get("/openapi.json").json()
    assert "/api/v1/usage/" in spec["paths"]
    assert "/api/v1/usage/history/" in spec["paths"]
    parameters = {p["name"] for p in spec["paths"]["/api/v1/usage/"]["get"]["parameters"]}
    assert {"who", "organisation", "agreement", "outcome", "action", "limit", "offset"} <= (
        parameters
    )
