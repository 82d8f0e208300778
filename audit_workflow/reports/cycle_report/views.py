"""The cycle report pages: generate the report from the cycle page (written at once for a small
cycle, by the scheduler's job for a big one, with its progress shown), download it, and the
coordinator's recommendations and context text. Managers and coordinators of the cycle's LA."""

from __future__ import annotations

import io
import uuid

from flask import Blueprint, current_app, flash, redirect, render_template, send_file, url_for
from flask_wtf import FlaskForm
from sqlmodel import Session

from ...access import allow, has_role, load_owned, require_user
from ...auth.models import Role
from ...cycles.models import AuditCycle
from ...db import get_engine, get_session
from ...framework.versions import configured_framework_file
from ...web.changes import Done, apply_change
from ...web.errors import render_error
from . import service
from .forms import ContextForm, GenerateForm, RecommendationsForm
from .models import CycleReportJob, ReportJobStatus
from .pdf_writer import PdfUnavailable

bp = Blueprint("cycle_report", __name__, template_folder="templates")

OVERSEERS = (Role.COORDINATOR, Role.MANAGER)
PENDING = (ReportJobStatus.REQUESTED, ReportJobStatus.RUNNING)


# A constant every page may use (the cycle page includes the report's buttons): a Jinja global, not a
# context processor, so anything that renders the app's templates sees it.
bp.record_once(lambda state: state.app.jinja_env.globals.update(report_formats=service.FORMATS))


def _attachment(content: bytes, filename: str, format_name: str):
    return send_file(io.BytesIO(content), mimetype=service.FORMATS[format_name].media_type, as_attachment=True,
                     download_name=filename)


@bp.get("/cycles/<uuid:cycle_id>/report")
@allow(*OVERSEERS)
def show(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    jobs = service.latest_jobs(get_session(), cycle)
    return render_template("cycle_report/show.html", cycle=cycle, jobs=jobs, form=None,
                           pending=any(job.status in PENDING for job in jobs), can_edit=has_role(Role.COORDINATOR),
                           direct_limit=service.DIRECT_GENERATION_MAX_PLANS)


@bp.post("/cycle-reports/generate/<uuid:cycle_id>")  # not under /cycles/: it changes nothing in the cycle
@allow(*OVERSEERS)
def generate(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = GenerateForm()
    if not form.validate_on_submit():
        return render_error(400, [f"Choose one of the formats: {', '.join(service.FORMATS)}."])
    db = get_session()
    if service.generates_directly(db, cycle):
        db.commit()  # end the request's transaction (and SQLite's write lock) before the slow part
        try:
            content, filename = service.generate_reading_only(get_engine(), cycle.id, form.format.data,
                                                                  configured_framework_file(current_app.config))
        except PdfUnavailable as error:
            return render_error(503, [str(error), "Choose PowerPoint or Excel, or ask your administrator to install Pango."])
        return _attachment(content, filename, form.format.data)
    service.request_report(db, cycle, form.format.data, require_user().id)
    db.commit()
    flash(f"The {service.FORMATS[form.format.data].label} report is being written. This page shows its progress; "
          "download it here when it is ready.")
    return redirect(url_for("cycle_report.show", cycle_id=cycle.id))


@bp.get("/cycle-reports/<uuid:report_job_id>/download")
@allow(*OVERSEERS)
def download(report_job_id: uuid.UUID):
    job = load_owned(CycleReportJob, report_job_id)
    if job.status != ReportJobStatus.DONE or job.content is None:
        flash("That report is not ready to download.")
        return redirect(url_for("cycle_report.show", cycle_id=job.cycle_id))
    return _attachment(job.content, job.filename, job.format)


def _texts_page(cycle: AuditCycle, form: FlaskForm, template: str, suggested: dict[str, str] | None = None):
    """Show the form (filled from what is stored, or the suggestion) or save it and go back."""
    if not form.is_submitted():
        stored = service.report_texts(get_session(), cycle)
        for topic in form.topics:
            form[topic].data = stored.get(topic) or (suggested or {}).get(topic, "")

    def save(db: Session) -> Done:
        service.save_texts(db, cycle, {topic: form[topic].data for topic in form.topics}, require_user().id, suggested)
        return Done(url_for("cycle_report.show", cycle_id=cycle.id), "Saved. The next report you generate includes it.")

    return apply_change(save, form=form, refused=service.CycleReportError,
                        page=lambda: render_template(template, cycle=cycle, form=form))


@bp.route("/cycles/<uuid:cycle_id>/report/recommendations", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def recommendations(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    return _texts_page(cycle, RecommendationsForm(), "cycle_report/recommendations.html",
                       service.suggestions(get_session(), cycle, configured_framework_file(current_app.config)))


@bp.route("/cycles/<uuid:cycle_id>/report/context", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def context(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    return _texts_page(cycle, ContextForm(), "cycle_report/context.html")
