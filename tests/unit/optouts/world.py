"""The opt-out tests' world: the linkage tests' (Maidstone links adult social care from Kent
and the ICB's shielded patient list, whose agreement applies the National Data Opt-out, as the
demo's does), with a national opt-out list kept by the ICB naming Ann (in both datasets) and a
number that is in no data, and a second ICB agreement that lets Maidstone take extracts of the
shielded patient list."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor
from accord.demo.sharing import set_up_sharing
from accord.optouts import actions
from accord.optouts.enums import ListKind
from accord.optouts.models import OptOutList
from accord.vault.models import VaultObject
from tests.unit.linkage.world import ANN, LinkWorld, build_link_world, nhs, sharing

NOWHERE = nhs(77)
OPERATOR = Actor.system("test operator")


@dataclass
class OptOutWorld:
    link: LinkWorld
    national: OptOutList
    extract_agreement: Agreement

    def compiled(self, which: str) -> VaultObject:
        collection = getattr(self.link, which)
        return collection.compilations.order_by("-number").first().data


def write_list(folder: Path, *numbers: str, heading: str = "NHS number") -> Path:
    path = folder / "list.csv"
    pl.DataFrame({heading: list(numbers)}).write_csv(path)
    return path


def build_optout_world(tmp_path: Path, *, direct_care: bool = False) -> OptOutWorld:
    link = build_link_world()
    national = actions.create_list(
        by=OPERATOR, name="National Data Opt-out", kind=ListKind.NATIONAL, owner=link.icb
    )
    national = actions.load_list(
        by=OPERATOR, opt_out_list=national, source=write_list(tmp_path, ANN, NOWHERE)
    )
    framework = Framework.objects.get(pk=link.shielded_agreement.framework_id)
    spec = dataclasses.replace(
        sharing("Shielded patient list extracts", "shielded-patient-list"),
        actions=("view", "extract", "link"),
    )

    def care(document):  # the purpose marked as individual care
        purposes = [p.model_copy(update={"is_direct_care": True}) for p in document.purposes]
        return document.model_copy(update={"purposes": purposes})

    extract_agreement = set_up_sharing(
        framework=framework,
        provider=link.icb,
        recipients=[link.district],
        sharing=spec,
        adjust=care if direct_care else None,
    )
    return OptOutWorld(link=link, national=national, extract_agreement=extract_agreement)
