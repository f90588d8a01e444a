"""An extract end to end, on the real vault, decision point and task: a district reads its own
area's rows of the county's housing benefit data, with identifiers pseudonymised."""

from __future__ import annotations

import io
import re
import zipfile

import polars as pl
import pytest

from accord.access import extracts, releases
from accord.access.exceptions import AccessDenied
from accord.access.models import ExtractState
from accord.organisations.enums import Role
from tests.factories import member_actor
from tests.tasks import run_queued_tasks

from .sharing import county_shares_housing_benefit, hb_frame

pytestmark = pytest.mark.django_db


def test_a_district_gets_its_own_rows_pseudonymised(settings) -> None:
    world = county_shares_housing_benefit()
    analyst = member_actor(world.district, Role.ANALYST)
    release = releases.publish(
        by=member_actor(world.county, Role.DATA_OFFICER),
        agreement=world.agreement,
        flow_id=world.flow_id,
        dataset_id=world.dataset_id,
        label="Housing benefit, November",
        frame=hb_frame(),
    )
    recipient = release.recipients.get(organisation=world.district)
    assert recipient.rows == 2

    extract = extracts.request_extract(
        by=analyst, source=release.data, purpose=world.purpose, fmt="csv", release=release
    )
    assert run_queued_tasks() == 1
    extract.refresh_from_db()
    assert extract.state == ExtractState.READY, extract.message
    download = extracts.open_extract(extract, by=analyst)
    content = b"".join(download.reader)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        frame = pl.read_csv(archive.read("extract.csv"), infer_schema=False)
    assert frame.height == 2
    assert set(frame["ltla_cd"]) == {world.district.gss_code}
    # Dates of birth leave as five-year age bands.
    assert all(re.fullmatch(r"\d+-\d+", band) for band in frame["date_of_birth"])
    assert all(len(v) == 64 for v in frame["nino"])
    recipient.refresh_from_db()
    assert recipient.received_at is not None


def test_another_council_gets_nothing() -> None:
    world = county_shares_housing_benefit()
    release = releases.publish(
        by=member_actor(world.county, Role.DATA_OFFICER),
        agreement=world.agreement,
        flow_id=world.flow_id,
        dataset_id=world.dataset_id,
        label="Housing benefit, November",
        frame=hb_frame(),
    )
    with pytest.raises(AccessDenied, match="No active data sharing agreement"):
        extracts.request_extract(
            by=member_actor(world.stranger, Role.ANALYST),
            source=release.data,
            purpose=world.purpose,
            fmt="csv",
        )
