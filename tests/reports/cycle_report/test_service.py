"""The report built from the database: each part's figures are the grades the test put there."""

from datetime import date

import pytest
from sqlmodel import select

from audit_workflow.cycles.models import Assignment
from audit_workflow.framework import SECTION_CODES, default_framework
from audit_workflow.db import get_engine
from audit_workflow.reports.cycle_report import jobs, service
from audit_workflow.reports.cycle_report.document import Percent
from audit_workflow.reports.cycle_report.models import CycleReportJob, CycleReportText
from audit_workflow.reports.cycle_report.parts import FOCUS_AREAS
from audit_workflow.plans.models import Plan
from tests.factories import make_assignment
from tests.reports.builders import CONFIGURED, configure_framework
from tests.reports.cycle_report.builders import GRADES, graded_cycle
from tests.reports.cycle_report.readback import sheet_rows

LABELS = ("Outstanding", "Good", "Requires improvement", "Inadequate")


@pytest.fixture
def cycles(db, world):
    spring = graded_cycle(db, world, ["good"] * 4 + ["requires_improvement"] * 4 + ["inadequate"] * 2,
                          name="Spring 2026", start=date(2026, 3, 1), prefix="SPR", status="closed")
    autumn = graded_cycle(db, world, ["outstanding"] * 2 + ["good"] * 9 + ["requires_improvement"] * 3 + ["inadequate"],
                          name="Autumn 2026", start=date(2026, 9, 1), prefix="AUT")
    # Another LA's audits in a cycle of the same dates never count.
    graded_cycle(db, world, ["inadequate"] * 5, name="Autumn 2026", la_key="other", prefix="OTH")
    db.commit()
    return spring, autumn


def test_the_overall_grades_are_the_cycles_audits(db, cycles):
    _, autumn = cycles
    report = service.build_report(db, autumn.cycle, on=date(2026, 12, 6))
    overall = report.part("overall")
    chart = overall.charts()[0]
    assert chart.categories == LABELS
    assert chart.series[0].values == tuple(autumn.overall[grade] for grade in GRADES) == (2, 9, 3, 1)
    rows = overall.tables()[0].rows
    assert [row[:3] for row in rows] == [(label, autumn.overall[grade], Percent(autumn.overall[grade] / 15))
                                         for label, grade in zip(LABELS, GRADES)]
    low, high = rows[1][3].share, rows[1][4].share  # Good: 9 of 15, Wilson 95% interval
    assert low == pytest.approx(0.3575, abs=1e-4) and high == pytest.approx(0.8018, abs=1e-4)
    assert "Good or better: 73% (11 of 15)" in overall.blocks[0].text


def test_the_summary_counts_the_sample_and_the_audits(db, cycles):
    _, autumn = cycles
    rows = dict(service.build_report(db, autumn.cycle).part("summary").tables()[0].rows)
    assert rows["Plans in the sample"] == 15
    assert rows["Audits submitted"] == 15
    assert rows["Audits with an overall grade"] == 15


def test_the_summary_counts_first_audits_not_moderation_or_reaudits(db, world, cycles):
    _, autumn = cycles
    plan_id = db.exec(select(Assignment.plan_id).where(Assignment.cycle_id == autumn.cycle.id)).first()
    for kind, status in (("moderation", "submitted"), ("reaudit", "not_started")):
        make_assignment(db, autumn.cycle, db.get(Plan, plan_id), world.user("auditor"), kind=kind, status=status)
    db.commit()
    summary = service.build_report(db, autumn.cycle).part("summary")
    assert dict(summary.tables()[0].rows)["Audits submitted"] == 15
    assert "First audits of the sampled plans by status: submitted 15." in [block.text for block in summary.blocks if hasattr(block, "text")]


def test_each_section_has_its_grades_with_not_applicable_apart(db, cycles):
    _, autumn = cycles
    part = service.build_report(db, autumn.cycle).part("sections")
    chart = part.charts()[0]
    assert chart.categories == SECTION_CODES
    for index, grade in enumerate(GRADES):
        assert chart.series[index].values == tuple(autumn.sections[code][grade] for code in SECTION_CODES)
    h2 = next(row for row in part.tables()[0].rows if row[0].startswith("H2"))
    assert h2[5] == autumn.sections["H2"]["not_applicable"] == 5


