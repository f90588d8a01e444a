"""The drafting steps: each reads its answers from a draft and writes them back into a copy,
and the findings shown on a step are the ones it can fix."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements import rules
from accord.agreements.frameworks import Clauses, PartyOrganisation, Prefill, draft_document
from accord.standards.queries import get_standard
from accord.web import drafting

pytestmark = pytest.mark.django_db

START = dt.date(2026, 11, 21)


def care_home_draft(agreement_type: str = "data_disclosure_agreement"):
    return draft_document(
        agreement_type=agreement_type,
        clauses=Clauses(),
        provider=PartyOrganisation("kent", "Kent County Council", "county_council"),
        recipient=PartyOrganisation("gmca", "GMCA", "combined_authority"),
        prefill=Prefill(
            title="Care homes",
            standards=(get_standard("care-home-daily-status"),),
            frequency="daily",
        ),
        start=START,
    )


def post_form(step: str, document, **changes):
    """Submit a step with its initial answers, changed by ``changes``, as a browser would."""
    found = drafting.step_named(document, step)
    assert found is not None
    blank = found.form(document)
    data = {}
    for name, field in blank.fields.items():
        value = changes.get(name, blank.initial.get(name, field.initial))
        value = field.prepare_value(value) if value is not None else ""
        if isinstance(value, list | tuple):
            data[name] = list(value)
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = value
    return found.form(document, data)


@pytest.mark.parametrize("step", [s.slug for s in drafting.STEPS if not s.mou_only])
def test_saving_a_step_unchanged_changes_nothing(step) -> None:
    document = care_home_draft()
    form = post_form(step, document)
    assert form.is_valid(), form.errors
    assert form.apply(document) == document


def test_the_term_step_writes_dates_typed_the_british_way() -> None:
    document = care_home_draft()
    form = post_form("term", document, review_date="21/11/2031")
    assert form.is_valid(), form.errors
    changed = form.apply(document)
    assert changed.term.review_date == dt.date(2031, 11, 21)
    findings = drafting.findings_for(
        drafting.step_named(changed, "term"), rules.check(changed, today=START)
    )
    assert [f.code for f in findings] == ["REVIEW_DATE_TOO_LATE"]


def test_a_date_that_does_not_exist_is_refused_in_plain_words() -> None:
    form = post_form("term", care_home_draft(), review_date="32/13/2026")
    assert not form.is_valid()
    assert form.errors["review_date"] == [
        "'32/13/2026' is not a real date. Write it like 27/3/2027."
    ]


def test_marking_a_field_as_health_data_raises_the_article_9_blocker_on_the_legal_step() -> None:
    document = care_home_draft()
    index = next(
        i
        for i, f in enumerate(document.datasets[0].fields)
        if f.name == "residents_covid_positive_new_24h"
    )
    form = post_form("data", document, **{f"d0f{index}_category": "special_category_health"})
    assert form.is_valid(), form.errors
    changed = form.apply(document)
    findings = rules.check(changed, today=START)
    legal = drafting.findings_for(drafting.step_named(changed, "legal-basis"), findings)
    data = drafting.findings_for(drafting.step_named(changed, "data"), findings)
    assert any("Article 9" in f.message for f in legal)
    assert any(f.code == "NECESSITY_MISSING" or "needed" in f.message for f in data)


def test_adding_a_standard_adds_its_fields_to_the_existing_flow() -> None:
    document = care_home_draft()
    form = post_form("data", document, add_standard="vaccination-uptake-lsoa")
    assert form.is_valid(), form.errors
    changed = form.apply(document)
    assert [d.id for d in changed.datasets] == ["care-home-daily-status", "vaccination-uptake-lsoa"]
    assert changed.flows[0].dataset_ids == ["care-home-daily-status", "vaccination-uptake-lsoa"]
    assert changed.datasets[1].provider_party_id == "kent"
    standard = get_standard("vaccination-uptake-lsoa")
    assert [f.name for f in changed.datasets[1].fields] == [f.name for f in standard.fields]


def test_dpia_screening_answers_set_whether_a_dpia_is_required() -> None:
    document = care_home_draft()
    form = post_form(
        "dpia", document, screening=["data_matching"], reference="DPIA-2026-14", outcome="proceed"
    )
    assert form.is_valid(), form.errors
    dpia = form.apply(document).dpia
    assert dpia.required
    assert dpia.screening_reason == ["data_matching"]
    assert dpia.reference == "DPIA-2026-14"
    assert dpia.outcome == "proceed"
    form = post_form("dpia", document, screening=[])
    assert form.is_valid()
    assert form.apply(document).dpia is None  # nothing answered: no DPIA recorded


def test_a_memorandum_skips_the_personal_data_questions_and_asks_handling_terms() -> None:
    document = care_home_draft("memorandum_of_understanding")
    slugs = [s.slug for s in drafting.steps_for(document)]
    assert "legal-basis" not in slugs
    assert "dpia" not in slugs
    assert "retention" not in slugs
    assert "handling" in slugs
    form = post_form("handling", document, embargo_until="1/4/2027", commercially_sensitive=True)
    assert form.is_valid(), form.errors
    caveats = form.apply(document).handling_caveats
    assert caveats.embargo_until == dt.date(2027, 4, 1)
    assert caveats.commercially_sensitive


def test_signing_findings_never_show_on_a_drafting_step() -> None:
    document = care_home_draft()
    findings = rules.check(document, today=START)
    assert any(f.code in rules.SIGNING_CODES for f in findings)
    for step in drafting.steps_for(document):
        assert not [
            f for f in drafting.findings_for(step, findings) if f.code in rules.SIGNING_CODES
        ]
