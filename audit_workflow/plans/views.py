"""The plan register: the list of the LA's plans (no personal data, by System ID), and the upload
of a register file. Coordinators upload; coordinators and managers read."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..access import allow, load_owned, require_user
from ..auth.models import Role
from ..db import get_session
from ..vocabulary import match_key
from ..web import navigation
from . import parsing, reference, service
from .models import PendingUpload

bp = Blueprint("plans", __name__, template_folder="templates")

navigation.register("Plans", "plans.register", (Role.COORDINATOR, Role.MANAGER), "The LA's register of plans, by System ID", order=30)


class UploadForm(FlaskForm):
    file = FileField("Upload a file", widget=GovFileInput(), validators=[FileRequired("Choose a CSV or Excel file")],
                     description="CSV or Excel (.xlsx), up to 20 MB.")
    sheet = StringField("Sheet (optional)", widget=GovTextInput(), validators=[Optional(), Length(max=100)],
                        description="For a workbook: the name of the sheet with the plans. Leave empty to use the "
                                    "first sheet that has them.")
    submit = SubmitField("Import plans", widget=GovSubmitInput())


def _columns_form(columns: tuple[parsing.FileColumn, ...]) -> FlaskForm:
    """A select box for each column of the file: what it is, with a few of its values as the hint."""
    class ColumnsForm(FlaskForm):
        submit = SubmitField("Continue", widget=GovSubmitInput())

    choices = [SelectChoice(value, label) for value, label in parsing.FIELD_CHOICES]
    for column in columns:
        hint = (f"Column {column.letter}. For example: {', '.join(column.samples)}" if column.samples
                else f"Column {column.letter}. Its values are not shown, in case they are personal data.")
        setattr(ColumnsForm, f"column_{column.index}", SelectField(
            column.heading, widget=GovSelect(), choices=choices, default=column.field or parsing.IGNORE, description=hint))
    return ColumnsForm()


def _values_form(unknown: tuple[parsing.UnknownSpelling, ...]) -> FlaskForm:
    """A select box for each distinct unknown value: which accepted label it means."""
    class ValuesForm(FlaskForm):
        submit = SubmitField("Import plans", widget=GovSubmitInput())

    for number, spelling in enumerate(unknown):
        rows = f"{len(spelling.rows)} rows" if len(spelling.rows) > 1 else f"row {spelling.rows[0]}"
        setattr(ValuesForm, f"value_{number}", SelectField(
            f"“{spelling.value}” in {spelling.column}", widget=GovSelect(),
            choices=[SelectChoice("", "Choose what it means")] + [SelectChoice(code, label) for code, label in spelling.choices],
            validators=[InputRequired(f"Choose what “{spelling.value}” means")],
            description=f"On {rows}. Closest: {'; '.join(spelling.suggestions)}."))
    return ValuesForm()


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


def _file_size(storage) -> int:
    """The uploaded file's size, found without reading it (werkzeug keeps a large one on disk)."""
    stream = storage.stream
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _reading(la_id: uuid.UUID, filename: str, data: bytes, sheet: str | None, **chosen) -> parsing.ImportResult:
    """The file read with the LA's remembered mapping. The read ends first: parsing a large file
    must not hold SQLite's write lock, which a POST takes at its first statement."""
    remembered = service.remembered_mapping(get_session(), la_id)
    get_session().commit()
    return service.read_file(filename, data, remembered, sheet=sheet, **chosen)


def _kept_reading(upload: PendingUpload, **chosen) -> parsing.ImportResult:
    """The file kept between the mapping steps, read again with what has been chosen so far."""
    return _reading(upload.la_id, upload.filename, upload.data, upload.sheet, **chosen)


def _imported(summary: service.ImportSummary):
    get_session().commit()
    flash(summary.describe())
    return redirect(url_for("plans.register"))


