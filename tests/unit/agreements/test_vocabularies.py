"""Bundled agreement vocabularies (accord.agreements.vocabularies).

The facts checked here come from shared/reference/agreements-and-law.md §1.3-§1.7: Art 6(1)(f)
is not for public authorities' tasks, Art 9(2)(h) needs DPA 2018 Sch 1 para 2, every Sch 1
Part 2 condition needs an appropriate policy document, and the Party.sector enum.
"""

from __future__ import annotations

import dataclasses
import json
import re

import pytest

from accord.agreements import vocabularies
from accord.agreements.vocabularies import (
    Entry,
    UnknownCode,
    UnknownVocabulary,
    Vocabulary,
    available,
    choices,
    load,
)

LEGISLATION = "https://www.legislation.gov.uk/"

# Vocabularies whose every entry is a provision of law, so must link to legislation.gov.uk.
LEGAL = ("article6", "article6_ea_conditions", "article9", "schedule1", "gateways")
# Vocabularies drawn (at least in part) from guidance, common law or the schema itself: an entry
# links to legislation.gov.uk when a provision exists, otherwise its legislation is null.
GUIDANCE = (
    "agreement_types",
    "confidentiality_bases",
    "dpia_high_risk_criteria",
    "handling_caveats",
    "party_roles",
    "prohibited_uses",
    "sectors",
    "signatory_roles",
)
ALL = LEGAL + GUIDANCE

CODE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
CURIE = re.compile(r"^[a-z][a-z0-9-]*:[A-Za-z0-9-]+$")


def test_the_bundled_vocabularies() -> None:
    assert set(available()) == set(ALL)
    assert available() == tuple(sorted(available()))


@pytest.mark.parametrize("name", ALL)
def test_each_vocabulary_loads_with_metadata(name: str) -> None:
    vocab = load(name)
    assert isinstance(vocab, Vocabulary)
    assert vocab.name == name
    assert vocab.title
    assert vocab.source
    assert vocab.licence
    assert len(vocab.entries) > 0
    assert load(name) is vocab  # cached


