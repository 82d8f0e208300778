"""Drawing the sample through the service: reproducible, within bounds, stratified, and changed by
hand only with a reason that is kept (docs/checks.md#check-21)."""

from datetime import date

import pytest
from sqlmodel import select

from audit_workflow.cycles import lifecycle, plan_sample, progress
from audit_workflow.cycles.guards import CycleError
from audit_workflow.cycles.lifecycle import CycleSettings
from audit_workflow.cycles.models import CyclePlan, SampleChange
from audit_workflow.plans.models import Plan
from tests.cycles.conftest import add_register
from tests.factories import make_assignment


def new_cycle(db, la, **changes):
    values = dict(name="Spring 2027", period_start=date(2027, 1, 4), period_end=date(2027, 3, 31))
    values.update(changes)
    return lifecycle.create_cycle(db, la.id, CycleSettings(**values))


def sampled_ids(db, cycle) -> set:
    return set(db.exec(select(CyclePlan.plan_id).where(CyclePlan.cycle_id == cycle.id, CyclePlan.removed_at.is_(None))).all())


def test_the_same_seed_gives_the_same_sample_and_the_seed_is_recorded(db, la):
    add_register(db, la, 300)
    first, second = new_cycle(db, la), new_cycle(db, la, name="Again")
    drawn = plan_sample.draw_sample(db, first, size=40, seed=1234)
    plan_sample.draw_sample(db, second, size=40, seed=1234)
    assert len(drawn) == 40 and sampled_ids(db, first) == sampled_ids(db, second) == set(drawn)
    assert first.sample_seed == 1234
    plan_sample.draw_sample(db, second, size=40, seed=99)
    assert sampled_ids(db, second) != sampled_ids(db, first)


def test_without_a_seed_a_random_one_is_chosen_and_recorded(db, la):
    add_register(db, la, 50)
    cycle = new_cycle(db, la, sample_size=10)
    plan_sample.draw_sample(db, cycle)
    assert cycle.sample_seed is not None and 0 <= cycle.sample_seed < 2**31
    again = new_cycle(db, la, name="Replay", sample_size=10)
    plan_sample.draw_sample(db, again, seed=cycle.sample_seed)
    assert sampled_ids(db, again) == sampled_ids(db, cycle)


def test_a_share_target_is_rounded_up_so_the_sample_is_never_below_it(db, la):
    add_register(db, la, 101)
    cycle = new_cycle(db, la, sample_share=0.1)
    assert len(plan_sample.draw_sample(db, cycle, seed=5)) == 11


@pytest.mark.parametrize("size", [0, -1, 51])
def test_a_size_outside_the_register_is_refused(db, la, size):
    add_register(db, la, 50)
    with pytest.raises(CycleError, match="between 1 and 50") as refusal:
        plan_sample.draw_sample(db, new_cycle(db, la), size=size, seed=1)
    assert refusal.value.field == "size"


@pytest.mark.parametrize("seed", [-1, 2**31, 99_999_999_999])
def test_a_seed_the_database_cannot_record_is_refused(db, la, seed):
    add_register(db, la, 5)
    with pytest.raises(CycleError, match="from 0 to 2147483647") as refusal:
        plan_sample.draw_sample(db, new_cycle(db, la), size=2, seed=seed)
    assert refusal.value.field == "seed"


def test_no_target_and_no_size_is_refused(db, la):
    add_register(db, la, 5)
    with pytest.raises(CycleError, match="how many plans"):
        plan_sample.draw_sample(db, new_cycle(db, la), seed=1)


def test_an_empty_register_is_refused(db, la):
    with pytest.raises(CycleError, match="Import the plan register"):
        plan_sample.draw_sample(db, new_cycle(db, la), size=5, seed=1)


def test_the_sample_comes_only_from_the_cycles_own_la(db, world, la):
    add_register(db, la, 40)
    add_register(db, world.las["other"], 40, prefix="OTHER")
    cycle = new_cycle(db, la)
    plan_sample.draw_sample(db, cycle, size=40, seed=3)
    las = set(db.exec(select(Plan.la_id).where(Plan.id.in_(sampled_ids(db, cycle)))).all())
    assert las == {la.id}


def test_the_strata_and_each_strata_share_are_recorded(db, la):
    add_register(db, la, 360)  # 60 plans in each of the six key stages
    cycle = new_cycle(db, la, strata=("key_stage",))
    plan_sample.draw_sample(db, cycle, size=60, seed=8)
    strata = progress.strata_of_last_draw(cycle)
    assert cycle.sample_strata == "key_stage" and cycle.sample_drawn_at
    assert [(stratum.label, stratum.in_register, stratum.drawn) for stratum in strata] == [
        ("Early years foundation stage", 60, 10), ("Key stage 1", 60, 10), ("Key stage 2", 60, 10),
        ("Key stage 3", 60, 10), ("Key stage 4", 60, 10), ("Key stage 5 (post-16)", 60, 10)]
    key_stages = db.exec(select(Plan.key_stage).where(Plan.id.in_(sampled_ids(db, cycle)))).all()
    assert {stage: key_stages.count(stage) for stage in set(key_stages)} == dict.fromkeys(set(key_stages), 10)


