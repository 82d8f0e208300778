"""The auditor's journey on the web: My audits, one page per section, the summary, and reopening.

Auditors reach only their own assignments and audits (404 for anyone else's); coordinators and
managers of the LA may read any of its audits. Every save is server-side, so a session that times
out loses at most what was typed since the last "Save".
"""

from __future__ import annotations

import uuid
from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from sqlmodel import Session

from ..access import allow, blind_to, current_user, load_owned, require_user
from ..auth.models import Role, User
from ..cycles.models import Assignment
from ..db import get_session
from ..framework import Grade, grade_section
from ..framework.versions import configured_framework_file, framework_for_audit
from ..plans.models import Plan
from ..web import navigation
from ..web.changes import Done, apply_change, show_on_form
from ..web.contributions import HOME_PANELS, HomePanel
from . import service
from .forms import ReopenForm, SectionForm
from .models import Audit, AuditStatus

bp = Blueprint("audits", __name__, template_folder="templates")

READERS = (Role.AUDITOR, Role.COORDINATOR, Role.MANAGER)
OVERSEERS = (Role.COORDINATOR, Role.MANAGER)

navigation.register("My audits", "audits.my_audits", (Role.AUDITOR,), "The plans you have been asked to audit", order=10)


def my_audits_panel(user: User) -> HomePanel | None:
    if not user.has_role(Role.AUDITOR):
        return None
    rows = service.assignments_for_auditor(get_session(), user)
    to_do = [row for row in rows if row.can_start or row.can_continue]
    if not to_do:
        return HomePanel("Your audits", [], "You have no audits to do.")
    overdue = sum(row.overdue for row in to_do)
    text = f"{len(to_do)} audit{'s' if len(to_do) != 1 else ''} to do" + (f", {overdue} overdue" if overdue else "")
    return HomePanel("Your audits", [(text, url_for("audits.my_audits"))])


HOME_PANELS["audits"] = my_audits_panel


@bp.context_processor
def template_helpers():
    return {
        "criterion_items": criterion_items,
        "comment_max_length": service.COMMENT_MAX_LENGTH,
        "reason_max_length": service.REASON_MAX_LENGTH,
    }


def criterion_items(criteria, ticked: set[str]) -> list[dict]:
    """govukCheckboxes items for one band's criteria."""
    return [
        {
            "value": criterion.id,
            "text": criterion.text,
            "checked": criterion.id in ticked,
            "hint": {"text": "Core: every Good section meets this."} if criterion.core else None,
        }
        for criterion in criteria
    ]


def section_task_items(audit: Audit, overview: service.AuditSummary, current: str) -> list[dict]:
    """govukTaskList items: every section, whether it is done, and which one is open."""
    items = []
    for item in overview.sections:
        code = item.section.code
        if item.done:
            status = {"text": "Done"}
        elif item.judgement:
            status = {"tag": {"text": "Nothing ticked", "classes": "govuk-tag--light-blue"}}
        else:
            status = {"tag": {"text": "To do", "classes": "govuk-tag--blue"}}
        entry = {"title": {"text": f"{code}: {item.section.title}"}, "status": status}
        if code == current:
            entry.update(hint={"text": "You are here"}, title={**entry["title"], "classes": "govuk-!-font-weight-bold"})
        else:
            entry["href"] = url_for("audits.section", audit_id=audit.id, section=code)
        items.append(entry)
    return items


@bp.get("/my-audits")
@allow(Role.AUDITOR)
def my_audits():
    rows = service.assignments_for_auditor(get_session(), require_user())
    return render_template("audits/my_audits.html", rows=rows)


@bp.post("/assignments/<uuid:assignment_id>/audit")
@allow(Role.AUDITOR)
def start(assignment_id: uuid.UUID):
    assignment = load_owned(Assignment, assignment_id)
    user = require_user()
    if assignment.auditor_id != user.id:
        abort(404)

    def do_start(db: Session) -> Done:
        audit = service.start_audit(db, assignment, user, configured_framework_file(current_app.config))
        return Done(url_for("audits.section", audit_id=audit.id, section=service.resume_section(db, audit)))

    return apply_change(do_start, refused=service.AuditError,
                        when_refused=lambda refusal: _refused(refusal, url_for("audits.my_audits")))


@bp.get("/audits/<uuid:audit_id>")
@allow(*READERS)
def show(audit_id: uuid.UUID):
    """The audit's own address: its auditor carries on where they left off; anyone else reads the summary."""
    audit = _readable_audit(audit_id)
    if _editable(audit):
        return redirect(url_for("audits.section", audit_id=audit.id, section=service.resume_section(get_session(), audit)))
    return redirect(url_for("audits.summary", audit_id=audit.id))


@bp.get("/audits/<uuid:audit_id>/sections/<section>")
@allow(*READERS)
def section(audit_id: uuid.UUID, section: str):
    audit = _readable_audit(audit_id)
    db = get_session()
    judgement = service.judgements_by_section(db, audit).get(section)
    form = SectionForm(formdata=None, criteria=service.ticked_ids(judgement), comment=judgement.comment if judgement else "")
    return _section_page(audit, section, form)


