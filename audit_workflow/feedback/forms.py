"""Forms for the feedback pages: they read what was typed; the rules live in the service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput, GovFileInput, GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput,
)
from wtforms import IntegerField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .questionnaire import RespondentType
from .service import COMMENT_MAX_CHARS

RESPONDENT_CHOICES = [SelectChoice(t.value, t.label) for t in RespondentType]


class AnswerForm(FlaskForm):
    answer = RadioField(choices=[], validators=[InputRequired("Choose one of the answers")], widget=GovRadioInput())
    submit = SubmitField("Continue", widget=GovSubmitInput())


class CommentForm(FlaskForm):
    comment = TextAreaField(validators=[Optional(), Length(max=COMMENT_MAX_CHARS,
                                                           message=f"Write no more than {COMMENT_MAX_CHARS} characters")],
                            widget=GovTextArea())
    submit = SubmitField("Continue", widget=GovSubmitInput())


class SettingsForm(FlaskForm):
    respondent_types = SelectMultipleField("Who to ask", choices=RESPONDENT_CHOICES, widget=GovCheckboxesInput(),
                                           validators=[InputRequired("Choose who to ask")])
    invite_after_days = IntegerField("Days after the plan's audit is submitted to send the invitation", widget=GovTextInput(),
                                     validators=[InputRequired("Enter a number of days"), NumberRange(0, 60, "Enter a number of days from 0 to 60")])
    remind_after_days = IntegerField("Days after the invitation to send the one reminder", widget=GovTextInput(),
                                     validators=[InputRequired("Enter a number of days"), NumberRange(1, 30, "Enter a number of days from 1 to 30")])
    open_days = IntegerField("Days each link works", widget=GovTextInput(),
                             validators=[InputRequired("Enter a number of days"), NumberRange(7, 90, "Enter a number of days from 7 to 90")])
    submit = SubmitField("Save settings", widget=GovSubmitInput())


class ContactForm(FlaskForm):
    system_id = StringField("System ID of the plan", widget=GovTextInput(),
                            validators=[InputRequired("Enter the plan's System ID"), Length(max=64)])
    respondent_type = SelectField("Who this is", choices=RESPONDENT_CHOICES, widget=GovSelect())
    email = StringField("Email address", widget=GovTextInput(),
                        validators=[InputRequired("Enter an email address"), Length(max=254)])
    mobile = StringField("Mobile number (optional)", widget=GovTextInput(), validators=[Optional(), Length(max=20)])
    submit = SubmitField("Add contact", widget=GovSubmitInput())


class ContactUploadForm(FlaskForm):
    file = FileField("CSV file of contacts", widget=GovFileInput(), validators=[FileRequired("Choose a CSV file")])
    submit = SubmitField("Upload contacts", widget=GovSubmitInput())
