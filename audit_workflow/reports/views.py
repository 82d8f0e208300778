"""The reports pages: an LA's grades under any filter (in the URL, so a view can be bookmarked),
the audits behind every number, the exports, and the LA's benchmarking opt-in.

Coordinators and managers see their own LA's results only; the LA always comes from the signed-in
user, never from the URL.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovSubmitInput
from sqlmodel import Session
from wtforms import BooleanField, SubmitField

from ..access import allow, require_user
from ..auth.models import Role, User
from ..authorities.models import LocalAuthority
from ..clock import today
from ..db import get_session
from ..framework.model import GRADES_BEST_FIRST
from ..framework.versions import configured_framework_file
from ..plans.reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES
from ..reference import DISCIPLINES
from ..web import navigation
from ..web.changes import Done, apply_change
from . import charts, queries, service
from .aggregates import OVERALL, section_titles
from .exports import EXPORTS, FORMATS, render_export
from .filters import LABELS, ParsedFilter, parse_filter

bp = Blueprint("reports", __name__, template_folder="templates")

READERS = (Role.COORDINATOR, Role.MANAGER)
FILTER_CHOICES = {
    "key_stage": KEY_STAGES, "primary_need": PRIMARY_NEEDS, "setting_type": SETTING_TYPES,
    "plan_type": PLAN_TYPES, "discipline": DISCIPLINES,
}

# What a count on the page can stand for: a grade, Good or better, or Not applicable.
FIGURE_GRADES = frozenset({grade.value for grade in GRADES_BEST_FIRST} | {"good_or_better", "not_applicable"})

navigation.register("Reports", "reports.index", READERS,
                    "Grades overall and by section, with comparisons, benchmarks and exports", order=30)


class OptInForm(FlaskForm):
    opt_in = BooleanField("Share our grades, without our name, in the regional and national averages",
                          widget=GovCheckboxInput())
    submit = SubmitField("Save", widget=GovSubmitInput())


@bp.app_template_global()
def report_chart(chart_id: str, title: str, rows):
    return charts.stacked_bars(chart_id, title, rows)


def _asked_filter(db: Session, user: User) -> ParsedFilter:
    """The filter in the address (a bookmarkable view), with a cycle that is not the user's LA's taken out."""
    return service.own_filter(db, user.la_id, parse_filter(request.args))


@bp.get("/reports")
@allow(*READERS)
def index():
    user = require_user()
    db = get_session()
    parsed = _asked_filter(db, user)
    la = db.get(LocalAuthority, user.la_id)
    page = service.report_page(db, la, parsed.filter, configured_framework_file(current_app.config))
    return render_template("reports/index.html", page=page, report_filter=parsed.filter, errors=parsed.errors,
                           choices=FILTER_CHOICES, labels=LABELS, la=la,
                           described=parsed.filter.describe({cycle.id: cycle.name for cycle in page.cycles}),
                           exports=EXPORTS.values(), formats=FORMATS), 400 if parsed.errors else 200


@bp.get("/reports/audits")
@allow(*READERS)
def audits():
    """The audits behind one number of the report: ?section=&grade= or ?section=&missed=, plus the filters."""
    db = get_session()
    user = require_user()
    parsed = _asked_filter(db, user)
    section_code = request.args.get("section", OVERALL)
    grade = request.args.get("grade") or None
    missed = request.args.get("missed") or None
    titles = section_titles(None)
    if section_code not in titles or (grade and grade not in FIGURE_GRADES):
        abort(404)
    rows = queries.audits_behind(db, user.la_id, parsed.filter, section_code, grade, missed)
    cycles = queries.cycle_names(db, user.la_id)
    return render_template("reports/audits.html", rows=rows, section_title=titles[section_code], grade=grade,
                           missed=missed, report_filter=parsed.filter, described=parsed.filter.describe(cycles),
                           errors=parsed.errors, limit_reached=len(rows) >= 1000)


@bp.get("/reports/export")
@allow(*READERS)
def export():
    """?export=audits|assignments|...&format=csv|xlsx, plus the filters."""
    export = EXPORTS.get(request.args.get("export", "audits"))
    file_format = request.args.get("format", "csv")
    if export is None or file_format not in FORMATS:
        abort(404)
    user = require_user()
    db = get_session()
    parsed = _asked_filter(db, user)
    content = render_export(db, export, user.la_id, parsed.filter, file_format,
                            parsed.filter.describe(queries.cycle_names(db, user.la_id)))
    filename = f"{export.name}-{today().isoformat()}.{file_format}"
    return Response(content, mimetype=FORMATS[file_format],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/reports/benchmarking", methods=["GET", "POST"])
@allow(Role.MANAGER)
def benchmarking():
    la = get_session().get(LocalAuthority, require_user().la_id)
    form = OptInForm(data=None if request.method == "POST" else {"opt_in": la.benchmark_opt_in})

    def save(db: Session) -> Done:
        service.set_benchmark_opt_in(db, la, form.opt_in.data)
        return Done(url_for("reports.benchmarking"), "Your LA now shares its grades in the benchmarks." if form.opt_in.data
                    else "Your LA no longer shares its grades in the benchmarks.")

    return apply_change(save, form=form, page=lambda: render_template("reports/benchmarking.html", form=form, la=la))
