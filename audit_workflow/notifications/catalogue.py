"""Every kind of email the service sends: its subject, its templates and the context it may see.

Each kind lists the context fields it accepts, with their type, as dotted paths ("la.name",
"assignments[].due_date"). render_message() refuses a context carrying anything else, so a child's
name, date of birth, UPN or plan text cannot reach an email by being passed in "just in case":
the field would have to be added here first, where review sees it (docs/checks.md#check-8). Typed fields (dates,
numbers, links) cannot carry free text either; the privacy guard checks what text remains.

Templates live in the repository's email_templates/ folder as <kind>.html and <kind>.txt, both
extending _layout.html / _layout.txt. They are rendered in Jinja's sandbox with StrictUndefined
(a missing field raises jinja2.UndefinedError rather than printing nothing) and with HTML
autoescaping.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from jinja2 import FileSystemLoader, StrictUndefined, Template, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from ..clock import govuk_date, govuk_date_time, today
from ..resources import shipped_path

DEFAULT_TEMPLATES_DIR = shipped_path("email_templates")


@dataclass(frozen=True)
class FieldType:
    description: str
    accepts: Callable[[Any], bool]
    # Set for text a person typed in a form with this limit (a decline reason): the privacy guard lets
    # it be this long and span lines, where other text must be short enough to be a label or a name.
    free_text_chars: int | None = None


TEXT = FieldType("text", lambda value: isinstance(value, str))
OPTIONAL_TEXT = FieldType("text or None", lambda value: value is None or isinstance(value, str))
COUNT = FieldType("a whole number", lambda value: isinstance(value, int) and not isinstance(value, bool))
DATE = FieldType("a date", lambda value: isinstance(value, date) and not isinstance(value, datetime))
MOMENT = FieldType("a date and time", lambda value: isinstance(value, datetime))
LINK = FieldType("an http(s) link", lambda value: isinstance(value, str) and value.startswith(("https://", "http://")))


def free_text(max_chars: int) -> FieldType:
    return FieldType(f"text of at most {max_chars} characters",
                     lambda value: isinstance(value, str) and len(value) <= max_chars, free_text_chars=max_chars)


def one_of(*choices: str) -> FieldType:
    return FieldType(f"one of {', '.join(choices)}", lambda value: value in choices)


class DisallowedField(ValueError):
    """A context field the message kind does not allow, or a value of the wrong type for it."""

    def __init__(self, kind: str, path: str, reason: str = "is not allowed in this kind of email"):
        super().__init__(f"{kind}: context field {path!r} {reason}")
        self.kind = kind
        self.path = path


@dataclass(frozen=True)
class MessageKind:
    name: str
    audience: str  # who receives it, for the admin preview
    subject: str  # a Jinja template; rendered as plain text on one line
    fields: Mapping[str, FieldType]

    @property
    def html_template(self) -> str:
        return f"{self.name}.html"

    @property
    def text_template(self) -> str:
        return f"{self.name}.txt"


@dataclass(frozen=True)
class RenderedMessage:
    kind: str
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class ContextLeaf:
    path: str  # where it is, e.g. "assignments[2].system_id"
    field: str  # the allow-list entry it must match, e.g. "assignments[].system_id"
    value: Any


# The decline form's limit (cycles/forms.py), and Assignment.decline_reason's column.
DECLINE_REASON_CHARS = 500

# In every email: the footer names the LA and how to contact it.
COMMON_FIELDS = {"service_name": TEXT, "la.name": TEXT, "la.contact_email": OPTIONAL_TEXT}
STAFF_FIELDS = {**COMMON_FIELDS, "recipient.display_name": TEXT, "sign_in_url": LINK}
PLAN_LIST_FIELDS = {
    **STAFF_FIELDS,
    "cycle.name": TEXT,
    "coordinator.display_name": TEXT,
    "assignments[].system_id": TEXT,
    "assignments[].key_stage": TEXT,
    "assignments[].setting_name": OPTIONAL_TEXT,
    "assignments[].setting_type": TEXT,
    "assignments[].primary_need": TEXT,
    "assignments[].due_date": DATE,
}
CHASE_FIELDS = {**STAFF_FIELDS, "assignment.system_id": TEXT, "assignment.due_date": DATE}
# An action's summary: the form's limit (actions/service.py) and Action.summary's column.
ACTION_SUMMARY_CHARS = 500
ACTION_FIELDS = {**STAFF_FIELDS, "action.summary": free_text(ACTION_SUMMARY_CHARS), "action.type": TEXT,
                 "action.system_id": OPTIONAL_TEXT, "action.due_date": DATE}
# Families, young people and schools: a single-use link and nothing that identifies the plan.
FEEDBACK_FIELDS = {
    **COMMON_FIELDS,
    "audience": one_of("family", "young_person", "setting"),
    "feedback_url": LINK,
    "opt_out_url": LINK,
    "closes_on": DATE,
}

_PLAN_COUNT = "{% set n = assignments|length %}"
KINDS: dict[str, MessageKind] = {
    kind.name: kind
    for kind in (
        MessageKind(
            "assignment", "auditor",
            _PLAN_COUNT + "{{ n }} EHCP audit{{ 's' if n != 1 }} assigned to you – {{ cycle.name }}",
            PLAN_LIST_FIELDS,
        ),
        MessageKind(
            "reassignment", "auditor",
            _PLAN_COUNT + "{{ n }} EHCP audit{{ 's' if n != 1 }} passed to you – {{ cycle.name }}",
            PLAN_LIST_FIELDS,
        ),
        MessageKind(
            "withdrawal", "auditor",
            "Audit of {{ assignment.system_id }} passed to another auditor – {{ cycle.name }}",
            {**CHASE_FIELDS, "cycle.name": TEXT},
        ),
        MessageKind(
            "moderation_assignment", "moderator",
            _PLAN_COUNT + "{{ n }} EHCP audit{{ 's' if n != 1 }} to moderate – {{ cycle.name }}",
            PLAN_LIST_FIELDS,
        ),
        MessageKind(
            "decline_receipt", "coordinator",
            "{{ auditor.display_name }} declined the audit of {{ assignment.system_id }}",
            {**CHASE_FIELDS, "auditor.display_name": TEXT, "decline.reason": free_text(DECLINE_REASON_CHARS)},
        ),
        MessageKind(
            "reminder", "auditor",
            "Reminder: audit of {{ assignment.system_id }} due {{ assignment.due_date|long_date }}",
            {**CHASE_FIELDS, "assignment.working_days_left": COUNT},
        ),
        MessageKind(
            "due_today", "auditor",
            "Due today: audit of {{ assignment.system_id }}",
            CHASE_FIELDS,
        ),
        MessageKind(
            "overdue", "auditor",
            "Overdue: audit of {{ assignment.system_id }} was due {{ assignment.due_date|long_date }}",
            {**CHASE_FIELDS, "assignment.working_days_overdue": COUNT},
        ),
        MessageKind(
            "escalation", "coordinator",
            "Overdue {{ assignment.working_days_overdue }} working days: audit of {{ assignment.system_id }}",
            {
                **CHASE_FIELDS,
                "auditor.display_name": TEXT,
                "assignment.working_days_overdue": COUNT,
                "assignment.reminders_sent": COUNT,
            },
        ),
        MessageKind(
            "coordinator_digest", "coordinator",
            "Audit progress for the week ending {{ week_ending|long_date }} – {{ cycle.name }}",
            {
                **STAFF_FIELDS,
                "cycle.name": TEXT,
                "week_ending": DATE,
                "progress.total": COUNT,
                "progress.not_started": COUNT,
                "progress.in_progress": COUNT,
                "progress.submitted": COUNT,
                "progress.declined": COUNT,
                "progress.overdue": COUNT,
                **{f"{kind}.{count}": COUNT for kind in ("moderation", "reaudits") for count in ("total", "submitted", "overdue")},
                "overdue_by_auditor[].auditor_name": TEXT,
                "overdue_by_auditor[].system_ids[]": TEXT,
                "plans_to_send[].system_id": TEXT,
                "plans_to_send[].auditor_name": TEXT,
            },
        ),
        MessageKind(
            "action_assigned", "action owner",
            "Action for you{{ ' on ' ~ action.system_id if action.system_id }}, due {{ action.due_date|long_date }}",
            ACTION_FIELDS,
        ),
        MessageKind(
            "action_reminder", "action owner",
            "Reminder: action{{ ' on ' ~ action.system_id if action.system_id }} due {{ action.due_date|long_date }}",
            {**ACTION_FIELDS, "action.working_days_left": COUNT},
        ),
        MessageKind(
            "action_overdue", "action owner",
            "Overdue: action{{ ' on ' ~ action.system_id if action.system_id }} was due {{ action.due_date|long_date }}",
            {**ACTION_FIELDS, "action.working_days_overdue": COUNT},
        ),
        MessageKind(
            "action_summary", "coordinator",
            "Actions for the week ending {{ week_ending|long_date }}: {{ actions.overdue }} overdue",
            {
                **STAFF_FIELDS,
                "week_ending": DATE,
                "actions.proposed": COUNT,
                "actions.open": COUNT,
                "actions.overdue": COUNT,
                "actions.closed_this_week": COUNT,
                "overdue[].system_id": OPTIONAL_TEXT,
                "overdue[].summary": free_text(ACTION_SUMMARY_CHARS),
                "overdue[].owner_name": TEXT,
                "overdue[].due_date": DATE,
            },
        ),
        MessageKind(
            "feedback_invitation", "family, young person or school",
            "{{ la.name }} would like your views on an EHC plan",
            FEEDBACK_FIELDS,
        ),
        MessageKind(
            "feedback_reminder", "family, young person or school",
            "Reminder: your views on an EHC plan, by {{ closes_on|long_date }}",
            FEEDBACK_FIELDS,
        ),
        MessageKind(
            "test_message", "admin",
            "Test email from {{ service_name }}",
            {**COMMON_FIELDS, "transport": TEXT, "sent_at": MOMENT},
        ),
    )
}


def message_kind(name: str) -> MessageKind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"no message kind {name!r}; the kinds are {', '.join(sorted(KINDS))}") from None


def context_leaves(context: Mapping[str, Any], path: str = "", field: str = "") -> Iterator[ContextLeaf]:
    """Every value in a nested context, with where it is and the allow-list entry it falls under."""
    for key, value in context.items():
        leaf_path = f"{path}.{key}" if path else str(key)
        leaf_field = f"{field}.{key}" if field else str(key)
        yield from _leaves_of(value, leaf_path, leaf_field)


def _leaves_of(value: Any, path: str, field: str) -> Iterator[ContextLeaf]:
    if isinstance(value, Mapping):
        yield from context_leaves(value, path, field)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _leaves_of(item, f"{path}[{index}]", f"{field}[]")
    else:
        yield ContextLeaf(path, field, value)


def check_context(kind: MessageKind, context: Mapping[str, Any]) -> None:
    """Raise DisallowedField unless every value is on the kind's allow-list and of its type."""
    for leaf in context_leaves(context):
        field_type = kind.fields.get(leaf.field)
        if field_type is None:
            raise DisallowedField(kind.name, leaf.path)
        if not field_type.accepts(leaf.value):
            raise DisallowedField(kind.name, leaf.path, f"must be {field_type.description}")


