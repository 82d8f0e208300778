"""The framework we ship: complete, consistent, and shaped as the domain notes propose."""

from __future__ import annotations

import re

from audit_workflow.framework import SECTION_CODES, Band, Grade, check_framework, default_framework, default_framework_path
from audit_workflow.framework.model import GRADED_BANDS

ID_BAND_CODES = {
    Band.OUTSTANDING: "O",
    Band.GOOD: "G",
    Band.REQUIRES_IMPROVEMENT: "RI",
    Band.INADEQUATE: "I",
    Band.NOT_APPLICABLE: "NA",
}


def test_checks_clean():
    assert check_framework(default_framework_path()) == []


def test_is_versioned_and_cached(shipped):
    assert shipped.version == "2026.2"
    assert default_framework() is default_framework()


def test_has_every_section_in_statutory_order(shipped):
    assert tuple(section.code for section in shipped.sections) == SECTION_CODES
    assert len(shipped.sections) == 12


def test_weights_add_to_100_and_f_b_e_are_heaviest(shipped):
    weights = {section.code: section.weight for section in shipped.sections}
    assert sum(weights.values()) == 100
    assert weights["F"] == max(weights.values())
    assert set(sorted(weights, key=weights.get, reverse=True)[:3]) == {"F", "B", "E"}
    # The proposal's paired weights: C+G 10, D+H 10.
    assert weights["C"] + weights["G"] == 10
    assert weights["D"] + weights["H1"] + weights["H2"] == 10


def test_every_graded_band_has_at_least_four_criteria(shipped):
    for section in shipped.sections:
        for band in GRADED_BANDS:
            assert len(section.bands[band]) >= 4, (section.code, band)


def test_not_applicable_only_where_a_section_can_have_nothing_to_record(shipped):
    can_be_not_applicable = {section.code for section in shipped.sections if not section.applicable_always}
    assert can_be_not_applicable == {"C", "D", "G", "H1", "H2", "I", "J"}
    for section in shipped.sections:
        expected_bands = list(Band) if section.code in can_be_not_applicable else list(GRADED_BANDS)
        assert list(section.bands) == expected_bands


def test_ids_name_their_section_and_band_and_are_numbered_in_order(shipped):
    for section in shipped.sections:
        for band, criteria in section.bands.items():
            expected = [f"{section.code}-{ID_BAND_CODES[band]}-{number:02d}" for number in range(1, len(criteria) + 1)]
            assert [criterion.id for criterion in criteria] == expected


def test_good_is_reachable_and_has_core_criteria_in_every_section(shipped):
    rules = shipped.rules
    for section in shipped.sections:
        good = section.bands[Band.GOOD]
        assert any(criterion.core for criterion in good), section.code
        assert len(good) >= rules.good_minimum
        assert len(section.bands[Band.OUTSTANDING]) >= rules.outstanding_minimum
        assert not any(criterion.core for criterion in section.criteria if criterion.band is not Band.GOOD)


def test_the_checkable_essentials_are_core(shipped):
    def core_texts(code):
        return " ".join(criterion.text for criterion in shipped.section(code).bands[Band.GOOD] if criterion.core)

    assert "who delivers" in core_texts("F") and "how often and for how long" in core_texts("F")
    assert "SMART" in core_texts("E")
    assert "no health needs" in shipped.section("C").bands[Band.NOT_APPLICABLE][0].text
    assert "does not say that there are no health needs" in shipped.section("C").bands[Band.INADEQUATE][0].text


def test_rules_defaults(shipped):
    rules = shipped.rules
    assert rules.scores == {Grade.OUTSTANDING: 4, Grade.GOOD: 3, Grade.REQUIRES_IMPROVEMENT: 2, Grade.INADEQUATE: 1}
    assert rules.limiting_sections == ("B", "F")
    assert rules.limiting_cap is Grade.REQUIRES_IMPROVEMENT


def test_texts_are_plain_and_not_repeated_within_a_section(shipped):
    for section in shipped.sections:
        texts = [criterion.text for criterion in section.criteria]
        assert len(set(texts)) == len(texts), section.code
        for text in (section.title, section.law, section.what_good_looks_like, section.how_to_choose, *texts):
            assert text == text.strip() and not re.search(r"\s{2,}", text)
