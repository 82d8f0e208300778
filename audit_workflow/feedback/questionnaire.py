"""Questionnaires: YAML in, a validated Questionnaire out, or every problem at once (pure).

Like the grading framework (framework/loader.py), a questionnaire is a versioned file an LA may
replace with its own, so a bad file gives plain messages naming the file and question, never a
traceback. Every question is multiple choice on the same five-point scale plus "don't know", so
answers from different versions of one questionnaire (and its easy-read twin) add up together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..framework.loader import FrameworkError, problems_loading, read_yaml
from ..resources import shipped_path

QUESTIONS_MIN, QUESTIONS_MAX = 4, 8
TEXT_MAX_CHARS = 300
QUESTION_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
VERSION_MAX_CHARS = 40


class RespondentType(StrEnum):
    PARENT_CARER = "parent_carer"
    YOUNG_PERSON = "young_person"
    SETTING = "setting"

    @property
    def label(self) -> str:
        return RESPONDENT_LABELS[self]

    @property
    def audience(self) -> str:
        """The email catalogue's word for who reads the invitation."""
        return {"parent_carer": "family", "young_person": "young_person", "setting": "setting"}[self.value]


RESPONDENT_LABELS = {
    RespondentType.PARENT_CARER: "Parents and carers",
    RespondentType.YOUNG_PERSON: "Children and young people",
    RespondentType.SETTING: "Schools and settings",
}


class Answer(StrEnum):
    STRONGLY_AGREE = "strongly_agree"
    AGREE = "agree"
    NEITHER = "neither"
    DISAGREE = "disagree"
    STRONGLY_DISAGREE = "strongly_disagree"
    DONT_KNOW = "dont_know"


ANSWERS = tuple(Answer)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    hint: str


@dataclass(frozen=True)
class Questionnaire:
    key: str  # the file's name: parent_carer, young_person, young_person_easy_read, setting
    version: str
    respondent_type: RespondentType
    easy_read: bool
    title: str
    introduction: str
    scale: dict[Answer, str]  # each answer's wording in this questionnaire
    questions: tuple[Question, ...]
    comment_label: str
    comment_hint: str

    def question(self, number: int) -> Question | None:
        """The question at 1-based position number, or None."""
        return self.questions[number - 1] if 1 <= number <= len(self.questions) else None


class QuestionnaireError(FrameworkError):
    """A questionnaire that cannot be used; problems lists every reason, one line each."""


TOP_KEYS = ("key", "version", "respondent_type", "easy_read", "title", "introduction", "scale", "questions", "comment")


def default_questionnaires_dir() -> Path:
    return shipped_path("config", "questionnaires")


def load_questionnaire(path: str | Path) -> Questionnaire:
    source = str(path)
    try:
        data = read_yaml(Path(path), source)
    except FrameworkError as error:
        raise QuestionnaireError(error.problems) from None
    return questionnaire_from_dict(data, source)


def check_questionnaire(path: str | Path) -> list[str]:
    return problems_loading(load_questionnaire, path)


@lru_cache(maxsize=1)
def shipped_questionnaires() -> dict[str, Questionnaire]:
    """The shipped questionnaires by key (raises QuestionnaireError if one is broken). Read once
    per process, like the shipped framework."""
    loaded = [load_questionnaire(path) for path in sorted(default_questionnaires_dir().glob("*.yaml"))]
    return {questionnaire.key: questionnaire for questionnaire in loaded}


def questionnaire_to_dict(questionnaire: Questionnaire) -> dict[str, Any]:
    return {
        "key": questionnaire.key,
        "version": questionnaire.version,
        "respondent_type": questionnaire.respondent_type.value,
        "easy_read": questionnaire.easy_read,
        "title": questionnaire.title,
        "introduction": questionnaire.introduction,
        "scale": {answer.value: label for answer, label in questionnaire.scale.items()},
        "questions": [{"id": q.id, "text": q.text, "hint": q.hint} for q in questionnaire.questions],
        "comment": {"label": questionnaire.comment_label, "hint": questionnaire.comment_hint},
    }


