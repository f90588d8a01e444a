"""The demo's National Data Opt-out: a small synthetic list kept by NHS Kent and Medway ICB.

It names a few people on the demo's shielded patient list and in Kent's adult social care
services, and a few synthetic NHS numbers (999 range, valid check digits) that appear nowhere
else. The shielded patient list's agreement with Maidstone applies the opt-out, so those
patients are removed before Maidstone links the list into its single view; adult social care's
agreement does not, so the people on it stay there (as the law has it: the opt-out applies
where the agreement says it does).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl
from django.utils import timezone

from accord.optouts import actions
from accord.optouts.enums import ListKind
from accord.optouts.models import OptOutList
from accord.organisations.models import Organisation
from accord.submissions import periods
from accord.vault.parquet import private_workspace

from . import vulnerability

LIST_NAME = "National Data Opt-out (demo)"
OWNER = "kmicb"
# How many people of each source are on the list, and how many appear in no demo data.
FROM_SHIELDED = 4
FROM_SOCIAL_CARE = 2
ELSEWHERE = 3


def demo_numbers() -> pl.Series:
    """The list's NHS numbers: the same every time for the same month's extracts."""
    this_month = periods.start_of("monthly", timezone.localdate())
    shielded = (
        vulnerability.shielded_patient_list(this_month)
        .get_column("nhs_number")
        .drop_nulls()
        .str.replace_all(" ", "")
        .unique()
        .sort()
    )
    care = (
        vulnerability.adult_social_care_services(this_month)
        .get_column("nhs_number")
        .drop_nulls()
        .str.replace_all(" ", "")
        .unique()
        .sort()
    )
    step = max(shielded.len() // FROM_SHIELDED, 1)
    chosen = [*shielded.gather_every(step).head(FROM_SHIELDED), *care.tail(FROM_SOCIAL_CARE)]
    chosen += list(vulnerability.nhs_numbers(ELSEWHERE, salt=424_242))
    return pl.Series("nhs_number", chosen).unique(maintain_order=True)


def store_demo_optouts(organisations: Mapping[str, Organisation]) -> list[str]:
    """The demo's opt-out list, made and loaded where missing; say what was created."""
    from .loader import demo_actor  # the loader imports this module

    created: list[str] = []
    opt_out_list = OptOutList.objects.filter(name=LIST_NAME).first()
    if opt_out_list is None:
        opt_out_list = actions.create_list(
            by=demo_actor(),
            name=LIST_NAME,
            kind=ListKind.NATIONAL,
            owner=organisations[OWNER],
            description="Synthetic: people who have registered a National Data Opt-out.",
        )
        created.append(f"opt-out list {LIST_NAME}")
    if opt_out_list.data_id is None:
        with private_workspace() as folder:
            path = folder / "opt-outs.csv"
            pl.DataFrame({"NHS number": demo_numbers()}).write_csv(path)
            actions.load_list(by=demo_actor(), opt_out_list=opt_out_list, source=path)
        created.append(f"{LIST_NAME}: version 1")
    return created
