"""Feedback pages. Public: the questionnaire a family, young person or school opens from its
link, one question per page (GOV.UK Forms' pattern), with no staff navigation. Staff: a cycle's
feedback settings and contacts, results, and answering with a family on the phone.

A link's token is swapped at once for a visit held in the session cookie, and the browser is
redirected to an address without it, so the token never stays in the address bar, in history,
in logs of later pages or in a Referer header (docs/checks.md#check-11).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlmodel import Session
from wtforms.fields.choices import SelectChoice

from ..access import allow, current_user, in_my_la, load_owned, public, require_user
from ..auth.models import Role
from ..clock import utcnow
from ..cycles.models import AuditCycle
from ..db import get_session, writes
from ..plans.parsing import MAX_FILE_BYTES
from ..rate_limit import service as rate_limit
from ..web import navigation
from ..web.changes import Done, apply_change, show_on_form
from ..web.errors import render_error
from . import service
from .forms import AnswerForm, CommentForm, ContactForm, ContactUploadForm, SettingsForm
from .models import FeedbackInvitation
from .questionnaire import Question, RespondentType
from .rules import FAILED_PER_ADDRESS, PER_ADDRESS, PER_TOKEN, FeedbackSettings, parse_contacts, token_hash
from .service import FeedbackError, LinkGone

bp = Blueprint("feedback", __name__, template_folder="templates")

VISIT_KEY = "feedback_visit"
DONE_KEY = "feedback_done"
OVERSEERS = (Role.COORDINATOR, Role.MANAGER)
HELPERS = (Role.COORDINATOR, Role.VOLUNTEER)
PUBLIC_ENDPOINTS = frozenset({"feedback.start", "feedback.stop", "feedback.introduction", "feedback.easy_read",
                              "feedback.question", "feedback.comment", "feedback.check", "feedback.done",
                              "feedback.opt_out"})

navigation.register("Family feedback", "feedback.index", OVERSEERS, "Questionnaires for families, young people and schools",
                    order=45)
navigation.register("Answers by phone", "feedback.phone_answers", HELPERS, "Enter a family's answers given on the phone", order=46)

GONE_PAGES = {
    "answered": ("You have already answered", ["Thank you. Your answers were sent, and each link can be used only once."], 410),
    "opted_out": ("You asked us not to contact you about this questionnaire",
                  ["We will not email you about it again. Thank you for letting us know."], 410),
    "expired": ("This link has expired", ["The questionnaire has closed. Thank you for your interest."], 410),
    "timed_out": ("Your session has timed out", ["Open the link in your email again to start again."], 410),
    "unknown": ("This link does not work", ["Check you copied the entire link from your email, or open it again from the email."], 404),
}


@bp.after_request
def no_referrer(response):
    if request.endpoint in PUBLIC_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.errorhandler(LinkGone)
def link_gone(gone: LinkGone):
    heading, paragraphs, status = GONE_PAGES[gone.reason]
    return render_template("feedback/gone.html", heading=heading, paragraphs=paragraphs, la_name=gone.la_name), status


def _address() -> str:
    return request.remote_addr or "unknown"


# --- Public: the questionnaire ----------------------------------------------------------------------


def _swap(token: str, then: str):
    """Open a link: counted against the link's and the address's limits (refused past either, or
    when the address has tried too many unknown links), then swapped for a visit. One transaction,
    holding SQLite's write lock from its first statement (@writes), so two families opening links at
    once queue instead of one being refused."""
    db, now, address = get_session(), utcnow(), _address()
    opening = [(PER_TOKEN, token_hash(token)), (PER_ADDRESS, address)]
    refused = rate_limit.any_used_up(db, [*opening, (FAILED_PER_ADDRESS, address)], now)
    rate_limit.record(db, opening, now)
    if refused:
        db.commit()  # a refused opening still counts
        return render_error(429)
    try:
        visit_token, _visit = service.open_link(db, token, now)
    except LinkGone as gone:
        if gone.reason == "unknown":
            rate_limit.record(db, [(FAILED_PER_ADDRESS, address)], now)
        db.commit()  # the counts; the link was only read
        raise
    db.commit()
    session.pop(DONE_KEY, None)
    session[VISIT_KEY] = visit_token
    return redirect(url_for(then))


@bp.get("/feedback/start/<token>")
@public
@writes
def start(token: str):
    return _swap(token, "feedback.introduction")


@bp.get("/feedback/stop/<token>")
@public
@writes
def stop(token: str):
    return _swap(token, "feedback.opt_out")


def _visit():
    """The visit the cookie names. Not counted against the rate limits: only opening a link gives one."""
    db = get_session()
    return db, service.find_visit(db, session.get(VISIT_KEY), utcnow())


def _public(template: str, view: service.VisitView, **context):
    return render_template(f"feedback/{template}", view=view, questionnaire=view.questionnaire, **context)


@bp.get("/feedback")
@public
def introduction():
    db, visit = _visit()
    view = service.describe_visit(db, visit)
    return _public("introduction.html", view)


@bp.post("/feedback/easy-read")
@public
def easy_read():
    db, visit = _visit()
    try:
        service.switch_version(db, visit, request.form.get("easy_read") == "yes")
    except FeedbackError:
        abort(400)
    db.commit()
    return redirect(url_for("feedback.introduction"))


def _next_page(view: service.VisitView, number: int) -> str:
    if request.args.get("change"):
        return url_for("feedback.check")
    if number < len(view.questionnaire.questions):
        return url_for("feedback.question", number=number + 1)
    return url_for("feedback.comment")


@bp.route("/feedback/question/<int:number>", methods=["GET", "POST"])
@public
def question(number: int):
    db, visit = _visit()
    view = service.describe_visit(db, visit)
    asked = view.questionnaire.question(number)
    if asked is None:
        abort(404)
    form = AnswerForm()
    form.answer.choices = [SelectChoice(answer.value, label) for answer, label in view.questionnaire.scale.items()]
    if request.method == "GET":
        form.answer.data = view.answers.get(asked.id)
    elif form.validate_on_submit():
        service.save_answer(db, visit, asked.id, form.answer.data)
        db.commit()
        return redirect(_next_page(view, number))
    if request.args.get("change"):
        back = url_for("feedback.check")
    else:
        back = url_for("feedback.question", number=number - 1) if number > 1 else url_for("feedback.introduction")
    return _public("question.html", view, form=form, asked=asked, number=number, back=back,
                   answer_radios=_answer_radios(form, visit.questionnaire_version_id, asked)), 400 if form.errors else 200


_RADIOS: dict[tuple[uuid.UUID, str, str | None], Markup] = {}


def _answer_radios(form: AnswerForm, version_id: uuid.UUID, asked: Question) -> Markup:
    """A question's GOV.UK radios, with the answer chosen so far. The same for every visit to one
    question of one (unchanging) questionnaire version, so rendered once a process for each answer;
    with an error it is rendered afresh."""
    key = (version_id, asked.id, form.answer.data)
    radios = None if form.errors else _RADIOS.get(key)
    if radios is None:
        radios = form.answer(params={
            "fieldset": {"legend": {"text": asked.text, "isPageHeading": True, "classes": "govuk-fieldset__legend--l"}},
            "hint": {"text": asked.hint} if asked.hint else None,
        })
        if not form.errors:
            _RADIOS[key] = radios
    return radios


@bp.route("/feedback/comment", methods=["GET", "POST"])
@public
def comment():
    db, visit = _visit()
    view = service.describe_visit(db, visit)
    form = CommentForm()
    if request.method == "GET":
        form.comment.data = view.comment
    elif form.validate_on_submit():
        try:
            service.save_comment(db, visit, form.comment.data or "")
        except FeedbackError as error:
            form.comment.errors.append(str(error))
        else:
            db.commit()
            return redirect(url_for("feedback.check"))
    back = url_for("feedback.question", number=len(view.questionnaire.questions))
    return _public("comment.html", view, form=form, back=back), 400 if form.errors else 200


@bp.route("/feedback/check", methods=["GET", "POST"])
@public
def check():
    db, visit = _visit()
    view = service.describe_visit(db, visit)
    missing = view.first_unanswered()
    if missing is not None:
        return redirect(url_for("feedback.question", number=missing))
    form = FlaskForm()  # its CSRF token
    if form.validate_on_submit():
        service.submit(db, visit, utcnow())
        db.commit()
        session.pop(VISIT_KEY, None)
        session[DONE_KEY] = {"la_name": view.la_name, "helped": view.helped}
        return redirect(url_for("feedback.done"))
    return _public("check.html", view, form=form)


@bp.get("/feedback/done")
@public
def done():
    finished = session.get(DONE_KEY)
    if not finished:
        raise LinkGone("timed_out")
    return render_template("feedback/done.html", la_name=finished["la_name"], helped=finished["helped"])


@bp.route("/feedback/opt-out", methods=["GET", "POST"])
@public
def opt_out():
    db, visit = _visit()
    view = service.describe_visit(db, visit)
    form = FlaskForm()  # its CSRF token
    if form.validate_on_submit():
        service.opt_out(db, visit, utcnow())
        db.commit()
        session.pop(VISIT_KEY, None)
        return render_template("feedback/opted_out.html", la_name=view.la_name)
    return _public("opt_out.html", view, form=form)


# --- Staff: settings, contacts, results ---------------------------------------------------------------


@bp.get("/feedback/cycles")
@allow(*OVERSEERS)
def index():
    cycles = get_session().exec(in_my_la(AuditCycle).where(AuditCycle.feedback_enabled)
                                .order_by(AuditCycle.period_start.desc())).all()
    return render_template("feedback/index.html", cycles=cycles)


def _overview(cycle: AuditCycle, settings_form=None, contact_form=None, upload_form=None):
    settings = service.cycle_settings(cycle)
    if settings_form is None:
        settings_form = SettingsForm(formdata=None, respondent_types=list(settings.respondent_types),
                                     invite_after_days=settings.invite_after_days,
                                     remind_after_days=settings.remind_after_days, open_days=settings.open_days)
    return render_template(
        "feedback/cycle.html", cycle=cycle, settings=settings, summary=service.contact_summary(get_session(), cycle),
        settings_form=settings_form, contact_form=contact_form or ContactForm(formdata=None),
        upload_form=upload_form or ContactUploadForm(formdata=None), can_edit=current_user().has_role(Role.COORDINATOR),
        labels={t.value: t.label for t in RespondentType},
    )


def _save_on_overview(cycle: AuditCycle, form: FlaskForm, form_name: str, saved: str, save: Callable[[Session], object],
                      default_field: str = "submit"):
    """A coordinator's form on the cycle's feedback page, through web.changes.apply_change: saved, back to the
    page; otherwise the page again (400) with the form and a refusal on its field (or on default_field)."""
    def change(db: Session) -> Done:
        save(db)
        return Done(url_for("feedback.cycle", cycle_id=cycle.id), saved)

    return apply_change(change, form=form, refused=FeedbackError, page=lambda: _overview(cycle, **{form_name: form}),
                        when_refused=lambda refusal: show_on_form(form, refusal, default_field))


@bp.get("/cycles/<uuid:cycle_id>/feedback")
@allow(*OVERSEERS)
def cycle(cycle_id: uuid.UUID):
    return _overview(load_owned(AuditCycle, cycle_id))


@bp.post("/cycles/<uuid:cycle_id>/feedback/settings")
@allow(Role.COORDINATOR)
def save_settings(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = SettingsForm()
    return _save_on_overview(cycle, form, "settings_form", "Feedback settings saved", lambda db: service.save_settings(
        db, cycle, FeedbackSettings(tuple(form.respondent_types.data), form.invite_after_days.data,
                                    form.remind_after_days.data, form.open_days.data)))


@bp.post("/cycles/<uuid:cycle_id>/feedback/contacts")
@allow(Role.COORDINATOR)
def add_contact(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    form = ContactForm()
    return _save_on_overview(cycle, form, "contact_form", "Contact added", lambda db: service.add_contact(
        db, cycle, form.system_id.data, form.respondent_type.data, form.email.data, form.mobile.data,
        require_user()), default_field="system_id")


@bp.post("/cycles/<uuid:cycle_id>/feedback/contacts/upload")
@allow(Role.COORDINATOR)
def upload_contacts(cycle_id: uuid.UUID):
    form = ContactUploadForm()
    valid = form.validate_on_submit()
    rows, problems = [], []
    if valid:  # read the file before the first query (SQLite's write lock, docs/development.md)
        try:
            rows, problems = parse_contacts(form.file.data.read(MAX_FILE_BYTES + 1).decode("utf-8"))
        except UnicodeDecodeError:
            problems = ["The file must be a CSV saved as UTF-8."]
    cycle = load_owned(AuditCycle, cycle_id)
    if valid and not problems:
        try:
            added = service.import_contacts(get_session(), cycle, rows, require_user())
        except FeedbackError as error:
            problems = [str(error)]
        else:
            get_session().commit()
            flash(f"{added} contact{'s' if added != 1 else ''} added")
            return redirect(url_for("feedback.cycle", cycle_id=cycle.id))
    get_session().rollback()
    form.file.errors = list(form.file.errors) + problems
    return _overview(cycle, upload_form=form), 400


@bp.get("/cycles/<uuid:cycle_id>/feedback/results")
@allow(*OVERSEERS)
def results(cycle_id: uuid.UUID):
    cycle = load_owned(AuditCycle, cycle_id)
    summary = service.cycle_results(get_session(), cycle, with_comments=True)
    return render_template("feedback/results.html", cycle=cycle, results=summary,
                           labels={t.value: t.label for t in RespondentType})


# --- Answering with a family on the phone ---------------------------------------------------------


@bp.get("/feedback/help")
@allow(*HELPERS)
def phone_answers():
    invitations = service.open_invitations(get_session(), require_user().la_id, utcnow())
    return render_template("feedback/help.html", invitations=invitations,
                           labels={t.value: t.label for t in RespondentType})


@bp.post("/feedback/help/<uuid:invitation_id>")
@allow(*HELPERS)
def phone_answer(invitation_id: uuid.UUID):
    invitation = load_owned(FeedbackInvitation, invitation_id)
    token = service.start_helped_visit(get_session(), invitation, require_user(), utcnow())
    get_session().commit()
    session.pop(DONE_KEY, None)
    session[VISIT_KEY] = token
    return redirect(url_for("feedback.introduction"))

