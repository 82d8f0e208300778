"""The coordinator's cycle pages: settings, the sample, the auditor pool, allocation and the
dashboard; and the one page of this area an auditor uses, to decline an assignment.

Managers may read every page; only coordinators change anything. A closed cycle shows no controls,
and the service refuses any change to it anyway. Every change is a POST that either redirects
(success) or re-renders its page with the error summary and a 400.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlmodel import Session, col, select

from ..access import allow, has_role, in_my_la, load_owned, require_user
from ..auth.models import Role, User
from ..clock import ENGLAND
from ..db import get_session
from ..notifications.staff_mail import StaffMail
from ..plans.models import Plan
from ..web import navigation
from ..web.contributions import HOME_PANELS, HomePanel
from ..web.errors import render_error
from ..workdays import BeyondHolidayData
from . import allocating, auditor_pool, lifecycle, plan_sample, progress
from .chasing import chase_calendar
from .guards import CycleError
from .forms import (
    ActionForm,
    AddAuditorForm,
    AddPlanForm,
    AllocateForm,
    CycleForm,
    DeclineForm,
    PoolImportForm,
    ReassignForm,
    RemovePlanForm,
    SampleForm,
    attach_error,
    choices,
)
from .models import AllocationRun, Assignment, AssignmentStatus, AuditCycle, CycleAuditor, CyclePlan, CycleStatus

bp = Blueprint("cycles", __name__, template_folder="templates")

OVERSEERS = (Role.COORDINATOR, Role.MANAGER)

# GOV.UK tag text and colour for assignment and cycle statuses.
STATUS_TAGS = {
    AssignmentStatus.NOT_STARTED: ("Not started", "govuk-tag--grey"),
    AssignmentStatus.IN_PROGRESS: ("In progress", "govuk-tag--light-blue"),
    AssignmentStatus.SUBMITTED: ("Submitted", "govuk-tag--green"),
    AssignmentStatus.DECLINED: ("Declined", "govuk-tag--orange"),
    AssignmentStatus.WITHDRAWN: ("Reassigned", "govuk-tag--grey"),
    progress.OVERDUE: ("Overdue", "govuk-tag--red"),
    CycleStatus.DRAFT: ("Draft", "govuk-tag--grey"),
    CycleStatus.OPEN: ("Open", "govuk-tag--green"),
    CycleStatus.CLOSED: ("Closed", "govuk-tag--blue"),
}

navigation.register("Audit cycles", "cycles.index", OVERSEERS, "Set up cycles, draw samples, allocate plans and track progress", order=20)


def open_cycles_panel(user: User) -> HomePanel | None:
    """A coordinator's Monday morning: each open cycle's progress, and the plans still to email."""
    if not user.role_set & set(OVERSEERS):
        return None
    db = get_session()
    items = []
    for cycle in db.exec(in_my_la(AuditCycle).where(AuditCycle.status == CycleStatus.OPEN).order_by(AuditCycle.name)).all():
        counts = progress.cycle_progress(db, cycle)
        text = (f"{cycle.name}: {counts.by_status.get(AssignmentStatus.SUBMITTED, 0)} of "
                f"{counts.total - counts.by_status.get(AssignmentStatus.WITHDRAWN, 0)} audits submitted, {counts.overdue} overdue")
        if user.has_role(Role.COORDINATOR):
            to_send = len(progress.plans_to_send(db, cycle))
            text += f", {to_send} plan{'s' if to_send != 1 else ''} to send" if to_send else ""
        items.append((text, url_for("cycles.show", cycle_id=cycle.id)))
    return HomePanel("Open audit cycles", items, "There are no open audit cycles.")


HOME_PANELS["cycles"] = open_cycles_panel


@bp.app_template_filter("status_tag")
def status_tag(status: str) -> dict:
    """govukTag params for a stored status."""
    text, classes = STATUS_TAGS.get(status, (status.replace("_", " ").capitalize(), "govuk-tag--grey"))
    return {"text": text, "classes": classes}


@bp.app_template_filter("govuk_date")
def govuk_date(value: date | datetime) -> str:
    """1 September 2026; a timestamp (stored in UTC) as the date it was in England."""
    if isinstance(value, datetime):
        value = value.astimezone(ENGLAND).date()
    return f"{value.day} {value:%B %Y}"


@bp.context_processor
def cycle_helpers():
    return {"describe_target": lifecycle.describe_target, "strata_labels": strata_labels, "reminder_policy": reminder_policy,
            "can_change": _can_change}


def strata_labels(strata: str | None) -> str:
    """The fields a sample is stratified by, as a phrase: "key stage, primary need"."""
    return ", ".join(lifecycle.STRATA_FIELDS[name].lower() for name in lifecycle.split_strata(strata))


def reminder_policy(cycle: AuditCycle) -> str:
    reallocate = (f"; reallocated after {cycle.reallocate_after_days} working days overdue" if cycle.reallocate_after_days
                  else "; never reallocated automatically")
    return (f"Reminded {cycle.remind_days_before} working days before the due date; chased every "
            f"{cycle.overdue_interval_days} working days when overdue; coordinator told after "
            f"{cycle.escalate_after_days} working days overdue{reallocate}")


def _can_change(cycle: AuditCycle) -> bool:
    return cycle.status != CycleStatus.CLOSED and has_role(Role.COORDINATOR)


def _page(template: str, form: FlaskForm | None, **context):
    """Render a page; `form` is the one just submitted (if any), whose errors the layout shows in the
    error summary, and then the answer is a 400."""
    return render_template(template, form=form, **context), 400 if form is not None and form.errors else 200


def _change(form: FlaskForm, change: Callable[[Session], tuple[str, str]]):
    """Validate the form and make the change, which returns (message, where to go next): commit, flash
    and redirect. None when the form or the service refused; the reason is then on the form."""
    if not form.validate_on_submit():
        return None
    db = get_session()
    try:
        message, then = change(db)
    except CycleError as error:
        db.rollback()
        attach_error(form, error)
        return None
    db.commit()
    flash(message)
    return redirect(then)


def _button(change: Callable[[Session], str]):
    """A button with nothing to fill in (open, tick, remove): a refusal is a 400 page with the reason."""
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        message = change(db)
    except CycleError as error:
        db.rollback()
        return render_error(400, [str(error)])
    db.commit()
    flash(message)
    return None


# --- Cycles ------------------------------------------------------------------------------------


@bp.get("/cycles")
@allow(*OVERSEERS)
def index():
    cycles = get_session().exec(in_my_la(AuditCycle).order_by(col(AuditCycle.period_start).desc(), AuditCycle.name)).all()
    return render_template("cycles/index.html", cycles=cycles, can_create=has_role(Role.COORDINATOR))


@bp.route("/cycles/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new():
    form = CycleForm()

    def create(db: Session):
        cycle = lifecycle.create_cycle(db, require_user().la_id, form.settings())
        return f"{cycle.name} has been created.", url_for("cycles.show", cycle_id=cycle.id)

    return _change(form, create) or _page("cycles/edit.html", form, cycle=None)


@bp.route("/cycles/<uuid:cycle_id>/edit", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    if request.method == "GET" and cycle.status == CycleStatus.CLOSED:
        return redirect(url_for("cycles.show", cycle_id=cycle.id))
    form = CycleForm()
    if request.method == "GET":
        form.fill_from(lifecycle.CycleSettings.of(cycle))

    def save(db: Session):
        lifecycle.update_cycle(db, cycle, form.settings())
        return f"{cycle.name} has been saved.", url_for("cycles.show", cycle_id=cycle.id)

    return _change(form, save) or _page("cycles/edit.html", form, cycle=cycle)


@bp.get("/cycles/<uuid:cycle_id>")
@allow(*OVERSEERS)
def show(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    db = get_session()
    return render_template(
        "cycles/show.html", cycle=cycle, overview=progress.sample_overview(db, cycle),
        progress=progress.cycle_progress(db, cycle), to_send=progress.plans_to_send(db, cycle),
        sent=progress.plans_sent_count(db, cycle), pool_size=len(progress.pool(db, cycle)),
    )


@bp.get("/cycles/<uuid:cycle_id>/assignments")
@allow(*OVERSEERS)
def assignments(cycle_id: uuid.UUID):
    """The dashboard's lists: the cycle's assignments, narrowed to a status or an auditor by the
    links on the cycle page. A filter that is not one of them is ignored, never an error."""
    cycle = load_owned(AuditCycle, cycle_id)
    db = get_session()
    status = request.args.get("status")
    status = status if status in progress.LIST_FILTERS else None
    auditor_id = _uuid_or_none(request.args.get("auditor"))
    auditor = db.get(User, auditor_id) if auditor_id else None
    if auditor is not None and auditor.la_id != cycle.la_id:
        auditor = None
    rows = progress.assignments(db, cycle, status=status, auditor_id=auditor.id if auditor else None)
    return render_template("cycles/assignments.html", cycle=cycle, rows=rows, status=status, auditor=auditor,
                           filters=progress.LIST_FILTERS)


def _uuid_or_none(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None


@bp.get("/cycles/<uuid:cycle_id>/calendar")
@allow(*OVERSEERS)
def calendar(cycle_id: uuid.UUID):
    """Who the scheduler will chase, with which email, on which working day."""
    cycle = load_owned(AuditCycle, cycle_id)
    entries, problem = [], None
    try:
        entries = chase_calendar(get_session(), cycle)
    except BeyondHolidayData as error:
        problem = str(error)
    return render_template("cycles/calendar.html", cycle=cycle, entries=entries, problem=problem)


@bp.post("/cycles/<uuid:cycle_id>/open")
@allow(Role.COORDINATOR)
def open_cycle(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)

    def do_open(db: Session) -> str:
        lifecycle.open_cycle(db, cycle)
        return f"{cycle.name} is open."

    return _button(do_open) or redirect(url_for("cycles.show", cycle_id=cycle.id))


@bp.route("/cycles/<uuid:cycle_id>/close", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def close(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    if request.method == "GET" and cycle.status == CycleStatus.CLOSED:
        return redirect(url_for("cycles.show", cycle_id=cycle.id))
    form = ActionForm()

    def do_close(db: Session):
        lifecycle.close_cycle(db, cycle)
        return (f"{cycle.name} is closed. Its results can still be read but no longer changed.",
                url_for("cycles.show", cycle_id=cycle.id))

    return _change(form, do_close) or _page("cycles/close.html", form, cycle=cycle,
                                            progress=progress.cycle_progress(get_session(), cycle))


# --- The sample --------------------------------------------------------------------------------


def _sample_page(cycle: AuditCycle, draw_form: SampleForm | None = None, add_form: AddPlanForm | None = None):
    db = get_session()
    overview = progress.sample_overview(db, cycle)
    return _page(
        "cycles/sample.html", draw_form or add_form, cycle=cycle, overview=overview,
        draw_form=draw_form or SampleForm(formdata=None, prefix="draw", size=overview.target),
        add_form=add_form or AddPlanForm(formdata=None, prefix="add"),
        strata=progress.strata_of_last_draw(cycle), plans=progress.sampled_plans(db, cycle),
        history=progress.sample_history(db, cycle), allocated=plan_sample.has_assignments(db, cycle),
    )


@bp.get("/cycles/<uuid:cycle_id>/sample")
@allow(*OVERSEERS)
def sample(cycle_id: uuid.UUID):
    return _sample_page(load_owned(AuditCycle, cycle_id))


@bp.post("/cycles/<uuid:cycle_id>/sample")
@allow(Role.COORDINATOR)
def draw(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = SampleForm(prefix="draw")

    def do_draw(db: Session):
        drawn = plan_sample.draw_sample(db, cycle, size=form.size.data, seed=form.seed.data, actor_id=require_user().id)
        return (f"A sample of {len(drawn)} plans has been drawn with seed {cycle.sample_seed}.",
                url_for("cycles.sample", cycle_id=cycle.id))

    return _change(form, do_draw) or _sample_page(cycle, draw_form=form)


@bp.post("/cycles/<uuid:cycle_id>/sample/add")
@allow(Role.COORDINATOR)
def add_plan(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = AddPlanForm(prefix="add")

    def do_add(db: Session):
        plan_sample.add_to_sample(db, cycle, form.system_id.data, form.reason.data, require_user().id)
        return f"{form.system_id.data.strip()} has been added to the sample.", url_for("cycles.sample", cycle_id=cycle.id)

    return _change(form, do_add) or _sample_page(cycle, add_form=form)


@bp.route("/cycles/<uuid:cycle_id>/sample/<uuid:cycle_plan_id>/remove", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def remove_plan(cycle_id: uuid.UUID, cycle_plan_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    entry = load_owned(CyclePlan, cycle_plan_id)
    if entry.cycle_id != cycle.id:
        abort(404)
    if request.method == "GET" and not _can_change(cycle):
        return redirect(url_for("cycles.sample", cycle_id=cycle.id))
    plan = get_session().get(Plan, entry.plan_id)
    form = RemovePlanForm()

    def do_remove(db: Session):
        plan_sample.remove_from_sample(db, entry, form.reason.data, require_user().id)
        return f"{plan.system_id} has been removed from the sample.", url_for("cycles.sample", cycle_id=cycle.id)

    return _change(form, do_remove) or _page("cycles/remove_plan.html", form, cycle=cycle, plan=plan)


# --- The auditor pool --------------------------------------------------------------------------


def _auditors_page(cycle: AuditCycle, add_form: AddAuditorForm | None = None, import_form: PoolImportForm | None = None):
    members = progress.pool(get_session(), cycle)
    return _page(
        "cycles/auditors.html", add_form or import_form, cycle=cycle, members=members,
        add_form=_with_auditor_choices(add_form or AddAuditorForm(formdata=None, prefix="add")),
        import_form=import_form or PoolImportForm(formdata=None, prefix="import"),
    )


def _with_auditor_choices(form: AddAuditorForm) -> AddAuditorForm:
    """The LA's active auditors to choose from, with their team and discipline."""
    auditors = [user for user in get_session().exec(
        in_my_la(User).where(User.active).order_by(User.display_name)).all() if user.has_role(Role.AUDITOR)]
    form.auditor.choices = choices([("", "Choose an auditor")] + [
        (str(user.id), f"{user.display_name} ({user.team or 'no team'}, {user.discipline.replace('_', ' ')})") for user in auditors
    ])
    return form