def render_message(kind: str, context: Mapping[str, Any], *, templates_dir: Path | None = None) -> RenderedMessage:
    message = message_kind(kind)
    check_context(message, context)
    environment = _environment(templates_dir or DEFAULT_TEMPLATES_DIR)
    # One line, whatever the template or the values did: a subject is a header.
    subject = " ".join(_subject_template(environment, message.subject).render(context).split())
    variables = {**context, "subject": subject}
    return RenderedMessage(
        kind=kind,
        subject=subject,
        html=environment.get_template(message.html_template).render(variables),
        text=environment.get_template(message.text_template).render(variables),
    )


@lru_cache(maxsize=None)
def _subject_template(environment: SandboxedEnvironment, subject: str) -> Template:
    # Compiled once per kind: compiling was 40% of the cost of queueing an email (benchmarks).
    return environment.from_string(subject)


@lru_cache(maxsize=None)
def _environment(templates_dir: Path) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        loader=FileSystemLoader(templates_dir),
        undefined=StrictUndefined,
        # HTML templates are escaped; text templates and the subject are not (they are not HTML).
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # The pages' formatters (clock.py), so an email and the page it links to write a date alike.
    environment.filters["long_date"] = govuk_date
    environment.filters["long_date_time"] = govuk_date_time
    return environment



