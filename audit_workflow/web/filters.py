"""What every page may use to show a value, registered once by create_app (not by whichever
blueprint happens to load first): GOV.UK dates and times, one tag for every kind of status, and
plan codes as people read them."""

from __future__ import annotations

from flask import Flask

from ..clock import govuk_date, govuk_date_time
from ..framework.model import Grade
from ..plans import reference

# GOV.UK tag text and colour for each stored status: cycles, assignments (with "overdue", which is
# worked out, not stored), emails in the outbox, scheduler job runs and section grades.
STATUS_TAGS = {
    "draft": ("Draft", "govuk-tag--grey"),
    "open": ("Open", "govuk-tag--green"),
    "closed": ("Closed", "govuk-tag--blue"),
    "not_started": ("Not started", "govuk-tag--grey"),
    "in_progress": ("In progress", "govuk-tag--light-blue"),
    "submitted": ("Submitted", "govuk-tag--green"),
    "declined": ("Declined", "govuk-tag--orange"),
    "withdrawn": ("Reassigned", "govuk-tag--grey"),
    "overdue": ("Overdue", "govuk-tag--red"),
    "queued": ("Queued", "govuk-tag--grey"),
    "sending": ("Sending", "govuk-tag--light-blue"),
    "retrying": ("Retrying", "govuk-tag--yellow"),
    "sent": ("Sent", "govuk-tag--green"),
    "permanent_failure": ("Refused", "govuk-tag--red"),
    "technical_failure": ("Failed", "govuk-tag--red"),
    "blocked": ("Blocked", "govuk-tag--orange"),
    "cancelled": ("Cancelled", "govuk-tag--grey"),
    "running": ("Running", "govuk-tag--light-blue"),
    "succeeded": ("Succeeded", "govuk-tag--green"),
    "failed": ("Failed", "govuk-tag--red"),
    Grade.OUTSTANDING: (Grade.OUTSTANDING.label, "govuk-tag--turquoise"),
    Grade.GOOD: (Grade.GOOD.label, "govuk-tag--green"),
    Grade.REQUIRES_IMPROVEMENT: (Grade.REQUIRES_IMPROVEMENT.label, "govuk-tag--yellow"),
    Grade.INADEQUATE: (Grade.INADEQUATE.label, "govuk-tag--red"),
    Grade.NOT_APPLICABLE: (Grade.NOT_APPLICABLE.label, "govuk-tag--grey"),
}
NOT_GRADED = ("Not graded", "govuk-tag--grey")


def status_tag(status: str | None) -> dict:
    """govukTag params for a stored status; None is a section not graded yet."""
    if status is None:
        text, classes = NOT_GRADED
    else:
        text, classes = STATUS_TAGS.get(status, (status.replace("_", " ").capitalize(), "govuk-tag--grey"))
    return {"text": text, "classes": classes}


def summary_rows(pairs) -> list[dict]:
    """govukSummaryList rows from (key, value) pairs: a value that is markup already (a tag from a
    macro) as HTML, anything else as text, so no typed value is ever taken for markup."""
    return [{"key": {"text": key}, "value": {"html": value} if hasattr(value, "__html__") else {"text": value}}
            for key, value in pairs]


def numeric_column(text) -> dict:
    """A toolkit data_table column of numbers (aligned right), for headers made from a list:
    `names | map("numeric_column") | list`."""
    return {"text": text, "numeric": True}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(status_tag=status_tag, govuk_date=govuk_date, govuk_date_time=govuk_date_time,
                                 numeric_column=numeric_column)
    app.jinja_env.globals.update(
        summary_rows=summary_rows, key_stage_label=reference.key_stage_label, need_label=reference.need_label,
        setting_type_label=reference.setting_type_label, plan_type_label=reference.plan_type_label,
    )
