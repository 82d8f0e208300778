"""The one way a view changes something: validate the form, make the change through a service,
commit or roll back, flash what was done and redirect; or answer 400 (bad input) or 409 (the
service refused, given the state things are in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import flash, redirect
from flask_wtf import FlaskForm
from sqlmodel import Session

from ..db import get_session
from ..refusals import Refused
from .errors import render_error


@dataclass(frozen=True)
class Done:
    then: str  # where to go next
    message: str | None = None  # flashed on that page, as text (it may hold names people typed)
    link: tuple[str, str] | None = None  # (text, address) of a link after the message, written by the layout

    def flashed(self) -> str | dict:
        if self.link is None:
            return self.message
        text, href = self.link
        return {"text": self.message, "link": text, "href": href}


def apply_change(
    change: Callable[[Session], Done],
    *,
    form: FlaskForm | None = None,
    page: Callable[[], Any] | None = None,
    refused: type[Exception] | tuple[type[Exception], ...] = Refused,
    when_refused: Callable[[Exception], Any] | None = None,
):
    """Make `change` and answer the request.

    - A form not yet submitted (a GET) is shown: `page()`.
    - A submitted form is validated (CSRF included); with no form there is nothing to fill in, and
      the app's CSRF check has run already.
    - Valid: `change(db)`, commit, flash its message and redirect to where it says.
    - The service raised one of `refused` (by default any area's refusal, refusals.Refused): roll
      back; `when_refused(refusal)` answers (a 409 page, say), or, by default and when it returns
      None, the refusal is on the form; with no form, on a 409 page.
    - Otherwise (form errors, a refusal on the form): `page()` with a 400, or a bare 400 page.
    """
    if form is not None and not form.is_submitted():
        return page()
    if form is None or form.validate():
        db = get_session()
        try:
            done = change(db)
        except refused as refusal:
            db.rollback()
            if when_refused is not None:
                answer = when_refused(refusal)
            elif form is not None:
                answer = show_on_form(form, refusal)
            else:
                answer = render_error(409, [str(refusal)])
            if answer is not None:
                return answer
        else:
            db.commit()
            if done.message:
                flash(done.flashed())
            return redirect(done.then)
    if page is None:
        return render_error(400)
    return page(), 400


def show_on_form(form: FlaskForm, refusal: Exception, default_field: str = "submit") -> None:
    """Show a service's refusal on the field it names (`refusal.field`), or else on `default_field`."""
    field = form._fields.get(getattr(refusal, "field", None) or "") or form._fields[default_field]
    field.errors = [*field.errors, str(refusal)]


def refusal_page(status: int) -> Callable[[Exception], Any]:
    """A `when_refused` that answers the error page with the refusal's words."""
    return lambda refusal: render_error(status, [str(refusal)])
