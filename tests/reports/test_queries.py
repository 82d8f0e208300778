from datetime import date, datetime, timezone

from audit_workflow.audits.models import AuditStatus
from audit_workflow.reports import queries
from audit_workflow.reports.aggregates import OVERALL, distributions
from audit_workflow.reports.filters import ReportFilter
from tests.factories import make_cycle
from tests.reports.builders import dated_cycle, grade_mix, submitted_audit


def counts_of(db, la, report_filter=ReportFilter()):
    return distributions(queries.grade_counts(db, la.id, report_filter))


def test_counts_only_submitted_primary_audits_of_the_own_la(db, world):
    own, other = world.las["own"], world.las["other"]
    cycle, other_cycle = make_cycle(db, own), make_cycle(db, other)
    auditor = world.user("auditor")
    grade_mix(db, own, cycle, auditor, "P", {"good": 3, "inadequate": 1})
    submitted_audit(db, own, cycle, auditor, "MOD-1", "outstanding", kind="moderation")
    submitted_audit(db, own, cycle, auditor, "DRAFT-1", "outstanding", status=AuditStatus.DRAFT)
    grade_mix(db, other, other_cycle, world.user("auditor", "other"), "O", {"outstanding": 5})
    overall = counts_of(db, own)[OVERALL]
    assert overall.counts == (0, 3, 0, 1)
    assert counts_of(db, own)["A"].counts == (0, 3, 0, 1)


def test_filters_by_plan_facts_discipline_cycle_and_period(db, world):
    own = world.las["own"]
    autumn, spring = make_cycle(db, own, "Autumn"), make_cycle(db, own, "Spring")
    auditor = world.user("auditor")  # education
    submitted_audit(db, own, autumn, auditor, "KS2-ASD", "good", key_stage="KS2", primary_need="ASD")
    submitted_audit(db, own, autumn, auditor, "KS3-ASD", "inadequate", key_stage="KS3", primary_need="ASD")
    submitted_audit(db, own, spring, auditor, "KS2-SLCN", "requires_improvement", key_stage="KS2", primary_need="SLCN",
                    submitted_at=datetime(2027, 3, 1, 9, tzinfo=timezone.utc), plan_type="new")
    total = lambda **fields: counts_of(db, own, ReportFilter(**fields))[OVERALL].counts  # noqa: E731
    assert total(key_stage="KS2") == (0, 1, 1, 0)
    assert total(key_stage="KS2", primary_need="ASD") == (0, 1, 0, 0)
    assert total(cycle=spring.id) == (0, 0, 1, 0)
    assert total(plan_type="new") == (0, 0, 1, 0)
    assert total(discipline="education") == (0, 1, 1, 1)
    assert total(discipline="health") == (0, 0, 0, 0)
    assert total(submitted_from=date(2027, 3, 1)) == (0, 0, 1, 0)
    assert total(submitted_to=date(2027, 2, 28)) == (0, 1, 0, 1)
    assert total(setting_type="special_maintained") == (0, 0, 0, 0)


def test_section_grades_and_not_applicable(db, world):
    own = world.las["own"]
    cycle = make_cycle(db, own)
    submitted_audit(db, own, cycle, world.user("auditor"), "S1", "good", sections={"J": "not_applicable", "C": "inadequate"})
    result = counts_of(db, own)
    assert result["J"].total == 0 and result["J"].not_applicable == 1
    assert result["C"].counts == (0, 0, 0, 1)