def questionnaire_from_dict(data: Any, source: str = "<questionnaire>") -> Questionnaire:
    problems: list[str] = []

    def problem(*parts: str) -> None:
        problems.append(": ".join((source, *parts)))

    if not isinstance(data, dict):
        raise QuestionnaireError([f"{source}: the top level must be a mapping of {', '.join(TOP_KEYS)}"])
    for key in data:
        if key not in TOP_KEYS:
            problem(f"unknown key {key!r} (allowed: {', '.join(TOP_KEYS)})")

    def text(mapping: dict, key: str, *where: str, required: bool = True) -> str:
        value = mapping.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            problem(*where, f"{key} must be some text")
            return ""
        if len(value) > TEXT_MAX_CHARS * 3:
            problem(*where, f"{key} is longer than {TEXT_MAX_CHARS * 3} characters")
        return " ".join(value.split())

    key = text(data, "key")
    if key and not QUESTION_ID.fullmatch(key):
        problem("key must be lower-case letters, digits and _, starting with a letter")
    version = str(data.get("version") or "").strip()
    if not version or len(version) > VERSION_MAX_CHARS:
        problem(f"version must be 1 to {VERSION_MAX_CHARS} characters")
    try:
        respondent_type = RespondentType(data.get("respondent_type"))
    except ValueError:
        problem(f"respondent_type must be one of {', '.join(t.value for t in RespondentType)}")
        respondent_type = None
    easy_read = data.get("easy_read", False)
    if not isinstance(easy_read, bool):
        problem("easy_read must be true or false")
    title = text(data, "title")
    introduction = text(data, "introduction")
    scale = _scale(data.get("scale"), problem)
    questions = _questions(data.get("questions"), problem)
    comment = data.get("comment")
    if not isinstance(comment, dict) or set(comment) - {"label", "hint"}:
        problem("comment must be a mapping with label and hint")
        comment = {}
    comment_label = text(comment, "label", "comment")
    comment_hint = text(comment, "hint", "comment")
    if comment_hint and "name" not in comment_hint.lower():
        problem("comment", "hint must tell people not to write names")
    if problems:
        raise QuestionnaireError(problems)
    return Questionnaire(key=key, version=version, respondent_type=respondent_type, easy_read=easy_read,
                         title=title, introduction=introduction, scale=scale, questions=tuple(questions),
                         comment_label=comment_label, comment_hint=comment_hint)


def _scale(data: Any, problem) -> dict[Answer, str]:
    if not isinstance(data, dict):
        problem(f"scale must give the wording of each answer: {', '.join(ANSWERS)}")
        return {}
    missing = [answer for answer in ANSWERS if answer.value not in data]
    unknown = [key for key in data if key not in {answer.value for answer in ANSWERS}]
    if missing:
        problem("scale", f"missing {', '.join(missing)}")
    if unknown:
        problem("scale", f"unknown answer {', '.join(map(str, unknown))}")
    scale = {}
    for answer in ANSWERS:
        label = data.get(answer.value)
        if answer.value in data and (not isinstance(label, str) or not label.strip()):
            problem("scale", answer.value, "must be some text")
        elif isinstance(label, str):
            scale[answer] = label.strip()
    return scale


def _questions(data: Any, problem) -> list[Question]:
    if not isinstance(data, list) or not QUESTIONS_MIN <= len(data) <= QUESTIONS_MAX:
        problem(f"questions must be a list of {QUESTIONS_MIN} to {QUESTIONS_MAX} questions")
        return []
    questions: list[Question] = []
    seen: set[str] = set()
    for number, item in enumerate(data, start=1):
        where = f"question {number}"
        if not isinstance(item, dict) or set(item) - {"id", "text", "hint"}:
            problem(where, "must be a mapping with id, text and (optionally) hint")
            continue
        question_id = item.get("id")
        if not isinstance(question_id, str) or not QUESTION_ID.fullmatch(question_id):
            problem(where, "id must be lower-case letters, digits and _ (up to 40), starting with a letter")
            continue
        if question_id in seen:
            problem(where, f"id {question_id!r} is used twice")
        seen.add(question_id)
        text, hint = item.get("text"), item.get("hint", "")
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_MAX_CHARS:
            problem(where, f"text must be some text of at most {TEXT_MAX_CHARS} characters")
            continue
        if not isinstance(hint, str) or len(hint) > TEXT_MAX_CHARS:
            problem(where, f"hint must be text of at most {TEXT_MAX_CHARS} characters")
            continue
        questions.append(Question(question_id, " ".join(text.split()), " ".join(hint.split())))
    return questions


def check_easy_read_pairs(questionnaires: dict[str, Questionnaire]) -> list[str]:
    """An easy-read version must ask the same questions (same ids, same order) as its standard
    twin of the same respondent type, so their answers count together."""
    problems = []
    for easy in (q for q in questionnaires.values() if q.easy_read):
        twins = [q for q in questionnaires.values() if not q.easy_read and q.respondent_type == easy.respondent_type]
        if not twins:
            problems.append(f"{easy.key}: an easy-read questionnaire needs a standard one for {easy.respondent_type.value}")
        elif [q.id for q in twins[0].questions] != [q.id for q in easy.questions]:
            problems.append(f"{easy.key}: must ask the same questions (ids, in order) as {twins[0].key}")
    return problems

