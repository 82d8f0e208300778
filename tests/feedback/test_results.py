"""Results: response rates, answers per question, small numbers withheld, answers by audit grade."""

from audit_workflow.feedback.questionnaire import shipped_questionnaires
from audit_workflow.feedback.results import SMALLEST_SHOWN, Submitted, answer_counts, percentage, summarise


def test_the_response_rate_matches_southends_published_survey():
    # Southend's co-designed survey: 19 families answered, 4% of those asked (qa-practice.md, R87).
    results = summarise({"parent_carer": 475}, [Submitted("parent_carer", {}, False, None)] * 19, {})
    rate = next(r for r in results.rates if r.respondent_type == "parent_carer")
    assert (rate.invited, rate.answered, rate.rate) == (475, 19, 0.04)


def test_percentages_are_of_the_answers_and_round_half_up():
    # Worked example: 8 answers of which 1 is 12.5%, shown as 13%; 3 of 8 is 37.5%, shown as 38%.
    counts = answer_counts(["agree"] * 3 + ["strongly_agree"] + ["disagree"] * 3 + ["dont_know"])
    assert counts.total == 8
    assert counts.percentages["agree"] == 38 and counts.percentages["strongly_agree"] == 13
    assert counts.percentages["dont_know"] == 13 and counts.percentages["neither"] == 0
    assert percentage(1, 3) == 33 and percentage(2, 3) == 67


def test_fewer_than_five_answers_are_too_few_to_show():
    assert answer_counts(["agree"] * (SMALLEST_SHOWN - 1)).counts is None
    assert answer_counts(["agree"] * SMALLEST_SHOWN).counts["agree"] == SMALLEST_SHOWN


def test_answers_are_linked_to_the_plans_grade_and_help_is_counted():
    questionnaires = {"parent_carer": shipped_questionnaires()["parent_carer"]}
    first = questionnaires["parent_carer"].questions[0].id
    good = [Submitted("parent_carer", {first: "agree"}, n == 0, "good", "Clear plan") for n in range(5)]
    inadequate = [Submitted("parent_carer", {first: "disagree"}, False, "inadequate") for _ in range(2)]

    results = summarise({"parent_carer": 20}, good + inadequate, questionnaires)

    question = results.questions[0]
    assert question.overall.counts["agree"] == 5 and question.overall.counts["disagree"] == 2
    assert question.by_grade["good"].counts["agree"] == 5
    assert question.by_grade["inadequate"].counts is None  # 2 answers: too few to show
    assert results.rates[0].helped == 1
    assert results.comments == [("parent_carer", "Clear plan")] * 5
    assert results.as_json()["rate"]["parent_carer"] == 0.35


def test_comments_from_a_group_of_fewer_than_five_are_not_shown():
    results = summarise({"setting": 3}, [Submitted("setting", {}, False, None, "Helpful")] * 3, {})
    assert results.comments == []
