"""Agreement documents out and in: the printable page, canonical JSON, JSON-LD, the public
JSON Schema, what changed between versions, and importing canonical JSON as a new draft.

Reading is for members of a party organisation in any role; outsiders get "page not found".
Importing is for drafting roles; bad input gets a specific, plain-English error."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accord.agreements import actions
from accord.agreements.document import DataSharingAgreement, from_canonical_json
from accord.agreements.models import Agreement, AgreementVersion
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import MembershipFactory, OrganisationFactory
from tests.unit.agreements.builders import QUIET_DAY, london_fsm

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    person,
    signed_in_client,
    texts,
)

IMPORT = "/agreements/import/"


@pytest.fixture
def boroughs() -> tuple[Organisation, Organisation]:
    hackney = OrganisationFactory(
        name="London Borough of Hackney", sector=Sector.LONDON_BOROUGH, gss_code="E09000012"
    )
    islington = OrganisationFactory(
        name="London Borough of Islington", sector=Sector.LONDON_BOROUGH, gss_code="E09000019"
    )
    return hackney, islington


def _draft(hackney: Organisation, islington: Organisation, document=None) -> Agreement:
    membership = MembershipFactory(organisation=hackney, roles=[str(Role.DATA_OFFICER)])
    return actions.start_draft(
        by=actor_for(membership.user, membership),
        document=document or london_fsm(),
        parties={"lbh": hackney, "lbi": islington},
        today=QUIET_DAY,
    )


@pytest.fixture
def agreement(boroughs) -> Agreement:
    return _draft(*boroughs)


def reading_urls(agreement: Agreement) -> list[str]:
    base = f"/agreements/{agreement.pk}"
    return [
        f"{base}/document/",
        f"{base}/agreement.json",
        f"{base}/agreement.jsonld",
        f"{base}/changes/",
    ]


# --- Who may read -----------------------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(agreement) -> None:
    client = Client()
    for url in [*reading_urls(agreement), IMPORT]:
        assert_redirects_to_sign_in(client.get(url), url)


def test_members_of_other_organisations_get_page_not_found(agreement, other_council) -> None:
    client = signed_in_client(person(other_council, Role.ORGANISATION_ADMIN))
    for url in reading_urls(agreement):
        assert_not_found_page(client.get(url))


def test_an_unknown_agreement_is_not_found(boroughs) -> None:
    hackney, _ = boroughs
    client = signed_in_client(person(hackney, Role.VIEWER))
    assert_not_found_page(client.get("/agreements/00000000-0000-4000-8000-000000000000/document/"))


def test_a_viewer_of_either_party_reads_every_format(boroughs, agreement) -> None:
    for organisation in boroughs:
        client = signed_in_client(person(organisation, Role.VIEWER))
        for url in reading_urls(agreement):
            assert client.get(url).status_code == 200, url


def test_the_printable_page_shows_every_section_in_words(boroughs, agreement) -> None:
    client = signed_in_client(person(boroughs[0], Role.VIEWER))
    page = client.get(f"/agreements/{agreement.pk}/document/")
    text = texts(page)
    version = agreement.current
    assert "Cross-borough FSM eligibility sharing" in text
    assert version.digest in text
    assert "Version 1 on Accord" in text
    # Vocabulary labels with links to the law, not bare codes
    assert "Public task (6.1.e)" in text
    assert 'href="https://www.legislation.gov.uk/eur/2016/679/article/6"' in text
    assert "Information sharing protocol" in text
    # Names for ids, fields as a table, retention and signatures
    assert "From London Borough of Hackney to London Borough of Islington" in text
    assert "universal_credit_flag" in text
    assert "1 year (P1Y)" in text
    assert "J King" in text
    assert "Data Protection Officer" in text
    for section in ("scope", "parties", "purposes", "datasets", "flows", "legal-basis"):
        assert f'id="{section}"' in text
    for section in ("retention", "security", "onward-sharing", "dpia", "rights", "signatures"):
        assert f'id="{section}"' in text
    # Downloads are links the print-out leaves out
    assert 'class="govuk-list govuk-!-display-none-print" id="downloads"' in text
    assert "style=" not in text  # the CSP allows no inline styles


def test_findings_are_shown_at_the_top(boroughs) -> None:
    document = london_fsm().model_copy(update={"signatories": []})
    unsigned = _draft(*boroughs, document=document)
    client = signed_in_client(person(boroughs[1], Role.VIEWER))
    text = texts(client.get(f"/agreements/{unsigned.pk}/document/"))
    assert 'id="blockers"' in text
    assert text.index('id="findings"') < text.index('id="scope"')
    assert "Nobody has signed this version yet." in text


def test_canonical_json_downloads_the_current_version(boroughs, agreement) -> None:
    client = signed_in_client(person(boroughs[0], Role.VIEWER))
    response = client.get(f"/agreements/{agreement.pk}/agreement.json")
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="agreement-{agreement.pk}-v1.json"'
    )
    downloaded = from_canonical_json(response.content.decode())
    assert downloaded == actions.document_of(agreement)


def test_jsonld_is_an_odrl_policy(boroughs, agreement) -> None:
    client = signed_in_client(person(boroughs[1], Role.VIEWER))
    response = client.get(f"/agreements/{agreement.pk}/agreement.jsonld")
    assert response["Content-Type"].startswith("application/ld+json")
    data = json.loads(response.content)
    assert "@context" in data
    assert "@graph" in data


def test_the_schema_is_public() -> None:
    response = Client().get("/agreements/schema.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = json.loads(response.content)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "parties" in schema["properties"]


# --- What changed -----------------------------------------------------------------------------


def test_a_first_version_has_nothing_to_compare_with(boroughs, agreement) -> None:
    client = signed_in_client(person(boroughs[0], Role.VIEWER))
    text = texts(client.get(f"/agreements/{agreement.pk}/changes/"))
    assert "There is no earlier version of this agreement to compare with." in text


def test_changes_from_the_previous_version(boroughs, agreement) -> None:
    old = actions.document_of(agreement)
    datasets = [
        dataset.model_copy(update={"fields": [*dataset.fields[:2], *dataset.fields[3:]]})
        if dataset.id == "lbh-fsm"
        else dataset
        for dataset in old.datasets
    ]
    legal_basis = old.legal_basis.model_copy(update={"article6": ["6.1.e", "6.1.c"]})
    new = old.model_copy(update={"datasets": datasets, "legal_basis": legal_basis})
    AgreementVersion.objects.create(
        agreement=agreement,
        number=2,
        document=new.model_dump(mode="json", by_alias=True),
        digest="0" * 64,
        created_by="test",
    )
    client = signed_in_client(person(boroughs[1], Role.VIEWER))
    text = texts(client.get(f"/agreements/{agreement.pk}/changes/"))
    assert "Version 2 compared with version 1" in text
    assert "2 changes: 1 added, 1 removed, 0 changed." in text
    assert "Dataset &#x27;Hackney FSM eligibility&#x27;, field &#x27;date_of_birth&#x27;" in text
    assert "Legal obligation (6.1.c)" in text


def test_changes_from_the_agreement_an_amendment_names(boroughs, agreement) -> None:
    amended = london_fsm().model_copy(
        update={"parent_agreement_id": f"urn:uuid:{agreement.pk}", "title": "FSM sharing v2"}
    )
    amendment = _draft(*boroughs, document=amended)
    client = signed_in_client(person(boroughs[0], Role.VIEWER))
    text = texts(client.get(f"/agreements/{amendment.pk}/changes/"))
    assert "the agreement it amends" in text
    assert "Title" in text
    assert "FSM sharing v2" in text


def test_changes_of_an_amendment_started_on_accord(boroughs) -> None:
    hackney, islington = boroughs
    dpo_membership = MembershipFactory(
        organisation=hackney, roles=[str(Role.DPO), str(Role.SENIOR_MANAGER)]
    )
    dpo = actor_for(dpo_membership.user, dpo_membership)
    other_membership = MembershipFactory(organisation=islington, roles=[str(Role.DPO)])
    made = actions.start_draft(
        by=dpo,
        document=london_fsm().model_copy(update={"signatories": []}),
        parties={"lbh": hackney, "lbi": islington},
        today=QUIET_DAY,
    )
    actions.submit(by=dpo, agreement=made, today=QUIET_DAY)
    actions.sign(by=dpo, agreement=made, role="dpo", today=QUIET_DAY)
    actions.sign(by=dpo, agreement=made, role="senior_manager", today=QUIET_DAY)
    other = actor_for(other_membership.user, other_membership)
    actions.sign(by=other, agreement=made, role="dpo", today=QUIET_DAY)
    actions.activate(by=dpo, agreement=made, today=QUIET_DAY)
    amendment = actions.start_amendment(by=dpo, agreement=made, today=QUIET_DAY)
    client = signed_in_client(person(islington, Role.VIEWER))
    text = texts(client.get(f"/agreements/{amendment.pk}/changes/"))
    assert "the agreement it amends" in text
    assert "1 change: 0 added, 0 removed, 1 changed." in text
    assert "from “1.0.0”" not in text  # values are in their own cells
    assert "“1.1.0”" in text


def test_a_parent_the_reader_cannot_see_is_not_compared(boroughs, agreement) -> None:
    """An amendment whose parent is between other organisations shows nothing of it."""
    other = OrganisationFactory(sector=Sector.LONDON_BOROUGH)
    amended = london_fsm().model_copy(update={"parent_agreement_id": str(agreement.pk)})
    membership = MembershipFactory(organisation=other, roles=[str(Role.DATA_OFFICER)])
    amendment = actions.start_draft(
        by=actor_for(membership.user, membership),
        document=amended,
        parties={"lbh": other, "lbi": OrganisationFactory(sector=Sector.LONDON_BOROUGH)},
        today=QUIET_DAY,
    )
    client = signed_in_client(person(other, Role.VIEWER))
    text = texts(client.get(f"/agreements/{amendment.pk}/changes/"))
    assert "There is no earlier version" in text
    assert "Cross-borough" not in text.split('id="no-earlier"')[1]


# --- Importing --------------------------------------------------------------------------------


def _canonical(document: DataSharingAgreement) -> str:
    from accord.agreements.document import to_canonical_json

    return to_canonical_json(document)


def test_a_viewer_cannot_import(boroughs) -> None:
    client = signed_in_client(person(boroughs[0], Role.VIEWER))
    assert_forbidden_page(client.get(IMPORT), reason="Only people who draft agreements")
    response = client.post(IMPORT, {"text": _canonical(london_fsm())})
    assert_forbidden_page(response)
    assert Agreement.objects.count() == 0


def test_someone_with_no_organisation_cannot_import() -> None:
    client = signed_in_client(person(None))
    assert_forbidden_page(client.get(IMPORT))


def test_round_trip_export_then_import(boroughs, agreement) -> None:
    hackney, _ = boroughs
    client = signed_in_client(person(hackney, Role.DATA_OFFICER))
    assert client.get(IMPORT).status_code == 200
    exported = client.get(f"/agreements/{agreement.pk}/agreement.json").content
    upload = SimpleUploadedFile("agreement.json", exported, content_type="application/json")
    response = client.post(IMPORT, {"file": upload})
    assert response.status_code == 302, texts(response)[:3000]
    new = Agreement.objects.exclude(pk=agreement.pk).get()
    assert response.url == f"/agreements/{new.pk}/document/?imported=1"
    assert {p.organisation for p in new.parties.all()} == set(boroughs)
    original, imported = actions.document_of(agreement), actions.document_of(new)
    same = {"id", "status", "signatories"}
    assert imported.model_dump(exclude=same) == original.model_dump(exclude=same)
    assert imported.id == str(new.pk)
    assert imported.status == "draft"
    assert imported.signatories == []
    assert "imported as a new draft" in texts(client.get(response.url))


def test_pasted_json_that_is_not_json_says_where(boroughs) -> None:
    client = signed_in_client(person(boroughs[0], Role.DPO))
    response = client.post(IMPORT, {"text": '{"id": "x",\n "title": }'})
    assert response.status_code == 422
    text = texts(response)
    assert "govuk-error-summary" in text
    assert "This is not valid JSON: Expecting value at line 2, column 11" in text
    assert "Traceback" not in text
    assert Agreement.objects.count() == 0


def test_json_that_is_not_an_agreement_names_each_field(boroughs) -> None:
    raw = json.loads(_canonical(london_fsm()))
    raw["datasets"][0]["granularity"] = "everything"
    raw["datasets"][0]["fields"][1]["colour"] = "blue"
    raw["version"] = "one"
    del raw["agreement_type"]
    client = signed_in_client(person(boroughs[0], Role.DATA_OFFICER))
    response = client.post(IMPORT, {"text": json.dumps(raw)})
    assert response.status_code == 422
    text = texts(response)
    assert "datasets[lbh-fsm].granularity cannot be &#x27;everything&#x27;" in text
    assert "datasets[lbh-fsm].fields[child_name].colour is not part of the agreement format" in (
        text
    )
    assert "version: &#x27;one&#x27; is not a semantic version such as 1.0.0" in text
    assert "agreement_type is missing" in text
    assert "Traceback" not in text


def test_a_list_is_not_an_agreement(boroughs) -> None:
    client = signed_in_client(person(boroughs[0], Role.DATA_OFFICER))
    response = client.post(IMPORT, {"text": "[1, 2]"})
    assert "The JSON must be one agreement" in texts(response)


def test_a_party_with_no_organisation_on_accord_is_named(boroughs) -> None:
    raw = json.loads(_canonical(london_fsm()))
    raw["parties"][1]["org_identifiers"] = [{"scheme": "gss", "value": "E09000033"}]
    raw["parties"][1]["name"] = "City of Westminster"
    client = signed_in_client(person(boroughs[0], Role.DATA_OFFICER))
    response = client.post(IMPORT, {"text": json.dumps(raw)})
    assert response.status_code == 422
    text = texts(response)
    assert "Party “City of Westminster” (lbi) does not match any organisation on Accord" in text
    assert "GSS E09000033" in text
    assert Agreement.objects.count() == 0


def test_parties_are_matched_by_name_when_no_identifier_matches(boroughs) -> None:
    raw = json.loads(_canonical(london_fsm()))
    for party in raw["parties"]:
        party["org_identifiers"] = []
        party["name"] = party["name"].upper()
    client = signed_in_client(person(boroughs[1], Role.ANALYST))
    response = client.post(IMPORT, {"text": json.dumps(raw)})
    assert response.status_code == 302, texts(response)[:3000]
    assert {p.organisation for p in Agreement.objects.get().parties.all()} == set(boroughs)


def test_the_importers_organisation_must_be_a_party(boroughs, other_council) -> None:
    client = signed_in_client(person(other_council, Role.DATA_OFFICER))
    response = client.post(IMPORT, {"text": _canonical(london_fsm())})
    assert response.status_code == 422
    assert "Kent County Council is not one of the parties to this agreement" in texts(response)
    assert Agreement.objects.count() == 0


def test_an_upload_over_one_megabyte_is_refused(boroughs) -> None:
    client = signed_in_client(person(boroughs[0], Role.DATA_OFFICER))
    big = SimpleUploadedFile("big.json", b" " * (1024 * 1024 + 1))
    response = client.post(IMPORT, {"file": big})
    assert response.status_code == 422
    assert "The file must be 1 MB or smaller" in texts(response)


def test_nothing_given_asks_for_a_file(boroughs) -> None:
    client = signed_in_client(person(boroughs[0], Role.DATA_OFFICER))
    response = client.post(IMPORT, {})
    assert response.status_code == 422
    assert "Upload the agreement&#x27;s JSON file, or paste its JSON below" in texts(response)
