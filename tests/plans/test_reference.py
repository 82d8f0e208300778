import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_workflow import reference as shared
from audit_workflow.plans import reference
from audit_workflow.plans.models import Plan
from audit_workflow.plans.reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES
from audit_workflow.reference import DISCIPLINES, REGIONS
from audit_workflow.vocabulary import Term, UnknownValue, Vocabulary, match_key

VOCABULARIES = [PRIMARY_NEEDS, KEY_STAGES, SETTING_TYPES, PLAN_TYPES, DISCIPLINES, REGIONS]
SEN2_NEEDS = {"SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "DS", "OTH"}


def test_needs_are_the_sen2_2025_codes_and_nsa():
    assert set(PRIMARY_NEEDS) == SEN2_NEEDS | {"NSA"}


def test_only_nsa_is_flagged():
    assert PRIMARY_NEEDS.flag("NSA") == "NSA: SEN support only; not expected on an EHCP"
    assert all(PRIMARY_NEEDS.flag(code) is None for code in SEN2_NEEDS)


@pytest.mark.parametrize("value, code", [
    ("ASD", "ASD"), ("asd", "ASD"), (" a.s.d ", "ASD"), ("Autism", "ASD"), ("Autistic spectrum disorder", "ASD"),
    ("SpLD", "SPLD"), ("Down's syndrome", "DS"), ("Down syndrome", "DS"), ("Speech, language and communication needs", "SLCN"),
    ("Social, emotional and mental health", "SEMH"), ("Visual impairment", "VI"), ("nsa", "NSA"),
])
def test_need_spellings(value, code):
    assert reference.normalise_need(value) == code


@pytest.mark.parametrize("value, code", [
    ("KS1", "KS1"), ("ks 1", "KS1"), ("Key stage 1", "KS1"), ("Key Stage 1", "KS1"), ("key-stage-1", "KS1"),
    ("Early years", "EYFS"), ("Reception", "EYFS"), ("EYFS", "EYFS"), ("Year 2", "KS1"), ("Y6", "KS2"),
    ("Year 7", "KS3"), ("NCY 11", "KS4"), ("Post-16", "KS5"), ("post 16", "KS5"), ("Year 13", "KS5"),
    ("Post 19", "POST19"), ("Post-19", "POST19"), ("19-25", "POST19"), ("19+", "POST19"), ("Year 15", "POST19"),
])
def test_key_stage_spellings(value, code):
    assert reference.normalise_key_stage(value) == code


@pytest.mark.parametrize("ambiguous", ["1", "3", "5", "-1"])
def test_bare_numbers_are_not_key_stages(ambiguous):
    # "3" could be key stage 3 or year 3 (key stage 2): the coordinator must say which.
    with pytest.raises(UnknownValue):
        reference.normalise_key_stage(ambiguous)


def test_setting_type_slugs_follow_the_dfe_columns():
    assert list(SETTING_TYPES) == [
        "mainstream_maintained", "mainstream_academy_free", "mainstream_resourced_provision", "mainstream_independent",
        "special_maintained", "special_academy_free", "special_independent_non_maintained", "ap_pru",
        "post16_fe_college", "post16_specialist", "post16_other_provider", "early_years", "ehe", "ola_arrangements",
        "opa_arrangements", "neet", "not_in_education", "other", "unknown",
    ]


@pytest.mark.parametrize("sen2_code, slug", [
    ("OLA", "ola_arrangements"), ("OPA", "opa_arrangements"), ("EHE", "ehe"), ("EYP", "early_years"),
    ("OTH", "other"), ("NEET", "neet"), ("NIEC", "neet"), ("NIEO", "not_in_education"),
])
def test_sen2_placement_codes_without_a_urn(sen2_code, slug):
    assert reference.normalise_setting_type(sen2_code) == slug


@pytest.mark.parametrize("value, slug", [
    ("Mainstream academy", "mainstream_academy_free"), ("Special school (maintained)", "special_maintained"),
    ("FE college", "post16_fe_college"), ("PRU", "ap_pru"), ("Alternative provision", "ap_pru"),
    ("mainstream_resourced_provision", "mainstream_resourced_provision"), ("SEN unit", "mainstream_resourced_provision"),
    ("Special school: independent or non-maintained", "special_independent_non_maintained"),
    ("EOTAS", "ola_arrangements"), ("Elective home education", "ehe"),
])
def test_setting_type_spellings(value, slug):
    assert reference.normalise_setting_type(value) == slug


@pytest.mark.parametrize("ambiguous", ["Academy", "Special school", "Mainstream"])
def test_setting_phrases_that_could_mean_two_types_are_refused(ambiguous):
    with pytest.raises(UnknownValue):
        reference.normalise_setting_type(ambiguous)


@pytest.mark.parametrize("value, code", [
    ("New", "new"), ("Annual review", "annual_review"), ("AR", "annual_review"), ("Amended", "amended"),
    ("Amendment", "amended"), ("annual_review", "annual_review"),
])
def test_plan_type_spellings(value, code):
    assert reference.normalise_plan_type(value) == code


def test_disciplines():
    assert list(DISCIPLINES) == ["education", "health", "social_care", "other"]
    assert shared.normalise_discipline("Social care") == "social_care"


def test_regions_are_the_nine_english_regions_by_ons_code():
    assert list(REGIONS) == [f"E1200000{number}" for number in range(1, 10)]
    assert REGIONS["E12000007"] == "London"
    assert shared.normalise_region("e12000003") == "E12000003"
    assert shared.normalise_region("Yorkshire & the Humber") == "E12000003"
    assert shared.normalise_region("south west") == "E12000009"


def test_an_unknown_value_says_what_is_accepted():
    with pytest.raises(UnknownValue) as refused:
        reference.normalise_need("XYZ")
    assert str(refused.value) == ('"XYZ" is not a SEN2 primary-need code (expected one of ASD, DS, HI, MLD, MSI, NSA, '
                                  "OTH, PD, PMLD, SEMH, SLCN, SLD, SPLD, VI)")
    assert isinstance(refused.value, ValueError)


def test_an_unknown_region_lists_the_region_names():
    with pytest.raises(ValueError, match="is not an English region .expected one of East Midlands, East of England, London"):
        shared.normalise_region("Wales")


def test_a_long_unknown_value_is_shortened_in_the_message():
    with pytest.raises(UnknownValue) as refused:
        reference.normalise_key_stage("x" * 500)
    assert "x" * 40 + "…" in str(refused.value)
    assert "x" * 41 not in str(refused.value)


def test_labels():
    assert reference.need_label("ASD") == "Autistic spectrum disorder"
    assert reference.key_stage_label("POST19") == "Post-19"
    assert reference.setting_type_label("ap_pru") == "Alternative provision or pupil referral unit"
    assert reference.plan_type_label("annual_review") == "Annual review"
    assert shared.discipline_label("social_care") == "Social care"
    assert shared.region_label("E12000001") == "North East"


def test_a_label_for_an_unknown_code_shows_the_code_rather_than_failing():
    assert reference.need_label("LEGACY") == "LEGACY"


def test_choices_are_code_label_pairs_in_table_order():
    assert reference.KEY_STAGE_CHOICES[0] == ("EYFS", "Early years foundation stage")
    assert [code for code, _ in reference.NEED_CHOICES] == list(PRIMARY_NEEDS)
    assert len(reference.SETTING_TYPE_CHOICES) == len(SETTING_TYPES)


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda vocabulary: vocabulary.noun)
def test_every_code_and_label_normalises_to_its_code(vocabulary):
    for code, label in vocabulary.items():
        assert vocabulary.normalise(code) == code
        assert vocabulary.normalise(label) == code
        assert vocabulary.label(code) == label


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda vocabulary: vocabulary.noun)
def test_every_alias_adds_a_spelling(vocabulary):
    # Case, spacing and punctuation are ignored anyway, so an alias that differs only in those is clutter.
    for term in vocabulary.terms:
        keys = [match_key(spelling) for spelling in term.aliases]
        assert len(set(keys)) == len(keys) and not {match_key(term.code), match_key(term.label)} & set(keys), term


