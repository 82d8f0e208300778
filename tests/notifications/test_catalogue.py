"""The message catalogue: every kind renders, passes the privacy guard, and refuses fields it does not allow."""

from __future__ import annotations

import re
from datetime import date

import jinja2
import pytest

from audit_workflow.clock import govuk_date
from audit_workflow.notifications.catalogue import (
    KINDS,
    DisallowedField,
    context_leaves,
    message_kind,
    render_message,
    sample_context,
)
from audit_workflow.notifications.privacy import check_message

ALL_KINDS = sorted(KINDS)
FEEDBACK_KINDS = ["feedback_invitation", "feedback_reminder"]
EXPECTED_KINDS = {
    "assignment", "reassignment", "withdrawal", "decline_receipt", "reminder", "due_today", "overdue", "escalation",
    "moderation_assignment", "coordinator_digest", "feedback_invitation", "feedback_reminder", "test_message",
    "action_assigned", "action_reminder", "action_overdue", "action_summary",
}


def test_the_catalogue_has_every_kind():
    assert set(KINDS) == EXPECTED_KINDS


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_both_parts_and_passes_the_privacy_guard(kind):
    context = sample_context(kind)
    message = render_message(kind, context)

    assert message.kind == kind
    assert message.subject and "\n" not in message.subject
    assert message.html.startswith("<!DOCTYPE html>") and '<html lang="en">' in message.html
    assert f"<title>{jinja2.utils.markupsafe.escape(message.subject)}</title>" in message.html
    assert check_message(message, context) == []


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_email_names_the_la_and_how_to_contact_it(kind):
    message = render_message(kind, sample_context(kind))
    for part in (message.html, message.text):
        assert "Northmoor Council (demo)" in part
        assert "If you have a question, email send.qa@nm.demo.example" in re.sub(r"<[^>]+>", "", part)


def test_the_contact_line_is_left_out_when_the_la_has_no_contact_address():
    context = sample_context("reminder")
    context["la"]["contact_email"] = None
    message = render_message("reminder", context)
    assert "If you have a question" not in message.text and "mailto:" not in message.html


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_sample_context_uses_exactly_the_allowed_fields(kind):
    # So the allow-list documents what each email really shows, and the samples preview all of it.
    assert {leaf.field for leaf in context_leaves(sample_context(kind))} == set(message_kind(kind).fields)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_link_has_words_that_say_where_it_goes(kind):
    html = render_message(kind, sample_context(kind)).html
    for text in re.findall(r"<a [^>]*>(.*?)</a>", html):
        assert text.strip() and text.strip().lower() not in {"click here", "here", "link"}


def test_the_assignment_email_lists_every_plan_once_and_says_the_plan_comes_separately():
    context = sample_context("assignment")
    message = render_message("assignment", context)

    assert message.subject == "3 EHCP audits assigned to you – Autumn 2026 audit"
    for plan in context["assignments"]:
        for part in (message.html, message.text):
            assert part.count(plan["system_id"]) == 1
            for detail in (plan["key_stage"], plan["setting_type"], plan["primary_need"], govuk_date(plan["due_date"])):
                assert detail in part
    assert "Oak Primary" in message.text and "Setting: not recorded (Further education)" in message.text
    assert "The plans are not in this email. Sam Okafor will send them to you separately" in message.text
    assert "https://audit.nm.demo.example/sign-in" in message.text
    assert 'href="https://audit.nm.demo.example/sign-in"' in message.html


def test_a_single_plan_reads_in_the_singular():
    context = sample_context("assignment")
    context["assignments"] = context["assignments"][:1]
    message = render_message("assignment", context)
    assert message.subject.startswith("1 EHCP audit assigned")
    assert "The plan is not in this email" in message.text


@pytest.mark.parametrize("kind", FEEDBACK_KINDS)
@pytest.mark.parametrize("audience", ["family", "young_person", "setting"])
def test_feedback_emails_carry_the_link_but_no_system_id_and_no_name(kind, audience):
    context = {**sample_context(kind), "audience": audience}
    message = render_message(kind, context)

    assert not any("system_id" in field or "display_name" in field for field in message_kind(kind).fields)
    assert not re.search(r"\b[A-Z]{2}-\d{6}\b", message.text + message.html)
    assert context["feedback_url"] in message.text and "Dear" not in message.text
    assert check_message(message, context) == []


@pytest.mark.parametrize(("path", "value"), [
    (("child_name",), "Jane Smith"),
    (("date_of_birth",), date(2015, 4, 3)),
    (("assignments", 0, "child_name"), "Jane Smith"),
    (("assignments", 0, "upn"), "B801200005001"),
    (("la", "postcode"), "SW1A 1AA"),
    (("recipient", "nhs_number"), "943 476 5919"),
    (("plan_text",), "Section F: ..."),
])
def test_a_field_off_the_allow_list_is_refused_without_echoing_its_value(path, value):
    context = sample_context("assignment")
    target = context
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    with pytest.raises(DisallowedField) as refused:
        render_message("assignment", context)

    assert refused.value.kind == "assignment"
    assert str(value) not in str(refused.value)


