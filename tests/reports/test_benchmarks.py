"""Benchmarks never show a figure from fewer than 5 LAs and never name another LA."""

from datetime import date

import pytest

from audit_workflow.authorities.service import create_local_authority
from audit_workflow.framework import default_framework
from audit_workflow.reports import queries, service
from audit_workflow.reports.benchmarking import BenchmarkFileError, read_benchmark_file
from audit_workflow.reports.filters import ReportFilter
from tests.reports.builders import dated_cycle, grade_mix

VENDOR_SOURCE = "Commercial EHCP QA tool, published national average (vendor website, 2025)"
VENDOR_FILE = f"""source,section,grade,percent,plans
"{VENDOR_SOURCE}",overall,Outstanding,1.8,
"{VENDOR_SOURCE}",overall,Good,45.6,
"{VENDOR_SOURCE}",overall,Requires improvement,36,
"{VENDOR_SOURCE}",overall,Inadequate,16.6,
"""
OTHER_NAMES = [f"Shire {number} Council" for number in range(6)]


def other_las(db, world, how_many: int, region: str = "South East", opted_in: bool = True):
    from audit_workflow.auth.service import create_user
    las = []
    for number in range(how_many):
        la = create_local_authority(db, f"{700 + number}", OTHER_NAMES[number], region)
        la.benchmark_opt_in = opted_in
        auditor = create_user(db, la.id, f"auditor@{la.code}.example.gov.uk", f"Auditor {la.code}", "auditor")
        cycle = dated_cycle(db, la, f"{la.name} autumn", date(2026, 9, 1), date(2026, 12, 18))
        grade_mix(db, la, cycle, auditor, f"L{la.code}", {"good": 3, "inadequate": 1})
        las.append(la)
    own = world.las["own"]
    own.benchmark_opt_in = True
    own_cycle = dated_cycle(db, own, "Our autumn", date(2026, 9, 1), date(2026, 12, 18))
    grade_mix(db, own, own_cycle, world.user("auditor"), "OWN", {"outstanding": 2, "requires_improvement": 2})
    db.commit()
    return las


def national(db, world):
    overall = service.results(db, world.las["own"].id, ReportFilter(), default_framework()).overall
    return service.benchmarks(db, world.las["own"], ReportFilter(), overall)


def test_five_other_las_make_a_benchmark_and_four_do_not(db, world):
    other_las(db, world, 4)
    [national_figure, regional_figure] = national(db, world)
    assert national_figure.distribution is None and "fewer than 5 LAs" in national_figure.hidden_reason
    assert regional_figure.distribution is None
    other_las_more = create_local_authority(db, "799", "Late Council", "South East")
    other_las_more.benchmark_opt_in = True
    from audit_workflow.auth.service import create_user
    auditor = create_user(db, other_las_more.id, "auditor@799.example.gov.uk", "Auditor 799", "auditor")
    grade_mix(db, other_las_more, dated_cycle(db, other_las_more, "Late", date(2026, 9, 1), date(2026, 12, 18)),
              auditor, "LATE", {"good": 1})
    db.commit()
    [national_figure, regional_figure] = national(db, world)
    assert national_figure.distribution.counts == (0, 13, 0, 4)  # the own LA's audits left out
    assert national_figure.comparison.first_total == 17 and national_figure.comparison.second_total == 4


def test_las_that_did_not_opt_in_are_not_counted(db, world):
    other_las(db, world, 6, opted_in=False)
    assert all(figure.distribution is None for figure in national(db, world))


def test_a_section_figure_needs_its_own_five_las(db, world):
    other_las(db, world, 5)
    pooled = queries.pooled_counts(db, world.las["own"], ReportFilter())[queries.NATIONAL]
    assert pooled.contributors["overall"] == 5 and pooled.contributors["A"] == 5


def test_an_la_that_does_not_share_sees_no_pooled_figures(db, world):
    other_las(db, world, 6)
    world.las["own"].benchmark_opt_in = False
    db.commit()
    assert national(db, world) == []


