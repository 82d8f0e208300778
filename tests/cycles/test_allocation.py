from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit_workflow.cycles.allocation import AuditorSlot, PlanToAllocate, allocate, same_team
from audit_workflow.cycles.sampling import apportion

TEAMS = [None, "", "SEN North", "sen north ", "SEN  NORTH", "SEN South", "Post-16"]
DISCIPLINES = ["education", "health", "social_care", "other"]


@pytest.mark.parametrize("first, second, same", [
    ("SEN North", "SEN North", True), ("SEN North", " sen north ", True), ("SEN  North", "sen north", True),
    ("SEN North", "SEN South", False), (None, "SEN North", False), (None, None, False), ("", "", False),
    ("  ", "  ", False),
])
def test_same_team(first, second, same):
    assert same_team(first, second) is same


def plans(count: int, team: str | None = None) -> list[PlanToAllocate]:
    return [PlanToAllocate(f"P-{number:04}", team) for number in range(1, count + 1)]


def test_the_coordinators_explanation():
    pool = [AuditorSlot("a1", "education", None, 5), AuditorSlot("a2", "education", None, 5),
            AuditorSlot("a3", "health", None, 4), AuditorSlot("a4", "social_care", None, 3)]
    result = allocate(plans(12), pool)
    assert len(result.assignments) == 12 and result.unallocated == []
    # Lowest load for capacity each time, ties to the lowest id: final ratios 0.8, 0.6, 0.75 and 0.67.
    assert result.explanation == ["12 plans allocated to 4 auditors; loads 4-3-3-2 of capacities 5-5-4-3"]


def test_the_discipline_mix_line():
    pool = [AuditorSlot("a1", "education", None, 10), AuditorSlot("a2", "health", None, 10),
            AuditorSlot("a3", "social_care", None, 10)]
    result = allocate(plans(12), pool, {"education": 0.6, "health": 0.2, "social_care": 0.2})
    assert Counter(auditor for _, auditor in result.assignments) == {"a1": 7, "a2": 3, "a3": 2}
    assert result.explanation[-1] == ("Discipline mix asked 60/20/20 (education/health/social care), achieved 58/25/17, "
                                      "the closest split of 12 plans")


def test_a_mix_short_of_capacity_says_which_discipline_ran_out():
    pool = [AuditorSlot("e1", "education", None, 10), AuditorSlot("h1", "health", None, 1),
            AuditorSlot("s1", "social_care", None, 10)]
    result = allocate(plans(10), pool, {"education": 0.6, "health": 0.2, "social_care": 0.2})
    # Quotas 6/2/2; health can take only 1, and the plan left over goes to the least loaded auditor.
    assert Counter(auditor for _, auditor in result.assignments) == {"e1": 6, "h1": 1, "s1": 3}
    assert result.explanation[-1] == ("Discipline mix asked 60/20/20 (education/health/social care), achieved 60/10/30 "
                                      "because health auditors ran out of capacity")


def test_a_mix_naming_a_discipline_with_nobody_in_the_pool():
    pool = [AuditorSlot("e1", "education", None, 10), AuditorSlot("o1", "other", None, 10)]
    result = allocate(plans(5), pool, {"education": 0.6, "health": 0.4})
    assert len(result.assignments) == 5
    assert result.explanation[-1] == ("Discipline mix asked 60/40 (education/health), achieved 60/0 because there are no "
                                      "health auditors in the pool; 2 plans went to auditors of other disciplines, "
                                      "to use their spare capacity")


def test_never_the_writers_own_team_and_the_reason_when_nobody_else_has_room():
    pool = [AuditorSlot("a1", "education", "SEN North", 5), AuditorSlot("a2", "education", "SEN South", 1)]
    result = allocate([PlanToAllocate("P-0041", "SEN South"), PlanToAllocate("P-0042", "sen north"),
                       PlanToAllocate("P-0043", "SEN North")], pool)
    assert result.assignments == [("P-0041", "a1"), ("P-0042", "a2")]
    assert result.unallocated == [("P-0043", "every auditor with spare capacity is in the plan writer's team (SEN North)")]
    assert result.explanation == [
        "2 plans allocated to 2 auditors; loads 1-1 of capacities 5-1",
        "1 plan not allocated: every auditor with spare capacity is in the plan writer's team (SEN North)",
    ]


def test_the_most_constrained_plans_are_placed_first():
    # Given in this order, a naive pass would give the flexible plan to a1, the only one who can take the other.
    pool = [AuditorSlot("a1", "education", "SEN South", 1), AuditorSlot("a2", "education", "SEN North", 1)]
    result = allocate([PlanToAllocate("flexible", None), PlanToAllocate("north", "SEN North")], pool)
    assert result.assignments == [("flexible", "a2"), ("north", "a1")]


def test_an_excluded_auditor_never_gets_the_plan():
    pool = [AuditorSlot("a1", "education", None, 5), AuditorSlot("a2", "education", None, 5)]
    result = allocate([PlanToAllocate("P-1", None, frozenset({"a1"})), PlanToAllocate("P-2", None, frozenset({"a1", "a2"}))], pool)
    assert result.assignments == [("P-1", "a2")]
    assert result.unallocated == [("P-2", "every auditor with spare capacity has declined it")]