def test_criterion_tallies_count_ticks_in_graded_sections_only(db, world):
    own = world.las["own"]
    cycle = make_cycle(db, own)
    auditor = world.user("auditor")
    submitted_audit(db, own, cycle, auditor, "T1", "good", ticked={"A": ["A-G-01", "A-G-02"]})
    submitted_audit(db, own, cycle, auditor, "T2", "good", ticked={"A": ["A-G-01"]})
    submitted_audit(db, own, cycle, auditor, "T3", "good", sections={"A": "not_applicable"}, ticked={"A": ["A-G-10"]})
    tallies = queries.criterion_tallies(db, own.id, ReportFilter(), {"A": ["A-G-01", "A-G-02", "A-G-03"], "B": ["B-G-01"]})
    by_id = {tally.criterion_id: (tally.ticked, tally.audits) for tally in tallies}
    assert by_id == {"A-G-01": (2, 2), "A-G-02": (1, 2), "A-G-03": (0, 2), "B-G-01": (0, 3)}


def test_audits_behind_a_number_are_the_ones_counted(db, world):
    own = world.las["own"]
    cycle = make_cycle(db, own)
    auditor = world.user("auditor")
    submitted_audit(db, own, cycle, auditor, "B-1", "good", ticked={"A": ["A-G-01"]})
    submitted_audit(db, own, cycle, auditor, "B-2", "inadequate", sections={"C": "good"})
    submitted_audit(db, own, cycle, auditor, "B-3", "outstanding")
    behind = lambda **kw: [row.system_id for row in queries.audits_behind(db, own.id, ReportFilter(), **kw)]  # noqa: E731
    assert behind(grade="good") == ["B-1"]
    assert behind(grade="good_or_better") == ["B-1", "B-3"]
    assert behind(section_code="C", grade="good") == ["B-1", "B-2"]
    assert behind(section_code="A", missed="A-G-01") == ["B-2", "B-3"]
    assert behind() == ["B-1", "B-2", "B-3"]


def test_export_rows_pivot_each_audits_sections(db, world):
    own = world.las["own"]
    cycle = make_cycle(db, own, "Autumn")
    submitted_audit(db, own, cycle, world.user("auditor"), "E-1", "good", sections={"K": "inadequate"}, ticked={"A": ["A-G-01"]})
    [row] = list(queries.audit_rows(db, own.id, ReportFilter()))
    assert row[1:3] == ("Autumn", "E-1")
    grades = row[10:]
    assert grades[0] == "good"  # overall
    assert grades[1:3] == ("good", '["A-G-01"]')  # section A grade, ticks
    assert grades[-2] == "inadequate"  # section K


def test_cycles_with_results_latest_first(db, world):
    own = world.las["own"]
    old = dated_cycle(db, own, "Old", date(2025, 9, 1), date(2025, 12, 1))
    new = dated_cycle(db, own, "New", date(2026, 9, 1), date(2026, 12, 1))
    dated_cycle(db, own, "Empty", date(2027, 1, 1), date(2027, 3, 1))
    submitted_audit(db, own, old, world.user("auditor"), "C-1", "good")
    submitted_audit(db, own, new, world.user("auditor"), "C-2", "good")
    assert queries.cycles_with_results(db, own.id) == [new.id, old.id]


def test_a_grade_agreed_in_moderation_replaces_the_auditors_and_is_counted_as_agreed(db, world):
    from audit_workflow.moderation.models import AgreedGrade

    own = world.las["own"]
    cycle = make_cycle(db, own)
    audits = grade_mix(db, own, cycle, world.user("auditor"), "P", {"good": 2, "inadequate": 1})
    inadequate = audits[-1]
    db.add_all([AgreedGrade(la_id=own.id, audit_id=inadequate.id, section_code=OVERALL, grade="requires_improvement"),
                AgreedGrade(la_id=own.id, audit_id=inadequate.id, section_code="F", grade="good")])
    db.flush()
    counts = counts_of(db, own)
    assert counts[OVERALL].counts == (0, 2, 1, 0)
    assert counts["F"].counts == (0, 3, 0, 0) and counts["E"].counts == (0, 2, 0, 1)
    assert queries.agreed_count(db, own.id, ReportFilter()) == 1
    assert inadequate.overall_grade == "inadequate"  # the auditor's own grade is kept