def test_the_comparison_is_with_the_previous_cycle_in_plain_words(db, cycles):
    spring, autumn = cycles
    part = service.build_report(db, autumn.cycle).part("comparison")
    sentence = part.blocks[0].text
    assert sentence.startswith("Good or better rose from 40% (4 of 10) in Spring 2026 to 73% (11 of 15) in Autumn 2026")
    assert "with 10 and 15 plans the difference in grades is not more than chance would give" in sentence
    # Wilson intervals of 4 of 10 and 11 of 15, and Newcombe's interval of the difference (method 10).
    assert part.blocks[1].text == ("95% intervals for good or better: Spring 2026 17% to 69%; Autumn 2026 48% to 89%; "
                                   "the difference is between -5 and 61 percentage points.")
    chart = part.charts()[0]
    assert [series.name for series in chart.series] == ["Spring 2026", "Autumn 2026"]
    assert chart.series[0].values == (0.0, 40.0, 40.0, 20.0)
    both = part.tables()[0].rows
    assert both[1] == ("Good", 4, Percent(0.4), 9, Percent(0.6))


def test_the_first_cycle_says_there_is_nothing_to_compare_with(db, cycles):
    spring, _ = cycles
    part = service.build_report(db, spring.cycle).part("comparison")
    assert part.charts() == () and "no earlier cycle" in part.blocks[0].text


def test_focus_recommendations_start_from_the_framework_and_then_are_the_coordinators(db, world, cycles):
    _, autumn = cycles
    health = FOCUS_AREAS[0]
    report = service.build_report(db, autumn.cycle)
    suggested = " ".join(block.text for block in report.part("health").blocks if hasattr(block, "text"))
    assert "C Health needs related to SEN:" in suggested and "Aim for what good looks like" in suggested
    service.save_texts(db, autumn.cycle, {health.key: "Train health colleagues on section C."}, world.user("coordinator").id)
    db.commit()
    blocks = service.build_report(db, autumn.cycle).part("health").blocks
    assert blocks[-1].heading == "Recommendation" and blocks[-1].text == "Train health colleagues on section C."
    chart = service.build_report(db, autumn.cycle).part("social_care").charts()[0]
    assert chart.categories == ("D", "H1", "H2")


def test_the_suggestion_may_be_saved_unchanged_but_typed_personal_details_are_refused(db, world, cycles):
    _, autumn = cycles
    social = FOCUS_AREAS[1]
    suggested = service.suggestions(db, autumn.cycle)
    assert "birthday" in suggested[social.key]  # the framework's example for H2
    service.save_texts(db, autumn.cycle, {social.key: suggested[social.key]}, None, suggested)
    with pytest.raises(service.CycleReportError, match="a date of birth or age") as refusal:
        service.save_texts(db, autumn.cycle, {social.key: suggested[social.key] + " Jo, DOB 1/2/2015"}, None, suggested)
    assert refusal.value.field == social.key


def test_the_context_page_has_only_the_topics_written(db, world, cycles):
    _, autumn = cycles
    assert "context" not in {part.key for part in service.build_report(db, autumn.cycle).parts}
    service.save_texts(db, autumn.cycle, {"governance": "Reported to the SEND partnership board each term.", "forums": "  "}, None)
    db.commit()
    part = service.build_report(db, autumn.cycle).part("context")
    assert [(block.heading, block.text) for block in part.blocks] == [("Governance", "Reported to the SEND partnership board each term.")]
    assert len(db.exec(select(CycleReportText)).all()) == 2


def test_too_long_or_unknown_topics_are_refused(db, cycles):
    _, autumn = cycles
    with pytest.raises(service.CycleReportError, match="4000 characters"):
        service.save_texts(db, autumn.cycle, {"governance": "x" * 4001}, None)
    with pytest.raises(service.CycleReportError):
        service.save_texts(db, autumn.cycle, {"nonsense": "x"}, None)