def test_reasons_when_everyone_is_full_or_nobody_is_in_the_pool():
    full = allocate(plans(2), [AuditorSlot("a1", "education", None, 3, current_load=2)])
    assert full.unallocated == [("P-0002", "every auditor is at capacity")]
    assert full.explanation == ["1 plan allocated to 1 auditor; loads 3 of capacities 3",
                                "1 plan not allocated: every auditor is at capacity"]
    nobody = allocate(plans(2), [])
    assert nobody.explanation == ["There are no auditors in the pool", "2 plans not allocated: there are no auditors in the pool"]


def test_team_and_declined_together():
    pool = [AuditorSlot("a1", "education", "SEN North", 5), AuditorSlot("a2", "education", None, 5)]
    result = allocate([PlanToAllocate("P-1", "SEN North", frozenset({"a2"}))], pool)
    assert result.unallocated == [("P-1", "every auditor with spare capacity is in the plan writer's team (SEN North) "
                                          "or has declined it")]
    assert result.explanation[0] == "No plans allocated; loads 0-0 of capacities 5-5"


def test_current_load_counts_against_capacity_and_evens_out():
    pool = [AuditorSlot("a1", "education", None, 4, current_load=3), AuditorSlot("a2", "education", None, 4)]
    result = allocate(plans(3), pool)
    assert Counter(auditor for _, auditor in result.assignments) == {"a2": 3}


def test_many_auditors_are_summarised_as_a_range():
    pool = [AuditorSlot(f"a{number:02}", "education", None, 3 + number % 3) for number in range(12)]
    assert allocate(plans(24), pool).explanation == ["24 plans allocated to 12 auditors; loads 2 to 2 of capacities 3 to 5"]


def test_an_auditor_listed_twice_is_refused():
    with pytest.raises(ValueError):
        allocate(plans(1), [AuditorSlot("a1", "education", None, 1), AuditorSlot("a1", "health", None, 1)])


@st.composite
def pools(draw, teams=TEAMS):
    count = draw(st.integers(0, 8))
    return [AuditorSlot(f"a{number}", draw(st.sampled_from(DISCIPLINES)), draw(st.sampled_from(teams)),
                        capacity := draw(st.integers(0, 6)), draw(st.integers(0, capacity)))
            for number in range(count)]


@st.composite
def plan_lists(draw, teams=TEAMS, auditors=8):
    count = draw(st.integers(0, 30))
    excluded = st.frozensets(st.sampled_from([f"a{number}" for number in range(auditors)]), max_size=2) if auditors \
        else st.just(frozenset())
    return [PlanToAllocate(f"P-{number}", draw(st.sampled_from(teams)), draw(excluded)) for number in range(count)]


mixes = st.none() | st.dictionaries(st.sampled_from(DISCIPLINES), st.integers(1, 10), min_size=1).map(
    lambda weights: {name: weight / sum(weights.values()) for name, weight in weights.items()})


@given(plan_lists(), pools(), mixes)
def test_the_rules_always_hold(plan_list, pool, mix):
    result = allocate(plan_list, pool, mix)
    by_id = {auditor.auditor_id: auditor for auditor in pool}
    plans_by_id = {plan.plan_id: plan for plan in plan_list}
    assert sorted(plan_id for plan_id, _ in result.assignments + result.unallocated) == sorted(plans_by_id)
    new_load = Counter(auditor_id for _, auditor_id in result.assignments)
    for plan_id, auditor_id in result.assignments:
        assert not same_team(by_id[auditor_id].team, plans_by_id[plan_id].writer_team)
        assert auditor_id not in plans_by_id[plan_id].excluded_auditor_ids
    for auditor in pool:
        assert auditor.current_load + new_load[auditor.auditor_id] <= auditor.capacity
    assert allocate(plan_list, pool, mix) == result
    assert allocate(plan_list, list(reversed(pool)), mix).assignments == result.assignments


@given(plan_lists(teams=[None], auditors=0), pools(teams=[None, "SEN North"]), mixes)
def test_without_conflicts_everything_is_allocated_when_there_is_room(plan_list, pool, mix):
    result = allocate(plan_list, pool, mix)
    room = sum(auditor.capacity - auditor.current_load for auditor in pool)
    assert len(result.assignments) == min(len(plan_list), room)


@given(st.integers(0, 60), st.integers(1, 8), st.integers(1, 10))
def test_equal_capacities_without_conflicts_give_loads_within_one(plan_count, auditor_count, capacity):
    pool = [AuditorSlot(f"a{number}", "education", None, capacity) for number in range(auditor_count)]
    result = allocate(plans(plan_count), pool)
    loads = Counter({auditor.auditor_id: 0 for auditor in pool})
    loads.update(auditor_id for _, auditor_id in result.assignments)
    assert max(loads.values()) - min(loads.values()) <= 1


@given(st.integers(0, 40), st.dictionaries(st.sampled_from(DISCIPLINES[:3]), st.integers(1, 10), min_size=1))
def test_with_room_everywhere_the_mix_is_met_exactly(plan_count, weights):
    mix = {name: weight / sum(weights.values()) for name, weight in weights.items()}
    pool = [AuditorSlot(f"{discipline}-{number}", discipline, None, 20) for discipline in DISCIPLINES for number in range(2)]
    result = allocate(plans(plan_count), pool, mix)
    given_to = Counter(auditor_id.split("-")[0] for _, auditor_id in result.assignments)
    assert {name: given_to[name] for name in mix} == apportion(mix, plan_count, list(mix))
