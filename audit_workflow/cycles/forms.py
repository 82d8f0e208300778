"""Forms for the cycle pages. They only read what was typed; the rules (ranges, dates in order,
closed cycles) live in the service, whose CycleError names the field it belongs to."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..auth.models import Discipline
from ..notifications.privacy import emails_blocked_by_cycle_name, personal_data_in
from .lifecycle import STRATA_FIELDS, CycleSettings, parse_target


class WholeNumberField(IntegerField):
    """An IntegerField whose message says what to enter, as the GOV.UK pattern asks."""

    widget = GovTextInput()

    def __init__(self, label: str, message: str, required: bool = True, **kwargs):
        validators = [InputRequired(message)] if required else [Optional()]
        super().__init__(label, validators=validators, **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        raw = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if raw:
            try:
                self.data = int(raw)
            except ValueError:
                raise ValueError(self.message) from None


class DayMonthYearField(DateField):
    """A GOV.UK date input (day, month, year boxes) with a message that says what to enter."""

    widget = GovDateInput()

    def __init__(self, label: str, message: str, **kwargs):
        super().__init__(label, format="%d %m %Y", validators=[InputRequired(message)], **kwargs)
        self.message = message

    def process_formdata(self, valuelist):
        # The widget redraws exactly three boxes from raw_data, whatever a (crafted) request sent.
        self.raw_data = (list(valuelist) + ["", "", ""])[:3] if valuelist else None
        if not self.raw_data or not "".join(self.raw_data).strip():
            self.data = None
            return
        try:
            super().process_formdata([" ".join(part.strip() for part in self.raw_data)])
        except ValueError:
            raise ValueError(self.message) from None


class NoPersonalData:
    """Refuses a child's personal details (the privacy guard's words for them) in what reaches a page
    or an email subject; the message names what was found, never the value."""

    def __init__(self, what: str, dates_allowed: bool = True):
        self.what = what
        self.dates_allowed = dates_allowed

    def __call__(self, form, field) -> None:
        found = personal_data_in(field.data or "", dates_allowed=self.dates_allowed)
        if found:
            raise ValidationError(f"Remove {' and '.join(found)} from {self.what}. This service must not hold a "
                                  "child's personal details.")


def passes_the_email_guard(form, field) -> None:
    """Refuses a cycle name the privacy guard would find in every email about the cycle, which would
    then never be sent (a name like "Section F: provision" reads as plan text)."""
    found = [] if field.errors else emails_blocked_by_cycle_name(field.data or "")
    if found:
        raise ValidationError(f"Change the name: it looks like {' and '.join(found)}, so every email about this "
                              "cycle would be stopped by the privacy guard.")


def choices(pairs) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def text_area_field(label: str, hint: str, missing: str, limit: int, too_long: str, *checks) -> StringField:
    """A GOV.UK text area for what staff type: `missing` when it is left empty, `too_long` past `limit` characters."""
    return StringField(label, widget=GovTextArea(), description=hint,
                       validators=[InputRequired(missing), Length(max=limit, message=too_long), *checks])


def reason_field(label: str, hint: str) -> StringField:
    return text_area_field(label, hint, "Enter a reason", 500, "The reason must be 500 characters or fewer",
                           NoPersonalData("the reason"))


def _target_text(settings: CycleSettings) -> str:
    if settings.sample_size is not None:
        return str(settings.sample_size)
    if settings.sample_share is not None:
        return f"{settings.sample_share * 100:g}%"
    return ""


class CycleForm(FlaskForm):
    name = StringField("Name", widget=GovTextInput(), description="For example, Autumn 2026 EHCP audit",
                       validators=[InputRequired("Enter a name for the cycle"), Length(max=120, message="The name must be 120 characters or fewer"),
                                   NoPersonalData("the name"), passes_the_email_guard])
    period_start = DayMonthYearField("Start of the period", "Enter the start of the period as a real date, like 1 9 2026")
    period_end = DayMonthYearField("End of the period", "Enter the end of the period as a real date, like 18 12 2026")
    target = StringField("Target sample", widget=GovTextInput(),
                         description="A number of plans, like 60, or a share of the register, like 10%. You can leave it empty and decide when you draw the sample.")
    strata = SelectMultipleField("Stratify the sample by", widget=GovCheckboxesInput(), choices=choices(STRATA_FIELDS.items()),
                                 default=CycleSettings.strata,
                                 description="The sample keeps the register's mix of each of these. Choose none for a simple random sample.")
    due_working_days = WholeNumberField("Audits are due after (working days)", "Enter the number of working days auditors have, like 15",
                                        default=CycleSettings.due_working_days)
    remind_days_before = WholeNumberField("Remind auditors this many working days before the due date", "Enter a number of working days, like 2",
                                          default=CycleSettings.remind_days_before)
    overdue_interval_days = WholeNumberField("Chase overdue audits every (working days)", "Enter a number of working days, like 3",
                                             default=CycleSettings.overdue_interval_days)
    escalate_after_days = WholeNumberField("Tell the coordinator when an audit is this many working days overdue", "Enter a number of working days, like 5",
                                           default=CycleSettings.escalate_after_days)
    reallocate_after_days = WholeNumberField("Reallocate automatically after this many working days overdue (optional)",
                                             "Enter a number of working days, like 10, or leave it empty", required=False)
    moderation_share = WholeNumberField("Plans to audit twice for moderation", "Enter a percentage, like 10",
                                        default=round(CycleSettings.moderation_share * 100))
    feedback_enabled = BooleanField("Ask families for feedback on audited plans", widget=GovCheckboxInput())
    submit = SubmitField("Save cycle", widget=GovSubmitInput())

    def fill_from(self, settings: CycleSettings) -> None:
        for name in ("name", "period_start", "period_end", "due_working_days", "remind_days_before", "overdue_interval_days",
                     "escalate_after_days", "reallocate_after_days", "feedback_enabled"):
            getattr(self, name).data = getattr(settings, name)
        self.target.data = _target_text(settings)
        self.strata.data = list(settings.strata)
        self.moderation_share.data = round(settings.moderation_share * 100)

    def settings(self) -> CycleSettings:
        size, share = parse_target(self.target.data)
        return CycleSettings(
            name=self.name.data, period_start=self.period_start.data, period_end=self.period_end.data,
            due_working_days=self.due_working_days.data, sample_size=size, sample_share=share, strata=tuple(self.strata.data),
            remind_days_before=self.remind_days_before.data, overdue_interval_days=self.overdue_interval_days.data,
            escalate_after_days=self.escalate_after_days.data, reallocate_after_days=self.reallocate_after_days.data,
            moderation_share=self.moderation_share.data / 100, feedback_enabled=self.feedback_enabled.data,
        )


class SampleForm(FlaskForm):
    size = WholeNumberField("Number of plans to sample", "Enter the number of plans to sample, like 60", required=False,
                            description="Leave empty to use the cycle's target.")
    seed = WholeNumberField("Seed (optional)", "Enter the seed as a whole number, or leave it empty", required=False,
                            description="The same seed and register give the same sample. Leave empty for a new random draw.")
    submit = SubmitField("Draw the sample", widget=GovSubmitInput())


class AddPlanForm(FlaskForm):
    system_id = StringField("System ID", widget=GovTextInput(), validators=[InputRequired("Enter the plan's System ID"), Length(max=64),
                                                                                NoPersonalData("the System ID", dates_allowed=False)])
    reason = reason_field("Why add this plan?", "For example, a complaint about this plan, or a new writer's first plan. Do not name the child or their family.")
    submit = SubmitField("Add to the sample", widget=GovSubmitInput())


class RemovePlanForm(FlaskForm):
    reason = reason_field("Why remove this plan?", "For example, the plan has ceased, or the child has moved to another LA. Do not name the child or their family.")
    submit = SubmitField("Remove from the sample", widget=GovSubmitInput())


class AddAuditorForm(FlaskForm):
    auditor = SelectField("Auditor", widget=GovSelect(), validators=[InputRequired("Choose an auditor")], choices=[])
    capacity = WholeNumberField("Capacity (plans this cycle)", "Enter how many plans they can audit this cycle, like 5", default=5)
    submit = SubmitField("Add to the pool", widget=GovSubmitInput())


class PoolImportForm(FlaskForm):
    file = FileField("Upload a CSV file", widget=GovFileInput(), validators=[FileRequired("Choose a CSV file")],
                     description="A header row and the columns email and capacity; discipline and team too if you have them, "
                                 "which must match each auditor's record.")
    submit = SubmitField("Import the pool", widget=GovSubmitInput())


class AllocateForm(FlaskForm):
    education = WholeNumberField("Education", "Enter a percentage, like 50, or leave it empty", required=False)
    health = WholeNumberField("Health", "Enter a percentage, like 25, or leave it empty", required=False)
    social_care = WholeNumberField("Social care", "Enter a percentage, like 25, or leave it empty", required=False)
    other = WholeNumberField("Other", "Enter a percentage, or leave it empty", required=False)
    submit = SubmitField("Allocate plans", widget=GovSubmitInput())

    def percentages(self) -> dict[str, int | None]:
        return {discipline.value: getattr(self, discipline.value).data for discipline in Discipline}

    def fill_from(self, mix: dict[str, float]) -> None:
        for discipline, share in mix.items():
            getattr(self, discipline).data = round(share * 100)


class ReassignForm(FlaskForm):
    auditor = RadioField("Who should audit this plan instead?", widget=GovRadioInput(),
                         validators=[InputRequired("Choose the auditor to give this plan to")], choices=[])
    submit = SubmitField("Reassign", widget=GovSubmitInput())


class DeclineForm(FlaskForm):
    reason = reason_field("Why are you declining this audit?", "For example, a conflict of interest, or you will be away before it is due. Do not name the child or their family.")
    submit = SubmitField("Decline the audit", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    """A button that changes something (open, close, tick): CSRF and nothing else."""

    submit = SubmitField("Confirm", widget=GovSubmitInput())
