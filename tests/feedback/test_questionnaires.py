"""Questionnaire files: the shipped ones are valid, a bad file lists every problem, and an LA's
own version is stored and recorded with each answer."""

from pathlib import Path

import pytest

from audit_workflow.feedback import service
from audit_workflow.feedback.questionnaire import (
    QuestionnaireError, check_easy_read_pairs, check_questionnaire, default_questionnaires_dir, load_questionnaire,
    shipped_questionnaires,
)

SHIPPED = default_questionnaires_dir()


def test_the_shipped_questionnaires_are_valid_and_the_easy_read_one_matches_its_twin():
    questionnaires = shipped_questionnaires()
    assert set(questionnaires) == {"parent_carer", "young_person", "young_person_easy_read", "setting"}
    assert all(4 <= len(q.questions) <= 8 for q in questionnaires.values())
    assert check_easy_read_pairs(questionnaires) == []
    assert questionnaires["young_person_easy_read"].easy_read


def test_easy_read_sentences_are_short():
    easy = shipped_questionnaires()["young_person_easy_read"]
    assert all(len(question.text.split()) <= 10 for question in easy.questions)


def test_a_bad_file_lists_every_problem_with_where(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("key: parent_carer\nversion: ''\nrespondent_type: grandparent\ntitle: T\nintroduction: I\n"
                   "scale: {agree: Agree}\nquestions: [{id: Q1, text: x}]\ncomment: {label: L, hint: Anything}\n")
    problems = check_questionnaire(bad)
    assert any("version must be" in p for p in problems)
    assert any("respondent_type must be one of" in p for p in problems)
    assert any("scale: missing strongly_agree" in p for p in problems)
    assert any("questions must be a list of 4 to 8" in p for p in problems)
    assert any("hint must tell people not to write names" in p for p in problems)
    assert all(p.startswith(str(bad)) for p in problems)


def test_questionnaire_check_command(runner):
    result = runner.invoke(args=["questionnaire", "check"])
    assert result.exit_code == 0 and result.output.count("OK:") == 4


def test_an_la_loads_its_own_version_and_a_changed_file_needs_a_new_version(db, world, tmp_path):
    la = world.las["own"]
    own = tmp_path / "parent_carer.yaml"
    own.write_text((SHIPPED / "parent_carer.yaml").read_text().replace('version: "2026.1"', 'version: "kent-1"'))
    row = service.load_la_questionnaire(db, la.id, own)
    assert service.active_questionnaire(db, la.id, "parent_carer").id == row.id
    assert service.active_questionnaire(db, world.las["other"].id, "parent_carer").version == "2026.1"

    own.write_text(own.read_text().replace("The plan describes your child well", "The plan describes your child"))
    with pytest.raises(QuestionnaireError, match="Give the changed questionnaire a new version"):
        service.load_la_questionnaire(db, la.id, own)


def test_load_questionnaire_reads_a_shipped_file():
    assert load_questionnaire(Path(SHIPPED / "setting.yaml")).respondent_type == "setting"


def test_an_la_easy_read_version_must_ask_the_same_questions_as_the_standard_one(db, world, tmp_path):
    own = tmp_path / "young_person_easy_read.yaml"
    own.write_text((SHIPPED / "young_person_easy_read.yaml").read_text()
                   .replace('version: "2026.1"', 'version: "kent-1"').replace("id: made_a_difference", "id: better_now"))
    with pytest.raises(QuestionnaireError, match="must ask the same questions"):
        service.load_la_questionnaire(db, world.las["own"].id, own)