@pytest.mark.parametrize("name", ALL)
def test_codes_are_unique_and_stable_looking(name: str) -> None:
    raw = json.loads((vocabularies.DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    codes = [item["code"] for item in raw["entries"]]
    assert len(codes) == len(set(codes))
    assert load(name).codes() == frozenset(codes)
    for code in codes:
        assert CODE.match(code), code


@pytest.mark.parametrize("name", ALL)
def test_every_entry_has_label_description_and_a_valid_link(name: str) -> None:
    for entry in load(name).entries:
        assert entry.label.strip(), entry.code
        assert entry.description.strip(), entry.code
        assert len(entry.label) <= 80, entry.code
        if name in LEGAL:
            assert entry.legislation, entry.code
        if entry.legislation is not None:
            assert entry.legislation.startswith(LEGISLATION), entry.code
        guidance = entry.extra.get("guidance")
        if guidance is not None:
            assert guidance.startswith(("https://ico.org.uk/", "https://www.gov.uk/")), entry.code
        if entry.dpv is not None:
            assert CURIE.match(entry.dpv), entry.code


def test_legal_vocabularies_use_the_open_government_licence() -> None:
    for name in LEGAL:
        assert load(name).licence == "OGL-UK-3.0"


def test_entries_and_vocabularies_are_immutable() -> None:
    vocab = load("schedule1")
    entry = vocab.get("s1p2.18")
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.label = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.extra["part"] = 3  # type: ignore[index]
    assert isinstance(vocab.entries, tuple)


def test_get_and_unknown_codes() -> None:
    vocab = load("article6")
    assert vocab.get("6.1.e").label == "Public task"
    assert "6.1.e" in vocab
    assert "6.1.z" not in vocab
    with pytest.raises(KeyError, match=r"'article6' vocabulary has no code '6\.1\.z'"):
        vocab.get("6.1.z")
    with pytest.raises(UnknownCode):
        vocab.get("6.1.z")


def test_unknown_vocabulary() -> None:
    with pytest.raises(UnknownVocabulary, match="no agreement vocabulary called 'nonsense'"):
        load("nonsense")


def test_choices_for_django_forms() -> None:
    pairs = choices("article6")
    assert pairs[0] == ("6.1.a", "Consent")
    assert [code for code, _ in pairs] == [
        "6.1.a",
        "6.1.b",
        "6.1.c",
        "6.1.d",
        "6.1.e",
        "6.1.ea",
        "6.1.f",
    ]
    assert all(isinstance(label, str) and label for _, label in pairs)


def test_entry_item_access_reaches_extra_fields() -> None:
    entry = load("schedule1").get("s1p1.2")
    assert entry["part"] == 1
    assert entry["code"] == "s1p1.2"
    assert entry.get("missing", "fallback") == "fallback"
    assert isinstance(entry, Entry)


# --- Article 6 -------------------------------------------------------------------------------


def test_article6_public_authority_flags() -> None:
    vocab = load("article6")
    assert vocab.get("6.1.f").extra["not_for_public_authorities_tasks"] is True
    assert vocab.get("6.1.e").extra["public_task_only"] is True
    for code in vocab.codes() - {"6.1.f"}:
        assert vocab.get(code).extra["not_for_public_authorities_tasks"] is False
    assert vocab.get("6.1.e").dpv == "dpv:PublicTask"
    assert vocab.get("6.1.e").legislation == (
        "https://www.legislation.gov.uk/eur/2016/679/article/6"
    )


def test_recognised_legitimate_interest_needs_commencement_checked() -> None:
    ea = load("article6").get("6.1.ea")
    assert ea.extra["verify_commencement"] is True
    assert ea.extra["requires_condition_from"] == "article6_ea_conditions"
    assert load("article6_ea_conditions").codes() == {
        "annex1_p1_public_body_request",
        "annex1_p2_national_security",
        "annex1_p3_emergency",
        "annex1_p5_crime",
        "annex1_p6_safeguarding_vulnerable",
    }


# --- Article 9 and Schedule 1 ----------------------------------------------------------------


def test_article9_conditions_and_their_schedule1_requirements() -> None:
    vocab = load("article9")
    assert vocab.codes() == {f"9.2.{letter}" for letter in "abcdefghij"}
    schedule1 = load("schedule1")
    part2 = {e.code for e in schedule1.entries if e.extra["part"] == 2}
    assert vocab.get("9.2.b").extra["requires_schedule1"] == ("s1p1.1",)
    assert vocab.get("9.2.h").extra["requires_schedule1"] == ("s1p1.2",)
    assert vocab.get("9.2.i").extra["requires_schedule1"] == ("s1p1.3",)
    assert vocab.get("9.2.j").extra["requires_schedule1"] == ("s1p1.4",)
    assert set(vocab.get("9.2.g").extra["requires_schedule1"]) == part2
    for letter in "acdef":
        assert vocab.get(f"9.2.{letter}").extra["requires_schedule1"] == ()
    for entry in vocab.entries:
        assert set(entry.extra["requires_schedule1"]) <= schedule1.codes()
        assert entry.dpv == f"eu-gdpr:A9-2-{entry.code[-1]}"


def test_schedule1_codes_and_parts() -> None:
    vocab = load("schedule1")
    expected = (
        {f"s1p1.{n}" for n in range(1, 5)}
        | {f"s1p2.{n}" for n in range(6, 29)}
        | {f"s1p3.{n}" for n in range(29, 38)}
    )
    assert vocab.codes() == expected
    for entry in vocab.entries:
        assert entry.extra["part"] == int(entry.code[3])
        assert entry.extra["paragraph"] == int(entry.code.split(".")[1])
        assert entry.legislation == (
            "https://www.legislation.gov.uk/ukpga/2018/12/schedule/1/paragraph/"
            f"{entry.extra['paragraph']}"
        )


def test_appropriate_policy_document_rule() -> None:
    vocab = load("schedule1")
    for entry in vocab.entries:
        if entry.extra["part"] == 2:
            assert entry.extra["needs_appropriate_policy_document"] is True, entry.code
            assert entry.extra["verify"] is True, entry.code
    assert vocab.get("s1p1.1").extra["needs_appropriate_policy_document"] is True
    for code in ("s1p1.2", "s1p1.3", "s1p1.4"):
        assert vocab.get(code).extra["needs_appropriate_policy_document"] is False
    assert vocab.get("s1p2.18").label == "Safeguarding of children and individuals at risk"


# --- Gateways --------------------------------------------------------------------------------


def test_gateways_carry_the_fields_an_agreement_needs() -> None:
    vocab = load("gateways")
    for entry in vocab.entries:
        assert entry.extra["power_type"] in {"duty", "power", "implied_power"}, entry.code
        assert entry.extra["jurisdiction"], entry.code
        assert entry.extra["provision"], entry.code
        assert entry.extra["permitted_purpose"], entry.code
        assert entry.extra["url"] == entry.legislation, entry.code
        assert isinstance(entry.extra["verify"], bool), entry.code
    assert vocab.get("dea2017-s35").legislation == (
        "https://www.legislation.gov.uk/ukpga/2017/30/section/35"
    )
    assert vocab.get("lga1972-s111").extra["power_type"] == "implied_power"
    for code in ("dea2017-s48", "dea2017-s56", "dea2017-s64", "ca2004-s16e", "ssw2014-wales"):
        assert vocab.get(code).extra["verify"] is True, code
    for code in ("ea2005-s110", "la2011-s1", "care2014-s45", "hsca2012-s251b", "cda1998-s115"):
        assert code in vocab


# --- Other enumerations ----------------------------------------------------------------------


def test_sectors_match_the_schema_and_say_which_are_public() -> None:
    vocab = load("sectors")
    assert len(vocab) == 27
    assert vocab.get("commercial").extra["public_body"] is False
    assert vocab.get("vcs").extra["public_body"] is False
    assert vocab.get("london_borough").extra["public_body"] is True
    for code in ("housing_association", "care_provider", "university"):
        assert vocab.get(code).extra["public_body"] is False
    for code in ("police", "icb", "nhs_trust", "academy_trust", "gp_practice"):
        assert vocab.get(code).extra["public_body"] is True
    for entry in vocab.entries:
        assert isinstance(entry.extra["public_body"], bool)


@pytest.mark.parametrize(
    ("vocabulary", "literal"),
    [
        ("article6", "Article6"),
        ("article6_ea_conditions", "Article6EaCondition"),
        ("article9", "Article9"),
        ("schedule1", "Schedule1Condition"),
        ("confidentiality_bases", "ConfidentialityBasis"),
        ("sectors", "Sector"),
        ("party_roles", "PartyRole"),
        ("signatory_roles", "SignatureRole"),
        ("agreement_types", "AgreementType"),
        ("dpia_high_risk_criteria", "HighRiskCriterion"),
    ],
)
def test_the_vocabularies_and_the_agreement_document_offer_the_same_codes(
    vocabulary: str, literal: str
) -> None:
    """The pages offer a vocabulary's codes and the document accepts its Literal's: one list."""
    from typing import get_args

    from accord.agreements import document

    assert load(vocabulary).codes() == set(get_args(getattr(document, literal)))


def test_handling_caveats_for_the_non_personal_track() -> None:
    assert {
        "embargo",
        "foi_s22_future_publication",
        "foi_s43_commercial_interests",
        "commercially_sensitive",
        "official_sensitive",
    } == load("handling_caveats").codes()


def test_dpia_criteria_include_the_ico_high_risk_list() -> None:
    vocab = load("dpia_high_risk_criteria")
    assert {
        "data_matching",
        "large_scale_profiling",
        "denial_of_service",
        "invisible_processing",
    } <= vocab.codes()
    assert "multiple sources" in vocab.get("data_matching").description


def test_prohibited_uses_cover_the_common_restrictions() -> None:
    assert {
        "immigration_enforcement",
        "benefit_fraud_investigation",
        "marketing",
        "electoral_canvassing",
        "individual_credit_scoring",
        "commercial_resale",
        "law_enforcement_other_than_stated",
        "automated_decisions_without_review",
        "research_without_approval",
    } <= load("prohibited_uses").codes()


def test_role_and_agreement_dpv_mappings() -> None:
    assert load("party_roles").get("joint_controller").dpv == "dpv:JointDataControllers"
    assert load("signatory_roles").get("dpo").dpv == "dpv:DataProtectionOfficer"
    types = load("agreement_types")
    assert types.get("joint_controller_arrangement").dpv == "dpv:JointDataControllersAgreement"
    assert types.get("controller_processor_contract").dpv == "dpv:ControllerProcessorAgreement"
