"""Action pages: the list, one action (assign, edit, mark the plan amended, close), themes, the
board and its export, the LA's action settings, and a plan's whole record. Coordinators change;
managers read. Every change is a POST that redirects, or re-renders its page with a 400."""

from __future__ import annotations

import csv
import io
import uuid
from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlmodel import Session, col
from wtforms.fields.choices import SelectChoice

from ..access import allow, blind_to, has_role, in_my_la, load_owned, require_user
from ..auth.models import Role, User
from ..cycles.models import AuditCycle
from ..db import get_session
from ..notifications.staff_mail import StaffMail
from ..plans.models import Plan
from ..trail import recorder as trail
from ..trail.models import TrailAction
from ..web import navigation
from ..web.changes import Done, apply_change
from ..web.contributions import HOME_PANELS, HomePanel
from . import service
from .board import BUCKETS
from .forms import (
    NOBODY,
    AmendedForm,
    AssignForm,
    CloseForm,
    EditActionForm,
    NewActionForm,
    SettingsForm,
    ThemeForm,
    choices,
)
from .kinds import ActionStatus, ActionType, Rag
from .models import Action
from .rules import grade_change

bp = Blueprint("actions", __name__, template_folder="templates")

OVERSEERS = (Role.COORDINATOR, Role.MANAGER)
ACTION_TAGS = {
    ActionStatus.PROPOSED: ("Proposed", "govuk-tag--purple"),
    ActionStatus.OPEN: ("Open", "govuk-tag--blue"),
    ActionStatus.REAUDIT: ("Re-audit under way", "govuk-tag--light-blue"),
    ActionStatus.CLOSED: ("Closed", "govuk-tag--green"),
    "overdue": ("Overdue", "govuk-tag--red"),
}
RAG_TAGS = {Rag.RED: "govuk-tag--red", Rag.AMBER: "govuk-tag--orange", Rag.GREEN: "govuk-tag--green"}

navigation.register("Actions", "actions.index", OVERSEERS, "Actions that follow weak audits, themes and the board", order=30)


def actions_panel(user: User) -> HomePanel | None:
    if not user.role_set & set(OVERSEERS):
        return None
    total, overdue = service.open_count(get_session(), user.la_id)
    if not total:
        return HomePanel("Actions", [], "There are no open actions.")
    text = f"{total} action{'s' if total != 1 else ''} not closed" + (f", {overdue} overdue" if overdue else "")
    return HomePanel("Actions", [(text, url_for("actions.index"))])


HOME_PANELS["actions"] = actions_panel


@bp.context_processor
def action_helpers():
    return {"action_tag": action_tag, "type_label": lambda value: ActionType(value).label, "grade_change": grade_change,
            "rag_tags": RAG_TAGS, "buckets": BUCKETS, "can_change": has_role(Role.COORDINATOR)}


def action_tag(row: service.ActionRow) -> dict:
    text, classes = ACTION_TAGS["overdue" if row.overdue else row.action.status]
    return {"text": text, "classes": classes}


# --- The list and a new action -----------------------------------------------------------------


@bp.get("/actions")
@allow(*OVERSEERS)
def index():
    shown = request.args.get("shown")
    if shown not in service.ACTION_FILTERS:
        shown = None
    rows = service.actions_for_la(get_session(), require_user().la_id, shown)
    return render_template("actions/index.html", rows=rows, shown=shown, filters=service.ACTION_FILTERS)


