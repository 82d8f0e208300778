"""A cycle's life: the list of cycles, creating one and changing its settings, its dashboard and
lists of assignments, the reminder calendar, opening and closing."""

from __future__ import annotations

import uuid

from flask import render_template, request, url_for
from sqlmodel import Session

from ...access import allow, has_role, load_owned, require_user
from ...auth.models import Role, User
from ...clock import today
from ...db import get_session
from ...web import navigation
from ...web.changes import Done, apply_change, refusal_page
from ...web.contributions import HOME_PANELS, HomePanel
from ...workdays import BeyondHolidayData
from .. import lifecycle, progress
from ..guards import CycleError
from ..chasing import chase_calendar
from ..forms import ActionForm, CycleForm
from ..models import AssignmentStatus, AuditCycle
from . import OVERSEERS, bp, cycle_to_change

navigation.register("Audit cycles", "cycles.index", OVERSEERS, "Set up cycles, draw samples, allocate plans and track progress", order=20)


def open_cycles_panel(user: User) -> HomePanel | None:
    """A coordinator's Monday morning: each open cycle's progress, and the plans still to email."""
    if not user.role_set & set(OVERSEERS):
        return None
    db = get_session()
    items = []
    for cycle in progress.open_cycles(db, user.la_id):
        counts = progress.cycle_progress(db, cycle)
        text = (f"{cycle.name}: {counts.by_status.get(AssignmentStatus.SUBMITTED, 0)} of "
                f"{counts.total - counts.by_status.get(AssignmentStatus.WITHDRAWN, 0)} audits submitted, {counts.overdue} overdue")
        if user.has_role(Role.COORDINATOR):
            to_send = len(progress.plans_to_send(db, cycle))
            text += f", {to_send} plan{'s' if to_send != 1 else ''} to send" if to_send else ""
        items.append((text, url_for("cycles.show", cycle_id=cycle.id)))
    return HomePanel("Open audit cycles", items, "There are no open audit cycles.")


HOME_PANELS["cycles"] = open_cycles_panel


@bp.get("/cycles")
@allow(*OVERSEERS)
def index():
    return render_template("cycles/index.html", cycles=progress.cycles_of(get_session(), require_user().la_id),
                           can_create=has_role(Role.COORDINATOR))


@bp.route("/cycles/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new():
    form = CycleForm()

    def create(db: Session) -> Done:
        cycle = lifecycle.create_cycle(db, require_user().la_id, form.settings())
        return Done(url_for("cycles.show", cycle_id=cycle.id), f"{cycle.name} has been created.")

    return apply_change(create, form=form, refused=CycleError,
                        page=lambda: render_template("cycles/edit.html", form=form, cycle=None))


@bp.route("/cycles/<uuid:cycle_id>/edit", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit(cycle_id: uuid.UUID):
    cycle = cycle_to_change(cycle_id)
    form = CycleForm()
    if request.method == "GET":
        form.fill_from(lifecycle.CycleSettings.of(cycle))

    def save(db: Session) -> Done:
        lifecycle.update_cycle(db, cycle, form.settings())
        return Done(url_for("cycles.show", cycle_id=cycle.id), f"{cycle.name} has been saved.")

    return apply_change(save, form=form, refused=CycleError,
                        page=lambda: render_template("cycles/edit.html", form=form, cycle=cycle))


@bp.get("/cycles/<uuid:cycle_id>")
@allow(*OVERSEERS)
def show(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    db = get_session()
    return render_template(
        "cycles/show.html", cycle=cycle, overview=progress.sample_overview(db, cycle),
        progress=progress.cycle_progress(db, cycle), to_send=progress.plans_to_send(db, cycle),
        sent=progress.plans_sent_count(db, cycle), pool_size=progress.pool_size(db, cycle),
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
    auditor = progress.auditor_of_la(db, cycle.la_id, _uuid_or_none(request.args.get("auditor")))
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
    """Who the scheduler will chase, with which email, on which working day from today on (a
    chase whose day has passed is not planned any more)."""
    cycle = load_owned(AuditCycle, cycle_id)
    entries, problem = [], None
    try:
        entries = [entry for entry in chase_calendar(get_session(), cycle) if entry["date"] >= today().isoformat()]
    except BeyondHolidayData as error:
        problem = str(error)
    return render_template("cycles/calendar.html", cycle=cycle, entries=entries, problem=problem)


@bp.post("/cycles/<uuid:cycle_id>/open")
@allow(Role.COORDINATOR)
def open_cycle(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)

    def do_open(db: Session) -> Done:
        lifecycle.open_cycle(db, cycle)
        return Done(url_for("cycles.show", cycle_id=cycle.id), f"{cycle.name} is open.")

    return apply_change(do_open, form=ActionForm(), refused=CycleError, when_refused=refusal_page(400))


@bp.route("/cycles/<uuid:cycle_id>/close", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def close(cycle_id: uuid.UUID):
    cycle = cycle_to_change(cycle_id)
    form = ActionForm()

    def do_close(db: Session) -> Done:
        lifecycle.close_cycle(db, cycle)
        return Done(url_for("cycles.show", cycle_id=cycle.id),
                    f"{cycle.name} is closed. Its results can still be read but no longer changed.")

    return apply_change(do_close, form=form, refused=CycleError, page=lambda: render_template(
        "cycles/close.html", form=form, cycle=cycle, progress=progress.cycle_progress(get_session(), cycle)))
