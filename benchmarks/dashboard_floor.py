"""The dashboard page's floor (workload 5): a bare Flask endpoint, served by the same gunicorn, that
runs the page's SQL hand-written through SQLAlchemy Core (the signed-in user and their LA, the cycle,
its counts, the to-send list) and renders the same template, cycles/show.html, with a plain Jinja
environment over the same template files. No session cookie, access check, ORM or form machinery:
what any code must do to produce the same page, and nothing else. web.py checks that the two pages
are the same size.
"""

from __future__ import annotations

import secrets
from types import SimpleNamespace

from flask import Flask, request
from jinja2 import Environment
from sqlalchemy import and_, case, create_engine, func, select

from audit_workflow.auth.models import Role, User
from audit_workflow.clock import today
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.cycles.lifecycle import describe_target
from audit_workflow.cycles.models import (ACTIVE_STATUSES, HELD_STATUSES, Assignment, AssignmentKind, AuditCycle, CycleAuditor,
                                          CyclePlan)
from audit_workflow.cycles.plan_sample import target_size
from audit_workflow.cycles.progress import KindProgress, margin_for
from audit_workflow.cycles.views import reminder_policy, strata_labels
from audit_workflow.plans.models import Plan
from audit_workflow.web.navigation import _ENTRIES as NAVIGATION

ASSIGNMENT, CYCLE, CYCLE_PLAN, CYCLE_AUDITOR = (Assignment.__table__, AuditCycle.__table__, CyclePlan.__table__,
                                                CycleAuditor.__table__)
USER, LA, PLAN = User.__table__, LocalAuthority.__table__, Plan.__table__
TEMPLATE = "cycles/show.html"