@bp.route("/actions/new", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def new():
    form = NewActionForm()

    def create(db: Session):
        draft = service.ActionDraft(form.action_type.data, form.summary.data, form.system_id.data or "")
        action = service.create_action(db, require_user().la_id, draft, require_user())
        trail.note(TrailAction.CHANGE, require_user(), action, db=db)
        return Done(url_for("actions.show", action_id=action.id), "Action created. Assign it to an owner.")

    return apply_change(create, form=form, refused=service.ActionError, page=lambda: render_template("actions/new.html", form=form))


# --- One action ----------------------------------------------------------------------------------


def _action_page(action: Action, forms: dict[str, FlaskForm] | None = None, submitted: FlaskForm | None = None):
    db = get_session()
    forms = forms or {}
    assign = _with_owners(forms.get("assign") or AssignForm(formdata=None, team=action.owner_team,
                                                            owner=str(action.owner_id or NOBODY)), action)
    amended = None
    candidates = []
    if action.action_type == ActionType.REAUDIT and action.status == ActionStatus.OPEN:
        amended = forms.get("amended") or AmendedForm(formdata=None)
        candidates = service.reaudit_candidates(db, action)
        amended.auditor.choices = _people(candidates)
    row = service.action_row(db, action)
    original, reaudit = service.audits_of_action(db, action)
    for audit in (original, reaudit):
        if audit is not None and request.method == "GET":
            trail.note(TrailAction.READ, require_user(), audit, db=db)  # their grades are on the page
    return render_template(
        "actions/show.html", form=submitted, row=row, action=action, history=service.history(db, [action.id])[action.id],
        plan=db.get(Plan, action.plan_id) if action.plan_id else None,
        assign_form=assign, amended_form=amended, candidates=candidates, original=original, reaudit=reaudit,
        close_form=forms.get("close") or CloseForm(formdata=None),
        reaudit_cycle=service.reaudit_cycle(db, action) if amended is not None else None,
    )


def _people(users: list[User]) -> list[SelectChoice]:
    return choices((str(user.id), user.display_name) for user in users)


def _with_owners(form: AssignForm, action: Action) -> AssignForm:
    form.owner.choices = choices([(NOBODY, "Nobody: a team only")]) + _people(service.owners(get_session(), action.la_id))
    return form


@bp.get("/actions/<uuid:action_id>")
@allow(*OVERSEERS)
def show(action_id: uuid.UUID):
    return _action_page(load_owned(Action, action_id))


@bp.post("/actions/<uuid:action_id>/assign")
@allow(Role.COORDINATOR)
def assign(action_id: uuid.UUID):
    action = load_owned(Action, action_id)
    form = _with_owners(AssignForm(), action)

    def do_assign(db: Session):
        owner_id = uuid.UUID(form.owner.data) if form.owner.data else None
        service.assign_action(db, action, require_user(), current_app.config, owner_id=owner_id, team=form.team.data,
                              due_date=form.due_date.data)
        return Done(url_for("actions.show", action_id=action.id), "Action assigned.")

    return apply_change(do_assign, form=form, refused=service.ActionError, page=lambda: _action_page(action, {"assign": form}, form))


@bp.post("/actions/<uuid:action_id>/amended")
@allow(Role.COORDINATOR)
def amended(action_id: uuid.UUID):
    action = load_owned(Action, action_id)
    form = AmendedForm()
    form.auditor.choices = _people(service.reaudit_candidates(get_session(), action))

    def do_mark(db: Session):
        assignment = service.mark_plan_amended(db, action, require_user(), uuid.UUID(form.auditor.data),
                                                StaffMail.with_app_settings(db))
        auditor = db.get(User, assignment.auditor_id)
        return Done(url_for("actions.show", action_id=action.id),
                    f"The re-audit is allocated to {auditor.display_name}, who has been emailed. Email them the amended plan.")

    return apply_change(do_mark, form=form, refused=service.ActionError, page=lambda: _action_page(action, {"amended": form}, form))


@bp.post("/actions/<uuid:action_id>/close")
@allow(Role.COORDINATOR)
def close(action_id: uuid.UUID):
    action = load_owned(Action, action_id)
    form = CloseForm()

    def do_close(db: Session):
        service.close_action(db, action, require_user(), form.note.data)
        return Done(url_for("actions.show", action_id=action.id), "Action closed.")

    return apply_change(do_close, form=form, refused=service.ActionError, page=lambda: _action_page(action, {"close": form}, form))


@bp.route("/actions/<uuid:action_id>/edit", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def edit(action_id: uuid.UUID):
    action = load_owned(Action, action_id)
    if action.status == ActionStatus.CLOSED:
        return redirect(url_for("actions.show", action_id=action.id))
    form = EditActionForm(data={"action_type": action.action_type, "summary": action.summary, "due_date": action.due_date})

    def do_edit(db: Session):
        service.edit_action(db, action, require_user(), form.action_type.data, form.summary.data, form.due_date.data)
        return Done(url_for("actions.show", action_id=action.id), "Action saved.")

    return apply_change(do_edit, form=form, refused=service.ActionError,
                        page=lambda: render_template("actions/edit.html", form=form, action=action))


# --- Themes ----------------------------------------------------------------------------------------


def _themes_page(cycle_id: str | None, form: ThemeForm | None = None):
    cycles = get_session().exec(in_my_la(AuditCycle).order_by(col(AuditCycle.period_start).desc())).all()
    cycle = next((item for item in cycles if str(item.id) == cycle_id), cycles[0] if cycles else None)
    found = service.cycle_themes(get_session(), cycle) if cycle else []
    share = service.settings_for(get_session(), require_user().la_id).theme_share
    return render_template("actions/themes.html", form=form, cycles=cycles, cycle=cycle, themes=found, share=share,
                           theme_form=form or ThemeForm(formdata=None))


@bp.get("/actions/themes")
@allow(*OVERSEERS)
def themes():
    return _themes_page(request.args.get("cycle_id"))


@bp.post("/cycles/<uuid:cycle_id>/themes")
@allow(Role.COORDINATOR)
def raise_theme(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = ThemeForm()

    def do_raise(db: Session):
        action = service.raise_theme_action(db, cycle, form.criterion.data, form.action_type.data, require_user())
        trail.note(TrailAction.CHANGE, require_user(), action, db=db)
        return Done(url_for("actions.show", action_id=action.id), "Action raised for the whole service. Assign it to an owner.")

    return apply_change(do_raise, form=form, refused=service.ActionError, page=lambda: _themes_page(str(cycle.id), form))


# --- The board -------------------------------------------------------------------------------------


@bp.get("/actions/board")
@allow(*OVERSEERS)
def board():
    return render_template("actions/board.html", board=service.board_for(get_session(), require_user().la_id))


@bp.get("/actions/export.csv")
@allow(*OVERSEERS)
def export():
    db = get_session()
    user = require_user()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["System ID", "Type", "Status", "Overdue", "Owner", "Team", "Cycle", "Due", "Grade before",
                     "Grade after", "Created", "Closed"])
    for row in service.actions_for_la(db, user.la_id):
        action = row.action
        writer.writerow([row.system_id or "", row.type_label, action.status, "yes" if row.overdue else "no", row.owner_name or "",
                         action.owner_team or "", row.cycle_name or "", action.due_date or "", action.grade_before or "",
                         action.grade_after or "", action.created_at.date(), action.closed_at.date() if action.closed_at else ""])
    trail.note(TrailAction.EXPORT, user, object_kind="actions_export")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=actions.csv"})


# --- Settings ------------------------------------------------------------------------------------


@bp.route("/actions/settings", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def settings():
    la_id = require_user().la_id
    current = service.settings_for(get_session(), la_id)
    form = SettingsForm(data={"due_working_days": current.due_working_days, "remind_days_before": current.remind_days_before,
                              "overdue_interval_days": current.overdue_interval_days,
                              "theme_percent": round(current.theme_share * 100)})

    def save(db: Session):
        service.save_settings(db, la_id, form.due_working_days.data, form.remind_days_before.data,
                              form.overdue_interval_days.data, form.theme_percent.data)
        return Done(url_for("actions.index"), "Action settings saved.")

    return apply_change(save, form=form, refused=service.ActionError, page=lambda: render_template("actions/settings.html", form=form))


# --- A plan's record -----------------------------------------------------------------------------


@bp.get("/plans/record")
@allow(*OVERSEERS)
def find_record():
    """The record of the plan with the System ID typed on the actions page."""
    system_id = (request.args.get("system_id") or "").strip()
    plan = get_session().exec(in_my_la(Plan).where(Plan.system_id == system_id)).first() if system_id else None
    if plan is None:
        flash(f"There is no plan with System ID {system_id} in the register" if system_id else "Enter a System ID")
        return redirect(url_for("actions.index"))
    return redirect(url_for("actions.plan_record", plan_id=plan.id))


@bp.get("/plans/<uuid:plan_id>/record")
@allow(*OVERSEERS)
def plan_record(plan_id: uuid.UUID):
    plan = load_owned(Plan, plan_id)
    db = get_session()
    audits = service.audits_of_plan(db, plan)
    # Blind moderation holds here too: whoever holds one audit of a pair sees no grade of the other.
    hidden = {entry.audit.id for entry in audits if entry.audit is not None and blind_to(entry.audit)}
    for entry in audits:
        if entry.audit is not None and entry.audit.id not in hidden:
            trail.note(TrailAction.READ, require_user(), entry.audit, system_id=plan.system_id)
    actions = service.actions_for_plan(db, plan)
    return render_template("actions/record.html", plan=plan, audits=audits, hidden=hidden, actions=actions,
                           feedback=service.feedback_of_plan(db, plan),
                           history=service.history(db, [row.action.id for row in actions]))
