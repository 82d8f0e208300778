"""Moderation pages: find and compare every audit of a plan, a cycle's moderation sample, the
adjudication form, and the statistics and calibration page.

Coordinators and managers read; coordinators change the sample; coordinators, and moderators who
audited neither side, adjudicate. Blindness is access.blind_to(): an audit hidden from the viewer
shows as hidden on every page here.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlmodel import Session
from wtforms.fields.choices import SelectChoice

from ..access import allow, blind_to, load_owned, require_user
from ..auth.models import Role
from ..cycles.models import AuditCycle, CycleStatus
from ..db import get_session
from ..plans.models import Plan
from ..web import navigation
from ..web.changes import Done, apply_change, show_on_form
from . import service
from .forms import AddPickForm, FindPlanForm, ModeratorsForm, RemovePickForm, SelectForm, adjudication_form
from .models import ModerationPick
from .rules import grade_label

bp = Blueprint("moderation", __name__, template_folder="templates")

OVERSEERS = (Role.COORDINATOR, Role.MANAGER)
STATE_TAGS = {
    "waiting": ("Waiting for both audits", "govuk-tag--grey"),
    "agreed": ("Agreed", "govuk-tag--green"),
    "flagged": ("Flagged for adjudication", "govuk-tag--red"),
    "adjudicated": ("Adjudicated", "govuk-tag--blue"),
}

navigation.register("Moderation", "moderation.find", OVERSEERS,
                    "Second audits, agreement between auditors, and adjudication", order=25)


@bp.context_processor
def template_helpers():
    return {"grade_label": grade_label, "state_tag": lambda state: dict(zip(("text", "classes"), STATE_TAGS[state]))}


@bp.get("/moderation")
@allow(*OVERSEERS)
def find():
    """Find every audit of a plan by its System ID; and the cycles with moderation."""
    db = get_session()
    form = FindPlanForm(request.args)
    if "system_id" in request.args and form.validate():
        try:
            plan = service.find_plan(db, require_user().la_id, form.system_id.data)
        except service.ModerationError as refusal:
            show_on_form(form, refusal)
        else:
            return redirect(url_for("moderation.compare", plan_id=plan.id))
    status = 400 if form.errors else 200
    return render_template("moderation/find.html", form=form,
                           cycles=service.moderated_cycles(db, require_user().la_id)), status


@bp.route("/moderation/moderators", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def moderators():
    db = get_session()
    la_id = require_user().la_id
    auditors, marked = service.moderators_of(db, la_id)
    form = ModeratorsForm(data=None if request.method == "POST" else {"moderators": [str(user_id) for user_id in marked]})
    form.moderators.choices = [SelectChoice(str(user.id), f"{user.display_name} ({user.email})") for user in auditors]

    def save(db: Session) -> Done:
        service.set_moderators(db, la_id, {uuid.UUID(value) for value in form.moderators.data})
        return Done(url_for("moderation.moderators"), "Moderators saved.")

    return apply_change(save, form=form, refused=service.ModerationError,
                        page=lambda: render_template("moderation/moderators.html", form=form))


@bp.get("/moderation/plans/<uuid:plan_id>")
@allow(*OVERSEERS)
def compare(plan_id: uuid.UUID):
    plan = load_owned(Plan, plan_id)
    db = get_session()
    columns = [(entry, blind_to(entry.audit)) for entry in service.audits_of_plan(db, plan)]
    visible = [entry for entry, hidden in columns if not hidden]
    sections = service.compare_sections(db, visible)
    return render_template("moderation/compare.html", plan=plan, columns=columns, visible=visible, sections=sections)


@bp.get("/moderation/cycles/<uuid:cycle_id>")
@allow(*OVERSEERS)
def cycle(cycle_id: uuid.UUID):
    return _cycle_page(load_owned(AuditCycle, cycle_id))


def _cycle_page(cycle: AuditCycle, add_form: AddPickForm | None = None):
    db = get_session()
    return render_template(
        "moderation/cycle.html", cycle=cycle, pairs=service.pairs_for(db, [cycle]),
        removed=service.removed_picks(db, cycle),
        select_form=SelectForm(), add_form=add_form or AddPickForm(formdata=None),
        editable=cycle.status == CycleStatus.OPEN and require_user().has_role(Role.COORDINATOR),
        form=add_form,
    )


@bp.post("/moderation/cycles/<uuid:cycle_id>/select")
@allow(Role.COORDINATOR)
def select(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    back = url_for("moderation.cycle", cycle_id=cycle.id)

    def do_select(db: Session) -> Done:
        outcome = service.select_and_assign(db, cycle, current_app.config, actor=require_user())
        return Done(back, f"Moderation sample: {outcome.summary()}.")

    def refused(refusal: service.ModerationError):  # the form is a lone button: the refusal is flashed above it
        flash(str(refusal))
        return redirect(back)

    return apply_change(do_select, refused=service.ModerationError, when_refused=refused)


@bp.post("/moderation/cycles/<uuid:cycle_id>/picks")
@allow(Role.COORDINATOR)
def add_pick(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = AddPickForm()

    def do_add(db: Session) -> Done:
        outcome = service.add_pick(db, cycle, form.system_id.data, form.reason.data, require_user(), current_app.config)
        return Done(url_for("moderation.cycle", cycle_id=cycle.id),
                    f"{form.system_id.data.strip()} added to the moderation sample: {outcome.summary()}.")

    return apply_change(do_add, form=form, refused=service.ModerationError, page=lambda: _cycle_page(cycle, form))


@bp.route("/moderation/picks/<uuid:pick_id>/remove", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def remove_pick(pick_id: uuid.UUID):
    pick = load_owned(ModerationPick, pick_id)
    form = RemovePickForm()

    def do_remove(db: Session) -> Done:
        service.remove_pick(db, pick, form.reason.data, require_user())
        return Done(url_for("moderation.cycle", cycle_id=pick.cycle_id), "Plan removed from the moderation sample.")

    return apply_change(do_remove, form=form, refused=service.ModerationError, page=lambda: render_template(
        "moderation/remove.html", form=form, pick=pick, plan=get_session().get(Plan, pick.plan_id),
        cycle=get_session().get(AuditCycle, pick.cycle_id)))


@bp.route("/moderation/picks/<uuid:pick_id>/adjudicate", methods=["GET", "POST"])
@allow(Role.COORDINATOR, Role.AUDITOR)
def adjudicate(pick_id: uuid.UUID):
    pick = load_owned(ModerationPick, pick_id)
    db = get_session()
    user = require_user()
    back = url_for("moderation.cycle", cycle_id=pick.cycle_id) if user.has_role(*OVERSEERS) else url_for("web.home")
    try:
        pair = service.pair_for_pick(db, pick)
    except service.ModerationError as refusal:
        return _refused(str(refusal), back)
    if not service.may_adjudicate(db, user, pair):
        return _refused("Only a coordinator, or a moderator who audited neither side, can adjudicate this pair.", back)
    if not pair.complete:
        return _refused("Both audits must be submitted before the pair can be adjudicated.", back)
    prefill = pair.agreed or {code: pair.first.grade(code) for code in pair.section_codes
                              if pair.first.grade(code) == pair.second.grade(code)}
    if not pair.agreed and pair.first.overall == pair.second.overall:
        prefill[service.OVERALL] = pair.first.overall
    form = adjudication_form(pair.section_codes, prefill, formdata=request.form if request.method == "POST" else None)

    def record(db: Session) -> Done:
        agreed = {code: form[f"grade_{code}"].data for code in (*pair.section_codes, service.OVERALL)}
        service.adjudicate(db, pair, agreed, form.rationale.data, user)
        return Done(back, f"Agreed grades recorded for {pair.plan.system_id}.")

    return apply_change(record, form=form, refused=service.ModerationError, page=lambda: render_template(
        "moderation/adjudicate.html", pair=pair, form=form, history=service.adjudications(db, pair), back=back))


def _refused(message: str, back_to: str):
    get_session().rollback()
    return render_template("audits/refused.html", message=message, back_to=back_to), 409


@bp.get("/moderation/cycles/<uuid:cycle_id>/statistics")
@allow(*OVERSEERS)
def statistics(cycle_id: uuid.UUID):
    """Agreement in this cycle, or across all the LA's moderated cycles (?across=all); and calibration."""
    cycle = load_owned(AuditCycle, cycle_id)
    db = get_session()
    across = request.args.get("across") == "all"
    cycles = service.la_cycles(db, cycle.la_id) if across else [cycle]
    report = service.statistics_report(db, cycles or [cycle])
    return render_template("moderation/statistics.html", cycle=cycle, report=report, across=across, cycles=cycles)