@pytest.mark.parametrize(("kind", "path", "value", "reason"), [
    ("reminder", ("assignment", "due_date"), "Date of birth: 03/04/2015", "must be a date"),
    ("reminder", ("assignment", "working_days_left"), "two", "must be a whole number"),
    ("reminder", ("sign_in_url",), "javascript:alert(1)", "must be an http(s) link"),
    ("feedback_invitation", ("audience",), "grandparent", "must be one of family, young_person, setting"),
    ("assignment", ("assignments",), {"system_id": "NM-1"}, "is not allowed"),
    ("assignment", ("cycle",), "Autumn", "is not allowed"),
])
def test_a_value_of_the_wrong_type_is_refused(kind, path, value, reason):
    context = sample_context(kind)
    target = context
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value

    with pytest.raises(DisallowedField, match=re.escape(reason)):
        render_message(kind, context)


def test_a_missing_field_fails_loudly():
    context = sample_context("reminder")
    del context["assignment"]["working_days_left"]
    with pytest.raises(jinja2.UndefinedError):
        render_message("reminder", context)


def test_an_unknown_kind_is_refused():
    with pytest.raises(KeyError, match="no message kind 'newsletter'"):
        render_message("newsletter", {})


def test_values_are_escaped_in_html_only_and_the_subject_stays_on_one_line():
    context = sample_context("assignment")
    context["assignments"][0]["setting_name"] = "St Mary's <b>C of E</b> & Primary"
    context["cycle"]["name"] = "Autumn\r\nBcc: everyone@example.com"
    message = render_message("assignment", context)

    assert "St Mary&#39;s &lt;b&gt;C of E&lt;/b&gt; &amp; Primary" in message.html
    assert "St Mary's <b>C of E</b> & Primary" in message.text
    assert message.subject == "3 EHCP audits assigned to you – Autumn Bcc: everyone@example.com"


def test_templates_run_in_a_sandbox(tmp_path):
    (tmp_path / "test_message.html").write_text("{{ service_name.__class__.__mro__ }}")
    (tmp_path / "test_message.txt").write_text("plain")
    with pytest.raises(jinja2.exceptions.SecurityError):
        render_message("test_message", sample_context("test_message"), templates_dir=tmp_path)


def test_the_templates_folder_can_be_chosen(tmp_path):
    (tmp_path / "test_message.html").write_text("<p>{{ la.name }}</p>")
    (tmp_path / "test_message.txt").write_text("{{ transport }}")
    message = render_message("test_message", sample_context("test_message"), templates_dir=tmp_path)
    assert (message.html, message.text) == ("<p>Northmoor Council (demo)</p>", "the development mailbox")


def test_sample_dates_follow_the_day_asked_for_and_samples_are_copies():
    context = sample_context("due_today", on=date(2026, 12, 1))
    assert context["assignment"]["due_date"] == date(2026, 12, 1)
    context["la"]["name"] = "changed"
    assert sample_context("due_today")["la"]["name"] == "Northmoor Council (demo)"


def test_dates_are_written_the_gov_uk_way():
    assert govuk_date(date(2026, 12, 1)) == "1 December 2026"


# Every name an email may carry, and whose it is: staff, the LA, the cycle, the service, a setting.
NAME_FIELDS = {
    "service_name", "la.name", "recipient.display_name", "auditor.display_name", "coordinator.display_name",
    "overdue_by_auditor[].auditor_name", "plans_to_send[].auditor_name", "cycle.name", "assignments[].setting_name",
    "overdue[].owner_name",
}
# Every date an email may carry: when work is due, when feedback closes, the digest's week, when sent.
DATE_FIELDS = {"assignments[].due_date", "assignment.due_date", "closes_on", "week_ending", "sent_at", "action.due_date",
               "overdue[].due_date"}


def test_no_allow_list_has_a_place_for_a_childs_name_or_date_of_birth():
    """What the guard's patterns cannot see (a bare name, a bare date) can only reach an email through an
    allowed field. So every name and date field is listed here by whose it is; adding one fails this
    test until someone has looked at it."""
    fields = {field: field_type for kind in KINDS.values() for field, field_type in kind.fields.items()}
    named = {field for field in fields if re.search(r"name\b", field.rsplit(".", 1)[-1])}
    dated = {field for field, field_type in fields.items() if field_type.description in ("a date", "a date and time")}

    assert named == NAME_FIELDS
    assert dated == DATE_FIELDS
    assert not [field for field in fields
                if re.search(r"child|pupil|young_person|birth|dob|\bage\b|upn|nhs|address|postcode", field)]
