"""Cycle settings, opening and closing; a closed cycle refuses every change."""

from datetime import date

import pytest
from sqlmodel import select

from audit_workflow.cycles import allocating, auditor_pool, lifecycle, plan_sample
from audit_workflow.cycles.guards import CycleError
from audit_workflow.cycles.lifecycle import CycleSettings
from audit_workflow.cycles.models import AuditCycle, CyclePlan, CycleStatus
from audit_workflow.plans.models import Plan
from tests.cycles.conftest import add_auditors, add_register
from tests.factories import make_assignment


def settings(**changes) -> CycleSettings:
    values = dict(name="Autumn 2026", period_start=date(2026, 9, 1), period_end=date(2026, 12, 18), sample_size=20)
    values.update(changes)
    return CycleSettings(**values)


def test_a_cycle_is_created_as_a_draft_with_its_settings(db, la):
    cycle = lifecycle.create_cycle(db, la.id, settings(strata=("plan_type", "key_stage"), reallocate_after_days=10,
                                                     moderation_share=0.2, feedback_enabled=True))
    db.commit()
    assert cycle.status == CycleStatus.DRAFT
    assert cycle.strata == "key_stage,plan_type"  # stored in a fixed order, whatever the order given
    assert (cycle.sample_size, cycle.sample_share, cycle.reallocate_after_days) == (20, None, 10)
    assert CycleSettings.of(cycle) == settings(strata=("key_stage", "plan_type"), reallocate_after_days=10,
                                               moderation_share=0.2, feedback_enabled=True)


@pytest.mark.parametrize("text, expected", [("60", (60, None)), ("10%", (None, 0.1)), (" 12.5 % ", (None, 0.125)), ("", (None, None))])
def test_a_target_is_a_number_of_plans_or_a_share(text, expected):
    assert lifecycle.parse_target(text) == expected


@pytest.mark.parametrize("text", ["ten", "10 plans", "%", "-5"])
def test_a_target_that_is_neither_is_refused(text):
    with pytest.raises(CycleError) as refusal:
        lifecycle.parse_target(text)
    assert refusal.value.field == "target"


@pytest.mark.parametrize("changes, field", [
    ({"name": "  "}, "name"),
    ({"period_end": date(2026, 8, 1)}, "period_end"),
    ({"sample_size": 0}, "target"),
    ({"sample_size": 99_999_999_999}, "target"),  # beyond the database's integers: refused, not a 500
    ({"sample_size": None, "sample_share": 1.5}, "target"),
    ({"sample_share": 0.1}, "target"),
    ({"strata": ("child_name",)}, "strata"),
    ({"due_working_days": 0}, "due_working_days"),
    ({"overdue_interval_days": 0}, "overdue_interval_days"),
    ({"reallocate_after_days": 0}, "reallocate_after_days"),
    ({"moderation_share": 1.2}, "moderation_share"),
])
def test_settings_that_make_no_sense_are_refused_on_the_field(db, la, changes, field):
    with pytest.raises(CycleError) as refusal:
        lifecycle.create_cycle(db, la.id, settings(**changes))
    assert refusal.value.field == field
    assert str(refusal.value)


def test_a_cycle_opens_once_and_closes(db, la):
    cycle = lifecycle.create_cycle(db, la.id, settings())
    lifecycle.open_cycle(db, cycle)
    assert cycle.status == CycleStatus.OPEN and cycle.opened_at
    with pytest.raises(CycleError, match="already open"):
        lifecycle.open_cycle(db, cycle)
    lifecycle.close_cycle(db, cycle)
    assert cycle.status == CycleStatus.CLOSED and cycle.closed_at


def test_a_closed_cycle_refuses_every_change(db, world, la, coordinator, mail):
    plan_ids = add_register(db, la, 30)
    auditor = add_auditors(db, la, 1)[0]
    cycle = lifecycle.create_cycle(db, la.id, settings())
    plan_sample.draw_sample(db, cycle, size=10, seed=1)
    member = auditor_pool.add_auditor(db, cycle, auditor, 5)
    plan = db.get(Plan, plan_ids[0])
    assignment = make_assignment(db, cycle, plan, world.user("auditor"))
    entry = db.exec(select(CyclePlan).where(CyclePlan.cycle_id == cycle.id, CyclePlan.plan_id != plan.id)).first()
    lifecycle.close_cycle(db, cycle)
    db.commit()

    changes = [
        lambda: lifecycle.update_cycle(db, cycle, settings(name="Renamed")),
        lambda: lifecycle.open_cycle(db, cycle),
        lambda: lifecycle.close_cycle(db, cycle),
        lambda: plan_sample.draw_sample(db, cycle, size=5, seed=2),
        lambda: plan_sample.add_to_sample(db, cycle, "SYS-000001", "a reason", coordinator.id),
        lambda: plan_sample.remove_from_sample(db, entry, "a reason", coordinator.id),
        lambda: auditor_pool.add_auditor(db, cycle, auditor, 3),
        lambda: auditor_pool.import_pool(db, cycle, b"email,capacity\n"),
        lambda: auditor_pool.remove_auditor(db, member),
        lambda: allocating.set_discipline_mix(db, cycle, {"education": 100}),
        lambda: allocating.allocate_cycle(db, cycle, coordinator, mail),
        lambda: allocating.reassign(db, assignment, auditor.id, coordinator, mail),
        lambda: allocating.decline(db, assignment, "away", mail),
        lambda: allocating.mark_plan_sent(db, assignment, coordinator),
    ]
    for change in changes:
        with pytest.raises(CycleError, match="is closed"):
            change()
    db.rollback()
    assert db.get(AuditCycle, cycle.id).name == "Autumn 2026"


def test_commands_name_a_cycle_by_id_and_get_a_clear_refusal_otherwise(db, la):
    cycle = lifecycle.create_cycle(db, la.id, settings())
    assert lifecycle.get_cycle(db, str(cycle.id)) is cycle
    with pytest.raises(CycleError, match="is not a cycle id"):
        lifecycle.get_cycle(db, "nonsense")
    with pytest.raises(CycleError, match="No cycle"):
        lifecycle.get_cycle(db, "2f1c9e4a-0000-4000-8000-000000000000")