@bp.get("/cycles/<uuid:cycle_id>/auditors")
@allow(*OVERSEERS)
def auditors(cycle_id: uuid.UUID):
    return _auditors_page(load_owned(AuditCycle, cycle_id))


@bp.post("/cycles/<uuid:cycle_id>/auditors")
@allow(Role.COORDINATOR)
def add_auditor(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = _with_auditor_choices(AddAuditorForm(prefix="add"))

    def do_add(db: Session):
        user = db.get(User, uuid.UUID(form.auditor.data))
        auditor_pool.add_auditor(db, cycle, user, form.capacity.data)
        return f"{user.display_name} can audit {form.capacity.data} plans in this cycle.", url_for("cycles.auditors", cycle_id=cycle.id)

    return _change(form, do_add) or _auditors_page(cycle, add_form=form)


@bp.post("/cycles/<uuid:cycle_id>/auditors/import")
@allow(Role.COORDINATOR)
def import_auditors(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = PoolImportForm(prefix="import")

    def do_import(db: Session):
        try:
            members = auditor_pool.import_pool(db, cycle, form.file.data.read())
        except auditor_pool.PoolImportRefused as refusal:
            form.file.errors = [str(refusal), *map(str, refusal.problems)]
            raise
        return f"{len(members)} auditors are in the pool from the file.", url_for("cycles.auditors", cycle_id=cycle.id)

    return _change(form, do_import) or _auditors_page(cycle, import_form=form)


@bp.post("/cycles/<uuid:cycle_id>/auditors/<uuid:cycle_auditor_id>/remove")
@allow(Role.COORDINATOR)
def remove_auditor(cycle_id: uuid.UUID, cycle_auditor_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    member = load_owned(CycleAuditor, cycle_auditor_id)
    if member.cycle_id != cycle.id:
        abort(404)

    def do_remove(db: Session) -> str:
        auditor_pool.remove_auditor(db, member)
        return "The auditor has been taken out of the pool. Plans they already hold stay with them."

    return _button(do_remove) or redirect(url_for("cycles.auditors", cycle_id=cycle.id))


# --- Allocation --------------------------------------------------------------------------------


def _allocation_page(cycle: AuditCycle, form: AllocateForm | None = None):
    db = get_session()
    last_run = db.exec(select(AllocationRun).where(AllocationRun.cycle_id == cycle.id)
                       .order_by(col(AllocationRun.run_at).desc()).limit(1)).first()
    if form is None:
        form = AllocateForm(formdata=None)
        form.fill_from(json.loads(cycle.discipline_mix or "{}"))
    return _page(
        "cycles/allocation.html", form, cycle=cycle, last_run=last_run,
        explanation=json.loads(last_run.explanation) if last_run else [],
        unallocated=progress.unallocated_plans(db, cycle), declines=progress.declines(db, cycle),
        members=progress.pool(db, cycle), assignments=progress.allocated(db, cycle),
    )


@bp.get("/cycles/<uuid:cycle_id>/allocation")
@allow(*OVERSEERS)
def allocation(cycle_id: uuid.UUID):
    return _allocation_page(load_owned(AuditCycle, cycle_id))


@bp.post("/cycles/<uuid:cycle_id>/allocation")
@allow(Role.COORDINATOR)
def allocate(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = AllocateForm()

    def do_allocate(db: Session):
        allocating.set_discipline_mix(db, cycle, form.percentages())
        outcome = allocating.allocate_cycle(db, cycle, require_user(), StaffMail.with_app_settings(db))
        left = f" {len(outcome.unallocated)} could not be allocated." if outcome.unallocated else ""
        return f"{len(outcome.assignments)} plans have been allocated.{left}", url_for("cycles.allocation", cycle_id=cycle.id)

    return _change(form, do_allocate) or _allocation_page(cycle, form)


def _assignment_for_coordinator(assignment_id: uuid.UUID) -> tuple[Assignment, AuditCycle]:
    assignment = load_owned(Assignment, assignment_id)
    return assignment, get_session().get(AuditCycle, assignment.cycle_id)


@bp.route("/assignments/<uuid:assignment_id>/reassign", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def reassign(assignment_id: uuid.UUID):
    assignment, cycle = _assignment_for_coordinator(assignment_id)
    if request.method == "GET" and cycle.status == CycleStatus.CLOSED:
        return redirect(url_for("cycles.show", cycle_id=cycle.id))
    db = get_session()
    plan = db.get(Plan, assignment.plan_id)
    candidates = allocating.eligible_auditors(db, assignment)
    form = ReassignForm()
    form.auditor.choices = choices((str(user.id), user.display_name) for user in candidates)

    def do_reassign(db: Session):
        replacement = allocating.reassign(db, assignment, uuid.UUID(form.auditor.data), require_user(),
                                          StaffMail.with_app_settings(db))
        auditor = db.get(User, replacement.auditor_id)
        return (f"{plan.system_id} has been reassigned to {auditor.display_name}. Email them the plan.",
                url_for("cycles.show", cycle_id=cycle.id))

    return _change(form, do_reassign) or _page(
        "cycles/reassign.html", form, cycle=cycle, assignment=assignment, plan=plan, candidates=candidates,
        holder=db.get(User, assignment.auditor_id),
    )


@bp.post("/assignments/<uuid:assignment_id>/plan-sent")
@allow(Role.COORDINATOR)
def plan_sent(assignment_id: uuid.UUID):
    assignment, cycle = _assignment_for_coordinator(assignment_id)

    def tick(db: Session) -> str:
        allocating.mark_plan_sent(db, assignment, require_user())
        return f"Plan {db.get(Plan, assignment.plan_id).system_id} is marked as sent."

    return _button(tick) or redirect(url_for("cycles.show", cycle_id=cycle.id, _anchor="send-plans"))


@bp.route("/assignments/<uuid:assignment_id>/decline", methods=["GET", "POST"])
@allow(Role.AUDITOR)
def decline(assignment_id: uuid.UUID):
    assignment = load_owned(Assignment, assignment_id)
    if assignment.auditor_id != require_user().id:
        abort(404)
    db = get_session()
    plan = db.get(Plan, assignment.plan_id)
    form = DeclineForm()

    def do_decline(db: Session):
        allocating.decline(db, assignment, form.reason.data, StaffMail.with_app_settings(db))
        return (f"You have declined the audit of {plan.system_id}. Your coordinator has been told.",
                url_for("web.home"))

    return _change(form, do_decline) or _page("cycles/decline.html", form, assignment=assignment, plan=plan,
                                              cycle=db.get(AuditCycle, assignment.cycle_id))
