"""Importing a register: all of it or none of it, upserted by System ID within the LA."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from audit_workflow.plans.models import Plan, PlanImport
from audit_workflow.plans.service import PlanImportRefused, import_plans, register_page
from tests.cycles.conftest import FILE_HEADINGS, as_csv, as_xlsx, register_rows


def plans_in(db, la) -> dict[str, Plan]:
    return {plan.system_id: plan for plan in db.exec(select(Plan).where(Plan.la_id == la.id)).all()}


def imports(db) -> int:
    return db.exec(select(func.count()).select_from(PlanImport)).one()


@pytest.fixture
def la(world):
    return world.las["own"]


def test_a_good_file_lands_whole_with_a_record_of_the_import(db, world, la):
    summary = import_plans(db, la.id, "register.csv", as_csv(register_rows(30)), world.user("coordinator").id)
    db.commit()
    stored = plans_in(db, la)
    assert len(stored) == 30 and (summary.created, summary.updated, summary.unchanged) == (30, 0, 0)
    first = stored["SYS-000000"]
    assert (first.key_stage, first.setting_name, first.setting_type, first.primary_need, first.plan_type, first.writer_team) == (
        "EYFS", "Oak Primary", "mainstream_maintained", "ASD", "annual_review", "SEN North")
    record = db.exec(select(PlanImport)).one()
    assert (record.filename, record.rows_created, record.rows_updated, record.imported_by_id) == (
        "register.csv", 30, 0, world.user("coordinator").id)


def test_a_file_with_one_bad_row_lands_nothing_and_names_every_problem(db, la):
    rows = register_rows(20)
    rows[15][4] = "XYZ"  # row 17 of the file: the headings are row 1
    rows[18][1] = "Key stage 9"
    with pytest.raises(PlanImportRefused) as refusal:
        import_plans(db, la.id, "register.csv", as_csv(rows))
    problems = refusal.value.problems
    assert [(problem.row, problem.column) for problem in problems] == [(17, "Primary need"), (20, "Key stage")]
    assert str(problems[0]).startswith('Row 17, column "Primary need": "XYZ" is not a SEN2 primary-need code')
    assert plans_in(db, la) == {} and imports(db) == 0


def test_a_personal_data_column_is_refused_by_name(db, la):
    rows = [[*row, "2015-03-01"] for row in register_rows(3)]
    with pytest.raises(PlanImportRefused) as refusal:
        import_plans(db, la.id, "register.csv", as_csv(rows, (*FILE_HEADINGS, "Date of birth")))
    assert [problem.column for problem in refusal.value.problems] == ["Date of birth"]
    assert "Date of birth" in str(refusal.value.problems[0])
    assert plans_in(db, la) == {}


def test_a_reimport_updates_changed_plans_by_system_id_and_adds_new_ones(db, la):
    import_plans(db, la.id, "first.csv", as_csv(register_rows(10)))
    db.commit()
    before = {system_id: plan.id for system_id, plan in plans_in(db, la).items()}
    rows = register_rows(12)
    rows[0][1], rows[0][6] = "KS3", "SEN West"  # moved on, new writing team
    rows[1][4] = "Autism"  # the same need, spelled out: not a change
    summary = import_plans(db, la.id, "second.csv", as_csv(rows))
    db.commit()
    assert (summary.created, summary.updated, summary.unchanged) == (2, 1, 9)
    stored = plans_in(db, la)
    assert len(stored) == 12 and all(stored[system_id].id == plan_id for system_id, plan_id in before.items())
    assert (stored["SYS-000000"].key_stage, stored["SYS-000000"].writer_team) == ("KS3", "SEN West")
    assert stored["SYS-000000"].updated_at > stored["SYS-000001"].updated_at


def test_plans_missing_from_a_later_file_are_kept(db, la):
    import_plans(db, la.id, "all.csv", as_csv(register_rows(5)))
    import_plans(db, la.id, "some.csv", as_csv(register_rows(2)))
    assert len(plans_in(db, la)) == 5


def test_the_same_system_id_in_another_la_is_another_plan(db, world, la):
    other = world.las["other"]
    import_plans(db, other.id, "theirs.csv", as_csv(register_rows(3)))
    rows = register_rows(3)
    rows[0][1] = "KS4"
    summary = import_plans(db, la.id, "ours.csv", as_csv(rows))
    assert summary.created == 3
    assert plans_in(db, other)["SYS-000000"].key_stage == "EYFS"


def test_an_excel_workbook_imports_the_same_as_csv(db, la):
    summary = import_plans(db, la.id, "register.xlsx", as_xlsx(register_rows(25)))
    assert summary.created == 25 and plans_in(db, la)["SYS-000024"].primary_need == "MLD"


def test_an_nsa_need_is_accepted_but_flagged(db, la):
    rows = register_rows(2)
    rows[1][4] = "NSA"
    summary = import_plans(db, la.id, "register.csv", as_csv(rows))
    assert summary.flagged == 1
    assert plans_in(db, la)["SYS-000001"].flag.startswith("NSA")
    assert "1 plans are flagged" in summary.describe()


def test_the_register_pages_and_filters_within_the_la(db, world, la):
    import_plans(db, la.id, "ours.csv", as_csv(register_rows(120)))
    import_plans(db, world.las["other"].id, "theirs.csv", as_csv(register_rows(10, prefix="THEIRS")))
    page = register_page(db, la.id, {}, page=3)
    assert (page.total, page.pages, page.page, len(page.plans)) == (120, 3, 3, 20)
    assert all(plan.la_id == la.id for plan in page.plans)
    asd_in_ks2 = register_page(db, la.id, {"key_stage": "KS2", "primary_need": "ASD"})
    assert asd_in_ks2.total == 3 and {(p.key_stage, p.primary_need) for p in asd_in_ks2.plans} == {("KS2", "ASD")}
    assert register_page(db, la.id, {}, page=99).page == 3  # past the end: the last page


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=400),
    st.lists(st.lists(st.text(max_size=12), max_size=8), max_size=6).map(
        lambda rows: as_csv(rows[1:], rows[0] if rows else FILE_HEADINGS)),
    st.lists(st.sampled_from(["KS2", "ASD", "ks 3", "Autism", "XYZ", "", "SYS-1", "mainstream maintained", "Y7", "new"]),
             min_size=7, max_size=7).map(lambda row: as_csv([row, row[::-1]]))),
    filename=st.sampled_from(["register.csv", "register.xlsx", "register.txt"]))
def test_any_bytes_either_import_whole_or_not_at_all(db, la, data, filename):
    before_plans, before_imports = len(plans_in(db, la)), imports(db)
    try:
        summary = import_plans(db, la.id, filename, data)
    except PlanImportRefused as refusal:
        assert refusal.problems and all(str(problem) for problem in refusal.problems)
        assert (len(plans_in(db, la)), imports(db)) == (before_plans, before_imports)
    else:
        assert imports(db) == before_imports + 1
        assert len(plans_in(db, la)) == before_plans + summary.created
    db.rollback()


def test_the_confirmation_says_when_the_file_has_no_writer_team(db, la):
    from tests.plans.test_corpus import csv_bytes

    summary = import_plans(db, la.id, "r.csv", csv_bytes([["ID", "KS", "Setting type", "Need"], ["P-1", "KS2", "PRU", "ASD"]]))
    assert "Headings on row 1. The file has no writer team column, so allocation cannot keep plans from their own " \
           "team's auditors." in summary.describe()
