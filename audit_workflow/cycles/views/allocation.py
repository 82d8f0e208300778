"""Allocation and what follows it: allocating the sample, reassigning a plan, ticking a plan as
sent to its auditor, and the auditor declining one."""

from __future__ import annotations

import json
import uuid

from flask import abort, render_template, url_for
from sqlmodel import Session

from ...access import allow, load_owned, require_user
from ...auth.models import Role, User
from ...db import get_session
from ...natural_order import natural_key
from ...notifications.staff_mail import StaffMail
from ...plans.models import Plan
from ...web.changes import Done, apply_change, refusal_page
from .. import allocating, progress
from ..guards import CycleError
from ..forms import ActionForm, AllocateForm, DeclineForm, ReassignForm, choices
from ..models import Assignment, AuditCycle
from . import OVERSEERS, bp, cycle_to_change


@bp.get("/cycles/<uuid:cycle_id>/allocation")
@allow(*OVERSEERS)
def allocation(cycle_id: uuid.UUID, form: AllocateForm | None = None):
    """The allocation page; after a refused POST, with the form just sent (its errors in the summary)."""
    cycle = load_owned(AuditCycle, cycle_id)
    db = get_session()
    last_run = progress.last_allocation_run(db, cycle)
    if form is None:
        form = AllocateForm(formdata=None)
        form.fill_from(json.loads(cycle.discipline_mix or "{}"))
    return render_template(
        "cycles/allocation.html", form=form, cycle=cycle, last_run=last_run,
        explanation=json.loads(last_run.explanation) if last_run else [],
        unallocated=progress.unallocated_plans(db, cycle), declines=progress.declines(db, cycle),
        members=progress.pool(db, cycle), assignments=progress.allocated(db, cycle),
    )


@bp.post("/cycles/<uuid:cycle_id>/allocation")
@allow(Role.COORDINATOR)
def allocate(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = AllocateForm()

    def do_allocate(db: Session) -> Done:
        allocating.set_discipline_mix(db, cycle, form.percentages())
        outcome = allocating.allocate_cycle(db, cycle, require_user(), StaffMail.with_app_settings(db))
        left = f" {len(outcome.unallocated)} could not be allocated." if outcome.unallocated else ""
        return Done(url_for("cycles.allocation", cycle_id=cycle.id), f"{len(outcome.assignments)} plans have been allocated.{left}")

    return apply_change(do_allocate, form=form, refused=CycleError, page=lambda: allocation(cycle.id, form))


def _assignment_for_coordinator(assignment_id: uuid.UUID) -> tuple[Assignment, AuditCycle]:
    assignment = load_owned(Assignment, assignment_id)
    return assignment, cycle_to_change(assignment.cycle_id)


@bp.route("/assignments/<uuid:assignment_id>/reassign", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def reassign(assignment_id: uuid.UUID):
    assignment, cycle = _assignment_for_coordinator(assignment_id)
    db = get_session()
    plan = db.get(Plan, assignment.plan_id)
    candidates = sorted(allocating.eligible_auditors(db, assignment), key=lambda user: natural_key(user.display_name))
    form = ReassignForm()
    form.auditor.choices = choices((str(user.id), user.display_name) for user in candidates)

    def do_reassign(db: Session) -> Done:
        replacement = allocating.reassign(db, assignment, uuid.UUID(form.auditor.data), require_user(),
                                          StaffMail.with_app_settings(db))
        auditor = db.get(User, replacement.auditor_id)
        return Done(url_for("cycles.show", cycle_id=cycle.id),
                    f"{plan.system_id} has been reassigned to {auditor.display_name}.",
                    link=("Email them the plan", url_for("cycles.show", cycle_id=cycle.id, _anchor="send-plans")))

    return apply_change(do_reassign, form=form, refused=CycleError, page=lambda: render_template(
        "cycles/reassign.html", form=form, cycle=cycle, assignment=assignment, plan=plan, candidates=candidates,
        holder=db.get(User, assignment.auditor_id),
    ))


@bp.post("/assignments/<uuid:assignment_id>/plan-sent")
@allow(Role.COORDINATOR)
def plan_sent(assignment_id: uuid.UUID):
    assignment, cycle = _assignment_for_coordinator(assignment_id)

    def tick(db: Session) -> Done:
        allocating.mark_plan_sent(db, assignment, require_user())
        return Done(url_for("cycles.show", cycle_id=cycle.id, _anchor="send-plans"),
                    f"Plan {db.get(Plan, assignment.plan_id).system_id} is marked as sent.")

    return apply_change(tick, form=ActionForm(), refused=CycleError, when_refused=refusal_page(400))


@bp.route("/assignments/<uuid:assignment_id>/decline", methods=["GET", "POST"])
@allow(Role.AUDITOR)
def decline(assignment_id: uuid.UUID):
    assignment = load_owned(Assignment, assignment_id)
    if assignment.auditor_id != require_user().id:
        abort(404)
    db = get_session()
    plan = db.get(Plan, assignment.plan_id)
    form = DeclineForm()

    def do_decline(db: Session) -> Done:
        allocating.decline(db, assignment, form.reason.data, StaffMail.with_app_settings(db))
        return Done(url_for("web.home"), f"You have declined the audit of {plan.system_id}. Your coordinator has been told.")

    return apply_change(do_decline, form=form, refused=CycleError, page=lambda: render_template(
        "cycles/decline.html", form=form, assignment=assignment, plan=plan, cycle=db.get(AuditCycle, assignment.cycle_id)))
