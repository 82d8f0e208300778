from datetime import date

from audit_workflow.reports import service
from audit_workflow.reports.filters import ReportFilter
from tests.reports.builders import CONFIGURED, configure_framework, dated_cycle, grade_mix


def three_cycles(db, world):
    own, auditor = world.las["own"], world.user("auditor")
    cycles = [dated_cycle(db, own, name, start, end) for name, start, end in (
        ("Spring", date(2026, 1, 5), date(2026, 3, 27)),
        ("Summer", date(2026, 4, 13), date(2026, 7, 17)),
        ("Autumn", date(2026, 9, 7), date(2026, 12, 18)),
    )]
    for cycle, counts in zip(cycles, ({"good": 2, "inadequate": 2}, {"good": 3, "inadequate": 1}, {"outstanding": 4})):
        grade_mix(db, own, cycle, auditor, cycle.name[:2], counts)
    db.commit()
    return cycles


def test_a_chosen_cycle_is_compared_with_the_one_before_it(db, world):
    spring, summer, autumn = three_cycles(db, world)
    change = service.compare_with_previous(db, world.las["own"].id, ReportFilter(cycle=summer.id))
    assert (change.earlier.name, change.later.name) == ("Spring", "Summer")
    assert change.comparison.overall.first_count == 2 and change.comparison.overall.second_count == 3


def test_without_a_cycle_the_latest_is_compared_and_the_first_has_nothing_before_it(db, world):
    spring, summer, autumn = three_cycles(db, world)
    change = service.compare_with_previous(db, world.las["own"].id, ReportFilter())
    assert (change.earlier.name, change.later.name) == ("Summer", "Autumn")
    assert service.compare_with_previous(db, world.las["own"].id, ReportFilter(cycle=spring.id)) is None
    assert service.previous_cycle(db, spring) is None


def test_a_cycle_stands_for_its_period_in_a_benchmark(db, world):
    spring, _, _ = three_cycles(db, world)
    wider = service.benchmark_filter(db, ReportFilter(cycle=spring.id, submitted_from=date(2026, 2, 1), key_stage="KS2"))
    assert wider == ReportFilter(submitted_from=date(2026, 2, 1), submitted_to=date(2026, 3, 27), key_stage="KS2")


def test_the_report_page_adds_up(db, world):
    three_cycles(db, world)
    page = service.report_page(db, world.las["own"], ReportFilter())
    assert page.results.overall.counts == (4, 5, 0, 3)
    assert page.against_the_rest is None and page.benchmarks == []
    assert [cycle.name for cycle in page.cycles] == ["Autumn", "Summer", "Spring"]


def test_the_report_page_of_an_la_without_a_framework_of_its_own_uses_the_configured_file(app, db, world, tmp_path):
    three_cycles(db, world)
    page = service.report_page(db, world.las["own"], ReportFilter(), configure_framework(app, tmp_path))
    missed = [item for items in page.results.missed.values() for item in items]
    assert missed and all(item.text.startswith(CONFIGURED) for item in missed)
