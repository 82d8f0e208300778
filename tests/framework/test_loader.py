"""Validation: every problem in a broken framework is reported at once, naming the file, the section
and the criterion, and bad input never escapes as anything but FrameworkError."""

from __future__ import annotations

import dataclasses
import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_workflow.framework import (
    FrameworkError,
    check_framework,
    framework_from_dict,
    framework_to_dict,
    load_framework,
)

from .conftest import FAST_DUMPER, section_data

SECTION_LIST = "A, B, C, D, E, F, G, H1, H2, I, J, K"


def test_a_copy_of_the_shipped_framework_checks_clean(write_framework, shipped):
    path = write_framework()
    assert check_framework(path) == []
    assert load_framework(path) == shipped


def test_unknown_section(write_framework):
    path = write_framework(lambda data: section_data(data, "A").update(code="Q"))
    assert check_framework(path) == [
        f'{path}: section "Q": unknown section (expected one of {SECTION_LIST})',
        f'{path}: missing section "A" (a framework needs every section: {SECTION_LIST})',
    ]


def test_section_given_twice(write_framework):
    path = write_framework(lambda data: section_data(data, "B").update(code="A"))
    problems = check_framework(path)
    assert f'{path}: section "A": appears more than once' in problems
    assert f'{path}: missing section "B" (a framework needs every section: {SECTION_LIST})' in problems


def test_missing_band(write_framework):
    path = write_framework(lambda data: section_data(data, "F")["bands"].pop("inadequate"))
    assert check_framework(path) == [f'{path}: section "F": missing band "inadequate"']


def test_unknown_band(write_framework):
    path = write_framework(lambda data: section_data(data, "F")["bands"].update(great=[]))
    assert check_framework(path) == [
        f'{path}: section "F": band "great": unknown band '
        "(expected one of outstanding, good, requires_improvement, inadequate, not_applicable)"
    ]


def test_weights_that_do_not_add_up_give_the_sum(write_framework):
    path = write_framework(lambda data: section_data(data, "F").update(weight=17))
    assert check_framework(path) == [f"{path}: section weights add up to 97, not 100"]


def test_weight_must_be_a_positive_whole_number(write_framework):
    path = write_framework(lambda data: section_data(data, "J").update(weight=2.5))
    assert check_framework(path) == [f'{path}: section "J": "weight" must be a whole number, at least 1 (found the number 2.5)']


def test_duplicate_criterion_id_names_both_sections(write_framework):
    path = write_framework(lambda data: section_data(data, "F")["bands"]["good"][0].update(id="E-G-01"))
    assert check_framework(path) == [
        f'{path}: section "F": band "good": criterion "E-G-01": duplicate id, also used in section "E"'
    ]


def test_empty_text_names_the_criterion(write_framework):
    path = write_framework(lambda data: section_data(data, "B")["bands"]["good"][1].update(text="  "))
    assert check_framework(path) == [f'{path}: section "B": band "good": criterion "B-G-02": "text" is empty']


def test_empty_section_text(write_framework):
    path = write_framework(lambda data: section_data(data, "K").update(law=""))
    assert check_framework(path) == [f'{path}: section "K": "law" is empty']


def test_unknown_rule_key(write_framework):
    path = write_framework(lambda data: data["rules"].update(good_min=3))
    assert check_framework(path) == [
        f'{path}: rules: unknown key "good_min" (expected one of good_minimum, outstanding_minimum, '
        "requires_improvement_blocks_good, scores, thresholds, limiting_sections, limiting_cap)"
    ]


def test_missing_rule(write_framework):
    path = write_framework(lambda data: data["rules"].pop("limiting_cap"))
    assert check_framework(path) == [f'{path}: rules: missing "limiting_cap"']


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda rules: rules["scores"].update(good=1), "rules: scores: good (1) must be more than requires_improvement (2)"),
        (lambda rules: rules["thresholds"].update(good=3.6), "rules: thresholds: outstanding (3.5) must be more than good (3.6)"),
        (
            lambda rules: rules["thresholds"].update(outstanding=4.5),
            "rules: thresholds: outstanding (4.5) is above the outstanding score (4), so no audit could be Outstanding",
        ),
        (
            lambda rules: rules["thresholds"].update(requires_improvement=1),
            "rules: thresholds: requires_improvement (1) must be above the inadequate score (1), or no audit could be Inadequate",
        ),
        (lambda rules: rules["scores"].pop("inadequate"), 'rules: scores: missing "inadequate"'),
        (
            lambda rules: rules.update(limiting_sections=["F", "Z", "F"]),
            f'rules: limiting_sections: "Z" is not a section (expected one of {SECTION_LIST})',
        ),
        (
            lambda rules: rules.update(limiting_cap="not_applicable"),
            'rules: "limiting_cap" must be one of outstanding, good, requires_improvement, inadequate (found "not_applicable")',
        ),
        (
            lambda rules: rules.update(requires_improvement_blocks_good="yes please"),
            'rules: "requires_improvement_blocks_good" must be true or false (found "yes please")',
        ),
        (lambda rules: rules.update(good_minimum=0), 'rules: "good_minimum" must be a whole number, at least 1 (found the number 0)'),
    ],
)
def test_bad_rules(write_framework, change, message):
    path = write_framework(lambda data: change(data["rules"]))
    assert f"{path}: {message}" in check_framework(path)


def test_good_minimum_beyond_a_good_band_is_refused(write_framework):
    path = write_framework(lambda data: data["rules"].update(good_minimum=6))
    assert f'{path}: section "C": band "good": has 5 criteria but rules.good_minimum is 6, so the section could never be Good' in check_framework(path)


