"""Forms for the moderation pages. They only read what was typed; the service holds the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovSelect, GovSubmitInput, GovTextInput
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..cycles.forms import text_area_field
from ..framework.model import GRADES_BEST_FIRST, Grade
from .service import OVERALL, RATIONALE_MAX_LENGTH, REASON_MAX_LENGTH


def _reason(label: str, hint: str) -> StringField:
    return text_area_field(label, hint, "Enter a reason", REASON_MAX_LENGTH,
                           f"The reason must be {REASON_MAX_LENGTH} characters or fewer")


class FindPlanForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET): it changes nothing

    system_id = StringField("System ID", widget=GovTextInput(), validators=[InputRequired("Enter a System ID"), Length(max=64)])
    submit = SubmitField("Find its audits", widget=GovSubmitInput())


class SelectForm(FlaskForm):
    submit = SubmitField("Pick the moderation sample now", widget=GovSubmitInput())


class AddPickForm(FlaskForm):
    system_id = StringField("System ID", widget=GovTextInput(), validators=[InputRequired("Enter the plan's System ID"), Length(max=64)])
    reason = _reason("Why moderate this plan?", "For example, a complaint about its audit, or a new auditor's first audits. Do not name the child or their family.")
    submit = SubmitField("Add to the moderation sample", widget=GovSubmitInput())


class RemovePickForm(FlaskForm):
    reason = _reason("Why remove this plan?", "For example, the plan has ceased. Do not name the child or their family.")
    submit = SubmitField("Remove from the moderation sample", widget=GovSubmitInput())


class ModeratorsForm(FlaskForm):
    moderators = SelectMultipleField("Moderators", widget=GovCheckboxesInput(), choices=[],
                                     description="Preferred as second auditors, and may adjudicate pairs they did not audit.")
    submit = SubmitField("Save moderators", widget=GovSubmitInput())


def adjudication_form(section_codes: tuple[str, ...], prefill: dict[str, str], formdata=None) -> FlaskForm:
    """One grade choice per section and one overall, and the rationale."""
    section_choices = [SelectChoice("", "Choose a grade")] + [SelectChoice(grade.value, grade.label) for grade in Grade]
    overall_choices = [SelectChoice("", "Choose a grade")] + [SelectChoice(grade.value, grade.label) for grade in GRADES_BEST_FIRST]

    class AdjudicationForm(FlaskForm):
        rationale = text_area_field("Why these grades?",
                                    "What the two audits disagreed on and how you decided. Do not name the child or their family.",
                                    "Enter the reasons for the agreed grades", RATIONALE_MAX_LENGTH,
                                    f"The reasons must be {RATIONALE_MAX_LENGTH} characters or fewer")
        submit = SubmitField("Record the agreed grades", widget=GovSubmitInput())

    for code in (*section_codes, OVERALL):
        label = "Overall grade" if code == OVERALL else f"Section {code}"
        setattr(AdjudicationForm, f"grade_{code}", SelectField(
            label, widget=GovSelect(), choices=overall_choices if code == OVERALL else section_choices,
            validators=[InputRequired(f"Choose the agreed grade for {label.lower() if code == OVERALL else label}")],
            default=prefill.get(code, "")))
    return AdjudicationForm(formdata=formdata) if formdata is not None else AdjudicationForm()
