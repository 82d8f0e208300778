"""The discrepancy rules: read and checked from the framework file, and applied to a pair."""

import pytest
import yaml

from audit_workflow.framework import FrameworkError, default_framework, default_framework_path, framework_from_dict
from audit_workflow.framework.loader import framework_to_dict
from audit_workflow.framework.model import DEFAULT_DISCREPANCY_RULES, DiscrepancyRules
from audit_workflow.moderation.rules import flag_reasons


def _with(moderation):
    data = yaml.safe_load(default_framework_path().read_text())
    if moderation is None:
        del data["moderation"]
    else:
        data["moderation"] = moderation
    return data


def test_the_shipped_framework_flags_two_bands_and_sections_b_e_f():
    assert default_framework().discrepancy_rules == DiscrepancyRules(2, ("B", "E", "F"))


def test_a_framework_without_the_block_uses_the_defaults_and_keeps_its_stored_form():
    framework = framework_from_dict(_with(None))
    assert framework.moderation is None and framework.discrepancy_rules == DEFAULT_DISCREPANCY_RULES
    assert "moderation" not in framework_to_dict(framework)
    assert framework_from_dict(framework_to_dict(default_framework())).moderation == default_framework().moderation


@pytest.mark.parametrize(("block", "message"), [
    ({"flag_overall_difference": 0, "flag_sections": []}, '"flag_overall_difference" must be a whole number, at least 1'),
    ({"flag_overall_difference": 4, "flag_sections": []}, "grades are at most 3 bands apart"),
    ({"flag_overall_difference": 2, "flag_sections": ["Z"]}, '"Z" is not a section'),
    ({"flag_overall_difference": 2, "flag_sections": "B"}, "must be a list of section codes"),
    ({"flag_overall_difference": 2}, 'missing "flag_sections"'),
    ({"flag_overall_difference": 2, "flag_sections": [], "flag_everything": True}, 'unknown key "flag_everything"'),
])
def test_a_bad_block_is_refused_with_a_clear_message(block, message):
    with pytest.raises(FrameworkError) as raised:
        framework_from_dict(_with(block), source="my.yaml")
    assert any(problem.startswith("my.yaml: moderation") and message in problem for problem in raised.value.problems), raised.value.problems


RULES = DiscrepancyRules(2, ("B", "E", "F"))
SAME = {"B": "good", "E": "good", "F": "good", "C": "good"}


def test_a_pair_within_the_rules_is_not_flagged():
    assert flag_reasons(RULES, "good", "requires_improvement", SAME, {**SAME, "C": "inadequate"}) == []


def test_two_bands_apart_or_a_listed_section_differing_flags_it():
    assert flag_reasons(RULES, "good", "inadequate", SAME, SAME) == [
        "The overall grades are 2 bands apart (Good and Inadequate)"]
    assert flag_reasons(RULES, "good", "good", SAME, {**SAME, "F": "requires_improvement"}) == [
        "Section F differs (Good and Requires improvement)"]
    assert flag_reasons(RULES, "good", "good", SAME, {**SAME, "E": "not_applicable"}) == [
        "Section E differs (Good and Not applicable)"]
