"""The plain-English comparison of two agreement documents."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.agreements.diff import counts, diff, term
from accord.agreements.document import DataSharingAgreement, Field

from .builders import ALL_BUILDERS, care_home_status, housing_delivery_mou, london_fsm


def _with_fields(doc: DataSharingAgreement, dataset_id: str, fields: list[Field]):
    datasets = [
        d.model_copy(update={"fields": fields}) if d.id == dataset_id else d for d in doc.datasets
    ]
    return doc.model_copy(update={"datasets": datasets})


def test_a_document_has_no_differences_from_itself() -> None:
    for build in ALL_BUILDERS:
        assert diff(build(), build()) == []


def test_status_signatures_provenance_and_id_are_ignored() -> None:
    old = london_fsm()
    new = old.model_copy(
        update={
            "id": "urn:uuid:another",
            "status": "draft",
            "signatories": [],
            "parent_agreement_id": "urn:uuid:parent",
        }
    )
    assert diff(old, new) == []


def test_a_changed_field_is_named_by_its_dataset_and_name() -> None:
    old = care_home_status()
    fields = [
        f.model_copy(update={"data_type": "string"}) if f.name == "beds_available" else f
        for f in old.datasets[0].fields
    ]
    [change] = diff(old, _with_fields(old, "sunrise-status", fields))
    assert change.path == "datasets[sunrise-status].fields[beds_available].data_type"
    assert change.kind == "changed"
    assert change.where == "Dataset 'Sunrise daily status', field 'beds_available', data type"
    assert (change.old, change.new) == ("integer", "string")


def test_inserting_an_item_is_one_addition_not_a_shift() -> None:
    old = care_home_status()
    fields = list(old.datasets[0].fields)
    fields.insert(0, Field(name="resident_count", data_type="integer"))
    changes = diff(old, _with_fields(old, "sunrise-status", fields))
    assert [(c.kind, c.path) for c in changes] == [
        ("added", "datasets[sunrise-status].fields[resident_count]")
    ]
    assert changes[0].where == "Dataset 'Sunrise daily status', field 'resident_count'"
    assert "data type: integer" in (changes[0].new or "")


def test_codes_are_shown_with_their_vocabulary_labels() -> None:
    old = care_home_status()
    legal_basis = old.legal_basis.model_copy(update={"article6": ["6.1.e", "6.1.a"]})
    changes = diff(old, old.model_copy(update={"legal_basis": legal_basis}))
    assert [(c.kind, c.path, c.old or c.new) for c in changes] == [
        ("removed", "legal_basis.article6[6.1.c]", "Legal obligation (6.1.c)"),
        ("added", "legal_basis.article6[6.1.a]", "Consent (6.1.a)"),
    ]
    assert changes[0].where == "Legal basis, Article 6 lawful bases"
    assert changes[1].sentence == "Legal basis, Article 6 lawful bases: added Consent (6.1.a)"


def test_party_ids_read_as_names_and_dates_and_durations_as_words() -> None:
    old = london_fsm()
    retention = [r.model_copy(update={"period": "P2Y"}) for r in old.retention[:1]]
    term_ = old.term.model_copy(update={"review_date": old.term.review_date.replace(month=3)})
    new = old.model_copy(update={"retention": [*retention, *old.retention[1:]], "term": term_})
    changes = {c.path: c for c in diff(old, new)}
    period = changes["retention[lbh-fsm@lbi].period"]
    assert period.where == (
        "Retention rule for 'Hackney FSM eligibility' held by 'London Borough of Islington', period"
    )
    assert (period.old, period.new) == ("1 year (P1Y)", "2 years (P2Y)")
    assert changes["term.review_date"].new == "1 March 2026"


def test_a_whole_section_added_or_removed_is_one_change() -> None:
    old = housing_delivery_mou()
    assert old.security is None
    with_security = old.model_copy(
        update={"security": care_home_status().security, "handling_caveats": None}
    )
    changes = diff(old, with_security)
    assert [(c.kind, c.path) for c in changes] == [
        ("added", "security"),
        ("removed", "handling_caveats"),
    ]
    assert "hosting location: uk only" in (changes[0].new or "")


def test_term_labels_link_to_the_law() -> None:
    public_task = term("article6", "6.1.e")
    assert public_task.label == "Public task"
    assert public_task.url == "https://www.legislation.gov.uk/eur/2016/679/article/6"
    assert str(term("gateways", "ukdsa:gateway/dea2017-s35")).startswith("Digital Economy Act")
    assert term("article6", "no-such-code").label == "no-such-code"


# --- Properties -------------------------------------------------------------------------------

BUILDERS = st.sampled_from(ALL_BUILDERS)
ARTICLE6 = ["6.1.a", "6.1.b", "6.1.c", "6.1.d", "6.1.e", "6.1.ea", "6.1.f"]


@given(BUILDERS)
@settings(max_examples=20, deadline=None)
def test_diff_of_a_document_with_itself_is_empty(build) -> None:
    doc = build()
    assert diff(doc, doc.model_copy(deep=True)) == []


@given(
    build=BUILDERS,
    data=st.data(),
    new_names=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).map(
            lambda s: "new_" + s
        ),
        unique=True,
        max_size=4,
    ),
)
@settings(max_examples=60, deadline=None)
def test_adding_and_removing_fields_counts_one_change_each(build, data, new_names) -> None:
    old = build()
    dataset = data.draw(st.sampled_from(old.datasets))
    keep = data.draw(
        st.lists(st.sampled_from(dataset.fields), unique_by=lambda f: f.name)
        if dataset.fields
        else st.just([])
    )
    removed = len(dataset.fields) - len(keep)
    added = [Field(name=name) for name in new_names]
    position = data.draw(st.integers(min_value=0, max_value=len(keep)))
    fields = [*keep[:position], *added, *keep[position:]]
    new = _with_fields(old, dataset.id, fields)
    changes = diff(old, new)
    assert counts(changes) == {"added": len(added), "removed": removed, "changed": 0}
    assert all(c.path.startswith(f"datasets[{dataset.id}].fields[") for c in changes)
    # The same edit seen the other way round swaps additions and removals.
    assert counts(diff(new, old)) == {"added": removed, "removed": len(added), "changed": 0}


@given(build=BUILDERS, chosen=st.lists(st.sampled_from(ARTICLE6), unique=True, max_size=4))
@settings(max_examples=60, deadline=None)
def test_lawful_bases_added_and_removed_match_the_set_difference(build, chosen) -> None:
    old = build()
    before = set(old.legal_basis.article6)
    legal_basis = old.legal_basis.model_copy(update={"article6": chosen})
    changes = diff(old, old.model_copy(update={"legal_basis": legal_basis}))
    assert counts(changes) == {
        "added": len(set(chosen) - before),
        "removed": len(before - set(chosen)),
        "changed": 0,
    }


@given(build=BUILDERS, title=st.text(min_size=1, max_size=40))
@settings(max_examples=30, deadline=None)
def test_a_changed_title_is_exactly_one_change(build, title) -> None:
    old = build()
    changes = diff(old, old.model_copy(update={"title": title}))
    if title == old.title:
        assert changes == []
    else:
        assert [(c.kind, c.path) for c in changes] == [("changed", "title")]
