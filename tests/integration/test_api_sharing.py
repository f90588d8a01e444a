"""Sharing through the API: what agreements share with an organisation, extracts decided by the
decision point (with the API token's own scope), and releases published to every recipient at
once, each recipient taking only its slice. On the real vault, decision point and task queue:
a county publishes housing benefit data to two districts, with identifiers pseudonymised and
each district limited to its own rows."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import timedelta

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accord.access.models import Extract, Release
from accord.agreements import actions as agreement_actions
from accord.audit.models import AuditEvent
from accord.demo.sharing import set_up_sharing, signer_for
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from accord.organisations.models import ApiToken
from accord.organisations.token_scopes import create_scoped_api_token
from tests.factories import OrganisationFactory, active_care_home_agreement, framework_of
from tests.tasks import run_queued_tasks
from tests.unit.access.sharing import HB_SHARING, World, hb_frame

from .api_helpers import API, Api, detail, member, stored, token_for, token_of

# Every operation here, as (method, path) with {id} filled in by the test.
OPERATIONS = [
    ("get", "/shared"),
    ("get", "/extracts"),
    ("post", "/extracts"),
    ("get", "/extracts/{extract}"),
    ("get", "/extracts/{extract}/download"),
    ("get", "/releases"),
    ("post", "/releases"),
    ("get", "/releases/outlets"),
    ("get", "/releases/{release}"),
]


# As the access tests' world, but the UPRN is withheld from the districts.
WITHHOLDING_UPRN = dataclasses.replace(
    HB_SHARING, transformations={**(HB_SHARING.transformations or {}), "uprn": "suppress"}
)


@pytest.fixture
def world() -> World:
    county = OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )
    district = OrganisationFactory(
        name="Maidstone Borough Council", sector=Sector.DISTRICT_COUNCIL, gss_code="E07000110"
    )
    other = OrganisationFactory(
        name="Canterbury City Council", sector=Sector.DISTRICT_COUNCIL, gss_code="E07000106"
    )
    stranger = OrganisationFactory(
        name="London Borough of Hackney", sector=Sector.LONDON_BOROUGH, gss_code="E09000012"
    )
    agreement = set_up_sharing(
        framework=framework_of(county, district, other, stranger),
        provider=county,
        recipients=[district, other],
        sharing=WITHHOLDING_UPRN,
    )
    return World(county, district, other, stranger, agreement)


@pytest.fixture
def publisher(world) -> Api:
    return Api(token_for(world.county, Role.DATA_OFFICER))


@pytest.fixture
def district(world) -> Api:
    return Api(token_for(world.district, Role.ANALYST))


@pytest.fixture
def stranger(world) -> Api:
    return Api(token_for(world.stranger, Role.ANALYST, Role.DATA_OFFICER))


def upload_frame() -> pl.DataFrame:
    """The test world's rows, with the standard's other required columns filled in."""
    return hb_frame().with_columns(
        pl.Series("nino", ["JH123456C", "JH123457C", "JH123458C"]),
        pl.lit("council").alias("tenure"),
        pl.lit("2026-03-01").alias("extract_date"),
    )


def hb_csv(frame: pl.DataFrame | None = None) -> bytes:
    return (upload_frame() if frame is None else frame).write_csv().encode()


def outlet_key(world: World) -> str:
    return f"{world.agreement.pk}|{world.flow_id}|{world.dataset_id}"


def publish(
    api: Api,
    world: World,
    content: bytes | None = None,
    *,
    outlet: str | None = None,
    label: str = "Housing benefit, November",
    caveats: str = "Claims in payment on the last day of the month.",
):
    data = {
        "outlet": outlet_key(world) if outlet is None else outlet,
        "label": label,
        "caveats": caveats,
        "file": SimpleUploadedFile("hb.csv", hb_csv() if content is None else content, "text/csv"),
    }
    return api.client.post(f"{API}/releases", data, headers=api.headers)


def released(api: Api, world: World) -> str:
    response = publish(api, world)
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def ask(api: Api, source: str, purpose: str, fmt: str = "csv"):
    return api.post("/extracts", {"source": source, "purpose": purpose, "format": fmt})


def ready_extract(api: Api, world: World, release_id: str) -> str:
    asked = ask(api, f"release:{release_id}", world.purpose)
    assert asked.status_code == 202, asked.content
    assert run_queued_tasks() == 1
    extract_id = str(asked.json()["id"])
    assert api.get(f"/extracts/{extract_id}").json()["state"] == "ready"
    return extract_id


def extract_frame(response) -> pl.DataFrame:
    content = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return pl.read_csv(archive.read("extract.csv"), infer_schema=False)


def call(api: Api, method: str, path: str):
    if method == "get":
        return api.get(path)
    if path == "/releases":
        return api.client.post(f"{API}{path}", {}, headers=api.headers)
    return api.post(path, {})


def suspend(world: World) -> None:
    agreement_actions.suspend(
        by=signer_for(world.county), agreement=world.agreement, reason="A breach is investigated."
    )


# The OpenAPI document ---------------------------------------------------------------------------


def test_the_openapi_document_describes_every_sharing_operation() -> None:
    spec = Api().client.get(f"{API}/openapi.json").json()
    for method, path in OPERATIONS:
        documented = path.replace("{extract}", "{extract_id}").replace("{release}", "{release_id}")
        operation = spec["paths"][f"{API}{documented}"][method]
        assert operation["summary"], path
        assert len(operation["description"]) > 60, path
        assert {"401", "403"} <= set(operation["responses"]), path
        assert operation["tags"] == ["sharing"]
    extract = spec["paths"][f"{API}/extracts"]["post"]["responses"]
    assert {"202", "404", "422"} <= set(extract)
    download = spec["paths"][f"{API}/extracts/{{extract_id}}/download"]["get"]["responses"]
    assert "application/zip" in download["200"]["content"]
    assert "409" in download
    publishing = spec["paths"][f"{API}/releases"]["post"]
    assert "multipart/form-data" in publishing["requestBody"]["content"]
    assert "422" in publishing["responses"]


# Who may call at all ----------------------------------------------------------------------------


def test_no_token_a_revoked_one_or_an_expired_one_is_401(world, publisher, district) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    revoked_secret = token_for(world.district, Role.ANALYST)
    token = stored(revoked_secret)
    token.revoked_at = timezone.now()
    token.save()
    expired_secret = token_for(world.district, Role.ANALYST)
    ApiToken.objects.filter(pk=stored(expired_secret).pk).update(
        expires_at=timezone.now() - timedelta(days=1)
    )
    for method, template in OPERATIONS:
        path = template.format(extract=extract_id, release=release_id)
        assert call(Api(), method, path).status_code == 401, path
        revoked = call(Api(revoked_secret), method, path)
        assert revoked.status_code == 401, path
        assert "revoked" in detail(revoked)
        expired = call(Api(expired_secret), method, path)
        assert expired.status_code == 401, path
        assert "expired" in detail(expired)


def test_a_role_that_reads_no_data_is_refused_everywhere(world, publisher, district) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    viewer = Api(token_for(world.district, Role.VIEWER))
    for method, template in OPERATIONS:
        path = template.format(extract=extract_id, release=release_id)
        if (method, template) in (("post", "/extracts"), ("post", "/releases")):
            continue  # below, with a body that would otherwise be accepted
        refused = call(viewer, method, path)
        assert refused.status_code == 403, path
        assert "roles" in detail(refused), path
    # Asking for and downloading an extract: the decision point says no, and why.
    asked = ask(viewer, f"release:{release_id}", world.purpose)
    assert asked.status_code == 403
    assert "do not include reading data" in detail(asked)
    assert AuditEvent.objects.filter(action="access.decided", outcome="deny").exists()
    # Publishing needs a data officer, analyst or information asset owner.
    county_viewer = Api(token_for(world.county, Role.VIEWER))
    refused = publish(county_viewer, world)
    assert refused.status_code == 403
    assert "publish data" in detail(refused)
    assert Release.objects.count() == 1


# What is shared ---------------------------------------------------------------------------------


def test_what_is_shared_with_a_district(world, publisher, district, stranger) -> None:
    release_id = released(publisher, world)
    response = district.get("/shared")
    assert response.status_code == 200
    (grant,) = response.json()
    assert grant["provider"] == "Kent County Council"
    assert grant["agreement"] == {"id": str(world.agreement.pk), "title": world.agreement.title}
    assert grant["token_may_use"] is True
    assert grant["dataset"] == "housing-benefit-claims"
    assert grant["purposes"] == [world.purpose]
    assert set(grant["actions"]) == {"view", "extract"}
    fields = {f["name"]: f for f in grant["fields"]}
    assert fields["nino"]["shared_as"] == "pseudonymised"
    assert (fields["postcode"]["shared_as"], fields["postcode"]["level"]) == (
        "generalised",
        "postcode_sector",
    )
    assert fields["claim_status"]["shared_as"] == "as_is"
    assert fields["uprn"]["shared_as"] == "withheld"
    assert grant["row_limit"] == {"column": "ltla_cd", "values": [world.district.gss_code]}
    assert grant["frequency"] == "monthly"
    assert f"release:{release_id}" in [s["ref"] for s in grant["sources"]]
    # Another organisation is shared nothing; the provider receives nothing either.
    assert stranger.get("/shared").json() == []
    assert publisher.get("/shared").json() == []


# Releases ---------------------------------------------------------------------------------------


def test_the_national_team_publishes_through_the_api(world, publisher, district, stranger) -> None:
    outlets = publisher.get("/releases/outlets")
    assert outlets.status_code == 200
    (outlet,) = outlets.json()
    assert outlet["key"] == outlet_key(world)
    assert outlet["dataset"] == "housing-benefit-claims"
    assert {r["organisation"] for r in outlet["recipients"]} == {
        "Maidstone Borough Council",
        "Canterbury City Council",
    }
    assert outlet["last_release_id"] is None
    # Only providers have somewhere to publish.
    assert district.get("/releases/outlets").json() == []
    assert stranger.get("/releases/outlets").json() == []

    response = publish(publisher, world)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["label"], body["rows"], body["you_published"]) == (
        "Housing benefit, November",
        3,
        True,
    )
    assert {(p["organisation"], p["rows"], p["received_at"]) for p in body["pickups"]} == {
        ("Maidstone Borough Council", 2, None),
        ("Canterbury City Council", 1, None),
    }
    assert (body["recipients"], body["picked_up"]) == (2, 0)
    assert publisher.get("/releases/outlets").json()[0]["last_release_id"] == body["id"]

    # The recipient sees its slice and the caveats, not who else receives what.
    mine = district.get(f"/releases/{body['id']}").json()
    assert (mine["rows"], mine["you_published"], mine["pickups"]) == (2, False, [])
    assert mine["caveats"] == "Claims in payment on the last day of the month."
    assert mine["source"] == f"release:{body['id']}"
    assert [(r["id"], r["rows"]) for r in district.get("/releases").json()] == [(body["id"], 2)]
    assert [(r["id"], r["rows"]) for r in publisher.get("/releases").json()] == [(body["id"], 3)]
    # Anyone else: nothing listed, and not found.
    assert stranger.get("/releases").json() == []
    assert stranger.get(f"/releases/{body['id']}").status_code == 404
    assert district.get("/releases/00000000-0000-0000-0000-000000000000").status_code == 404


def test_a_bad_upload_is_refused_naming_row_and_column(world, publisher, stranger) -> None:
    bad = upload_frame().with_columns(
        pl.Series("date_of_birth", ["1980-01-02", "not a date", "1990-07-08"])
    )
    refused = publish(publisher, world, hb_csv(bad))
    assert refused.status_code == 422
    message = detail(refused)
    assert "nothing was published" in message
    assert "Row 3, column" in message
    assert "date_of_birth" in message
    assert refused.json()["errors"][0]["path"] == "file"
    assert not Release.objects.exists()

    unknown = publish(publisher, world, outlet="not-an-outlet")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "outlet"
    # Another organisation cannot publish under an agreement it provides nothing to.
    theirs = publish(stranger, world)
    assert theirs.status_code == 422
    assert theirs.json()["errors"][0]["path"] == "outlet"
    missing = publisher.client.post(
        f"{API}/releases", {"outlet": outlet_key(world), "label": "x"}, headers=publisher.headers
    )
    assert missing.status_code == 422
    assert [e["path"] for e in missing.json()["errors"]] == ["file"]
    assert not Release.objects.exists()


# Extracts ---------------------------------------------------------------------------------------


def test_a_district_takes_only_its_granted_slice(world, publisher, district) -> None:
    release_id = released(publisher, world)
    (grant,) = district.get("/shared").json()
    granted = {f["name"] for f in grant["fields"] if f["shared_as"] != "withheld"}
    assert "uprn" not in granted
    asked = ask(district, f"release:{release_id}", world.purpose)
    assert asked.status_code == 202, asked.content
    body = asked.json()
    assert body["state"] == "queued"
    assert body["progress"]["state"] == "queued"
    assert body["source"] == f"release:{release_id}"
    assert body["agreement"]["id"] == str(world.agreement.pk)
    extract_id = body["id"]
    # Not built yet: nothing to download.
    early = district.get(f"/extracts/{extract_id}/download")
    assert early.status_code == 409
    assert "not ready" in detail(early)

    assert run_queued_tasks() == 1
    built = district.get(f"/extracts/{extract_id}").json()
    assert built["state"] == "ready", built["message"]
    assert built["progress"]["percent"] == 100
    assert built["rows"] == 2
    assert set(built["fields"]) == granted
    assert "uprn" in built["conditions"]["fields_withheld"]
    assert "nino" in built["conditions"]["pseudonymised"]
    assert built["conditions"]["rows_limited_to"] == [
        {"column": "ltla_cd", "values": [world.district.gss_code]}
    ]
    assert built["delete_by"] is not None
    assert built["download"] == f"{API}/extracts/{extract_id}/download"
    assert [e["id"] for e in district.get("/extracts").json()] == [extract_id]

    downloaded = district.get(f"/extracts/{extract_id}/download")
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "application/zip"
    assert f"extract-{extract_id}.zip" in downloaded["Content-Disposition"]
    frame = extract_frame(downloaded)
    assert set(frame.columns) == granted
    assert "uprn" not in frame.columns
    assert frame.height == 2
    assert set(frame["ltla_cd"]) == {world.district.gss_code}
    assert all(len(v) == 64 for v in frame["nino"])
    assert not set(frame["nino"]) & set(upload_frame()["nino"])

    # The provider now sees the district's pickup, and that the other has not picked up.
    pickups = {
        p["organisation"]: p for p in publisher.get(f"/releases/{release_id}").json()["pickups"]
    }
    assert pickups["Maidstone Borough Council"]["received_at"] is not None
    assert pickups["Maidstone Borough Council"]["received_by"]
    assert pickups["Canterbury City Council"]["received_at"] is None
    assert district.get(f"/releases/{release_id}").json()["received_at"] is not None
    again = district.get(f"/extracts/{extract_id}").json()
    assert (again["downloads"], again["first_downloaded_at"] is not None) == (1, True)


def test_another_organisation_finds_nothing(world, publisher, district, stranger) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    assert stranger.get("/extracts").json() == []
    assert stranger.get(f"/extracts/{extract_id}").status_code == 404
    assert stranger.get(f"/extracts/{extract_id}/download").status_code == 404
    unknown = ask(stranger, f"release:{release_id}", world.purpose)
    assert unknown.status_code == 404
    assert "GET /shared" in detail(unknown)
    nowhere = ask(district, "collection:00000000-0000-0000-0000-000000000000", world.purpose)
    assert nowhere.status_code == 404
    # The other district, a recipient too, cannot download Maidstone's extract.
    other = Api(token_for(world.other_district, Role.ANALYST))
    assert other.get(f"/extracts/{extract_id}/download").status_code == 404
    assert Extract.objects.count() == 1


def test_bad_requests_for_an_extract_say_what_is_wrong(world, publisher, district) -> None:
    release_id = released(publisher, world)
    source = f"release:{release_id}"
    wrong_format = ask(district, source, world.purpose, fmt="pdf")
    assert wrong_format.status_code == 422
    assert [e["path"] for e in wrong_format.json()["errors"]] == ["format"]
    no_purpose = district.post("/extracts", {"source": source})
    assert no_purpose.status_code == 422
    assert [e["path"] for e in no_purpose.json()["errors"]] == ["purpose"]
    malformed = ask(district, "everything", world.purpose)
    assert malformed.status_code == 422
    assert "collection:<id>" in malformed.json()["errors"][0]["message"]
    assert district.get("/extracts/not-a-uuid").status_code == 422
    # A purpose the agreement does not name is the decision point's refusal.
    other_purpose = ask(district, source, "Chasing council tax arrears")
    assert other_purpose.status_code == 403
    assert "is not a purpose of the agreement" in detail(other_purpose)
    assert not Extract.objects.exists()


def test_no_agreement_in_force_no_extract(world, publisher, district) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    agreement_actions.terminate(
        by=signer_for(world.county), agreement=world.agreement, reason="The scheme has closed."
    )
    refused = ask(district, f"release:{release_id}", world.purpose)
    assert refused.status_code == 403
    assert "has been terminated" in detail(refused)
    gone = district.get(f"/extracts/{extract_id}/download")
    assert gone.status_code == 403
    assert "has been terminated" in detail(gone)
    assert district.get("/shared").json() == []
    assert publisher.get("/releases/outlets").json() == []


def test_a_suspended_agreement_stops_downloads_of_earlier_extracts(
    world, publisher, district
) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    suspend(world)
    before = AuditEvent.objects.filter(action="access.decided", outcome="deny").count()
    refused = district.get(f"/extracts/{extract_id}/download")
    assert refused.status_code == 403
    assert "is suspended" in detail(refused)
    asked = ask(district, f"release:{release_id}", world.purpose)
    assert asked.status_code == 403
    assert "is suspended" in detail(asked)
    # Both denials are in the audit chain, from the decision point.
    assert AuditEvent.objects.filter(action="access.decided", outcome="deny").count() == before + 2
    # The extract itself is still listed, with its state, for its record.
    assert district.get(f"/extracts/{extract_id}").json()["state"] == "ready"
    refused_publication = publish(publisher, world)
    assert refused_publication.status_code == 422  # no outlet: the agreement is not in force


# The API token's scope ---------------------------------------------------------------------------


def scoped_token(world: World, *, agreements=(), actions=()) -> str:
    membership = member(world.district, Role.ANALYST)
    _, secret = create_scoped_api_token(
        by=actor_for(membership.user, membership),
        membership=membership,
        name="Scoped",
        days=30,
        agreements=agreements,
        actions=actions,
    )
    return secret


def test_a_token_limited_to_another_agreement_may_not_use_this_one(
    world, publisher, district
) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    care_homes = active_care_home_agreement(world.county, world.district)
    elsewhere = Api(scoped_token(world, agreements=[care_homes]))
    refused = ask(elsewhere, f"release:{release_id}", world.purpose)
    assert refused.status_code == 403
    assert "This API token is not allowed to use the agreements" in detail(refused)
    # Nor download an extract made under it by a colleague.
    download = elsewhere.get(f"/extracts/{extract_id}/download")
    assert download.status_code == 403
    assert "This API token is not allowed" in detail(download)
    # It sees what is shared, marked as usable with this token or not.
    usable = {g["agreement"]["title"]: g["token_may_use"] for g in elsewhere.get("/shared").json()}
    assert usable == {world.agreement.title: False, care_homes.title: True}
    # A token limited to this agreement may.
    here = Api(scoped_token(world, agreements=[world.agreement], actions=["extract"]))
    assert ask(here, f"release:{release_id}", world.purpose).status_code == 202


def test_a_token_whose_actions_exclude_extract_may_not_take_one(world, publisher, district) -> None:
    release_id = released(publisher, world)
    extract_id = ready_extract(district, world, release_id)
    viewing = Api(scoped_token(world, actions=["view", "aggregate"]))
    refused = ask(viewing, f"release:{release_id}", world.purpose)
    assert refused.status_code == 403
    assert "This API token may not be used to take a record-level extract" in detail(refused)
    download = viewing.get(f"/extracts/{extract_id}/download")
    assert download.status_code == 403
    assert "may not be used to take a record-level extract" in detail(download)


def test_a_token_limited_to_other_agreements_publishes_only_under_them(world) -> None:
    county = member(world.county, Role.DATA_OFFICER)
    care_homes = active_care_home_agreement(world.county, world.district)
    _, secret = create_scoped_api_token(
        by=actor_for(county.user, county),
        membership=county,
        name="Weekly publication",
        agreements=[care_homes],
    )
    api = Api(secret)
    assert all(
        o["agreement"]["id"] != str(world.agreement.pk) for o in api.get("/releases/outlets").json()
    )
    refused = publish(api, world)
    assert refused.status_code == 403
    assert "This API token is not allowed to use the agreement" in detail(refused)
    assert not Release.objects.exists()
    # A token of the same person with no scope publishes.
    assert publish(Api(token_of(county)), world).status_code == 201