def test_core_only_on_good_criteria(write_framework):
    path = write_framework(lambda data: section_data(data, "E")["bands"]["inadequate"][0].update(core=True))
    assert check_framework(path) == [f'{path}: section "E": band "inadequate": criterion "E-I-01": "core" applies only to good criteria']


def test_not_applicable_and_applicable_always_exclude_each_other(write_framework):
    def both_and_neither(data):
        section_data(data, "A")["bands"]["not_applicable"] = [{"id": "A-NA-01", "text": "Nothing to record."}]
        section_data(data, "C").pop("bands")["not_applicable"]  # C without bands at all
        section_data(data, "C")["bands"] = {band: [] for band in ("outstanding", "good", "requires_improvement", "inadequate")}

    path = write_framework(both_and_neither)
    problems = check_framework(path)
    assert f'{path}: section "A": has not_applicable criteria and "applicable_always: true"; keep only one of them' in problems
    assert (
        f'{path}: section "C": missing band "not_applicable" (or set "applicable_always: true" if this section always applies)'
        in problems
    )


def test_every_problem_is_reported_at_once(write_framework):
    def break_several_things(data):
        data["rules"]["colour"] = "blue"
        section_data(data, "A")["code"] = "Q"
        section_data(data, "F")["bands"].pop("good")
        section_data(data, "K")["weight"] = 1
        section_data(data, "E")["bands"]["good"][0]["text"] = ""

    path = write_framework(break_several_things)
    problems = check_framework(path)
    assert len(problems) == 6, problems
    assert all(problem.startswith(f"{path}: ") for problem in problems)
    assert f"{path}: section weights add up to 94, not 100" in problems


def test_version_written_as_a_number_is_refused(tmp_path, write_framework):
    path = write_framework()
    path.write_text(path.read_text().replace("version: '2026.2'", "version: 2026.20"))
    assert check_framework(path) == [f'{path}: "version" must be text (found the number 2026.2; put it in quotes)']


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('version: "1"\nname: test\nversion: "2"\n', 'line 3, column 1: invalid YAML: "version" appears twice in the same mapping'),
        ("- a\n- b\n", "the top level must be a mapping with version, name, rules, sections (found a list)"),
        ("just words\n", 'the top level must be a mapping with version, name, rules, sections (found "just words")'),
        ("", "the file is empty"),
        ("!!python/object:os.system x\n",
         "line 1, column 1: invalid YAML: could not determine a constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"),
    ],
)
def test_unreadable_files(tmp_path, text, message):
    path = tmp_path / "x.yaml"
    path.write_text(text)
    assert check_framework(path) == [f"{path}: {message}"]


def test_yaml_syntax_error_gives_line_and_column(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text('version: "1"\nname: test\nsections:\n  - code: A\n   title: bad\n')
    [problem] = check_framework(path)
    # The parser's own wording differs between LibYAML and pure-Python PyYAML; the position does not.
    assert problem.startswith(f"{path}: line 5, column 4: invalid YAML: ")


def test_missing_file_and_directory(tmp_path):
    assert check_framework(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: file not found"]
    assert check_framework(tmp_path) == [f"{tmp_path}: is a directory, not a framework file"]


def test_load_framework_raises_with_every_problem(write_framework):
    path = write_framework(lambda data: data.pop("name"))
    with pytest.raises(FrameworkError) as raised:
        load_framework(path)
    assert raised.value.problems == [f'{path}: missing "name"']
    assert str(raised.value) == f'{path}: missing "name"'


def test_framework_from_dict_names_its_source(shipped):
    data = framework_to_dict(shipped)
    data["sections"] = data["sections"][1:]
    with pytest.raises(FrameworkError) as raised:
        framework_from_dict(data, source="stored version 2026.2")
    assert raised.value.problems[0].startswith('stored version 2026.2: missing section "A"')


# -- round trips -----------------------------------------------------------------------------------


def test_dict_round_trip_is_exact(shipped):
    assert framework_from_dict(framework_to_dict(shipped)) == shipped


def test_json_round_trip_is_exact(shipped):
    assert framework_from_dict(json.loads(json.dumps(framework_to_dict(shipped)))) == shipped


@settings(max_examples=20)
@given(order=st.permutations(range(12)))
def test_sections_may_come_in_any_order(order, shipped):
    reordered = dataclasses.replace(shipped, sections=tuple(shipped.sections[index] for index in order))
    assert framework_from_dict(framework_to_dict(reordered)) == reordered


# -- never a traceback -----------------------------------------------------------------------------

plain_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)


def _replace_somewhere(data, path: list[int], value):
    """data with one nested value, found by following path's indexes, replaced by value."""
    if not path or not isinstance(data, (dict, list)) or not data:
        return value
    keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    key = keys[path[0] % len(keys)]
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[key] = _replace_somewhere(data[key], path[1:], value)
    return copy


@settings(max_examples=60)
@given(path=st.lists(st.integers(0, 50), max_size=6), value=plain_values)
def test_any_damage_gives_framework_error_not_a_crash(shipped, path, value):
    damaged = _replace_somewhere(framework_to_dict(shipped), path, value)
    try:
        framework_from_dict(damaged, source="damaged")
    except FrameworkError as error:
        assert error.problems and all(problem.startswith("damaged: ") for problem in error.problems)


@settings(max_examples=60)
@given(value=plain_values)
def test_any_top_level_value_gives_framework_error(value):
    with pytest.raises(FrameworkError):
        framework_from_dict(value)


def test_yaml_dump_of_the_dict_loads_back(tmp_path, shipped):
    path = tmp_path / "copy.yaml"
    path.write_text(yaml.dump(framework_to_dict(shipped), Dumper=FAST_DUMPER, allow_unicode=True), encoding="utf-8")
    assert load_framework(path) == shipped