def test_a_part_builder_is_one_more_function_in_the_list(db, cycles, monkeypatch):
    from audit_workflow.reports.cycle_report.document import Paragraph, Part

    _, autumn = cycles
    monkeypatch.setattr(service, "PART_BUILDERS", [*service.PART_BUILDERS, lambda inputs: Part(
        "moderation", "Moderation", (Paragraph(f"{inputs.cycle.name} moderation"),))])
    assert service.build_report(db, autumn.cycle).parts[-1].blocks[0].text == "Autumn 2026 moderation"


def _text(part) -> str:
    return " ".join(getattr(block, "text", "") or "" for block in part.blocks)


def test_the_benchmark_part_has_the_published_figures_and_never_a_figure_from_too_few_las(db, world, cycles):
    from audit_workflow.reports.service import load_benchmark_file

    _, autumn = cycles
    assert "benchmark" not in {part.key for part in service.build_report(db, autumn.cycle).parts}
    load_benchmark_file(db, "source,section,grade,percent\n"
                            "Commercial tool national average 2025,overall,outstanding,1.8\n"
                            "Commercial tool national average 2025,overall,good,45.6\n"
                            "Commercial tool national average 2025,overall,requires_improvement,36\n"
                            "Commercial tool national average 2025,overall,inadequate,16.6\n")
    for la in world.las.values():
        la.benchmark_opt_in = True  # only one other LA shares its results: fewer than 5
        db.add(la)
    db.commit()
    report = service.build_report(db, autumn.cycle)
    part = report.part("benchmark")
    assert "Not shown: fewer than 5 LAs contribute to this figure." in _text(part)
    chart = part.charts()[0]
    assert [series.name for series in chart.series] == ["This cycle", "Commercial tool national average 2025"]
    assert chart.series[1].values == (1.8, 45.6, 36.0, 16.6)
    assert chart.series[0].values == (13.3, 60.0, 20.0, 6.7)
    assert "no test of the difference" in _text(part)
    everything = " ".join(_text(each) + " ".join(str(row) for table in each.tables() for row in table.rows) for each in report.parts)
    assert "Westminster" not in everything


def test_the_criteria_most_missed_are_the_pages(db, cycles):
    from audit_workflow.reports.filters import ReportFilter
    from audit_workflow.reports.service import results

    _, autumn = cycles
    expected = results(db, autumn.cycle.la_id, ReportFilter(cycle=autumn.cycle.id), default_framework()).missed
    rows = service.build_report(db, autumn.cycle).part("missed").tables()[0].rows
    assert [(row[0], row[2], row[3]) for row in rows] == [(item.section_code, item.missed, item.audits)
                                                          for items in expected.values() for item in items]
    assert rows[0][2] == 15  # nothing is ticked in these audits: every Good criterion was missed in all 15


def test_an_la_without_a_framework_of_its_own_is_reported_under_the_configured_file(app, db, cycles, tmp_path):
    _, autumn = cycles
    shipped = configure_framework(app, tmp_path)
    missed = service.build_report(db, autumn.cycle, shipped_framework_file=shipped).part("missed").tables()[0].rows
    assert missed and all(row[1].startswith(CONFIGURED) for row in missed)
    suggested = service.suggestions(db, autumn.cycle, shipped_framework_file=shipped)
    assert all(CONFIGURED in text for text in suggested.values())


def test_the_report_job_uses_the_configured_framework_file(app, db, cycles, tmp_path):
    _, autumn = cycles
    configure_framework(app, tmp_path)
    service.request_report(db, autumn.cycle, "xlsx", user_id=None)
    db.commit()
    assert jobs.cycle_reports_job(get_engine(app), app.config).summary == "1 cycle report written"
    db.expire_all()
    content = db.exec(select(CycleReportJob)).one().content
    rows = sheet_rows(content, "Criteria most often missed")
    criteria = [row[1] for row in rows[[row[1] for row in rows].index("Criterion") + 1:]]
    assert criteria and all(text.startswith(CONFIGURED) for text in criteria)
