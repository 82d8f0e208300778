import io
from datetime import date

from openpyxl import load_workbook

from tests.reports.builders import CONFIGURED, configure_framework, dated_cycle, grade_mix, submitted_audit


def two_cycles(db, world):
    own = world.las["own"]
    auditor = world.user("auditor")
    spring = dated_cycle(db, own, "Spring 2026", date(2026, 1, 5), date(2026, 3, 27))
    summer = dated_cycle(db, own, "Summer 2026", date(2026, 4, 13), date(2026, 7, 17))
    grade_mix(db, own, spring, auditor, "SP", {"outstanding": 2, "good": 20, "requires_improvement": 29, "inadequate": 20},
              key_stage="KS2", primary_need="ASD")
    grade_mix(db, own, summer, auditor, "SU", {"outstanding": 10, "good": 44, "requires_improvement": 50, "inadequate": 19},
              key_stage="KS2", primary_need="ASD")
    grade_mix(db, own, summer, auditor, "K3", {"inadequate": 7}, key_stage="KS3", primary_need="SEMH")
    db.commit()
    return spring, summer


def test_manager_sees_counts_intervals_and_the_comparison_with_the_previous_cycle(db, world, sign_in_as):
    two_cycles(db, world)
    client = sign_in_as("manager")
    page = client.get("/reports?key_stage=KS2&primary_need=ASD").get_data(as_text=True)
    assert "39% (76 of 194)" in page  # Good or better across both cycles; the KS3 plans filtered out
    assert "Good or better rose from 31% (22 of 71) in Spring 2026 to 44% (54 of 123) in Summer 2026" in page
    assert "95% interval" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="app-chart"' in page and "<desc id=\"chart-overall-desc\">" in page


def test_filters_are_in_the_url_and_narrow_the_figures(db, world, sign_in_as):
    two_cycles(db, world)
    client = sign_in_as("coordinator")
    page = client.get("/reports?key_stage=KS3").get_data(as_text=True)
    assert "100% (7 of 7)" in page
    assert 'value="KS3" selected' in page
    assert ("Good or better was lower in the audits matching the filters, 0% (0 of 7), than in your LA&#39;s "
            "other audits, 39% (76 of 194);") in page
    assert "rest-comparison" not in client.get("/reports").get_data(as_text=True)


def test_a_bad_filter_is_explained_not_a_crash(db, world, sign_in_as):
    client = sign_in_as("manager")
    response = client.get("/reports?key_stage=KS9&submitted_from=soon")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose a key stage from the list" in text and "must be a date like" in text
    assert "There is a problem with the filters" in text and 'href="#key_stage"' in text


def test_every_count_leads_to_its_audits(db, world, sign_in_as):
    two_cycles(db, world)
    client = sign_in_as("manager")
    page = client.get("/reports/audits?section=overall&grade=inadequate&key_stage=KS3").get_data(as_text=True)
    assert page.count('href="/audits/') == 7
    assert "7 audits" in page


def test_another_las_audits_are_never_counted_or_listed(db, world, sign_in_as):
    other = world.las["other"]
    cycle = dated_cycle(db, other, "Theirs", date(2026, 1, 5), date(2026, 3, 27))
    submitted_audit(db, other, cycle, world.user("auditor", "other"), "THEIRS-1", "outstanding")
    db.commit()
    client = sign_in_as("manager")
    assert "THEIRS-1" not in client.get("/reports/audits?section=overall").get_data(as_text=True)
    assert "no graded plans" in client.get("/reports").get_data(as_text=True)
    assert b"THEIRS-1" not in client.get("/reports/export?export=audits&format=csv").data
    world.las["own"].benchmark_opt_in = True  # the benchmark takes a chosen cycle's period
    db.commit()
    for address in (f"/reports?cycle={cycle.id}", "/reports?cycle=6f1c2b1e-0000-4000-8000-000000000000"):
        response = client.get(address)
        assert response.status_code == 400 and "Choose a cycle from the list" in response.get_data(as_text=True)
        assert "Theirs" not in response.get_data(as_text=True)
    assert b"THEIRS-1" not in client.get(f"/reports/export?export=audits&format=csv&cycle={cycle.id}").data


def test_exports_neutralise_formulas_and_open_in_openpyxl(db, world, sign_in_as):
    own = world.las["own"]
    cycle = dated_cycle(db, own, "=HYPERLINK(\"http://evil\")", date(2026, 1, 5), date(2026, 3, 27))
    submitted_audit(db, own, cycle, world.user("auditor"), "+SUM(A1)", "good", ticked={"A": ["A-G-01"]},
                    setting_name="@cmd")
    for start in ("-1+1", "\tTAB", "\rCR"):
        submitted_audit(db, own, cycle, world.user("auditor"), f"{start}-id", "good")
    db.commit()
    client = sign_in_as("manager")
    response = client.get("/reports/export?export=audits&format=xlsx")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [cell for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in values)
    texts = [cell.value for cell in values if isinstance(cell.value, str)]
    assert "'+SUM(A1)" in texts and "'=HYPERLINK(\"http://evil\")" in texts
    assert not any(text.startswith(("=", "+", "-", "@", "\t", "\r")) for text in texts)
    assert "A-G-01" in texts
    csv_text = client.get("/reports/export?export=audits&format=csv").get_data(as_text=True)
    assert "'+SUM(A1)" in csv_text and "\n+SUM" not in csv_text and ",+SUM" not in csv_text
    assignments = client.get("/reports/export?export=assignments&format=csv").get_data(as_text=True)
    assert "'+SUM(A1)" in assignments and "Primary" in assignments


def test_unknown_export_or_format_is_not_found(db, world, sign_in_as):
    client = sign_in_as("manager")
    assert client.get("/reports/export?export=plans&format=csv").status_code == 404
    assert client.get("/reports/export?export=audits&format=pdf").status_code == 404


def test_manager_opts_in_and_out_of_benchmarking(db, world, sign_in_as, client):
    from tests.conftest import csrf_token
    sign_in_as("manager")
    assert "does not share" in client.get("/reports/benchmarking").get_data(as_text=True)
    response = client.post("/reports/benchmarking", data={"opt_in": "y", "csrf_token": csrf_token(client, "/reports/benchmarking")})
    assert response.status_code == 302
    db.expire_all()
    assert db.get(type(world.las["own"]), world.las["own"].id).benchmark_opt_in
    db.commit()  # end the read, so the next POST can write
    client.post("/reports/benchmarking", data={"csrf_token": csrf_token(client, "/reports/benchmarking")})
    db.expire_all()
    assert not db.get(type(world.las["own"]), world.las["own"].id).benchmark_opt_in


def test_the_page_reads_the_criteria_in_the_configured_framework_file(app, db, world, sign_in_as, tmp_path):
    configure_framework(app, tmp_path)
    two_cycles(db, world)
    page = sign_in_as("manager").get("/reports").get_data(as_text=True)
    assert CONFIGURED in page
