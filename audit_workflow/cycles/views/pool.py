"""The auditor pool: who may audit in the cycle, and how many plans each can take."""

from __future__ import annotations

import uuid

from flask import abort, render_template, url_for
from sqlmodel import Session

from ...access import allow, load_owned, require_user
from ...auth.models import Role, User
from ...db import get_session
from ...web.changes import Done, apply_change, refusal_page
from .. import auditor_pool, progress
from ..guards import CycleError
from ..forms import ActionForm, AddAuditorForm, PoolImportForm, choices
from ..models import AuditCycle, CycleAuditor
from . import OVERSEERS, bp


@bp.get("/cycles/<uuid:cycle_id>/auditors")
@allow(*OVERSEERS)
def auditors(cycle_id: uuid.UUID, add_form: AddAuditorForm | None = None, import_form: PoolImportForm | None = None):
    """The pool page; after a refused POST, with the form just sent (its errors in the summary)."""
    cycle = load_owned(AuditCycle, cycle_id)
    return render_template(
        "cycles/auditors.html", form=add_form or import_form, cycle=cycle, members=progress.pool(get_session(), cycle),
        add_form=_with_auditor_choices(add_form or AddAuditorForm(formdata=None, prefix="add")),
        import_form=import_form or PoolImportForm(formdata=None, prefix="import"),
    )


def _with_auditor_choices(form: AddAuditorForm) -> AddAuditorForm:
    """The LA's active auditors to choose from, with their team and discipline."""
    form.auditor.choices = choices([("", "Choose an auditor")] + [
        (str(user.id), f"{user.display_name} ({user.team or 'no team'}, {user.discipline.replace('_', ' ')})")
        for user in progress.auditors_to_choose(get_session(), require_user().la_id)
    ])
    return form


@bp.post("/cycles/<uuid:cycle_id>/auditors")
@allow(Role.COORDINATOR)
def add_auditor(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = _with_auditor_choices(AddAuditorForm(prefix="add"))

    def do_add(db: Session) -> Done:
        user = db.get(User, uuid.UUID(form.auditor.data))
        auditor_pool.add_auditor(db, cycle, user, form.capacity.data)
        return Done(url_for("cycles.auditors", cycle_id=cycle.id), f"{user.display_name} can audit {form.capacity.data} plans in this cycle.")

    return apply_change(do_add, form=form, refused=CycleError, page=lambda: auditors(cycle.id, add_form=form))


@bp.post("/cycles/<uuid:cycle_id>/auditors/import")
@allow(Role.COORDINATOR)
def import_auditors(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = PoolImportForm(prefix="import")

    def do_import(db: Session) -> Done:
        try:
            members = auditor_pool.import_pool(db, cycle, form.file.data.read())
        except auditor_pool.PoolImportRefused as refusal:
            form.file.errors = [str(refusal), *map(str, refusal.problems)]
            raise
        return Done(url_for("cycles.auditors", cycle_id=cycle.id), f"{len(members)} auditors are in the pool from the file.")

    return apply_change(do_import, form=form, refused=CycleError, page=lambda: auditors(cycle.id, import_form=form))


@bp.post("/cycles/<uuid:cycle_id>/auditors/<uuid:cycle_auditor_id>/remove")
@allow(Role.COORDINATOR)
def remove_auditor(cycle_id: uuid.UUID, cycle_auditor_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    member = load_owned(CycleAuditor, cycle_auditor_id)
    if member.cycle_id != cycle.id:
        abort(404)

    def do_remove(db: Session) -> Done:
        auditor_pool.remove_auditor(db, member)
        return Done(url_for("cycles.auditors", cycle_id=cycle.id),
                    "The auditor has been taken out of the pool. Plans they already hold stay with them.")

    return apply_change(do_remove, form=ActionForm(), refused=CycleError, when_refused=refusal_page(400))
