"""The auditor's journey as services: start, save, resume, submit, reopen, and the history they leave."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from audit_workflow.audits.models import AuditHistory, AuditStatus, SectionJudgement
from audit_workflow.auth import passwords
from audit_workflow.audits.service import (
    AuditError,
    AuditStateError,
    reopen_audit,
    resume_section,
    save_section,
    start_audit,
    submit_audit,
    summary,
)
from audit_workflow.cycles.models import AssignmentStatus, AuditCycle, CycleStatus
from audit_workflow.framework import Band, Framework, default_framework, grade_audit, grade_section
from audit_workflow.framework.models import FrameworkVersion
from audit_workflow.framework.versions import framework_for_audit
from tests.factories import make_assignment, make_cycle, make_plan


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch):
    """The world's eight users cost about two seconds of argon2 at production strength; these tests
    are about audits, so hash (and verify sign-ins) at the cheapest setting."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def assign(db, world, la: str = "own", system_id: str = "SYS-0001"):
    """A plan of the LA assigned to the LA's auditor."""
    la_row = world.las[la]
    return make_assignment(db, make_cycle(db, la_row), make_plan(db, la_row, system_id=system_id), world.user("auditor", la))


def band_ticks(framework: Framework, band: Band = Band.GOOD) -> dict[str, list[str]]:
    """Every criterion of one band in every section: a complete audit whose grade is easy to predict."""
    return {section.code: [criterion.id for criterion in section.bands[band]] for section in framework.sections}


def varied_ticks(framework: Framework) -> dict[str, list[str]]:
    """A complete audit with different grades in different sections, as a real one would have."""
    ticks = band_ticks(framework)
    for index, section in enumerate(framework.sections):
        if index % 3 == 1:
            ticks[section.code] += [section.bands[Band.REQUIRES_IMPROVEMENT][0].id]
        elif index % 3 == 2:
            ticks[section.code] += [criterion.id for criterion in section.bands[Band.OUTSTANDING]]
    ticks["F"] = [framework.section("F").bands[Band.INADEQUATE][0].id]  # B or F Inadequate limits the overall grade
    return ticks


def save_all(db, audit, auditor, ticks: dict[str, list[str]]) -> None:
    for code, ids in ticks.items():
        save_section(db, audit, code, ids, "", auditor, moving_on=True)


def history_actions(db, audit) -> list[tuple[str, str | None]]:
    rows = db.exec(select(AuditHistory).where(AuditHistory.audit_id == audit.id).order_by(AuditHistory.at)).all()
    return [(row.action, row.section_code) for row in rows]


@pytest.fixture
def auditor(world):
    return world.user("auditor")


@pytest.fixture
def assignment(db, world):
    return assign(db, world)


@pytest.fixture
def audit(db, assignment, auditor):
    return start_audit(db, assignment, auditor)


@pytest.fixture
def framework():
    return default_framework()


def test_starting_an_audit_pins_the_shipped_framework_and_moves_the_assignment_on(db, assignment, auditor, framework):
    audit = start_audit(db, assignment, auditor)

    version = db.get(FrameworkVersion, audit.framework_version_id)
    assert (version.la_id, version.version) == (None, framework.version)
    assert audit.status == AuditStatus.DRAFT and audit.la_id == assignment.la_id
    assert assignment.status == AssignmentStatus.IN_PROGRESS and assignment.started_at is not None
    assert history_actions(db, audit) == [("started", None)]


def test_starting_again_returns_the_audit_already_started(db, assignment, auditor, audit):
    assert start_audit(db, assignment, auditor).id == audit.id
    assert history_actions(db, audit) == [("started", None)]


def test_only_the_assigned_auditor_can_start_the_audit(db, world, assignment):
    with pytest.raises(AuditError, match="Only the auditor"):
        start_audit(db, assignment, world.user("coordinator"))


@pytest.mark.parametrize("status", [AssignmentStatus.DECLINED, AssignmentStatus.WITHDRAWN])
def test_a_declined_or_withdrawn_assignment_cannot_be_started(db, assignment, auditor, status):
    assignment.status = status
    with pytest.raises(AuditStateError, match="cannot be started"):
        start_audit(db, assignment, auditor)


def test_saving_a_section_stores_the_ticks_and_the_grade_the_engine_gives(db, audit, auditor, framework):
    ticks = band_ticks(framework)["A"]

    judgement = save_section(db, audit, "A", list(reversed(ticks)), "  Clear and personal.  ", auditor)

    expected = grade_section(framework, "A", ticks)
    assert json.loads(judgement.ticked) == ticks  # stored in the framework's order
    assert judgement.comment == "Clear and personal."
    assert (judgement.grade, judgement.explanation) == (expected.grade.value, expected.explanation)
    assert audit.current_section == "A"
    assert history_actions(db, audit)[-1] == ("saved", "A")


