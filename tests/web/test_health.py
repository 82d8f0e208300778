from sqlalchemy import create_engine

from audit_workflow.db import ENGINE_KEY


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_healthz_is_503_when_the_database_is_unreachable(app, client):
    app.extensions[ENGINE_KEY] = create_engine("sqlite:////nonexistent-dir/for/health.db")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"