@bp.post("/audits/<uuid:audit_id>/sections/<section>")
@allow(Role.AUDITOR)
def save_section(audit_id: uuid.UUID, section: str):
    audit = _own_audit(audit_id)
    form = SectionForm()

    def save(db: Session) -> Done:
        moving_on = not form.save_for_later.data  # Enter in a checkbox presses the first button
        service.save_section(db, audit, section, form.criteria.data, form.comment.data, require_user(), moving_on=moving_on)
        if not moving_on:
            return Done(url_for("audits.my_audits"), f"Section {section} saved. You can come back to it at any time from My audits.")
        _previous, following = service.neighbours(framework_for_audit(db, audit), section)
        if following is None:
            return Done(url_for("audits.summary", audit_id=audit.id))
        return Done(url_for("audits.section", audit_id=audit.id, section=following))

    def refused(refusal: service.AuditError):
        if isinstance(refusal, service.AuditStateError):
            return _refused(refusal, url_for("audits.summary", audit_id=audit.id))
        return show_on_form(form, refusal, default_field="criteria")

    # Re-rendered with exactly what was posted, so nothing typed is lost.
    return apply_change(save, form=form, refused=service.AuditError, when_refused=refused,
                        page=lambda: _section_page(audit, section, form))


@bp.get("/audits/<uuid:audit_id>/summary")
@allow(*READERS)
def summary(audit_id: uuid.UUID):
    return _summary_page(_readable_audit(audit_id))


@bp.post("/audits/<uuid:audit_id>/submit")
@allow(Role.AUDITOR)
def submit(audit_id: uuid.UUID):
    audit = _own_audit(audit_id)

    def do_submit(db: Session) -> Done:
        service.submit_audit(db, audit, require_user())
        return Done(url_for("audits.summary", audit_id=audit.id), "Audit submitted. Thank you.")

    return apply_change(do_submit, refused=service.AuditError,
                        when_refused=lambda refusal: _summary_page(audit, refusal=str(refusal), status=409))


@bp.route("/audits/<uuid:audit_id>/reopen", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def reopen(audit_id: uuid.UUID):
    audit = load_owned(Audit, audit_id)
    if audit.status != AuditStatus.SUBMITTED:
        return _refused(service.AuditStateError("Only a submitted audit can be reopened"),
                        url_for("audits.summary", audit_id=audit.id))
    form = ReopenForm()

    def do_reopen(db: Session) -> Done:
        service.reopen_audit(db, audit, require_user(), form.reason.data)
        return Done(url_for("audits.summary", audit_id=audit.id), "Audit reopened. The auditor can now change it and submit it again.")

    return apply_change(do_reopen, form=form, refused=service.AuditError,
                        when_refused=lambda refusal: show_on_form(form, refusal, default_field="reason"),
                        page=lambda: render_template("audits/reopen.html", form=form, audit=audit, plan=_plan_of(audit)))


def _readable_audit(audit_id: uuid.UUID) -> Audit:
    """The audit if it is in the user's LA and they oversee it or it is their own; 404 otherwise."""
    audit = load_owned(Audit, audit_id)
    user = require_user()
    if (not user.has_role(*OVERSEERS) and not service.is_the_auditor(get_session(), audit, user)) or blind_to(audit):
        abort(404)
    return audit


def _own_audit(audit_id: uuid.UUID) -> Audit:
    audit = load_owned(Audit, audit_id)
    if not service.is_the_auditor(get_session(), audit, require_user()):
        abort(404)
    return audit


def _plan_of(audit: Audit) -> Plan:
    db = get_session()
    return db.get(Plan, db.get(Assignment, audit.assignment_id).plan_id)


def _editable(audit: Audit) -> bool:
    return audit.status == AuditStatus.DRAFT and service.is_the_auditor(get_session(), audit, current_user())


def _section_page(audit: Audit, code: str, form: SectionForm):
    db = get_session()
    framework = framework_for_audit(db, audit)
    try:
        section = framework.section(code)
    except ValueError:
        abort(404)
    overview = service.summary(db, audit)
    shown_ticks = set(form.criteria.data or [])
    # Counts for what is on screen: after a refused save that is what was posted, not what is stored.
    counts = grade_section(framework, code, [c.id for c in section.criteria if c.id in shown_ticks]).counts
    previous, _following = service.neighbours(framework, code)
    return render_template(
        "audits/section.html",
        audit=audit,
        plan=_plan_of(audit),
        section=section,
        form=form,
        ticked=shown_ticks,
        counts=counts,
        saved=next(item for item in overview.sections if item.section.code == code),
        section_items=section_task_items(audit, overview, code),
        previous=previous,
        editable=_editable(audit),
        idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
    )


def _summary_page(audit: Audit, refusal: str | None = None, status: int = 200):
    db = get_session()
    return render_template(
        "audits/summary.html",
        audit=audit,
        plan=_plan_of(audit),
        framework=framework_for_audit(db, audit),
        is_the_auditor=service.is_the_auditor(db, audit, current_user()),
        overview=service.summary(db, audit),
        history=service.history(db, audit),
        refusal=refusal,
        editable=_editable(audit),
        can_reopen=audit.status == AuditStatus.SUBMITTED and current_user().has_role(Role.COORDINATOR),
    ), status


def _refused(refusal: service.AuditError, back_to: str):
    get_session().rollback()
    return render_template("audits/refused.html", message=str(refusal), back_to=back_to), 409
