"""The demo gives every action page real numbers: an Inadequate audit with its proposed action,
open, overdue and closed actions, one re-audit done with its grade change, and weekly reviews."""

from sqlmodel import func, select

from audit_workflow.actions import service
from audit_workflow.actions.kinds import ActionStatus
from audit_workflow.actions.models import Action, ActionReview
from audit_workflow.audits.models import Audit
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.demo import DEMO_AUTHORITIES


def test_the_demo_has_actions_in_every_state_and_a_re_audit_done(app, runner, db):
    app.config["DEMO_MODE"] = True  # the demo loads only in demo mode
    assert runner.invoke(args=["demo"]).exit_code == 0
    # The two councils people sign in to (the reports demo adds small ones that only feed benchmarks).
    main_codes = [demo.code for demo in DEMO_AUTHORITIES]
    las = db.exec(select(LocalAuthority).where(LocalAuthority.code.in_(main_codes))).all()
    assert len(las) == len(main_codes)
    for la in las:
        rows = service.actions_for_la(db, la.id)
        proposed_inadequate = [row for row in rows if row.action.status == ActionStatus.PROPOSED and row.action.audit_id
                               and db.get(Audit, row.action.audit_id).overall_grade == "inadequate"]
        assert proposed_inadequate, la.name
        assert any(row.overdue for row in rows) and any(row.action.status == ActionStatus.OPEN for row in rows)
        assert [(row.action.grade_before, row.action.grade_after) for row in rows if row.action.grade_after] == [("inadequate", "good")]
        assert any(row.action.plan_id is None for row in rows)  # a theme for the whole service
        assert len(service.board_for(db, la.id).rag_over_time) == 4
    count = db.exec(select(func.count()).select_from(Action)).one()
    reviews = db.exec(select(func.count()).select_from(ActionReview)).one()
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert db.exec(select(func.count()).select_from(Action)).one() == count
    assert db.exec(select(func.count()).select_from(ActionReview)).one() == reviews
