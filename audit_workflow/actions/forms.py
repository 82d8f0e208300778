"""Forms for the action pages: they read what was typed; the rules live in the service, whose
ActionError names the field a refusal belongs to."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField
from wtforms.fields import DateField
from wtforms.validators import InputRequired, Length, Optional

from ..cycles.forms import DayMonthYearField, WholeNumberField, choices, text_area_field
from .kinds import ACTION_TYPE_LABELS
from .service import NOTE_MAX_LENGTH, SUMMARY_MAX_LENGTH

TYPE_CHOICES = choices((value.value, label) for value, label in ACTION_TYPE_LABELS.items())
NOBODY = ""


class OptionalDayMonthYearField(DayMonthYearField):
    """A GOV.UK date input that may be left empty."""

    def __init__(self, label: str, message: str, **kwargs):
        DateField.__init__(self, label, format="%d %m %Y", validators=[Optional()], **kwargs)
        self.message = message


def summary_field() -> StringField:
    return text_area_field("What is to be done", "For example, rewrite the outcomes in section E so each is specific and "
                           "measurable. Do not name the child or their family.", "Enter what is to be done",
                           SUMMARY_MAX_LENGTH, f"Keep it to {SUMMARY_MAX_LENGTH} characters or fewer")


class NewActionForm(FlaskForm):
    action_type = RadioField("Type of action", widget=GovRadioInput(), choices=TYPE_CHOICES,
                             validators=[InputRequired("Choose the type of action")])
    summary = summary_field()
    system_id = StringField("System ID of the plan (optional)", widget=GovTextInput(),
                            description="Leave empty for an action about the service as a whole, such as training.",
                            validators=[Length(max=64)])
    submit = SubmitField("Create action", widget=GovSubmitInput())


class EditActionForm(FlaskForm):
    action_type = RadioField("Type of action", widget=GovRadioInput(), choices=TYPE_CHOICES,
                             validators=[InputRequired("Choose the type of action")])
    summary = summary_field()
    due_date = OptionalDayMonthYearField("Due date", "Enter the due date as a real date, like 27 3 2027")
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class AssignForm(FlaskForm):
    owner = SelectField("Owner", widget=GovSelect(), choices=[], validators=[Optional()],
                        description="They get an email, a reminder before the due date and reminders while it is overdue.")
    team = StringField("Team", widget=GovTextInput(), validators=[Length(max=120)],
                       description="The team that owns the action, for the board.")
    due_date = OptionalDayMonthYearField("Due date (optional)", "Enter the due date as a real date, like 27 3 2027",
                                         description="Leave empty for your LA's usual number of working days.")
    submit = SubmitField("Assign", widget=GovSubmitInput())


class AmendedForm(FlaskForm):
    auditor = RadioField("Who should re-audit the amended plan?", widget=GovRadioInput(), choices=[],
                         validators=[InputRequired("Choose the auditor for the re-audit")])
    submit = SubmitField("Plan amended: allocate the re-audit", widget=GovSubmitInput())


class CloseForm(FlaskForm):
    note = text_area_field("What was done", "A short note for the record. Do not name the child or their family.",
                           "Enter what was done", NOTE_MAX_LENGTH, f"Keep the note to {NOTE_MAX_LENGTH} characters or fewer")
    submit = SubmitField("Close the action", widget=GovSubmitInput())


class ThemeForm(FlaskForm):
    criterion = StringField("Criterion", validators=[InputRequired("Choose a theme"), Length(max=20)])
    action_type = RadioField("Type of action", widget=GovRadioInput(), choices=TYPE_CHOICES[2:],
                             validators=[InputRequired("Choose the type of action")])
    submit = SubmitField("Raise an action for the whole service", widget=GovSubmitInput())


class SettingsForm(FlaskForm):
    due_working_days = WholeNumberField("Actions are due after (working days)", "Enter a number of working days, like 20")
    remind_days_before = WholeNumberField("Remind owners this many working days before the due date", "Enter a number of working days, like 3")
    overdue_interval_days = WholeNumberField("Chase overdue actions every (working days)", "Enter a number of working days, like 5")
    theme_percent = WholeNumberField("Show a criterion as a theme when missed in at least this % of plans", "Enter a percentage, like 30")
    submit = SubmitField("Save settings", widget=GovSubmitInput())