def test_saving_again_replaces_the_draft(db, audit, auditor, framework):
    save_section(db, audit, "B", band_ticks(framework)["B"], "first", auditor)
    save_section(db, audit, "B", [], "second", auditor)

    rows = db.exec(select(SectionJudgement).where(SectionJudgement.audit_id == audit.id)).all()
    assert [(row.section_code, row.ticked, row.comment, row.grade) for row in rows] == [("B", "[]", "second", None)]


def test_the_auditor_resumes_where_they_left_off(db, audit, auditor, framework):
    assert resume_section(db, audit) == "A"
    save_section(db, audit, "A", band_ticks(framework)["A"], "", auditor, moving_on=True)
    assert resume_section(db, audit) == "B"
    save_section(db, audit, "B", band_ticks(framework)["B"], "", auditor)  # save and come back later
    assert resume_section(db, audit) == "B"
    save_section(db, audit, "K", band_ticks(framework)["K"], "", auditor, moving_on=True)
    assert resume_section(db, audit) == "K"  # nothing after the last section


def test_a_criterion_of_another_section_is_refused_and_nothing_is_stored(db, audit, auditor, framework):
    stranger = band_ticks(framework)["B"][0]
    with pytest.raises(AuditError, match=f"{stranger} is not a criterion of section A") as refusal:
        save_section(db, audit, "A", [band_ticks(framework)["A"][0], stranger], "", auditor)
    assert refusal.value.field == "criteria"
    assert summary(db, audit).sections[0].judgement is None


def test_an_unknown_section_is_refused(db, audit, auditor):
    with pytest.raises(AuditError, match="no section Z"):
        save_section(db, audit, "Z", [], "", auditor)


@pytest.mark.parametrize(
    "comment, found",
    [
        ("NHS number checked: 943 476 5919", "an NHS number"),
        ("The UPN A123456789012 is on page 1", "a UPN"),
        ("Header shows the DOB, remove it", "a date of birth"),
        ("Lives near ME14 1XX so transport is fine", "an address or postcode"),
        ("Child's name appears in section F", "a child's name"),
    ],
)
def test_personal_data_in_a_comment_is_refused_and_the_saved_draft_is_kept(db, audit, auditor, framework, comment, found):
    save_section(db, audit, "A", band_ticks(framework)["A"], "An earlier remark.", auditor)

    with pytest.raises(AuditError, match=found) as refusal:
        save_section(db, audit, "A", [], comment, auditor)

    assert refusal.value.field == "comment"
    judgement = summary(db, audit).sections[0].judgement
    assert (judgement.comment, json.loads(judgement.ticked)) == ("An earlier remark.", band_ticks(framework)["A"])


def test_a_comment_about_the_plan_in_the_auditors_words_is_accepted(db, audit, auditor):
    comment = "Section F: therapy is not quantified, and outcomes in E do not follow from the aspirations in A."
    assert save_section(db, audit, "F", [], comment, auditor).comment == comment


def test_an_overlong_comment_is_refused(db, audit, auditor):
    with pytest.raises(AuditError, match="4000 characters"):
        save_section(db, audit, "A", [], "x" * 4001, auditor)


def test_only_the_assigned_auditor_can_save(db, world, audit):
    with pytest.raises(AuditError, match="Only the auditor"):
        save_section(db, audit, "A", [], "", world.user("coordinator"))


def test_summary_and_submission_use_the_engines_grades(db, audit, auditor, framework):
    ticks = varied_ticks(framework)
    save_all(db, audit, auditor, ticks)

    expected = grade_audit(framework, ticks)
    overview = summary(db, audit)
    assert overview.complete
    assert [item.result.grade for item in overview.sections] == [expected.sections[code].grade for code in ticks]
    assert overview.result.overall == expected.overall

    submit_audit(db, audit, auditor)
    assert (audit.overall_grade, audit.overall_explanation, audit.score) == (
        expected.overall.value, expected.explanation, expected.score
    )


def test_submitting_needs_every_section_graded(db, audit, auditor, framework):
    ticks = band_ticks(framework)
    save_all(db, audit, auditor, {code: ids for code, ids in ticks.items() if code not in ("C", "H2")})
    save_section(db, audit, "C", [], "Nothing ticked yet", auditor)  # saved but not graded

    with pytest.raises(AuditStateError, match="Still to do: C, H2"):
        submit_audit(db, audit, auditor)
    assert audit.status == AuditStatus.DRAFT


def test_submitting_locks_the_audit(db, audit, assignment, auditor, framework):
    save_all(db, audit, auditor, band_ticks(framework))

    submit_audit(db, audit, auditor)

    assert audit.status == AuditStatus.SUBMITTED and audit.submitted_at is not None
    assert assignment.status == AssignmentStatus.SUBMITTED and assignment.submitted_at == audit.submitted_at
    with pytest.raises(AuditStateError, match="submitted"):
        save_section(db, audit, "A", [], "", auditor)
    with pytest.raises(AuditStateError, match="submitted"):
        submit_audit(db, audit, auditor)
    assert history_actions(db, audit)[-1] == ("submitted", None)


