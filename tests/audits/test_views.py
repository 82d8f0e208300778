"""The auditor's journey through the web pages, with CSRF on, and who may see which audit."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlmodel import select, update

from audit_workflow.audits.models import Audit, AuditStatus, SectionJudgement
from audit_workflow.audits.service import save_section, start_audit, submit_audit
from audit_workflow.auth.models import UserSession
from audit_workflow.auth.service import create_user
from audit_workflow.clock import utcnow
from audit_workflow.cycles.models import CycleStatus
from audit_workflow.framework import Band, default_framework, grade_audit, grade_section
from tests.audits.test_service import assign, band_ticks, fast_password_hashing, save_all, varied_ticks  # noqa: F401
from tests.conftest import TEST_PASSWORD, csrf_token, sign_in
from tests.factories import make_assignment, make_cycle, make_plan


def page(response) -> str:
    return response.get_data(as_text=True)


def tags(html: str) -> list[str]:
    """The text of every GOV.UK tag, in page order."""
    return [" ".join(text.split()) for text in re.findall(r'<strong class="govuk-tag[^"]*">(.*?)</strong>', html, re.S)]


def section_tag(html: str, code: str) -> str:
    match = re.search(rf'data-section="{code}">\s*<strong class="govuk-tag[^"]*">(.*?)</strong>', html, re.S)
    assert match, f"no grade shown for section {code}"
    return " ".join(match.group(1).split())


def post_section(client, audit, code: str, ticks: list[str], comment: str = "", later: bool = False, token: str | None = None):
    url = f"/audits/{audit.id}/sections/{code}"
    data = {"criteria": ticks, "comment": comment, "csrf_token": token or csrf_token(client, url)}
    data["save_for_later" if later else "save_and_next"] = "x"
    return client.post(url, data=data)


@pytest.fixture
def framework():
    return default_framework()


@pytest.fixture
def auditor(world):
    return world.user("auditor")


@pytest.fixture
def audit(db, world, auditor):
    audit = start_audit(db, assign(db, world), auditor)
    db.commit()
    return audit


@pytest.fixture
def as_auditor(sign_in_as):
    return sign_in_as("auditor")


def test_my_audits_lists_the_auditors_own_plans_with_what_to_do_next(db, world, auditor, as_auditor):
    la = world.las["own"]
    cycle = make_cycle(db, la)
    make_assignment(db, cycle, make_plan(db, la, system_id="LATE-1", key_stage="KS4", primary_need="SLCN"), auditor,
                    due_date=date(2020, 1, 6))
    begun = start_audit(db, make_assignment(db, cycle, make_plan(db, la, system_id="BEGUN-2"), auditor,
                                            due_date=date(2099, 1, 6)), auditor)
    colleague = create_user(db, la.id, "second.auditor@886.example.gov.uk", "Second Auditor", "auditor")
    make_assignment(db, cycle, make_plan(db, la, system_id="NOT-MINE-3"), colleague)
    db.commit()

    html = page(as_auditor.get("/my-audits"))

    assert "LATE-1" in html and "BEGUN-2" in html and "NOT-MINE-3" not in html
    assert tags(html) == ["Not started", "Overdue", "In progress"]
    # Codes as people read them, and the cycle each plan is audited in.
    assert "Key stage 4" in html and "Speech, language and communication needs" in html and "6 January 2020" in html
    assert ">KS4<" not in html and ">SLCN<" not in html
    assert html.count('data-label="Cycle">Autumn 2026</td>') == 2
    assert '<span class="app-system-id">LATE-1</span>' in html  # kept on one line
    assert "Start<span class=\"govuk-visually-hidden\"> audit of LATE-1" in html
    assert f'href="/audits/{begun.id}">Continue' in html
    # Only a plan not yet started can be declined (it goes back to the coordinator's queue).
    assert html.count(">Decline<") == 1 and "Decline<span class=\"govuk-visually-hidden\"> audit of LATE-1" in html
    assert 'href="/my-audits"' in page(as_auditor.get("/"))  # in the navigation


def test_the_auditors_home_page_says_how_many_audits_are_to_do(db, world, auditor, as_auditor):
    assert "You have no audits to do." in page(as_auditor.get("/"))
    la = world.las["own"]
    cycle = make_cycle(db, la)
    make_assignment(db, cycle, make_plan(db, la, system_id="LATE-1"), auditor, due_date=date(2020, 1, 6))
    make_assignment(db, cycle, make_plan(db, la, system_id="LATER-2"), auditor, due_date=date(2099, 1, 6))
    make_assignment(db, cycle, make_plan(db, la, system_id="DONE-3"), auditor, status="submitted")
    db.commit()
    assert '<a class="govuk-link" href="/my-audits">2 audits to do, 1 overdue</a>' in page(as_auditor.get("/"))


def test_my_audits_offers_nothing_to_change_in_a_closed_cycle(db, world, auditor, as_auditor):
    la = world.las["own"]
    closed = make_cycle(db, la, name="Summer 2026", status=CycleStatus.CLOSED)
    make_assignment(db, closed, make_plan(db, la, system_id="OLD-1"), auditor, due_date=date(2020, 1, 6))
    begun = make_assignment(db, make_cycle(db, la), make_plan(db, la, system_id="OLD-2"), auditor, due_date=date(2020, 1, 6))
    audit = start_audit(db, begun, auditor)
    begun.cycle_id = closed.id  # its cycle closed while the audit was a draft
    db.add(begun)
    db.commit()

    html = page(as_auditor.get("/my-audits"))

    assert "OLD-1" in html and "OLD-2" in html
    assert "Overdue" not in tags(html) and ">Start<" not in html and ">Decline<" not in html
    assert f'href="/audits/{audit.id}">View' in html and ">Continue<" not in html


def test_starting_opens_the_first_section_and_continuing_resumes_where_the_auditor_left(db, world, as_auditor, framework):
    assignment = assign(db, world)
    db.commit()
    start_url = f"/assignments/{assignment.id}/audit"

    response = as_auditor.post(start_url, data={"csrf_token": csrf_token(as_auditor, "/my-audits")})
    audit = db.exec(select(Audit)).one()
    assert response.headers["Location"] == f"/audits/{audit.id}/sections/A"

    post_section(as_auditor, audit, "A", band_ticks(framework)["A"])
    response = post_section(as_auditor, audit, "B", [], later=True)
    assert response.headers["Location"] == "/my-audits"
    assert "Section B saved" in page(as_auditor.get("/my-audits"))

    assert as_auditor.get(f"/audits/{audit.id}").headers["Location"] == f"/audits/{audit.id}/sections/B"


def test_every_post_needs_the_csrf_token(db, audit, as_auditor, framework):
    response = as_auditor.post(f"/audits/{audit.id}/sections/A", data={"criteria": band_ticks(framework)["A"]})

    assert response.status_code == 400
    assert db.exec(select(SectionJudgement)).first() is None


def test_a_section_page_shows_the_guidance_and_the_counts_ticked(audit, as_auditor, framework):
    section = framework.section("C")

    html = page(as_auditor.get(f"/audits/{audit.id}/sections/C"))

    assert f"C: {section.title}" in html and escape(section.law) in html
    assert "What does good look like?" in html and "How do I choose the criteria?" in html
    assert "Do not copy text from the plan" in html
    for band, criteria in section.bands.items():
        assert re.search(rf"{band.label}\s*</legend>\s*<div[^>]*>\s*0 of {len(criteria)} ticked", html)
    assert html.count('type="checkbox"') == len(section.criteria)
    assert 'href="/audits/%s/sections/B"' % audit.id in html  # Back goes to the previous section
    assert "Save and go to next" in html and "Save and come back later" in html


def test_saving_updates_the_counts_and_shows_the_engines_grade(audit, as_auditor, framework):
    ticks = band_ticks(framework)["C"][:3]

    response = post_section(as_auditor, audit, "C", ticks, later=True)
    assert response.status_code == 302
    html = page(as_auditor.get(f"/audits/{audit.id}/sections/C"))

    expected = grade_section(framework, "C", ticks)
    good_total = len(framework.section("C").bands[Band.GOOD])
    assert re.search(rf"Good\s*</legend>\s*<div[^>]*>\s*3 of {good_total} ticked", html)
    assert expected.grade.label in tags(html)
    assert escape(expected.explanation) in html
    for criterion_id in ticks:
        assert re.search(rf'value="{criterion_id}"\s*checked', html)


def test_save_and_go_to_next_walks_the_sections_and_ends_at_the_summary(audit, as_auditor, framework):
    codes = [section.code for section in framework.sections]
    for code, following in zip(codes, codes[1:]):
        assert post_section(as_auditor, audit, code, []).headers["Location"] == f"/audits/{audit.id}/sections/{following}"
    assert post_section(as_auditor, audit, "K", []).headers["Location"] == f"/audits/{audit.id}/summary"


@pytest.mark.parametrize(
    "comment, message",
    [
        ("Checked against NHS number 943 476 5919", "Remove an NHS number from the comment"),
        ("Plan header gives the DOB", "Remove a date of birth or age from the comment"),
    ],
)
def test_personal_data_in_the_comment_is_refused_and_nothing_typed_is_lost(db, audit, as_auditor, framework, comment, message):
    ticks = band_ticks(framework)["A"][:2]

    response = post_section(as_auditor, audit, "A", ticks, comment)

    html = page(response)
    assert response.status_code == 400
    assert "<title>Error:" in html and "There is a problem" in html and message in html
    assert 'href="#comment"' in html
    assert f">{escape(comment)}</textarea>" in html
    for criterion_id in ticks:
        assert re.search(rf'value="{criterion_id}"\s*checked', html)
    assert db.exec(select(SectionJudgement)).first() is None


def test_a_save_after_the_session_timed_out_gets_401_and_the_last_saved_draft_is_kept(db, audit, as_auditor, framework):
    post_section(as_auditor, audit, "A", band_ticks(framework)["A"], "Saved before the break.")
    token = csrf_token(as_auditor, f"/audits/{audit.id}/sections/A")
    db.exec(update(UserSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    db.commit()

    response = post_section(as_auditor, audit, "A", [], "Typed after the timeout.", token=token)

    assert response.status_code == 401 and "anything you saved is kept" in page(response)
    judgement = db.exec(select(SectionJudgement)).one()
    assert judgement.comment == "Saved before the break."


def test_a_criterion_from_another_section_is_refused_with_a_message(audit, as_auditor, framework):
    response = post_section(as_auditor, audit, "A", [band_ticks(framework)["B"][0]])

    assert response.status_code == 400
    assert "is not a criterion of section A" in page(response) and 'href="#criteria"' in page(response)


def test_an_unknown_section_is_not_found(audit, as_auditor):
    assert as_auditor.get(f"/audits/{audit.id}/sections/Z").status_code == 404
    assert post_section(as_auditor, audit, "Z", [], token=csrf_token(as_auditor, "/my-audits")).status_code == 404


def test_the_summary_shows_the_engines_grades_and_submitting_locks_the_audit(db, audit, auditor, as_auditor, framework):
    ticks = varied_ticks(framework)
    save_all(db, audit, auditor, ticks)
    db.commit()
    expected = grade_audit(framework, ticks)

    html = page(as_auditor.get(f"/audits/{audit.id}/summary"))
    for code, result in expected.sections.items():
        assert section_tag(html, code) == result.grade.label
    overall = re.search(r'data-testid="overall-grade">.*?<strong class="govuk-tag[^"]*">(.*?)</strong>', html, re.S)
    assert overall.group(1).strip() == expected.overall.label
    assert "Submit audit" in html

    response = as_auditor.post(f"/audits/{audit.id}/submit", data={"csrf_token": csrf_token(as_auditor, "/my-audits")})
    assert response.headers["Location"] == f"/audits/{audit.id}/summary"

    html = page(as_auditor.get(f"/audits/{audit.id}/summary"))
    assert "Audit submitted" in html and "The audit is locked" in html and "Submit audit" not in html
    assert "Save and go to next" not in page(as_auditor.get(f"/audits/{audit.id}/sections/A"))
    refused = post_section(as_auditor, audit, "A", [], token=csrf_token(as_auditor, "/my-audits"))
    assert refused.status_code == 409 and "cannot be changed" in page(refused)
    db.refresh(audit)
    assert audit.status == AuditStatus.SUBMITTED


def test_submitting_an_incomplete_audit_says_what_is_left(db, audit, auditor, as_auditor, framework):
    save_all(db, audit, auditor, {code: ids for code, ids in band_ticks(framework).items() if code != "J"})
    db.commit()
    summary_html = page(as_auditor.get(f"/audits/{audit.id}/summary"))
    assert "Submit audit" not in summary_html and "Still to do: J." in summary_html

    response = as_auditor.post(f"/audits/{audit.id}/submit", data={"csrf_token": csrf_token(as_auditor, "/my-audits")})

    assert response.status_code == 409
    assert "<title>Error:" in page(response) and "Still to do: J" in page(response)


def test_a_coordinator_reads_an_audit_but_cannot_change_it(db, audit, auditor, sign_in_as, framework):
    save_section(db, audit, "A", band_ticks(framework)["A"], "Strong voice of the child.", auditor)
    db.commit()
    coordinator = sign_in_as("coordinator")

    summary_html = page(coordinator.get(f"/audits/{audit.id}/summary"))
    section_html = page(coordinator.get(f"/audits/{audit.id}/sections/A"))

    assert "Submit audit" not in summary_html and "Reopen audit" not in summary_html
    assert "Strong voice of the child." in section_html and 'type="checkbox"' not in section_html
    assert escape(framework.section("A").bands[Band.GOOD][0].text) in section_html  # what the auditor ticked
    assert post_section(coordinator, audit, "A", [], token=csrf_token(coordinator, "/")).status_code == 403


def test_a_coordinator_reopens_a_submitted_audit_with_a_reason(db, world, audit, auditor, sign_in_as, framework):
    client = sign_in_as("coordinator")
    assert client.get(f"/audits/{audit.id}/reopen").status_code == 409  # a draft has nothing to reopen
    save_all(db, audit, auditor, band_ticks(framework))
    submit_audit(db, audit, auditor)
    db.commit()
    url = f"/audits/{audit.id}/reopen"
    assert 'href="%s"' % url in page(client.get(f"/audits/{audit.id}/summary"))

    empty = client.post(url, data={"reason": "  ", "csrf_token": csrf_token(client, url)})
    assert empty.status_code == 400 and "Enter why you are reopening this audit" in page(empty)

    response = client.post(url, data={"reason": "Moderation disagreed on F", "csrf_token": csrf_token(client, url)})
    assert response.headers["Location"] == f"/audits/{audit.id}/summary"
    html = page(client.get(f"/audits/{audit.id}/summary"))
    assert "Audit reopened" in html and "Reopened: Moderation disagreed on F" in html
    db.refresh(audit)
    assert audit.status == AuditStatus.DRAFT


@pytest.mark.parametrize("role", ["auditor", "coordinator", "manager"])
def test_another_las_staff_cannot_find_the_audit(world, audit, client, role):
    sign_in(client, world.user(role, "other"))

    for path in ("", "/summary", "/sections/A"):
        assert client.get(f"/audits/{audit.id}{path}").status_code == 404
    if role == "coordinator":
        assert client.get(f"/audits/{audit.id}/reopen").status_code == 404


def test_another_auditor_in_the_la_cannot_find_the_audit(db, world, audit, client):
    colleague = create_user(db, world.las["own"].id, "second.auditor@886.example.gov.uk", "Second Auditor", "auditor",
                            password=TEST_PASSWORD)
    db.commit()
    sign_in(client, colleague)

    for path in ("", "/summary", "/sections/A"):
        assert client.get(f"/audits/{audit.id}{path}").status_code == 404
    token = csrf_token(client, "/my-audits")
    assert post_section(client, audit, "A", [], token=token).status_code == 404
    assert client.post(f"/audits/{audit.id}/submit", data={"csrf_token": token}).status_code == 404
    assignment_id = db.get(Audit, audit.id).assignment_id
    assert client.post(f"/assignments/{assignment_id}/audit", data={"csrf_token": token}).status_code == 404