def test_a_spelling_that_would_mean_two_codes_is_refused_when_the_table_is_built():
    with pytest.raises(ValueError, match="would mean both A and B"):
        Vocabulary("a test", (Term("A", "First", ("Same",)), Term("B", "Second", ("same",))))


@pytest.mark.parametrize("field, vocabulary", [
    ("key_stage", KEY_STAGES), ("setting_type", SETTING_TYPES), ("primary_need", PRIMARY_NEEDS), ("plan_type", PLAN_TYPES),
])
def test_codes_fit_the_register_columns(field, vocabulary):
    length = Plan.__table__.c[field].type.length
    assert max(map(len, vocabulary)) <= length


@pytest.mark.parametrize("mix, vocabulary", [
    (reference.NATIONAL_NEED_MIX, PRIMARY_NEEDS), (reference.KEY_STAGE_MIX, KEY_STAGES),
    (reference.SETTING_TYPE_MIX, SETTING_TYPES),
])
def test_demo_mixes_use_real_codes_and_add_up_to_about_100(mix, vocabulary):
    assert set(mix) <= set(vocabulary)
    assert 99 <= sum(mix.values()) <= 100.5
    assert all(weight > 0 for weight in mix.values())


def test_the_national_need_mix_is_the_published_one():
    assert reference.NATIONAL_NEED_MIX["ASD"] == 31.5
    assert reference.NATIONAL_NEED_MIX["SLCN"] == 21.3
    assert "NSA" not in reference.NATIONAL_NEED_MIX


ACCEPTED_SPELLINGS = [(vocabulary, spelling, term.code) for vocabulary in VOCABULARIES for term in vocabulary.terms
                      for spelling in (term.code, term.label, *term.aliases)]


@given(st.sampled_from(ACCEPTED_SPELLINGS), st.data())
def test_any_case_spacing_or_punctuation_gives_the_same_code(accepted, data):
    vocabulary, spelling, code = accepted
    mangled = "".join(
        data.draw(st.sampled_from([character.upper(), character.lower()])) + data.draw(st.sampled_from(["", "", " ", "-", ".", "_", "/"]))
        for character in spelling
    )
    assert vocabulary.normalise(f"  {mangled}  ") == code
