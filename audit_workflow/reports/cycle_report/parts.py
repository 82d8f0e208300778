"""The parts of the cycle report, each made from the reports' aggregates (reports/aggregates.py),
the same values the reports pages show, so the deck, the PDF and the page cannot disagree.

Pure: each function takes figures and returns a document Part (or None when it has nothing to
say). The service gathers the figures and calls them in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...framework import SECTION_CODES, Framework, Grade
from ...framework.model import GRADES_BEST_FIRST
from ..aggregates import GOOD_OR_BETTER, HEALTH_FOCUS, OVERALL, SOCIAL_CARE_FOCUS, CycleComparison, Distribution, MissedCriterion
from ..statistics import ShareComparison, count_text, p_value_text
from .document import BarChart, Cell, Paragraph, Part, Percent, Series, Table

GRADE_LABELS = tuple(grade.label for grade in GRADES_BEST_FIRST)
PLANS = "plans"
PERCENT_OF_PLANS = "% of plans"


@dataclass(frozen=True)
class Focus:
    key: str  # how the coordinator's recommendation is stored
    title: str
    sections: tuple[str, ...]


FOCUS_AREAS = (
    Focus("health", "Health focus", HEALTH_FOCUS),
    Focus("social_care", "Social care focus", SOCIAL_CARE_FOCUS),
)


@dataclass(frozen=True)
class ContextTopic:
    key: str
    title: str
    hint: str


# The page of context for Ofsted and CQC, one topic each; empty topics are left out of the report.
CONTEXT_TOPICS = (
    ContextTopic("qa_framework", "Our quality assurance framework", "How plans are audited, by whom and how often."),
    ContextTopic("forums", "Multi-disciplinary forums", "Where education, health and social care look at audit findings together."),
    ContextTopic("governance", "Governance", "Who receives these findings (for example the SEND partnership board) and how they act on them."),
    ContextTopic("work_done", "Work done since the last cycle", "Training, guidance and changes made because of earlier audits."),
    ContextTopic("improvement_plan", "Links to the improvement plan", "Which actions of the SEND improvement plan these findings feed, with links."),
)


@dataclass(frozen=True)
class CycleFacts:
    """The cycle summary: what was audited and how far the cycle got."""

    name: str
    status: str
    register: int  # plans in the LA's register
    sampled: int
    auditors: int
    assignments_by_status: Mapping[str, int]  # first audits only, as audits_submitted and graded
    audits_submitted: int
    graded: int  # audits with an overall grade


def summary_part(facts: CycleFacts) -> Part:
    statuses = ", ".join(f"{status.replace('_', ' ')} {count}" for status, count in sorted(facts.assignments_by_status.items()))
    rows: tuple[tuple[Cell, ...], ...] = (
        ("Plans in the register", facts.register),
        ("Plans in the sample", facts.sampled),
        ("Auditors in the pool", facts.auditors),
        ("Audits submitted", facts.audits_submitted),
        ("Audits with an overall grade", facts.graded),
    )
    sample_share = f" ({count_text(facts.sampled, facts.register)} of the register)" if facts.register else ""
    return Part("summary", "Cycle summary", (
        Paragraph(f"{facts.name} is {facts.status}. {facts.sampled} plans were sampled{sample_share}; "
                  f"{facts.audits_submitted} audits were submitted and {facts.graded} have an overall grade."),
        Table("The cycle in numbers", ("Measure", "Number"), rows),
        *((Paragraph(f"First audits of the sampled plans by status: {statuses}."),) if statuses else ()),
    ))


def _share(count: int, total: int) -> Percent | None:
    return Percent(count / total) if total else None


def distribution_rows(distribution: Distribution) -> tuple[tuple[Cell, ...], ...]:
    """Grade, plans, share and its Wilson 95% interval, best grade first."""
    return tuple(
        (share.label, share.count, _share(share.count, share.total),
         Percent(share.interval.low) if share.interval else None, Percent(share.interval.high) if share.interval else None)
        for share in distribution.shares
    )


DISTRIBUTION_HEADER = ("Grade", "Plans", "Share", "95% interval from", "95% interval to")


def overall_part(overall: Distribution, agreed_audits: int = 0) -> Part:
    good = overall.good_or_better
    agreed = (f" In {agreed_audits} of these audits the grades agreed in moderation are used in place of the auditor's."
              if agreed_audits else "")
    return Part("overall", "Overall grades", (
        Paragraph(f"{overall.total} audits have an overall grade. {GOOD_OR_BETTER}: {good.text}"
                  + (f", 95% interval {good.interval}." if good.interval else ".") + agreed),
        BarChart("Overall grades", GRADE_LABELS, (Series("Plans", overall.counts),), PLANS),
        Table("Overall grades with 95% intervals", DISTRIBUTION_HEADER, distribution_rows(overall)),
    ))


def _percents(distribution: Distribution) -> tuple[float, ...]:
    return tuple(round(100 * count / distribution.total, 1) if distribution.total else 0.0 for count in distribution.counts)


def comparison_part(comparison: CycleComparison | None, previous: Mapping[str, Distribution] | None,
                    current: Mapping[str, Distribution]) -> Part:
    if comparison is None or previous is None:
        return Part("comparison", "Compared with the last cycle", (
            Paragraph("There is no earlier cycle of this authority to compare with."),))
    first, second = previous[OVERALL], current[OVERALL]
    rows = tuple(
        (label, before, _share(before, first.total), after, _share(after, second.total))
        for label, before, after in zip(GRADE_LABELS, first.counts, second.counts)
    )
    section_rows = tuple(
        (current[code].title, count_text(result.first_count, result.first_total),
         count_text(result.second_count, result.second_total), _verdict(result))
        for code, result in comparison.sections.items()
    )
    return Part("comparison", "Compared with the last cycle", (
        Paragraph(comparison.overall.sentence),
        *((Paragraph(intervals),) if (intervals := interval_sentence(comparison.overall)) else ()),
        BarChart("Overall grades in both cycles", GRADE_LABELS,
                 (Series(comparison.first_label, _percents(first)), Series(comparison.second_label, _percents(second))),
                 PERCENT_OF_PLANS),
        Table("Overall grades in both cycles",
              ("Grade", f"{comparison.first_label}: plans", "Share", f"{comparison.second_label}: plans", "Share"), rows),
        Table(f"{GOOD_OR_BETTER} by section",
              ("Section", comparison.first_label, comparison.second_label, "Difference in grades more than chance?"),
              section_rows),
    ))


def interval_sentence(result: ShareComparison) -> str | None:
    """The 95% intervals behind a comparison, as the reports page words them."""
    if result.first_interval is None or result.second_interval is None:
        return None
    sentence = (f"95% intervals for {GOOD_OR_BETTER.lower()}: {result.first_label} {result.first_interval}; "
                f"{result.second_label} {result.second_interval}")
    if result.difference is not None:
        sentence += (f"; the difference is between {round(result.difference.low * 100)} and "
                     f"{round(result.difference.high * 100)} percentage points")
    return sentence + "."


def _verdict(result) -> str:
    if result.test is None:
        return "Cannot tell: no graded plans in one cycle"
    return f"{'Yes' if result.test.significant else 'No'} ({p_value_text(result.test.p_value)})"


SECTION_HEADER = ("Section", *GRADE_LABELS, Grade.NOT_APPLICABLE.label, GOOD_OR_BETTER, "95% interval from", "95% interval to")


def section_rows(distributions: Sequence[Distribution]) -> tuple[tuple[Cell, ...], ...]:
    rows = []
    for distribution in distributions:
        good = distribution.good_or_better
        rows.append((distribution.title, *distribution.counts, distribution.not_applicable,
                     count_text(good.count, good.total) if good.total else "no plans",
                     Percent(good.interval.low) if good.interval else None,
                     Percent(good.interval.high) if good.interval else None))
    return tuple(rows)


def _stacked(title: str, distributions: Sequence[Distribution]) -> BarChart:
    return BarChart(title, tuple(distribution.section_code for distribution in distributions),
                    tuple(Series(label, tuple(distribution.counts[index] for distribution in distributions))
                          for index, label in enumerate(GRADE_LABELS)),
                    PLANS, stacked=True)


def sections_part(distributions: Mapping[str, Distribution]) -> Part:
    sections = [distributions[code] for code in SECTION_CODES]
    return Part("sections", "Results by section", (
        Paragraph("Each section's grades in the audits that graded it. Not applicable sections are counted apart "
                  "and left out of the shares."),
        _stacked("Grades by section", sections),
        Table("Grades by section with 95% intervals for Good or better", SECTION_HEADER, section_rows(sections)),
    ))


def missed_part(missed: Mapping[str, Sequence[MissedCriterion]]) -> Part | None:
    """The Good criteria most often left unticked in each section; None when none was missed."""
    rows = tuple((item.section_code, item.text + (" (core)" if item.core else ""), item.missed, item.audits,
                  Percent(item.missed / item.audits))
                 for items in missed.values() for item in items)
    if not rows:
        return None
    return Part("missed", "Criteria most often missed", (
        Paragraph("In each section, the Good criteria most often not met in the audits that graded it. A core "
                  "criterion must be met for the section to be Good."),
        Table("Good criteria most often missed", ("Section", "Criterion", "Missed in", "Of audits", "Share"), rows),
    ))


def suggested_recommendation(focus: Focus, distributions: Mapping[str, Distribution], framework: Framework) -> str:
    """Wording the coordinator starts from: each section's share below Good and the framework's
    description of what good looks like for it."""
    sentences = []
    for code in focus.sections:
        distribution = distributions[code]
        section = framework.section(code)
        below = distribution.total - distribution.good_or_better.count
        share = f"{count_text(below, distribution.total)} of graded plans were below Good" if distribution.total else "no plans were graded"
        sentences.append(f"{section.code} {section.title}: {share}. Aim for what good looks like: "
                         f"{' '.join(section.what_good_looks_like.split())}")
    return "\n\n".join(sentences)


def focus_part(focus: Focus, distributions: Mapping[str, Distribution], recommendation: str) -> Part:
    sections = [distributions[code] for code in focus.sections]
    return Part(focus.key, focus.title, (
        _stacked(f"{focus.title}: grades by section", sections),
        Table(f"{focus.title} with 95% intervals for Good or better", SECTION_HEADER, section_rows(sections)),
        *(Paragraph(text, "Recommendation" if index == 0 else None)
          for index, text in enumerate(piece.strip() for piece in recommendation.split("\n\n") if piece.strip())),
    ))


def context_part(texts: Mapping[str, str]) -> Part | None:
    """The free-text page for Ofsted and CQC; None when the coordinator has written nothing."""
    blocks = tuple(Paragraph(texts[topic.key].strip(), topic.title) for topic in CONTEXT_TOPICS
                   if texts.get(topic.key, "").strip())
    return Part("context", "Context for Ofsted and CQC", blocks) if blocks else None


def benchmark_part(own: Distribution, benchmarks: Sequence) -> Part | None:
    """This cycle against the benchmarks the reports page shows (reports.service.Benchmark): each
    in plain words, and the shares side by side. None when the LA has no benchmark to show."""
    if not benchmarks:
        return None
    sentences, series = [], [Series("This cycle", _percents(own))]
    for benchmark in benchmarks:
        name = f"{benchmark.label} ({benchmark.source})" if benchmark.source else benchmark.label
        if benchmark.hidden_reason:
            sentences.append(Paragraph(benchmark.hidden_reason, name))
            continue
        if benchmark.distribution is not None:
            series.append(Series(benchmark.source or benchmark.label, _percents(benchmark.distribution)))
        else:
            shares = tuple(benchmark.percents.get(grade.value, 0.0) for grade in GRADES_BEST_FIRST)
            series.append(Series(benchmark.source or benchmark.label, shares))
        sentences.append(Paragraph(benchmark.comparison.sentence if benchmark.comparison else
                                   "Published as percentages without the number of plans, so no test of the "
                                   "difference can be made.", name))
    blocks = [*sentences]
    if len(series) > 1:
        blocks.append(BarChart("Overall grades against the benchmarks", GRADE_LABELS, tuple(series), PERCENT_OF_PLANS))
        blocks.append(Table("Overall grades against the benchmarks (% of plans)", ("Grade", *(item.name for item in series)),
                            tuple((label, *(Percent(item.values[index] / 100) for item in series))
                                  for index, label in enumerate(GRADE_LABELS))))
    return Part("benchmark", "Benchmark", tuple(blocks))
