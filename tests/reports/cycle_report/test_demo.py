"""The demo gives the cycle report every part on first run (the moderation, feedback and actions
summaries among them), and running it again changes nothing."""

from sqlmodel import select

from audit_workflow.cycles.models import AuditCycle
from audit_workflow.feedback import service as feedback
from audit_workflow.moderation import service as moderation
from audit_workflow.reports.cycle_report import service
from audit_workflow.reports.cycle_report.demo import DEMO_CONTEXT, DEMO_CYCLE
from audit_workflow.reports.cycle_report.models import CycleReportText


def test_the_demo_summer_cycles_report_has_every_part(app, runner, db):
    app.config["DEMO_MODE"] = True  # the demo loads only in demo mode
    assert runner.invoke(args=["demo"]).exit_code == 0
    cycles = db.exec(select(AuditCycle).where(AuditCycle.name == DEMO_CYCLE)).all()
    texts = db.exec(select(CycleReportText)).all()
    assert len(texts) == 2 * len(DEMO_CONTEXT)  # the two LAs people sign in to
    cycle = next(cycle for cycle in cycles if cycle.la_id == texts[0].la_id)
    report = service.build_report(db, cycle)
    assert [part.key for part in report.parts] == ["summary", "overall", "comparison", "sections", "missed", "health",
                                                   "social_care", "benchmark", "moderation", "feedback", "actions",
                                                   "context"]
    # The summaries say what their areas' own services say.
    pairs = len(moderation.statistics_report(db, [cycle]).pairs)
    assert f"{pairs} plans were audited a second time" in report.part("moderation").blocks[0].text
    invited = sum(rate.invited for rate in feedback.cycle_results(db, cycle, with_comments=False).rates)
    assert report.part("feedback").blocks[0].text.startswith(f"{invited} people were asked")
    for format_name in ("pptx", "xlsx"):  # every part writes (the PDF needs Pango: test_writers covers it)
        content, _ = service.generate(db, cycle, format_name)
        assert content
    assert report.part("overall").charts()[0].series[0].values != (0, 0, 0, 0)
    assert report.part("comparison").charts()  # the spring cycle before it
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert len(db.exec(select(CycleReportText)).all()) == len(texts)
