"""The sample: drawing it, adding and removing plans by hand, and its history."""

from __future__ import annotations

import uuid

from flask import abort, render_template, url_for
from sqlmodel import Session

from ...access import allow, load_owned, require_user
from ...auth.models import Role
from ...db import get_session
from ...plans.models import Plan
from ...web.changes import Done, apply_change
from .. import plan_sample, progress
from ..guards import CycleError
from ..forms import AddPlanForm, RemovePlanForm, SampleForm
from ..models import AuditCycle, CyclePlan
from . import OVERSEERS, bp, cycle_to_change


@bp.get("/cycles/<uuid:cycle_id>/sample")
@allow(*OVERSEERS)
def sample(cycle_id: uuid.UUID, draw_form: SampleForm | None = None, add_form: AddPlanForm | None = None):
    """The sample page; after a refused POST, with the form just sent (its errors in the summary)."""
    cycle = load_owned(AuditCycle, cycle_id)
    db = get_session()
    overview = progress.sample_overview(db, cycle)
    return render_template(
        "cycles/sample.html", form=draw_form or add_form, cycle=cycle, overview=overview,
        draw_form=draw_form or SampleForm(formdata=None, prefix="draw", size=overview.target),
        add_form=add_form or AddPlanForm(formdata=None, prefix="add"),
        strata=progress.strata_of_last_draw(cycle), plans=progress.sampled_plans(db, cycle),
        history=progress.sample_history(db, cycle), allocated=plan_sample.has_assignments(db, cycle),
    )


@bp.post("/cycles/<uuid:cycle_id>/sample")
@allow(Role.COORDINATOR)
def draw(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = SampleForm(prefix="draw")

    def do_draw(db: Session) -> Done:
        drawn = plan_sample.draw_sample(db, cycle, size=form.size.data, seed=form.seed.data, actor_id=require_user().id)
        return Done(url_for("cycles.sample", cycle_id=cycle.id),
                    f"A sample of {len(drawn)} plans has been drawn with seed {cycle.sample_seed}.")

    return apply_change(do_draw, form=form, refused=CycleError, page=lambda: sample(cycle.id, draw_form=form))


@bp.post("/cycles/<uuid:cycle_id>/sample/add")
@allow(Role.COORDINATOR)
def add_plan(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = AddPlanForm(prefix="add")

    def do_add(db: Session) -> Done:
        plan_sample.add_to_sample(db, cycle, form.system_id.data, form.reason.data, require_user().id)
        return Done(url_for("cycles.sample", cycle_id=cycle.id), f"{form.system_id.data.strip()} has been added to the sample.")

    return apply_change(do_add, form=form, refused=CycleError, page=lambda: sample(cycle.id, add_form=form))


@bp.route("/cycles/<uuid:cycle_id>/sample/<uuid:cycle_plan_id>/remove", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def remove_plan(cycle_id: uuid.UUID, cycle_plan_id: uuid.UUID):
    cycle = cycle_to_change(cycle_id, back_to="cycles.sample")
    entry = load_owned(CyclePlan, cycle_plan_id)
    if entry.cycle_id != cycle.id:
        abort(404)
    plan = get_session().get(Plan, entry.plan_id)
    form = RemovePlanForm()

    def do_remove(db: Session) -> Done:
        plan_sample.remove_from_sample(db, entry, form.reason.data, require_user().id)
        return Done(url_for("cycles.sample", cycle_id=cycle.id), f"{plan.system_id} has been removed from the sample.")

    return apply_change(do_remove, form=form, refused=CycleError,
                        page=lambda: render_template("cycles/remove_plan.html", form=form, cycle=cycle, plan=plan))
