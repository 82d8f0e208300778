"""The cycle report on the web: the buttons on the cycle page, a small cycle's report at once, a
big one's through the scheduler's job with its progress, and the coordinator's own words."""

import pytest
from sqlmodel import select

from audit_workflow.db import get_engine
from audit_workflow.reports.cycle_report import jobs, service
from audit_workflow.reports.cycle_report.models import CycleReportJob
from tests.conftest import csrf_token
from tests.reports.builders import CONFIGURED, configure_framework
from tests.reports.cycle_report.builders import graded_cycle
from tests.reports.cycle_report.readback import deck_chart, deck_text, formula_cells, sheet_rows


@pytest.fixture
def cycle(db, world):
    graded = graded_cycle(db, world, ["good"] * 3 + ["requires_improvement"] * 2 + ["inadequate"])
    db.commit()
    return graded.cycle


def _generate(client, cycle, format_name):
    token = csrf_token(client, f"/cycles/{cycle.id}")
    return client.post(f"/cycle-reports/generate/{cycle.id}", data={"csrf_token": token, "format": format_name})


def test_a_manager_downloads_a_small_cycles_report_from_the_cycle_page(sign_in_as, cycle):
    client = sign_in_as("manager")
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "Download the report as PowerPoint (PPTX)" in page and "Download the report as PDF" in page
    assert "Reports being written, recommendations and context" in page
    response = _generate(client, cycle, "pptx")
    assert response.status_code == 200
    assert response.mimetype == service.FORMATS["pptx"].media_type
    assert 'attachment; filename=cycle-report-autumn-2026.pptx' in response.headers["Content-Disposition"]
    assert deck_chart(response.data, "Overall grades").series == {"Plans": [0, 3, 2, 1]}


def test_an_unknown_format_is_a_400_with_a_message(sign_in_as, cycle):
    response = _generate(sign_in_as("coordinator"), cycle, "docx")
    assert response.status_code == 400
    assert "Choose one of the formats: pptx, pdf, xlsx." in response.get_data(as_text=True)


def test_a_big_cycles_report_is_written_by_the_job_with_its_progress(app, db, sign_in_as, cycle, monkeypatch):
    monkeypatch.setattr(service, "DIRECT_GENERATION_MAX_PLANS", 5)  # the cycle has 6 plans
    client = sign_in_as("coordinator")
    response = _generate(client, cycle, "xlsx")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cycles/{cycle.id}/report")
    page = client.get(f"/cycles/{cycle.id}/report").get_data(as_text=True)
    assert "is being written" in page and "Waiting" in page and 'http-equiv="refresh"' in page
    assert page.count("Cycle report</h") == 1 and "Download the report as Excel (XLSX)" in page

    progress = []
    real_record = service.record_progress
    monkeypatch.setattr(service, "record_progress", lambda db, job_id, percent: (progress.append(percent), real_record(db, job_id, percent)))
    outcome = jobs.cycle_reports_job(get_engine(app), app.config)
    assert outcome.summary == "1 cycle report written"
    assert progress == sorted(progress) and progress[-1] == jobs.BUILT_PERCENT and len(progress) == len(service.PART_BUILDERS)
    assert jobs.cycle_reports_job(get_engine(app), app.config).summary == "0 cycle reports written"

    page = client.get(f"/cycles/{cycle.id}/report").get_data(as_text=True)
    assert "Ready" in page and 'http-equiv="refresh"' not in page
    job = db.exec(select(CycleReportJob)).one()
    download = client.get(f"/cycle-reports/{job.id}/download")
    assert download.status_code == 200 and download.mimetype == service.FORMATS["xlsx"].media_type
    assert ("Good", 3) in [row[:2] for row in sheet_rows(download.data, "Overall grades")]


