"""The register upload page and the register: every problem shown, nothing half-imported, never a 500."""

import html
import io
import re

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from audit_workflow.plans.models import Plan, PlanImport
from tests.conftest import csrf_token, sign_in
from tests.cycles.conftest import FILE_HEADINGS, as_csv, as_xlsx, register_rows


def upload(client, data: bytes, filename: str = "register.csv", token: str | None = None):
    fields = {"file": (io.BytesIO(data), filename)}
    if token is not False:
        fields["csrf_token"] = token or csrf_token(client, "/plans/import")
    return client.post("/plans/import", data=fields, content_type="multipart/form-data")


def count(db, model) -> int:
    db.rollback()  # a fresh read, after the request's commit
    return db.exec(select(func.count()).select_from(model)).one()


def test_a_coordinator_uploads_a_register_and_sees_it(sign_in_as, db):
    client = sign_in_as("coordinator")
    response = upload(client, as_xlsx(register_rows(75)), "register.xlsx")
    assert response.status_code == 302 and response.headers["Location"] == "/plans"
    page = client.get("/plans").get_data(as_text=True)
    assert "Imported register.xlsx: 75 new plans, 0 updated, 0 unchanged." in page
    assert "75 plans, page 1 of 2" in page and "SYS-000000" in page and "SYS-000060" not in page
    assert "SYS-000060" in client.get("/plans?page=2").get_data(as_text=True)
    assert count(db, Plan) == 75


def test_a_bad_file_is_a_400_listing_every_problem_and_imports_nothing(sign_in_as, db):
    client = sign_in_as("coordinator")
    rows = register_rows(20)
    rows[15][4] = "XYZ"
    rows[2][0] = ""
    rows[4][0] = rows[3][0]
    response = upload(client, as_csv(rows))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "<title>Error: Import plans" in page and 'class="govuk-error-summary"' in page
    summary = re.search(r'class="govuk-error-summary".*?</ul>', page, re.S).group(0)
    assert "The file has 3 problems, so no plans were imported" in summary
    assert "Row 4, column &#34;System ID&#34;: the cell is empty" in summary
    assert "Row 6, column &#34;System ID&#34;: &#34;SYS-000003&#34; is also in row 5" in summary
    assert "Row 17, column &#34;Primary need&#34;: &#34;XYZ&#34; is not a SEN2 primary-need code" in summary
    assert count(db, Plan) == 0 and count(db, PlanImport) == 0


def summary_items(response) -> list[str]:
    summary = re.search(r'class="govuk-error-summary".*?</ul>', response.get_data(as_text=True), re.S).group(0)
    return [html.unescape(re.sub(r"\s+", " ", item)).strip() for item in re.findall(r'<a href="#[^"]*">(.*?)</a>', summary, re.S)]


@pytest.mark.parametrize("filename, write", [("register.csv", as_csv), ("register.xlsx", as_xlsx)])
def test_a_date_of_birth_column_refuses_the_whole_file_naming_the_column_and_why(sign_in_as, db, filename, write):
    client = sign_in_as("coordinator")
    rows = [[*row, "2015-03-01"] for row in register_rows(30)]
    response = upload(client, write(rows, (*FILE_HEADINGS, "Date of birth")), filename)
    assert response.status_code == 400
    assert summary_items(response) == [
        "The file has 1 problem, so no plans were imported. Fix the rows below and upload the file again.",
        'Column "Date of birth" (column H) looks like personal data: the service never holds a child\'s date of birth; '
        "remove the column and import again",
    ]
    assert count(db, Plan) == 0 and count(db, PlanImport) == 0


def test_a_bad_sen2_code_in_row_17_of_a_workbook_refuses_it_whole(sign_in_as, db):
    client = sign_in_as("coordinator")
    rows = register_rows(30)
    rows[15][4] = "AUT"
    response = upload(client, as_xlsx(rows), "register.xlsx")
    assert response.status_code == 302 and response.headers["Location"].endswith("/values")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "What do these values mean?" in page and "“AUT” in Primary need" in page
    assert "On row 17. Closest: Autistic spectrum disorder (ASD)" in page
    assert count(db, Plan) == 0 and count(db, PlanImport) == 0

    # Mapped once, for the whole file, and remembered: the next upload with "AUT" goes straight in.
    values_page = response.headers["Location"]
    refused = client.post(values_page, data={"csrf_token": csrf_token(client, values_page), "value_0": ""})
    assert refused.status_code == 400 and "Choose what “AUT” means" in refused.get_data(as_text=True)
    done = client.post(values_page, data={"csrf_token": csrf_token(client, values_page), "value_0": "ASD"})
    assert done.status_code == 302 and done.headers["Location"] == "/plans"
    assert count(db, Plan) == 30
    rows[20][4] = "AUT"
    assert upload(client, as_xlsx(rows), "register.xlsx").headers["Location"] == "/plans"
    assert client.get(values_page).status_code == 404  # the kept file went with the import