def test_the_page_never_names_another_la(db, world, sign_in_as):
    other_las(db, world, 6)
    page = sign_in_as("manager").get("/reports").get_data(as_text=True)
    assert "Other LAs in England that share their results" in page
    assert "Other LAs in England that share their results: 24 plans" in page and "75% (18 of 24)" in page
    for name in [*OTHER_NAMES, "Westminster"]:
        assert name not in page
    for code in ("700", "701", "702"):
        assert f"L{code}" not in page


def test_regional_figures_only_from_the_region(db, world):
    other_las(db, world, 6, region="London")
    [national_figure, regional_figure] = national(db, world)
    assert national_figure.distribution is not None
    assert regional_figure.distribution is None


def test_statistical_neighbours_when_configured(db, world):
    other_las(db, world, 6, region="London")
    rows = "la_code,neighbour_code,rank\n" + "".join(f"886,{700 + n},{n + 1}\n" for n in range(6))
    assert service.load_neighbours_file(db, rows) == 6
    db.commit()
    labels = [figure.label for figure in national(db, world)]
    assert "Your statistical neighbours that share their results" in labels
    neighbours = national(db, world)[2]
    assert neighbours.distribution.total == 24


def test_published_national_average_loads_from_the_command_line(runner, db, world, tmp_path):
    path = tmp_path / "vendor.csv"
    path.write_text(VENDOR_FILE, encoding="utf-8")
    result = runner.invoke(args=["benchmark", "load", str(path)])
    assert result.exit_code == 0, result.output
    assert "Loaded 4 benchmark figures" in result.output
    [(source, percents, plans)] = service.published_overall(db, world.las["own"].id)
    assert source == VENDOR_SOURCE and plans is None
    assert percents == {"outstanding": 1.8, "good": 45.6, "requires_improvement": 36.0, "inadequate": 16.6}
    assert runner.invoke(args=["benchmark", "load", str(path)]).exit_code == 0  # loading again replaces
    assert len(service.published_overall(db, world.las["own"].id)[0][1]) == 4


def test_published_figures_show_on_the_page_with_their_source(runner, db, world, tmp_path, sign_in_as):
    path = tmp_path / "vendor.csv"
    path.write_text(VENDOR_FILE, encoding="utf-8")
    runner.invoke(args=["benchmark", "load", str(path)])
    page = sign_in_as("manager").get("/reports").get_data(as_text=True)
    assert VENDOR_SOURCE in page and "Good 45.6%" in page and "Inadequate 16.6%" in page


def test_a_bad_benchmark_file_is_refused_whole_with_line_numbers(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("source,section,grade,percent\nX,overall,Good,45\nX,Z,Good,1\nX,overall,Great,2\n", encoding="utf-8")
    result = runner.invoke(args=["benchmark", "load", str(path)])
    assert result.exit_code == 1
    assert "line 3" in result.output and "line 4" in result.output
    with pytest.raises(BenchmarkFileError, match="missing: percent"):
        read_benchmark_file("source,section,grade\nX,overall,Good\n")


def test_context_figures_for_england_and_the_la(db, world, sign_in_as):
    text = ("area,measure,year,value,unit,source\n"
            "England,EHC plans issued within 20 weeks,2024,46.4,%,DfE SEN2 2025\n"
            "886,EHC plans issued within 20 weeks,2024,61.2,%,DfE SEN2 2025\n"
            "999,EHC plans issued within 20 weeks,2024,10,%,DfE SEN2 2025\n")
    assert service.load_context_file(db, text) == 2
    db.commit()
    page = sign_in_as("manager").get("/reports").get_data(as_text=True)
    assert "46.4%" in page and "61.2%" in page and "10.0%" not in page


def test_opt_in_from_the_command_line(runner, db, world):
    assert runner.invoke(args=["benchmark", "opt-in", "--la", "886"]).exit_code == 0
    db.expire_all()
    assert world.las["own"].benchmark_opt_in
    assert runner.invoke(args=["benchmark", "opt-in", "--la", "000"]).exit_code == 1