def test_a_report_that_fails_says_so_and_the_next_one_is_still_written(app, db, sign_in_as, cycle, monkeypatch):
    monkeypatch.setattr(service, "DIRECT_GENERATION_MAX_PLANS", 0)
    client = sign_in_as("coordinator")
    _generate(client, cycle, "pptx")
    _generate(client, cycle, "xlsx")
    broken = service.FORMATS["pptx"].__class__("pptx", "x", lambda report: 1 / 0, "PowerPoint (PPTX)")
    monkeypatch.setitem(service.FORMATS, "pptx", broken)
    assert jobs.cycle_reports_job(get_engine(app), app.config).summary == "1 cycle report written, 1 failed"
    page = client.get(f"/cycles/{cycle.id}/report").get_data(as_text=True)
    assert "Failed" in page and "ZeroDivisionError" in page and "Ready" in page
    failed = db.exec(select(CycleReportJob).where(CycleReportJob.status == "failed")).one()
    response = client.get(f"/cycle-reports/{failed.id}/download")
    assert response.status_code == 302


def test_the_coordinator_starts_from_the_suggestion_and_saves_recommendations(sign_in_as, cycle):
    client = sign_in_as("coordinator")
    path = f"/cycles/{cycle.id}/report/recommendations"
    page = client.get(path).get_data(as_text=True)
    assert "C Health needs related to SEN:" in page and "Aim for what good looks like" in page
    token = csrf_token(client, path)
    refused = client.post(path, data={"csrf_token": token, "health": "Review plans for NHS number 943 476 5919.",
                                      "social_care": "Keep going."})
    assert refused.status_code == 400
    assert "Remove an NHS number from health focus" in refused.get_data(as_text=True)
    saved = client.post(path, data={"csrf_token": token, "health": "Ask the designated clinical officer to review C and G.",
                                    "social_care": "Bring social care into the panel."})
    assert saved.status_code == 302
    deck = _generate(client, cycle, "pptx").data
    assert "Ask the designated clinical officer to review C and G." in deck_text(deck)
    assert "Bring social care into the panel." in deck_text(deck)


def test_the_context_page_is_in_the_report_and_text_stays_text(sign_in_as, cycle):
    client = sign_in_as("coordinator")
    path = f"/cycles/{cycle.id}/report/context"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "governance": "=1+2 reported to the board",
                                       "qa_framework": "Monthly audits by three disciplines."})
    assert response.status_code == 302
    workbook = _generate(client, cycle, "xlsx").data
    assert formula_cells(workbook) == []
    column = [row[0] for row in sheet_rows(workbook, "Context for Ofsted and CQC")]
    assert "'=1+2 reported to the board" in column and "Monthly audits by three disciplines." in column


def test_another_las_report_job_is_not_found(sign_in_as, db, world, cycle):
    other = graded_cycle(db, world, ["good"], la_key="other", prefix="OTH")
    job = service.request_report(db, other.cycle, "pdf", None)
    db.commit()
    assert sign_in_as("manager").get(f"/cycle-reports/{job.id}/download").status_code == 404


def test_a_draft_cycle_has_no_report_buttons(sign_in_as, db, world):
    from tests.factories import make_cycle

    draft = make_cycle(db, world.las["own"], status="draft")
    db.commit()
    page = sign_in_as("coordinator").get(f"/cycles/{draft.id}").get_data(as_text=True)
    assert "It can be written once the cycle is open." in page and "Download the report as" not in page


def test_the_suggestions_and_the_report_read_the_configured_framework_file(app, sign_in_as, cycle, tmp_path):
    configure_framework(app, tmp_path)
    client = sign_in_as("coordinator")
    assert CONFIGURED in client.get(f"/cycles/{cycle.id}/report/recommendations").get_data(as_text=True)
    rows = sheet_rows(_generate(client, cycle, "xlsx").data, "Criteria most often missed")
    criteria = [row[1] for row in rows[[row[1] for row in rows].index("Criterion") + 1:]]
    assert criteria and all(text.startswith(CONFIGURED) for text in criteria)
