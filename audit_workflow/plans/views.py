"""The plan register: the list of the LA's plans (no personal data, by System ID), and the upload
of a register file. Coordinators upload; coordinators and managers read."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlmodel import Session
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField
from wtforms.fields.choices import SelectChoice

from ..access import allow, require_user
from ..auth.models import Role
from ..db import get_session
from ..web import navigation
from ..web.changes import Done, apply_change
from . import reference, service

bp = Blueprint("plans", __name__, template_folder="templates")

navigation.register("Plans", "plans.register", (Role.COORDINATOR, Role.MANAGER), "The LA's register of plans, by System ID", order=30)


class UploadForm(FlaskForm):
    file = FileField("Upload a file", widget=GovFileInput(), validators=[FileRequired("Choose a CSV or Excel file")],
                     description="CSV or Excel (.xlsx), up to 20 MB.")
    submit = SubmitField("Import plans", widget=GovSubmitInput())


def _choices(codes_and_labels, everything: str) -> list[SelectChoice]:
    return [SelectChoice("", everything)] + [SelectChoice(code, label) for code, label in codes_and_labels]


class RegisterFilterForm(FlaskForm):
    """A GET form: filters are part of the address, so a filtered list can be bookmarked."""

    class Meta:
        csrf = False

    key_stage = SelectField("Key stage", widget=GovSelect(), choices=_choices(reference.KEY_STAGE_CHOICES, "All key stages"))
    primary_need = SelectField("Primary need", widget=GovSelect(), choices=_choices(reference.NEED_CHOICES, "All needs"))
    setting_type = SelectField("Setting type", widget=GovSelect(), choices=_choices(reference.SETTING_TYPE_CHOICES, "All setting types"))
    submit = SubmitField("Filter", widget=GovSubmitInput())

    def chosen(self) -> dict[str, str]:
        """The filters that name a real choice; anything else in the address is ignored."""
        return {name: getattr(self, name).data for name in service.REGISTER_FILTERS
                if getattr(self, name).data in {choice.value for choice in getattr(self, name).choices if choice.value}}


def _pagination(page: service.RegisterPage, filters: dict[str, str]) -> dict:
    """govukPagination params: first, last, and the pages either side of the current one."""
    def href(number: int) -> str:
        return url_for("plans.register", page=number, **filters)

    shown = sorted({1, page.pages, *range(max(1, page.page - 2), min(page.pages, page.page + 2) + 1)})
    items = []
    for previous, number in zip([0, *shown], shown):
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page.page})
    return {
        "items": items,
        "previous": {"href": href(page.page - 1)} if page.page > 1 else None,
        "next": {"href": href(page.page + 1)} if page.page < page.pages else None,
    }


@bp.get("/plans")
@allow(Role.COORDINATOR, Role.MANAGER)
def register():
    form = RegisterFilterForm(request.args)
    filters = form.chosen()
    page = service.register_page(get_session(), require_user().la_id, filters, request.args.get("page", 1, type=int))
    return render_template("plans/register.html", filter_form=form, filters=filters, page=page,
                           pagination=_pagination(page, filters), can_import=require_user().has_role(Role.COORDINATOR))


@bp.route("/plans/import", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def upload():
    form = UploadForm()
    problems: list = []

    def do_import(db: Session) -> Done:
        user = require_user()
        summary = service.import_plans(db, user.la_id, form.file.data.filename, form.file.data.read(), user.id)
        return Done(url_for("plans.register"), summary.describe())

    def refused(refusal: service.PlanImportRefused) -> None:
        problems.extend(refusal.problems)
        form.file.errors = [f"{refusal}. Fix the rows below and upload the file again."]

    return apply_change(do_import, form=form, refused=service.PlanImportRefused, when_refused=refused, page=lambda: render_template(
        "plans/upload.html", upload_form=form, problems=problems, error_list=_error_list(form, problems),
        imports=service.recent_imports(get_session(), require_user().la_id),
    ))


def _error_list(form: UploadForm, problems: list, shown: int = 50) -> list[dict]:
    """The error summary: the form's errors, then the file's problems. A very bad file can have
    thousands; the summary shows the first few and the table below the form lists every one."""
    items = [{"text": str(message), "href": "#file"} for message in form.file.errors]
    items += [{"text": str(problem), "href": "#problems"} for problem in problems[:shown]]
    if len(problems) > shown:
        items.append({"text": f"And {len(problems) - shown} more problems, listed below", "href": "#problems"})
    return items