def test_no_file_and_no_csrf_token_are_refused(sign_in_as, db):
    client = sign_in_as("coordinator")
    response = client.post("/plans/import", data={"csrf_token": csrf_token(client, "/plans/import")})
    assert response.status_code == 400 and "Choose a CSV or Excel file" in response.get_data(as_text=True)
    assert upload(client, as_csv(register_rows(2)), token=False).status_code == 400
    assert count(db, Plan) == 0


def test_a_file_over_20_mb_is_refused(sign_in_as, db):
    client = sign_in_as("coordinator")
    response = upload(client, b"x" * (20 * 1024 * 1024 + 1))
    assert response.status_code == 400 and "the most it can be is 20 MB" in response.get_data(as_text=True)
    assert upload(client, b"x" * (21 * 1024 * 1024)).status_code == 413  # refused before it is even read
    assert count(db, Plan) == 0


def test_managers_read_the_register_but_cannot_upload(sign_in_as, db, world):
    from audit_workflow.plans.service import import_plans

    import_plans(db, world.las["own"].id, "r.csv", as_csv(register_rows(3)))
    db.commit()
    client = sign_in_as("manager")
    page = client.get("/plans").get_data(as_text=True)
    assert "SYS-000002" in page and "Import plans" not in page
    assert client.get("/plans/import").status_code == 403


def test_the_register_filters_and_ignores_unknown_filter_values(sign_in_as, db, world):
    from audit_workflow.plans.service import import_plans

    import_plans(db, world.las["own"].id, "r.csv", as_csv(register_rows(90)))
    db.commit()
    client = sign_in_as("coordinator")
    page = client.get("/plans?key_stage=KS3&primary_need=SEMH").get_data(as_text=True)
    assert "3 plans" in page and "Clear filters" in page
    page = client.get("/plans?key_stage=<script>&page=nonsense").get_data(as_text=True)
    assert "90 plans" in page and "<script>" not in page


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=300),
    st.lists(st.lists(st.text(max_size=10), max_size=8), min_size=1, max_size=5).map(lambda rows: as_csv(rows[1:], rows[0]))),
    filename=st.sampled_from(["register.csv", "register.xlsx", "../../etc/passwd", "", "r\u202e.csv"]))
def test_random_uploads_never_give_a_500_or_a_partial_import(client, world, db, data, filename):
    if client.get("/plans/import").status_code != 200:  # the first example signs in; the session lasts
        sign_in(client, world.user("coordinator"))
    token = csrf_token(client, "/plans/import")
    before = count(db, Plan)
    response = upload(client, data, filename, token)
    assert response.status_code in (302, 400)
    after = count(db, Plan)
    if response.status_code == 400 or response.headers["Location"] != "/plans":  # refused, or to a mapping step
        assert after == before
    else:
        assert count(db, PlanImport) >= 1


@st.composite
def registers_with_one_cell_changed(draw):
    """A good register file of a few rows with one cell (or a heading) replaced by anything at all
    (anything a workbook can hold: Excel cells cannot hold control characters)."""
    workbook = draw(st.booleans())
    rows = [list(FILE_HEADINGS)] + register_rows(draw(st.integers(1, 12)))
    text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20) if workbook else st.text(max_size=20)
    rows[draw(st.integers(0, len(rows) - 1))][draw(st.integers(0, len(FILE_HEADINGS) - 1))] = draw(text)
    return workbook, rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(register=registers_with_one_cell_changed())
def test_a_damaged_register_lands_whole_or_not_at_all(client, world, db, register):
    if client.get("/plans/import").status_code != 200:
        sign_in(client, world.user("coordinator"))
    workbook, rows = register
    data = as_xlsx(rows[1:], rows[0]) if workbook else as_csv(rows[1:], rows[0])
    before = count(db, Plan)
    response = upload(client, data, "register.xlsx" if workbook else "register.csv")
    assert response.status_code in (302, 400)
    after = count(db, Plan)
    if response.status_code == 400 or response.headers["Location"] != "/plans":  # refused, or to a mapping step
        assert after == before
    else:  # every row of the file is in the register (a changed System ID is a plan of its own)
        registered = {plan.system_id for plan in db.exec(select(Plan)).all()}
        assert {row[0].strip() for row in rows[1:] if row[0].strip()} <= registered