@pytest.fixture
def submitted(db, audit, auditor, framework):
    save_all(db, audit, auditor, band_ticks(framework))
    return submit_audit(db, audit, auditor)


@pytest.mark.parametrize("who", [("manager", "own"), ("auditor", "own"), ("coordinator", "other")])
def test_only_a_coordinator_of_the_la_can_reopen(db, world, submitted, who):
    with pytest.raises(AuditError, match="Only a coordinator of this LA"):
        reopen_audit(db, submitted, world.user(*who), "Section F needs another look")
    assert submitted.status == AuditStatus.SUBMITTED


@pytest.mark.parametrize(
    "reason, message",
    [("", "Enter why"), ("   ", "Enter why"), ("x" * 1001, "1000 characters"), ("Surname is wrong on the plan", "a child's name")],
)
def test_reopening_needs_a_reason_without_personal_details(db, world, submitted, reason, message):
    with pytest.raises(AuditError, match=message) as refusal:
        reopen_audit(db, submitted, world.user("coordinator"), reason)
    assert refusal.value.field == "reason"


def close_the_cycle(db, assignment) -> None:
    cycle = db.get(AuditCycle, assignment.cycle_id)
    cycle.status = CycleStatus.CLOSED
    db.add(cycle)
    db.flush()


def test_a_closed_cycles_audits_cannot_be_started_changed_or_submitted(db, world, assignment, auditor, framework):
    started = start_audit(db, assignment, auditor)
    save_all(db, started, auditor, band_ticks(framework))
    other = assign(db, world, system_id="SYS-0002")
    close_the_cycle(db, assignment)
    close_the_cycle(db, other)

    with pytest.raises(AuditStateError, match="is closed"):
        start_audit(db, other, auditor)
    with pytest.raises(AuditStateError, match="is closed"):
        save_section(db, started, "A", [], "", auditor)
    with pytest.raises(AuditStateError, match="is closed"):
        submit_audit(db, started, auditor)
    assert started.status == AuditStatus.DRAFT and other.status == AssignmentStatus.NOT_STARTED


def test_once_the_plan_is_reassigned_the_first_auditors_draft_cannot_be_saved_or_submitted(db, audit, assignment, auditor, framework):
    save_all(db, audit, auditor, band_ticks(framework))
    assignment.status = AssignmentStatus.WITHDRAWN  # what cycles.allocating.reassign does to the old assignment
    db.add(assignment)
    db.flush()

    with pytest.raises(AuditStateError, match="passed to another auditor"):
        save_section(db, audit, "A", [], "", auditor)
    with pytest.raises(AuditStateError, match="passed to another auditor"):
        submit_audit(db, audit, auditor)
    assert (audit.status, assignment.status) == (AuditStatus.DRAFT, AssignmentStatus.WITHDRAWN)


def test_a_closed_cycles_audit_cannot_be_reopened(db, world, submitted, assignment):
    close_the_cycle(db, assignment)
    with pytest.raises(AuditStateError, match="is closed"):
        reopen_audit(db, submitted, world.user("coordinator"), "Section F needs another look")
    assert submitted.status == AuditStatus.SUBMITTED


def test_a_draft_cannot_be_reopened(db, world, audit):
    with pytest.raises(AuditStateError, match="Only a submitted audit"):
        reopen_audit(db, audit, world.user("coordinator"), "why not")


def test_reopening_returns_the_audit_to_its_auditor_and_records_the_reason(db, world, submitted, assignment, auditor, framework):
    coordinator = world.user("coordinator")

    reopen_audit(db, submitted, coordinator, "  Moderation found F was over-graded  ")

    assert submitted.status == AuditStatus.DRAFT
    assert (submitted.overall_grade, submitted.submitted_at) == (None, None)
    assert (assignment.status, assignment.submitted_at) == (AssignmentStatus.IN_PROGRESS, None)
    entry = db.exec(select(AuditHistory).where(AuditHistory.action == "reopened")).one()
    assert (entry.actor_id, entry.reason) == (coordinator.id, "Moderation found F was over-graded")
    # The auditor can change it and submit again, under the same framework version.
    save_section(db, submitted, "F", [framework.section("F").bands[Band.INADEQUATE][0].id], "", auditor)
    submit_audit(db, submitted, auditor)
    assert framework_for_audit(db, submitted).version == framework.version


def test_every_change_is_in_the_history(db, world, audit, auditor, framework):
    save_all(db, audit, auditor, band_ticks(framework))
    submit_audit(db, audit, auditor)
    reopen_audit(db, audit, world.user("coordinator"), "Check F again")

    actions = history_actions(db, audit)
    assert actions[0] == ("started", None)
    assert actions[1:-2] == [("saved", section.code) for section in framework.sections]
    assert actions[-2:] == [("submitted", None), ("reopened", None)]
