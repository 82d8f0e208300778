"""Feedback results (pure): response rates, answers per question and answers by the plan's audit
grade, with small numbers withheld so that no family can be picked out.

A count under SMALLEST_SHOWN is never shown, nor a percentage built on one: the page says "too few
answers to show". Percentages are of the answers to that question, "don't know" included, rounded
to whole numbers (half away from zero), as the national surveys report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

from ..framework.model import GRADES_BEST_FIRST
from .questionnaire import ANSWERS, Questionnaire, RespondentType

SMALLEST_SHOWN = 5


@dataclass(frozen=True)
class Submitted:
    respondent_type: str
    answers: Mapping[str, str]  # question id -> answer
    helped: bool
    grade: str | None  # the plan's audit grade in the cycle, if submitted
    comment: str | None = None


@dataclass(frozen=True)
class Rate:
    respondent_type: str
    invited: int
    answered: int
    helped: int

    @property
    def rate(self) -> float | None:
        """Share of those invited who answered, as a fraction (None when nobody was invited)."""
        return round(self.answered / self.invited, 3) if self.invited else None


@dataclass(frozen=True)
class AnswerCounts:
    total: int
    counts: dict[str, int] | None  # None: too few answers to show
    percentages: dict[str, int] | None


@dataclass(frozen=True)
class QuestionResult:
    respondent_type: str
    question_id: str
    text: str
    overall: AnswerCounts
    by_grade: dict[str, AnswerCounts] = field(default_factory=dict)  # grade -> counts, best grade first


@dataclass(frozen=True)
class CycleResults:
    rates: list[Rate]
    questions: list[QuestionResult]
    comments: list[tuple[str, str]]  # (respondent type, comment) when shown, and only from groups of 5+

    def as_json(self) -> dict:
        return {
            "invited": {rate.respondent_type: rate.invited for rate in self.rates},
            "answered": {rate.respondent_type: rate.answered for rate in self.rates},
            "rate": {rate.respondent_type: rate.rate for rate in self.rates},
            "questions": [
                {
                    "respondent_type": question.respondent_type,
                    "id": question.question_id,
                    "text": question.text,
                    "answers": question.overall.total,
                    "counts": question.overall.counts,
                    "percentages": question.overall.percentages,
                    "by_grade": {grade: counts.counts for grade, counts in question.by_grade.items()},
                }
                for question in self.questions
            ],
        }


def percentage(part: int, whole: int) -> int:
    return int((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def answer_counts(answers: list[str]) -> AnswerCounts:
    total = len(answers)
    if total < SMALLEST_SHOWN:
        return AnswerCounts(total, None, None)
    counts = {answer.value: answers.count(answer.value) for answer in ANSWERS}
    return AnswerCounts(total, counts, {answer: percentage(count, total) for answer, count in counts.items()})


def summarise(invited: Mapping[str, int], submitted: list[Submitted],
              questionnaires: Mapping[str, Questionnaire]) -> CycleResults:
    """questionnaires: the standard questionnaire of each respondent type, whose wording is shown."""
    rates = [
        Rate(t.value, invited.get(t.value, 0), sum(1 for s in submitted if s.respondent_type == t.value),
             sum(1 for s in submitted if s.respondent_type == t.value and s.helped))
        for t in RespondentType
    ]
    questions = []
    for t in RespondentType:
        group = [s for s in submitted if s.respondent_type == t.value]
        if not group or t.value not in questionnaires:
            continue
        for question in questionnaires[t.value].questions:
            answered = [s for s in group if question.id in s.answers]
            by_grade = {
                grade.value: answer_counts([s.answers[question.id] for s in answered if s.grade == grade.value])
                for grade in GRADES_BEST_FIRST
            }
            questions.append(QuestionResult(t.value, question.id, question.text,
                                            answer_counts([s.answers[question.id] for s in answered]), by_grade))
    comments = [
        (t.value, s.comment)
        for t in RespondentType
        if sum(1 for s in submitted if s.respondent_type == t.value) >= SMALLEST_SHOWN
        for s in submitted if s.respondent_type == t.value and s.comment
    ]
    return CycleResults(rates, questions, comments)
