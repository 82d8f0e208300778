"""Hypothesis fuzzing of the spellings people write: word order, case, punctuation, "&" for "and",
filler words and plurals never change what a value means, and phrases that could mean two types
are never read as either."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_workflow.plans.reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES
from audit_workflow.vocabulary import word_key

VOCABULARIES = (PRIMARY_NEEDS, KEY_STAGES, SETTING_TYPES, PLAN_TYPES)
SPELLINGS = [(vocabulary, spelling, term.code) for vocabulary in VOCABULARIES for term in vocabulary.terms
             for spelling in (term.label, *term.aliases) if " " in spelling]


@st.composite
def respelt(draw, spelling: str) -> str:
    """The spelling as an export might write it: words shuffled, re-cased, joined by other punctuation,
    "and" as "&", with a filler word or two."""
    words = [word for word in spelling.replace("&", " and ").replace(",", " ").split()]
    words = ["&" if word == "and" and draw(st.booleans()) else word for word in words]
    words += draw(st.lists(st.sampled_from(["school", "setting", "the", "LA"]), max_size=2))
    words = draw(st.permutations(words))
    words = [draw(st.sampled_from([word, word.upper(), word.lower(), word.title()])) for word in words]
    separators = draw(st.lists(st.sampled_from([" ", " - ", " / ", ", ", "  ", ": "]), min_size=len(words), max_size=len(words)))
    return "".join(word + separator for word, separator in zip(words, separators)).strip(" -/,:")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SPELLINGS), st.data())
def test_a_respelt_value_means_the_same(accepted, data):
    vocabulary, spelling, code = accepted
    value = data.draw(respelt(spelling))
    assert vocabulary.lookup(value) in (code, None), value  # never another term
    if word_key(value) == word_key(spelling):
        assert vocabulary.lookup(value) == code, value


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["Academy", "Special school", "Special", "Mainstream", "Independent school", "Free school",
                        "School", "Maintained school", "Non-maintained"]), st.data())
def test_phrases_that_could_mean_two_setting_types_are_never_read_as_one(phrase, data):
    value = data.draw(respelt(phrase))
    assert SETTING_TYPES.lookup(value) is None, value
    assert "_" not in " ".join(SETTING_TYPES.suggest(value))


@pytest.mark.parametrize("value, code", [
    ("Academy - Mainstream", "mainstream_academy_free"), ("Free School - Special", "special_academy_free"),
    ("Alternative Provision / PRU", "ap_pru"), ("LA maintained special", "special_maintained"),
    ("Mainstream academies", "mainstream_academy_free"), ("special school (LA maintained)", "special_maintained"),
    ("Autism Spectrum Disorder (ASD)", "ASD"), ("SEMH - Social, Emotional and Mental Health", "SEMH"),
    ("Profound & Multiple Learning Difficulty", "PMLD"), ("Moderate Learning Difficulties", "MLD"),
    ("Key stage 5", "KS5"), ("Year 07", "KS3"), ("yr 10", "KS4"), ("KS 2", "KS2"),
])
def test_everyday_spellings_from_the_issue(value, code):
    vocabulary = next(vocabulary for vocabulary in VOCABULARIES if code in vocabulary)
    assert vocabulary.lookup(value) == code


@pytest.mark.parametrize("value", ["ASD - Social, emotional and mental health", "KS2 (Year 8)"])
def test_parts_that_disagree_are_not_read(value):
    assert PRIMARY_NEEDS.lookup(value) is None and KEY_STAGES.lookup(value) is None


@pytest.mark.parametrize("vocabulary", VOCABULARIES, ids=lambda vocabulary: vocabulary.noun)
def test_no_two_terms_share_their_words(vocabulary):
    assert vocabulary.ambiguous_word_keys() == []


@pytest.mark.parametrize("value", ["Year", "Key stage", "Stage", "Year group", "NC year"])
def test_a_word_without_its_number_is_no_key_stage(value):
    assert KEY_STAGES.lookup(value) is None