def _next_step(refusal: service.PlanImportRefused, upload_id: uuid.UUID):
    step = "plans.map_columns" if refusal.result.needs_mapping else "plans.map_values"
    return redirect(url_for(step, upload_id=upload_id))


def _upload_page(form: UploadForm, refusal: service.PlanImportRefused | None = None):
    problems = refusal.problems if refusal else []
    if refusal:
        form.file.errors = [f"{refusal}. Fix the rows below and upload the file again."]
    return render_template(
        "plans/upload.html", upload_form=form, problems=problems, error_list=_error_list(form, problems),
        imports=service.recent_imports(get_session(), require_user().la_id),
    ), 400 if form.errors else 200


@bp.route("/plans/import", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form)
    too_big = parsing.size_problem(_file_size(form.file.data))
    if too_big:
        form.file.errors = [too_big]
        return _upload_page(form)
    db, user = get_session(), require_user()
    filename, data, sheet = form.file.data.filename, form.file.data.read(), form.sheet.data or None
    try:
        return _imported(service.store_plans(db, user.la_id, filename, _reading(user.la_id, filename, data, sheet), user.id))
    except service.PlanImportRefused as refusal:
        db.rollback()
        if not refusal.mappable:
            return _upload_page(form, refusal)
        upload_id = service.keep_upload(db, user.la_id, user.id, filename, data, sheet).id
        db.commit()
        return _next_step(refusal, upload_id)


def _error_list(form: UploadForm, problems: list, shown: int = 50) -> list[dict]:
    """The error summary: the form's errors, then the file's problems. A very bad file can have
    thousands; the summary shows the first few and the table below the form lists every one."""
    items = [{"text": str(message), "href": "#file"} for message in form.file.errors]
    items += [{"text": str(problem), "href": "#problems"} for problem in problems[:shown]]
    if len(problems) > shown:
        items.append({"text": f"And {len(problems) - shown} more problems, listed below", "href": "#problems"})
    return items


@bp.route("/plans/import/<uuid:upload_id>/columns", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def map_columns(upload_id: uuid.UUID):
    """The mapping step: say what each column of the file is. Remembered for the LA's next upload."""
    upload = load_owned(PendingUpload, upload_id)
    result = _kept_reading(upload)
    form = _columns_form(result.columns)
    if form.validate_on_submit():
        chosen = {match_key(column.heading): form[f"column_{column.index}"].data for column in result.columns}
        return _finish(upload, _kept_reading(upload, columns=chosen), columns=chosen)
    problems = result.problems if result.needs_mapping else []
    return render_template("plans/map_columns.html", form=form, result=result, upload=upload, problems=problems)


@bp.route("/plans/import/<uuid:upload_id>/values", methods=["GET", "POST"])
@allow(Role.COORDINATOR)
def map_values(upload_id: uuid.UUID):
    """Map each distinct value the service does not know, once for the whole file. Remembered too."""
    upload = load_owned(PendingUpload, upload_id)
    result = _kept_reading(upload)
    if result.needs_mapping:
        return redirect(url_for("plans.map_columns", upload_id=upload_id))
    form = _values_form(result.unknown_spellings)
    if form.validate_on_submit():
        chosen: dict[str, dict[str, str]] = {}
        for number, spelling in enumerate(result.unknown_spellings):
            chosen.setdefault(spelling.field, {})[spelling.key] = form[f"value_{number}"].data
        return _finish(upload, _kept_reading(upload, values=chosen), values=chosen)
    return render_template("plans/map_values.html", form=form, result=result, upload=upload), 400 if form.errors else 200


def _finish(upload: PendingUpload, result: parsing.ImportResult, **chosen):
    db = get_session()
    try:
        return _imported(service.finish_upload(db, upload, result, require_user().id, **chosen))
    except service.PlanImportRefused as refusal:
        db.commit()  # the mapping given is kept, and the file while a mapping could still settle it
        if refusal.mappable:
            return _next_step(refusal, upload.id)
        return _upload_page(UploadForm(formdata=None), refusal)