def bare_dashboard_app(real_app: Flask, database_url: str) -> Flask:
    """GET /<cycle id>?user=<email>: the cycle dashboard as that coordinator sees it."""
    bare = Flask("bare_dashboard")
    engine = create_engine(database_url)
    jinja = Environment(loader=real_app.jinja_env.loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    jinja.filters.update(real_app.jinja_env.filters)
    urls = real_app.url_map.bind("127.0.0.1")

    def url_for(endpoint: str, **values) -> str:
        return urls.build(endpoint, values)

    # Globals, not render arguments: imported macros see only the globals.
    jinja.globals.update(
        real_app.jinja_env.globals, url_for=url_for, config=real_app.config, csrf_token=lambda: "bare-csrf-token",
        get_flashed_messages=lambda: [], describe_target=describe_target,
        strata_labels=strata_labels, reminder_policy=reminder_policy, can_change=lambda cycle: cycle.status != "closed")
    template = jinja.get_template(TEMPLATE)
    coordinator_entries = sorted((entry for entry in NAVIGATION if Role.COORDINATOR in entry.roles
                                  and entry.endpoint in real_app.view_functions), key=lambda e: (e.order, e.text))

    @bare.get("/<uuid:cycle_id>")
    def dashboard(cycle_id):
        with engine.connect() as connection:
            numbers = _page_numbers(connection, cycle_id, request.args["user"])
        jinja.globals["cspNonce"] = secrets.token_urlsafe(16)  # a worker renders one page at a time
        navigation = [{"href": url_for(entry.endpoint), "text": entry.text, "active": False}
                      for entry in coordinator_entries]
        return template.render(**numbers, navigation_items=navigation)

    return bare


def _page_numbers(connection, cycle_id, email: str) -> dict:
    user = connection.execute(select(USER).where(USER.c.email == email)).one()
    la = connection.execute(select(LA.c.name).where(LA.c.id == user.la_id)).one()
    cycle = SimpleNamespace(**connection.execute(select(CYCLE).where(CYCLE.c.id == cycle_id)).one()._mapping)
    overdue = and_(ASSIGNMENT.c.status.in_(ACTIVE_STATUSES), ASSIGNMENT.c.due_date < today())
    counted = connection.execute(select(ASSIGNMENT.c.kind, ASSIGNMENT.c.status, func.count(), func.sum(case((overdue, 1), else_=0)))
                                 .where(ASSIGNMENT.c.cycle_id == cycle_id).group_by(ASSIGNMENT.c.kind, ASSIGNMENT.c.status)).all()

    def of_kind(kind: str) -> KindProgress:
        return KindProgress({status: count for of, status, count, _ in counted if of == kind},
                            sum(late for of, _, _, late in counted if of == kind))

    def number_of(kind: str, condition):
        return func.sum(case((and_(condition, ASSIGNMENT.c.kind == kind), 1), else_=0))

    held = ASSIGNMENT.c.status.in_(HELD_STATUSES)
    auditors = [SimpleNamespace(auditor_id=row[0], name=row[1], email=row[2], assigned=row[3], submitted=row[4],
                                moderation=row[5], reaudits=row[6], overdue=row[7]) for row in connection.execute(
        select(USER.c.id, USER.c.display_name, USER.c.email, number_of(AssignmentKind.PRIMARY, held),
               number_of(AssignmentKind.PRIMARY, ASSIGNMENT.c.status == "submitted"), number_of(AssignmentKind.MODERATION, held),
               number_of(AssignmentKind.REAUDIT, held), func.sum(case((overdue, 1), else_=0)))
        .join(USER, USER.c.id == ASSIGNMENT.c.auditor_id).where(ASSIGNMENT.c.cycle_id == cycle_id)
        .group_by(USER.c.id, USER.c.display_name, USER.c.email).order_by(USER.c.display_name))]
    held = (select(ASSIGNMENT.c.plan_id).where(ASSIGNMENT.c.cycle_id == cycle_id, ASSIGNMENT.c.kind == "primary",
                                               ASSIGNMENT.c.status.in_(HELD_STATUSES)).distinct().subquery())
    sampled, unallocated = connection.execute(
        select(func.count(), func.count() - func.count(held.c.plan_id))
        .select_from(CYCLE_PLAN.outerjoin(held, held.c.plan_id == CYCLE_PLAN.c.plan_id))
        .where(CYCLE_PLAN.c.cycle_id == cycle_id, CYCLE_PLAN.c.removed_at.is_(None))).one()
    population = connection.execute(select(func.count()).where(PLAN.c.la_id == cycle.la_id)).scalar_one()
    active = ASSIGNMENT.c.status.in_(ACTIVE_STATUSES)
    to_send = [SimpleNamespace(assignment_id=row[0], system_id=row[1], auditor_name=row[2], auditor_email=row[3],
                               assigned_at=row[4]) for row in connection.execute(
        select(ASSIGNMENT.c.id, PLAN.c.system_id, USER.c.display_name, USER.c.email, ASSIGNMENT.c.assigned_at)
        .join(PLAN, PLAN.c.id == ASSIGNMENT.c.plan_id).join(USER, USER.c.id == ASSIGNMENT.c.auditor_id)
        .where(ASSIGNMENT.c.cycle_id == cycle_id, active, ASSIGNMENT.c.plan_sent_at.is_(None))
        .order_by(USER.c.display_name, PLAN.c.system_id))]
    sent = connection.execute(select(func.count()).where(ASSIGNMENT.c.cycle_id == cycle_id, active,
                                                         ASSIGNMENT.c.plan_sent_at.is_not(None))).scalar_one()
    pool_size = connection.execute(select(func.count()).where(CYCLE_AUDITOR.c.cycle_id == cycle_id)).scalar_one()
    target = target_size(cycle, population)
    first_audits = of_kind(AssignmentKind.PRIMARY)
    return {
        "cycle": cycle, "current_user": SimpleNamespace(display_name=user.display_name), "la": la,
        "overview": SimpleNamespace(population=population, target=target, sampled=sampled, unallocated=unallocated,
                                    margin=margin_for(sampled or target, population)),
        "progress": SimpleNamespace(by_status=first_audits.by_status, overdue=first_audits.overdue, total=first_audits.total,
                                    moderation=of_kind(AssignmentKind.MODERATION), reaudits=of_kind(AssignmentKind.REAUDIT),
                                    by_auditor=auditors),
        "to_send": to_send, "sent": sent, "pool_size": pool_size,
    }
