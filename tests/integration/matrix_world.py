"""The world the authorization matrix runs in: one of everything each page and API operation
needs, made once per module through the real actions, and the people who try to use them.

Kent County Council (the provider) shares housing benefit data with two districts, Maidstone
(the recipient) and Canterbury (the other district), under an active agreement; it has published
a release, and Maidstone has taken an extract of its slice and downloaded it. Kent also runs a
care home status collection to which both districts send returns (Maidstone's accepted and
compiled, Canterbury's rejected with a problem report). Maidstone has asked Kent for data.
Hackney is a stranger to all of it. A second agreement (care home status, Kent to Maidstone)
exists only so that a token can be scoped to it.

Every object's name is distinctive, so a refusal's body can be searched for it (``NAMES``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.test import Client
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.access.models import Extract, ExtractState, Grant, Release
from accord.agreements import actions as agreement_actions
from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor
from accord.audit.checkpoints import create_checkpoint
from accord.audit.models import AuditCheckpoint
from accord.breaches import actions as breach_actions
from accord.breaches.models import Breach
from accord.data_requests import actions as request_actions
from accord.data_requests.models import DataRequest
from accord.demo.sharing import signer_for
from accord.linkage.models import LinkageJob
from accord.optouts.models import OptOutList
from accord.organisations import actions as organisation_actions
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import ApiToken, Invitation, Membership, Organisation, User
from accord.organisations.token_scopes import create_scoped_api_token
from accord.outcomes import actions as outcome_actions
from accord.outcomes.models import OutcomeReport
from accord.outputs import actions as output_actions
from accord.outputs.models import OutputDefinition
from accord.standards.queries import get_standard
from accord.submissions import actions as submission_actions
from accord.submissions.models import Collection, Submission
from accord.vault import actions as vault_actions
from accord.vault.models import ExtractCopy, VaultObject
from tests.factories import active_care_home_agreement, care_home_csv
from tests.tasks import run_queued_tasks
from tests.unit.access.sharing import PURPOSE, county_shares_housing_benefit, hb_frame
from tests.unit.outputs.test_flexible import hb_collection as flexible_hb_collection

from .helpers import person, sign_in

RELEASE_LABEL = "Matrix release: housing benefit, November"
RELEASE_CAVEATS = "Matrix caveat: November figures are provisional."
COLLECTION_NAME = "Matrix collection: care home status, Kent"
REQUEST_TITLE = "Matrix request: school transport eligibility"
SHREDDED_NAME = "Matrix shredded: old council tax list"
OUTCOME_NARRATIVE = "Matrix outcomes: 412 residents contacted."
OUTPUT_NAME = "Matrix output: care home status by area"
CARE_HOME = "care-home-daily-status"
LINKAGE_JOB = "Matrix linkage job"

# Text that must never appear in a refusal (403, 404, 401) or a sign-in redirect: the names and
# rows of the shared data the world holds. Agreement titles are not here: a party refused for
# the agreement's state is rightly told which agreement.
NAMES = (
    RELEASE_LABEL,
    RELEASE_CAVEATS,
    COLLECTION_NAME,
    REQUEST_TITLE,
    "Closed wing not counted",
    OUTCOME_NARRATIVE,
    OUTPUT_NAME,
    LINKAGE_JOB,
)
# Rows of data, which no refusal shows to anyone.
ROWS = ("QQ123456C", "QQ123457C", "ME14 1XX", "ME15 2YY", "HB1,P1")

# The people who try every route; "anonymous" holds no session or token.
PERSONAS = (
    "anonymous",
    "county_dpo",
    "county_analyst",
    "county_officer",
    "county_admin",
    "district_analyst",
    "district_dpo",
    "district_viewer",
    "other_analyst",
    "stranger",
    "staff",
)


@dataclass
class MatrixWorld:
    county: Organisation
    district: Organisation
    other_district: Organisation
    stranger: Organisation
    agreement: Agreement
    care_agreement: Agreement
    framework: Framework
    release: Release
    extract: Extract
    collection: Collection
    accepted: Submission
    rejected: Submission
    data_request: DataRequest
    draft: Agreement
    checkpoint: AuditCheckpoint
    shredded: VaultObject
    copy: ExtractCopy
    invitation: Invitation
    invitation_token: str
    extract_shredded: Extract
    release_shredded: Release
    extract_of_shredded: Extract
    collection_shredded: Collection
    # Maidstone's outcome report to Kent under the housing benefit agreement's report-back.
    outcome_report: OutcomeReport
    # The disclosure-controlled output of Kent's collection, returned to Maidstone (whose
    # return is in it), not to the other district (whose return was rejected).
    output_definition: OutputDefinition
    # Kent's housing benefit collection, compiled: what a flexible table counts.
    hb_collection: Collection
    # A linkage job of Maidstone's (made directly: its pages' checks of who, not its results).
    linkage_job: LinkageJob | None = None
    # A suspected breach Kent's DPO reported under the housing benefit agreement.
    breach: Breach | None = None
    # Kent's opt-out list (two people), which only Kent's DPO manages.
    optout_list: OptOutList | None = None
    users: dict[str, User] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    # The session cookie of each signed-in persona, copied into a fresh client for each row.
    sessions: dict[str, str] = field(default_factory=dict)
    # API token secrets by name.
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def flow_id(self) -> str:
        return self.agreement.current.document["flows"][0]["id"]

    @property
    def dataset_id(self) -> str:
        return self.agreement.current.document["flows"][0]["dataset_ids"][0]

    @property
    def outlet(self) -> str:
        return f"{self.agreement.pk}|{self.flow_id}|{self.dataset_id}"

    def client(self, persona: str) -> Client:
        """A new client carrying ``persona``'s session (so a row that signs out or switches
        organisation changes nothing for the next row: the database part is rolled back)."""
        client = Client()
        if persona != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[persona]
        return client


def _yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def _signed_in(world: MatrixWorld, name: str, user: User, organisation: Organisation | None):
    client = Client()
    sign_in(client, user)
    if organisation is not None:
        response = client.post("/organisation/switch/", {"organisation": str(organisation.pk)})
        assert response.status_code == 302
    world.sessions[name] = client.cookies[settings.SESSION_COOKIE_NAME].value


def build_world() -> MatrixWorld:
    hb = county_shares_housing_benefit()
    county, district, other, stranger = hb.county, hb.district, hb.other_district, hb.stranger
    framework = Framework.objects.get(slug="test-accord")

    # People ------------------------------------------------------------------------------------
    roles: dict[str, tuple[Organisation | None, tuple[Role, ...]]] = {
        "county_dpo": (county, (Role.DPO,)),
        "county_analyst": (county, (Role.ANALYST,)),
        "county_officer": (county, (Role.DATA_OFFICER,)),
        "county_admin": (county, (Role.ORGANISATION_ADMIN,)),
        "district_analyst": (district, (Role.ANALYST,)),
        "district_dpo": (district, (Role.DPO, Role.SENIOR_MANAGER)),
        "district_viewer": (district, (Role.VIEWER,)),
        "other_analyst": (other, (Role.ANALYST,)),
        # Every role, so that only being the wrong organisation can explain a refusal.
        "stranger": (stranger, tuple(Role)),
    }
    users: dict[str, User] = {}
    memberships: dict[str, Membership] = {}
    for name, (organisation, held) in roles.items():
        users[name] = person(organisation, *held)
        memberships[name] = Membership.objects.get(user=users[name], organisation=organisation)
    users["staff"] = person(None, is_staff=True, is_superuser=True)

    def actor(name: str) -> Actor:
        return actor_for(users[name], memberships[name])

    # Sharing: a release, an extract of Maidstone's slice, built and downloaded once -------------
    from accord.access import releases

    release = releases.publish(
        by=actor("county_officer"),
        agreement=hb.agreement,
        flow_id=hb.flow_id,
        dataset_id=hb.dataset_id,
        label=RELEASE_LABEL,
        frame=hb_frame(),
        caveats=RELEASE_CAVEATS,
    )
    from accord.access.extracts import request_extract

    extract = request_extract(
        by=actor("district_analyst"),
        source=release.data,
        purpose=PURPOSE,
        fmt="csv",
        release=release,
    )
    run_queued_tasks()
    extract.refresh_from_db()
    assert extract.state == ExtractState.READY, extract.message

    # Deleted data: a release whose extract's data was shredded, a release itself shredded
    # (after an extract of it was built), and a collection whose compiled data was shredded.
    # Shredding destroys key files outside the database, so it happens here, never in a row.
    def built_extract(label: str) -> tuple[Release, Extract]:
        made = releases.publish(
            by=actor("county_officer"),
            agreement=hb.agreement,
            flow_id=hb.flow_id,
            dataset_id=hb.dataset_id,
            label=label,
            frame=hb_frame(),
        )
        taken = request_extract(
            by=actor("district_analyst"), source=made.data, purpose=PURPOSE, fmt="csv", release=made
        )
        run_queued_tasks()
        taken.refresh_from_db()
        assert taken.state == ExtractState.READY, taken.message
        return made, taken

    _, extract_shredded = built_extract("Matrix release two")
    vault_actions.crypto_shred(
        by=Actor.system("test"), obj=extract_shredded.data, reason="The copy's time was up."
    )
    release_shredded, extract_of_shredded = built_extract("Matrix release three")
    vault_actions.crypto_shred(
        by=Actor.system("test"), obj=release_shredded.data, reason="The release was withdrawn."
    )

    # A second agreement, so a token can be scoped to something other than the housing benefit.
    care_agreement = active_care_home_agreement(county, district)

    # A collection Kent runs, with a return from each district --------------------------------
    collection = submission_actions.create_collection(
        by=actor("county_analyst"),
        slug="matrix-care-homes",
        name=COLLECTION_NAME,
        standard=get_standard(CARE_HOME),
        schedule="daily",
        starts_on=timezone.localdate() - dt.timedelta(days=3),
        deadline_days=0,
        deadline_time=dt.time(12, 0),
        framework=framework,
    )
    for organisation in (district, other):
        submission_actions.add_contributor(
            by=actor("county_analyst"), collection=collection, organisation=organisation
        )
    accepted = submission_actions.receive(
        by=actor("district_analyst"),
        collection=collection,
        period=_yesterday(),
        filename="status.csv",
        source=care_home_csv({"report_date": _yesterday().isoformat(), "cqc_provider_id": ""}),
        caveats="Closed wing not counted.",
    )
    rejected = submission_actions.receive(
        by=actor("other_analyst"),
        collection=collection,
        period=_yesterday(),
        filename="status.csv",
        source=care_home_csv(
            {
                "report_date": _yesterday().isoformat(),
                "postcode": "ME14 1XX9",
                "registered_beds": "forty",
            }
        ),
    )
    doomed = submission_actions.create_collection(
        by=actor("county_analyst"),
        slug="matrix-doomed",
        name="Matrix collection two",
        standard=get_standard(CARE_HOME),
        schedule="daily",
        starts_on=timezone.localdate() - dt.timedelta(days=3),
        deadline_days=0,
        deadline_time=dt.time(12, 0),
        framework=framework,
    )
    submission_actions.add_contributor(
        by=actor("county_analyst"), collection=doomed, organisation=district
    )
    submission_actions.receive(
        by=actor("district_analyst"),
        collection=doomed,
        period=_yesterday(),
        filename="status.csv",
        source=care_home_csv({"report_date": _yesterday().isoformat()}),
    )
    run_queued_tasks()
    from accord.submissions.models import CompiledDataset

    compiled = CompiledDataset.objects.filter(collection=doomed)
    assert compiled.exists()
    for each in compiled:
        vault_actions.crypto_shred(
            by=Actor.system("test"), obj=each.data, reason="The collection's data was deleted."
        )
    accepted.refresh_from_db()
    rejected.refresh_from_db()
    assert accepted.state == "accepted", accepted.state
    assert rejected.state == "rejected", rejected.state

    # A data request from Maidstone to Kent, and a draft agreement of Maidstone's ---------------
    data_request = request_actions.post(
        by=actor("district_dpo"),
        title=REQUEST_TITLE,
        question="Which pupils are eligible for free transport?",
        reason="To plan next year's routes.",
        holders=[county],
        frequency="one_off",
        data_description="Pupils' addresses and school places.",
    )
    draft = agreement_actions.draft_from_framework(
        by=actor("district_dpo"),
        framework=framework,
        agreement_type="data_disclosure_agreement",
        provider=county,
        recipient=district,
        title="Matrix draft: library loans",
        standards=[get_standard(CARE_HOME)],
        frequency="monthly",
    )

    # An output of Kent's collection, made from Maidstone's accepted return -------------------
    output_definition = output_actions.define_output(
        by=actor("county_analyst"),
        collection=collection,
        slug="matrix-care-home-output",
        name=OUTPUT_NAME,
        recipe="care-home-status",
    )
    run_queued_tasks()
    assert output_definition.outputs.filter(state="ready").exists()

    hb_collection = flexible_hb_collection(hb)

    # Maidstone reports the outcomes it committed to (the agreement's report-back) ---------------
    outcome_report = outcome_actions.report_outcomes(
        by=actor("district_analyst"),
        agreement=hb.agreement,
        commitment_index=0,
        period=(timezone.localdate(), timezone.localdate()),
        figures=[{"measure": "Residents contacted", "value": 412}],
        narrative=OUTCOME_NARRATIVE,
    )

    # Audit and vault odds and ends -------------------------------------------------------------
    checkpoint = create_checkpoint(by=Actor.system("test"))
    shredded = vault_actions.store(
        by=Actor.task("validation"),
        organisation=county,
        kind=ResourceKind.SUBMISSION,
        name=SHREDDED_NAME,
        source=[b"a,b\n1,2\n"],
    )
    shredded = vault_actions.crypto_shred(
        by=Actor.system("test"), obj=shredded, reason="Its retention period ended."
    )
    invitation, invitation_token = organisation_actions.invite_member(
        by=actor("county_admin"),
        organisation=county,
        email="invitee@kent.example",
        roles=[Role.VIEWER],
    )

    world = MatrixWorld(
        county=county,
        district=district,
        other_district=other,
        stranger=stranger,
        agreement=hb.agreement,
        care_agreement=care_agreement,
        framework=framework,
        release=release,
        extract=extract,
        collection=collection,
        accepted=accepted,
        rejected=rejected,
        data_request=data_request,
        draft=draft,
        checkpoint=checkpoint,
        shredded=shredded,
        copy=ExtractCopy(),  # set below, once Maidstone has downloaded the extract
        invitation=invitation,
        invitation_token=invitation_token,
        extract_shredded=extract_shredded,
        release_shredded=release_shredded,
        extract_of_shredded=extract_of_shredded,
        collection_shredded=doomed,
        outcome_report=outcome_report,
        output_definition=output_definition,
        hb_collection=hb_collection,
        users=users,
        memberships=memberships,
    )

    # API tokens --------------------------------------------------------------------------------
    for name in ("county_dpo", "county_analyst", "county_officer", "county_admin"):
        world.tokens[name] = _token(memberships[name])
    for name in ("district_analyst", "district_dpo", "district_viewer", "other_analyst"):
        world.tokens[name] = _token(memberships[name])
    world.tokens["stranger"] = _token(memberships["stranger"])
    revoked = _token(memberships["district_analyst"], "Revoked system")
    organisation_actions.revoke_api_token(
        by=actor("district_analyst"),
        token=ApiToken.objects.get(secret_hash=ApiToken.hash_secret(revoked)),
    )
    world.tokens["revoked"] = revoked
    _, scoped = create_scoped_api_token(
        by=actor("district_analyst"),
        membership=memberships["district_analyst"],
        name="Care homes only",
        agreements=[care_agreement],
    )
    world.tokens["scoped_other_agreement"] = scoped

    # Sessions last: signing in writes to the sessions table like everything else here.
    for name, user in users.items():
        organisation = roles[name][0] if name in roles else None
        _signed_in(world, name, user, organisation)

    # Maidstone downloads its extract once, which records the copy it now holds.
    response = world.client("district_analyst").get(f"/extracts/{extract.pk}/download/")
    assert response.status_code == 200, response.status_code
    b"".join(response.streaming_content)
    world.copy = ExtractCopy.objects.get(recipient=district, object=extract.data)
    world.linkage_job = _linkage_job(memberships["district_analyst"], hb_collection)
    world.breach = breach_actions.report(
        by=actor("county_dpo"),
        agreement=world.agreement,
        what_happened="Matrix breach: a file was sent to the wrong address.",
        discovered_at=timezone.now() - dt.timedelta(hours=1),
        data=[world.agreement.current.document["datasets"][0]["id"]],
    )
    world.optout_list = _optout_list(county)
    return world


def _optout_list(owner: Organisation) -> OptOutList:
    import tempfile
    from pathlib import Path

    from accord.optouts import actions as optout_actions
    from accord.optouts.enums import ListKind

    made = optout_actions.create_list(
        by=Actor.system("test"), name="Kent objections", kind=ListKind.LOCAL, owner=owner
    )
    from accord.standards.identifiers import nhs_check_digit

    bodies = (f"{999_000_000 + n:09d}" for n in range(111, 200))
    numbers = [b + str(d) for b in bodies if (d := nhs_check_digit(b)) is not None][:2]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "list.csv"
        path.write_text("NHS number\n" + "\n".join(numbers) + "\n")
        return optout_actions.load_list(by=Actor.system("test"), opt_out_list=made, source=path)


def _linkage_job(membership: Membership, collection: Collection) -> LinkageJob:
    from accord.linkage.engine import template

    return LinkageJob.objects.create(
        organisation=membership.organisation,
        name=LINKAGE_JOB,
        entity="person",
        purpose="Matrix linkage purpose",
        sources=[
            {
                "ref": f"collection:{collection.pk}",
                "name": collection.name,
                "standard": collection.standard_slug,
            }
        ],
        model=template("person").to_json(),
        created_by=membership.user,
        created_by_label=membership.user.email,
        state="done",
    )


def _token(membership: Membership, name: str = "Matrix system") -> str:
    _, secret = organisation_actions.create_api_token(
        by=actor_for(membership.user, membership), membership=membership, name=name, days=90
    )
    return secret


# Changes a row may make before its request (inside its own rolled-back transaction) ----------


def suspend(world: MatrixWorld) -> None:
    agreement_actions.suspend(
        by=signer_for(world.county), agreement=world.agreement, reason="A breach is looked at"
    )


def terminate(world: MatrixWorld) -> None:
    agreement_actions.terminate(
        by=signer_for(world.county), agreement=world.agreement, reason="The scheme has closed"
    )


def expire(world: MatrixWorld) -> None:
    """The grant's end date has passed (the rows are changed directly: the agreement's own
    term runs for years)."""
    Grant.objects.filter(agreement=world.agreement).update(
        ends_on=timezone.localdate() - dt.timedelta(days=1)
    )


def not_yet_started(world: MatrixWorld) -> None:
    Grant.objects.filter(agreement=world.agreement).update(
        starts_on=timezone.localdate() + dt.timedelta(days=30)
    )


def no_agreement(world: MatrixWorld) -> None:
    """Maidstone's grant is gone, as if no agreement had ever shared the data with it."""
    Grant.objects.filter(agreement=world.agreement, recipient=world.district).delete()


SITUATIONS = {
    "suspended": suspend,
    "terminated": terminate,
    "expired": expire,
    "not_started": not_yet_started,
    "no_agreement": no_agreement,
}