def staff_context(config: Mapping[str, Any], la: Any, recipient_name: str, **fields) -> dict[str, Any]:
    """The STAFF_FIELDS every email to staff carries (la: a LocalAuthority), plus the kind's own fields."""
    return {
        "service_name": config["SERVICE_NAME"],
        "la": {"name": la.name, "contact_email": la.contact_email},
        "recipient": {"display_name": recipient_name},
        "sign_in_url": f"{config['BASE_URL'].rstrip('/')}/sign-in",
        **fields,
    }


def sample_context(kind: str, *, on: date | None = None) -> dict[str, Any]:
    """A realistic context for `kind` (fictional LA, staff and System IDs), for previews, tests and
    `mail test`. Dates are relative to `on` (default today). Every allowed field is present."""
    message_kind(kind)
    day = on or today()
    return copy.deepcopy(_samples(day)[kind])


def _samples(day: date) -> dict[str, dict[str, Any]]:
    la = {"name": "Northmoor Council (demo)", "contact_email": "send.qa@nm.demo.example"}
    common = {"service_name": "EHCP quality audit", "la": la}
    sign_in_url = "https://audit.nm.demo.example/sign-in"
    auditor = {"display_name": "Priya Shah"}
    coordinator = {"display_name": "Sam Okafor"}
    cycle = {"name": "Autumn 2026 audit"}
    due = day + timedelta(days=21)
    plans = [
        {"system_id": "NM-100123", "key_stage": "KS2", "setting_name": "Oak Primary",
         "setting_type": "Mainstream school", "primary_need": "ASD", "due_date": due},
        {"system_id": "NM-100457", "key_stage": "KS4", "setting_name": "Hillside Special School",
         "setting_type": "Special school", "primary_need": "SLD", "due_date": due},
        {"system_id": "NM-100982", "key_stage": "Post-16", "setting_name": None,
         "setting_type": "Further education", "primary_need": "SEMH", "due_date": due},
    ]
    plan_list = {**common, "recipient": auditor, "sign_in_url": sign_in_url, "cycle": cycle,
                 "coordinator": coordinator, "assignments": plans}
    chase = {**common, "recipient": auditor, "sign_in_url": sign_in_url}
    feedback = {**common, "audience": "family", "feedback_url": "https://audit.nm.demo.example/feedback/start/"
                "kq3Vt7mJ0xWc9Lr2bN5sHd8yFp1aGe4uZo6iTn0vXjE", "opt_out_url": "https://audit.nm.demo.example/feedback/"
                "stop/Zr8pQ2wNc5Hx1Ld7Kf3Vb9Tm4Ya6Gj0sUe2Ri5Wo8qE", "closes_on": day + timedelta(days=14)}
    action = {"summary": "Amend and re-audit: graded Inadequate overall; start with section F, graded Inadequate.",
              "type": "Amend and re-audit", "system_id": "NM-100123", "due_date": day + timedelta(days=28)}
    return {
        "assignment": plan_list,
        "reassignment": {**plan_list, "assignments": plans[:1]},
        "withdrawal": {**chase, "cycle": cycle, "assignment": {"system_id": "NM-100123", "due_date": due}},
        "moderation_assignment": {**plan_list, "recipient": {"display_name": "Tom Reid"}, "assignments": plans[1:]},
        "decline_receipt": {
            **chase, "recipient": coordinator, "auditor": auditor,
            "assignment": {"system_id": "NM-100457", "due_date": due},
            "decline": {"reason": "Conflict of interest"},
        },
        "reminder": {**chase, "assignment": {"system_id": "NM-100123", "due_date": day + timedelta(days=2),
                                             "working_days_left": 2}},
        "due_today": {**chase, "assignment": {"system_id": "NM-100123", "due_date": day}},
        "overdue": {**chase, "assignment": {"system_id": "NM-100123", "due_date": day - timedelta(days=3),
                                            "working_days_overdue": 3}},
        "escalation": {
            **chase, "recipient": coordinator, "auditor": auditor,
            "assignment": {"system_id": "NM-100123", "due_date": day - timedelta(days=7),
                           "working_days_overdue": 5, "reminders_sent": 3},
        },
        "coordinator_digest": {
            **common, "recipient": coordinator, "sign_in_url": sign_in_url, "cycle": cycle, "week_ending": day,
            "progress": {"total": 60, "not_started": 14, "in_progress": 21, "submitted": 22, "declined": 3,
                         "overdue": 4},
            "moderation": {"total": 6, "submitted": 4, "overdue": 1},
            "reaudits": {"total": 2, "submitted": 0, "overdue": 0},
            "overdue_by_auditor": [
                {"auditor_name": "Priya Shah", "system_ids": ["NM-100123", "NM-100311"]},
                {"auditor_name": "Dan Evans", "system_ids": ["NM-100204", "NM-100678"]},
            ],
            "plans_to_send": [
                {"system_id": "NM-100982", "auditor_name": "Priya Shah"},
                {"system_id": "NM-100745", "auditor_name": "Tom Reid"},
            ],
        },
        "action_assigned": {**chase, "recipient": {"display_name": "Jo Marsh"}, "action": action},
        "action_reminder": {**chase, "recipient": {"display_name": "Jo Marsh"},
                            "action": {**action, "due_date": day + timedelta(days=3), "working_days_left": 3}},
        "action_overdue": {**chase, "recipient": {"display_name": "Jo Marsh"},
                           "action": {**action, "due_date": day - timedelta(days=7), "working_days_overdue": 5}},
        "action_summary": {
            **common, "recipient": coordinator, "sign_in_url": sign_in_url, "week_ending": day,
            "actions": {"proposed": 2, "open": 9, "overdue": 2, "closed_this_week": 3},
            "overdue": [
                {"system_id": "NM-100123", "summary": action["summary"], "owner_name": "Jo Marsh", "due_date": day - timedelta(days=7)},
                {"system_id": None, "summary": "Training for plan writers on outcomes in section E", "owner_name": "Team North",
                 "due_date": day - timedelta(days=2)},
            ],
        },
        "feedback_invitation": feedback,
        "feedback_reminder": {**feedback, "audience": "setting"},
        "test_message": {**common, "transport": "the development mailbox",
                         "sent_at": datetime(day.year, day.month, day.day, 9, 30)},
    }