def test_drawing_again_replaces_the_sample_until_plans_are_allocated(db, world, la):
    add_register(db, la, 60)
    cycle = new_cycle(db, la)
    plan_sample.draw_sample(db, cycle, size=10, seed=1)
    plan_sample.draw_sample(db, cycle, size=12, seed=2)
    assert len(sampled_ids(db, cycle)) == 12
    make_assignment(db, cycle, db.get(Plan, next(iter(sampled_ids(db, cycle)))), world.user("auditor"))
    with pytest.raises(CycleError, match="already been allocated"):
        plan_sample.draw_sample(db, cycle, size=12, seed=3)


def test_plans_are_added_and_removed_by_hand_with_the_reason_kept(db, world, la, coordinator):
    add_register(db, la, 30)
    cycle = new_cycle(db, la)
    drawn = plan_sample.draw_sample(db, cycle, size=5, seed=4)
    outside = db.exec(select(Plan).where(Plan.la_id == la.id, Plan.id.not_in(drawn))).first()

    with pytest.raises(CycleError) as refusal:
        plan_sample.add_to_sample(db, cycle, outside.system_id, "  ", coordinator.id)
    assert refusal.value.field == "reason"
    with pytest.raises(CycleError, match="no plan with System ID NOPE"):
        plan_sample.add_to_sample(db, cycle, "NOPE", "complaint", coordinator.id)

    entry = plan_sample.add_to_sample(db, cycle, outside.system_id, "Complaint from a parent", coordinator.id)
    assert entry.source == "manual" and outside.id in sampled_ids(db, cycle)
    with pytest.raises(CycleError, match="already in the sample"):
        plan_sample.add_to_sample(db, cycle, outside.system_id, "again", coordinator.id)

    plan_sample.remove_from_sample(db, entry, "Plan ceased", coordinator.id)
    assert outside.id not in sampled_ids(db, cycle) and entry.removed_reason == "Plan ceased"
    plan_sample.add_to_sample(db, cycle, outside.system_id, "Back after all", coordinator.id)  # same row, back again
    assert outside.id in sampled_ids(db, cycle)

    history = [(change.action, change.reason) for change in progress.sample_history(db, cycle)][::-1]
    assert history == [("drawn", "Drew 5 of 30 plans with seed 4"), ("added", "Complaint from a parent"),
                       ("removed", "Plan ceased"), ("added", "Back after all")]
    assert db.exec(select(SampleChange).where(SampleChange.cycle_id == cycle.id, SampleChange.actor_id == coordinator.id)).all()


def test_an_allocated_plan_cannot_be_removed(db, world, la, coordinator):
    add_register(db, la, 10)
    cycle = new_cycle(db, la)
    plan_sample.draw_sample(db, cycle, size=2, seed=4)
    entry = db.exec(select(CyclePlan).where(CyclePlan.cycle_id == cycle.id)).first()
    make_assignment(db, cycle, db.get(Plan, entry.plan_id), world.user("auditor"))
    with pytest.raises(CycleError, match="allocated to an auditor"):
        plan_sample.remove_from_sample(db, entry, "no longer needed", coordinator.id)


def test_the_margin_of_error_is_shown_with_its_numbers(db, la):
    add_register(db, la, 600)
    cycle = new_cycle(db, la, sample_size=60)
    overview = progress.sample_overview(db, cycle)
    assert (overview.population, overview.target, overview.sampled) == (600, 60, 0)
    # Before a draw the target's precision; 60 of 600 at 95%: about ±12 points.
    assert overview.margin.sample_size == 60 and 11.5 < overview.margin.percentage_points < 12.5
    assert overview.margin.sizes_for[5] > overview.margin.sizes_for[10] > 0
    assert progress.margin_for(0, 600) is None and progress.margin_for(10, 0) is None


@pytest.mark.parametrize("reason, found", [
    ("Child's name: Jane Doe, complaint from mum", "a child's name"),
    ("Moved away, DOB 03/04/2015", "a date of birth"),
    ("New address 12 Mill Lane, NM1 2AB", "an address or postcode"),
])
def test_a_reason_with_a_childs_personal_details_is_refused_and_nothing_is_kept(db, la, coordinator, reason, found):
    add_register(db, la, 30)
    cycle = new_cycle(db, la)
    drawn = plan_sample.draw_sample(db, cycle, size=5, seed=4)
    outside = db.exec(select(Plan).where(Plan.la_id == la.id, Plan.id.not_in(drawn))).first()
    with pytest.raises(CycleError, match=found) as refusal:
        plan_sample.add_to_sample(db, cycle, outside.system_id, reason, coordinator.id)
    assert refusal.value.field == "reason" and outside.id not in sampled_ids(db, cycle)
    entry = db.exec(select(CyclePlan).where(CyclePlan.cycle_id == cycle.id)).first()
    with pytest.raises(CycleError, match=found):
        plan_sample.remove_from_sample(db, entry, reason, coordinator.id)
    assert entry.plan_id in sampled_ids(db, cycle)
