"""`audit-workflow demo`: the promised data, and running it again changes nothing."""

from sqlalchemy import text
from sqlmodel import SQLModel, func, select

from audit_workflow.audits.models import Audit, AuditStatus
from audit_workflow.auth.models import User
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.cycles.models import AuditCycle, CycleStatus
from audit_workflow.demo import demo_accounts
from audit_workflow.plans.models import Plan
from audit_workflow.plans.reference import NATIONAL_NEED_MIX


def _counts(db):
    return {model.__name__: db.exec(select(func.count()).select_from(model)).one() for model in (LocalAuthority, User, Plan, AuditCycle, Audit)}


def table_row_counts(db) -> dict[str, int]:
    """Rows in every table, as committed now. The session's transaction is ended first: on SQLite
    (WAL, explicit BEGIN) it would otherwise go on reading the snapshot of its first query, and a
    second demo run's rows would stay invisible."""
    db.rollback()
    return {table: db.exec(text(f'SELECT count(*) FROM "{table}"')).one()[0] for table in SQLModel.metadata.tables}


def test_demo_loads_the_promised_data_once(app, runner, db):
    app.config["DEMO_MODE"] = True
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "password" in first.output and "coordinator1@nm.demo.example" in first.output
    counts, rows = _counts(db), table_row_counts(db)
    # Two LAs to sign in to, and four more that only contribute to the reports' benchmarks.
    assert counts["LocalAuthority"] == 6 and counts["Plan"] == 1800 and 66 <= counts["User"] <= 70
    assert len({la.region for la in db.exec(select(LocalAuthority)).all()}) == 6
    assert all(la.benchmark_opt_in for la in db.exec(select(LocalAuthority)).all())
    # Every account the sign-in page lists exists, and every role people sign in with is listed.
    listed = {account["email"] for account in demo_accounts()}
    users = db.exec(select(User).where(User.email.in_(listed))).all()
    assert len(users) == len(listed)
    shown_las = {user.la_id for user in users}
    assert {user.roles for user in users} == {user.roles for user in db.exec(select(User).where(User.la_id.in_(shown_las))).all()}

    statuses = sorted(cycle.status for cycle in db.exec(select(AuditCycle)).all())
    assert statuses == [CycleStatus.CLOSED] * 8 + [CycleStatus.OPEN] * 2
    submitted = db.exec(select(func.count()).select_from(Audit).where(Audit.status == AuditStatus.SUBMITTED)).one()
    drafts = db.exec(select(func.count()).select_from(Audit).where(Audit.status == AuditStatus.DRAFT)).one()
    assert submitted >= 48 and drafts > 0

    # The needs follow the national mix: autism is the most common primary need.
    needs = dict(db.exec(select(Plan.primary_need, func.count()).group_by(Plan.primary_need)).all())
    assert max(needs, key=needs.get) == max(NATIONAL_NEED_MIX, key=NATIONAL_NEED_MIX.get)

    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert table_row_counts(db) == rows


def test_sign_in_page_shows_demo_accounts_only_in_demo_mode(app, client):
    assert "Demo accounts" not in client.get("/sign-in").get_data(as_text=True)
    app.config["DEMO_MODE"] = True
    page = client.get("/sign-in").get_data(as_text=True)
    assert "Demo accounts" in page and "coordinator1@nm.demo.example" in page
    assert "volunteer1@nm.demo.example" in page
