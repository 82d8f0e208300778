from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovSubmitInput
from wtforms import SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from .service import COMMENT_MAX_LENGTH, REASON_MAX_LENGTH


class SectionForm(FlaskForm):
    # The checkboxes are drawn band by band in the template; the service checks every id belongs
    # to the section, so WTForms' own choice check (which would need the choices here) is off.
    criteria = SelectMultipleField("Criteria", validate_choice=False)
    comment = TextAreaField(
        "Comment (optional)",
        widget=GovCharacterCount(),
        description="Why you chose these criteria, in your own words.",
        validators=[Length(max=COMMENT_MAX_LENGTH, message=f"The comment must be {COMMENT_MAX_LENGTH} characters or fewer")],
    )
    save_and_next = SubmitField("Save and go to next", widget=GovSubmitInput())
    save_for_later = SubmitField("Save and come back later", widget=GovSubmitInput())


class ReopenForm(FlaskForm):
    reason = TextAreaField(
        "Why are you reopening this audit?",
        widget=GovCharacterCount(),
        description="The auditor and other coordinators will see this. Do not include the child's personal details.",
        validators=[
            DataRequired("Enter why you are reopening this audit"),
            Length(max=REASON_MAX_LENGTH, message=f"The reason must be {REASON_MAX_LENGTH} characters or fewer"),
        ],
    )
    submit = SubmitField("Reopen audit", widget=GovSubmitInput())
