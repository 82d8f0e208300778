"""The cycle report's summaries of the other areas' work on the cycle: moderation (how far two
auditors agreed, and what adjudication settled), family and school feedback (who answered), and
actions on weak plans (where they stand). Each reads the area's own service, so the report says
what that area's pages say; each is left out when its area has nothing for the cycle."""

from __future__ import annotations

from ...actions import service as actions
from ...actions.board import BUCKETS
from ...feedback import service as feedback
from ...feedback.questionnaire import RESPONDENT_LABELS
from ...moderation import service as moderation
from .document import Cell, Paragraph, Part, Percent, Table


def _estimate(estimate) -> Cell:
    return "too few pairs" if estimate.value is None else f"{estimate.value:.2f}"


def _interval(estimate) -> Cell:
    return f"{estimate.ci[0]:.2f} to {estimate.ci[1]:.2f}" if estimate.ci else "none"


def moderation_part(inputs) -> Part | None:
    # Asked first, and only reading: the statistics record the cycle's seed when it has none, and a
    # report is written in a session that only reads (reports.cycle_report.jobs).
    if not moderation.pairs_for(inputs.db, [inputs.cycle]):
        return None
    report = moderation.statistics_report(inputs.db, [inputs.cycle])
    agreement = report.overall
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (name, _estimate(estimate), _interval(estimate), estimate.words)
        for name, estimate in (("Exact agreement", agreement.exact_agreement), ("Within one grade", agreement.within_one),
                               ("Weighted kappa", agreement.weighted_kappa),
                               ("Krippendorff's alpha", agreement.krippendorff_alpha))
    )
    return Part("moderation", "Moderation", (
        Paragraph(f"{len(report.pairs)} plans were audited a second time, blind. {report.flagged} pairs differed "
                  f"enough to need adjudication and {report.adjudicated} have been adjudicated; where a grade was "
                  "agreed, this report counts the agreed grade."),
        Table("Agreement on the overall grade, with 95% intervals", ("Measure", "Value", "95% interval", "In words"), rows),
    ))


def feedback_part(inputs) -> Part | None:
    # Asked first, and only reading: the results store the shipped questionnaires on first use,
    # which a cycle that sent invitations has done already.
    if not feedback.has_invitations(inputs.db, inputs.cycle):
        return None
    results = feedback.cycle_results(inputs.db, inputs.cycle, with_comments=False)
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (RESPONDENT_LABELS.get(rate.respondent_type, rate.respondent_type), rate.invited, rate.answered,
         Percent(rate.rate) if rate.rate is not None else None, rate.helped)
        for rate in results.rates
    )
    invited, answered = sum(rate.invited for rate in results.rates), sum(rate.answered for rate in results.rates)
    return Part("feedback", "Family, young people's and school feedback", (
        Paragraph(f"{invited} people were asked about their plan and {answered} answered. Answers are shown on the "
                  "feedback results page, and withheld where fewer than five people answered."),
        Table("Who was asked and who answered", ("Who", "Invited", "Answered", "Response rate", "Answered with help"), rows),
    ))


def actions_part(inputs) -> Part | None:
    rows = [row for row in actions.actions_for_la(inputs.db, inputs.cycle.la_id) if row.action.cycle_id == inputs.cycle.id]
    if not rows:
        return None
    board = actions.board_for(inputs.db, inputs.cycle.la_id)
    by_type = [(entry.label, *(entry.counts.get(bucket, 0) for bucket in BUCKETS)) for entry in board.by_type]
    changes = [row for row in board.grade_changes if row.action.cycle_id == inputs.cycle.id]
    return Part("actions", "Actions on weak plans", (
        Paragraph(f"{len(rows)} actions came from this cycle's audits: "
                  f"{sum(1 for row in rows if row.action.status == 'closed')} closed and "
                  f"{sum(1 for row in rows if row.overdue)} overdue. {len(changes)} plans were re-audited after "
                  "they were amended."),
        Table("Every action of the authority, by type", ("Type", *(bucket.capitalize() for bucket in BUCKETS)),
              tuple(by_type)),
    ))
