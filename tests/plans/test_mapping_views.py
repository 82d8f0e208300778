"""The mapping step on the web: a file whose columns or values cannot be read for sure is kept, the
coordinator says what they mean (once for the whole file), and the LA's next upload remembers it."""

import io

import pytest
from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import EnvironBuilder

from audit_workflow.plans.models import ImportMapping, PendingUpload, Plan
from tests.conftest import csrf_token, sign_in
from tests.plans.test_corpus import csv_bytes
from tests.plans.test_import_views import count, upload

EXPORT = [
    ["EHCP caseload", "", "", "", "", ""],
    ["Ref", "Stage", "Type", "Primary need", "Caseworker unit", "Surgery"],
    ["P-1", "KS2", "Academy", "ASD", "SEN North", "x"],
    ["P-2", "Year 8", "Academy", "SLCN", "SEN South", "y"],
    ["P-3", "KS5", "FE college", "PMLD", "SEN South", "z"],
]


def post_form(client, path, fields):
    return client.post(path, data={"csrf_token": csrf_token(client, path), **fields})


def test_one_mapping_screen_per_kind_and_what_it_maps_is_remembered(sign_in_as, db):
    client = sign_in_as("coordinator")
    response = upload(client, csv_bytes(EXPORT), "caseload.csv")
    assert response.status_code == 302 and response.headers["Location"].endswith("/columns")
    columns_page = response.headers["Location"]
    page = client.get(columns_page).get_data(as_text=True)
    assert "What is in each column?" in page and "Headings on row 2" in page
    assert "Column C. For example: Academy, FE college" in page  # samples, at most three
    assert 'could be Plan type or Setting type' in page

    response = post_form(client, columns_page, {"column_0": "system_id", "column_1": "key_stage", "column_2": "setting_type",
                                                "column_3": "primary_need", "column_4": "writer_team", "column_5": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/values")
    values_page = response.headers["Location"]
    page = client.get(values_page).get_data(as_text=True)
    assert "“Academy” in Type" in page and "On 2 rows." in page
    response = post_form(client, values_page, {"value_0": "mainstream_academy_free"})
    assert response.status_code == 302 and response.headers["Location"] == "/plans"
    assert "Columns not used: Surgery." in client.get("/plans").get_data(as_text=True)
    assert count(db, Plan) == 3 and count(db, PendingUpload) == 0
    plans = {plan.system_id: plan for plan in db.exec(select(Plan)).all()}
    assert (plans["P-1"].setting_type, plans["P-2"].key_stage, plans["P-3"].writer_team) == (
        "mainstream_academy_free", "KS3", "SEN South")

    # The next export of the same shape goes straight in.
    next_export = EXPORT + [["P-4", "KS1", "Academy", "HI", "SEN East", "w"]]
    response = upload(client, csv_bytes(next_export), "caseload.csv")
    assert response.headers["Location"] == "/plans"
    assert count(db, Plan) == 4
    kinds = sorted((row.kind, row.key, row.target) for row in db.exec(select(ImportMapping)).all())
    assert ("setting_type", "academy", "mainstream_academy_free") in kinds and ("column", "type", "setting_type") in kinds


def test_another_las_mapping_is_not_used(sign_in_as, db, world):
    from audit_workflow.plans.service import remember_mapping

    remember_mapping(db, world.las["other"].id, {"caseworkerunit": "writer_team"})
    db.commit()
    client = sign_in_as("coordinator")
    rows = [["ID", "KS", "Setting type", "Need", "Caseworker unit"], ["P-1", "KS2", "PRU", "ASD", "SEN North"]]
    assert upload(client, csv_bytes(rows)).headers["Location"] == "/plans"
    assert db.exec(select(Plan)).one().writer_team is None


def test_a_file_with_problems_no_mapping_settles_is_refused_on_the_upload_page(sign_in_as, db):
    client = sign_in_as("coordinator")
    rows = [["ID", "KS", "Setting type", "Need"], ["P-1", "KS2", "Academy", "ASD"], ["P-1", "KS2", "PRU", "ASD"]]
    response = upload(client, csv_bytes(rows))
    assert response.status_code == 400 and count(db, PendingUpload) == 0
    page = response.get_data(as_text=True)
    assert "is also in row 2" in page and "did you mean Mainstream school: academy or free school" in page


def test_the_size_is_checked_before_the_upload_is_read(sign_in_as, db, monkeypatch):
    client = sign_in_as("coordinator")
    token = csrf_token(client, "/plans/import")
    request = EnvironBuilder(path="/plans/import", method="POST", content_type="multipart/form-data",
                             data={"csrf_token": token, "file": (io.BytesIO(b"x" * (20 * 2**20 + 1)), "r.csv")})
    environ = request.get_environ()  # encoded before read() is taken away
    monkeypatch.setattr(FileStorage, "read", lambda self, *args: pytest.fail("read an upload that is too big"),
                        raising=False)
    response = client.open(environ)
    assert response.status_code == 400 and "the most it can be is 20 MB" in response.get_data(as_text=True)


def test_a_kept_file_is_only_its_las(app, sign_in_as, db, world):
    client = sign_in_as("coordinator")
    response = upload(client, csv_bytes(EXPORT), "caseload.csv")
    columns_page = response.headers["Location"]
    other = app.test_client()
    sign_in(other, world.user("coordinator", "other"))
    assert other.get(columns_page).status_code == 404


def test_a_mapped_file_with_other_problems_is_refused_listing_them_and_the_mapping_is_kept(sign_in_as, db):
    client = sign_in_as("coordinator")
    export = EXPORT + [["P-1", "KS1", "FE college", "HI", "SEN East", "w"]]
    columns_page = upload(client, csv_bytes(export), "caseload.csv").headers["Location"]
    response = post_form(client, columns_page, {"column_0": "system_id", "column_1": "key_stage", "column_2": "setting_type",
                                                "column_3": "primary_need", "column_4": "writer_team", "column_5": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Row 6, column &#34;Ref&#34;: &#34;P-1&#34; is also in row 3" in page and "Import plans" in page
    assert count(db, Plan) == 0 and count(db, PendingUpload) == 0
    assert ("column", "ref", "system_id") in {(row.kind, row.key, row.target) for row in db.exec(select(ImportMapping)).all()}
