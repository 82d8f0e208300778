"""Forms of the cycle report pages. The rules (length, personal details) live in the service."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from wtforms import StringField, SubmitField
from wtforms.validators import AnyOf, InputRequired

from .parts import CONTEXT_TOPICS, FOCUS_AREAS
from .service import FORMATS


class GenerateForm(FlaskForm):
    """The cycle page's buttons: each posts its format as `format`."""

    format = StringField(validators=[InputRequired(), AnyOf(list(FORMATS))])


def _texts_form(name: str, topics: list[tuple[str, str, str]]) -> type[FlaskForm]:
    fields = {key: StringField(title, widget=GovTextArea(), description=hint) for key, title, hint in topics}
    fields["submit"] = SubmitField("Save", widget=GovSubmitInput())
    form = type(name, (FlaskForm,), fields)
    form.topics = [key for key, _, _ in topics]
    return form


RecommendationsForm = _texts_form("RecommendationsForm", [
    (focus.key, f"{focus.title}: recommendation", f"Sections {', '.join(focus.sections)}. Shown in the report under the "
     f"{focus.title.lower()} figures. Leave a blank line between paragraphs.") for focus in FOCUS_AREAS])
ContextForm = _texts_form("ContextForm", [(topic.key, topic.title, topic.hint) for topic in CONTEXT_TOPICS])
