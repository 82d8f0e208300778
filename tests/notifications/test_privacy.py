"""The privacy guard (docs/checks.md#check-8): canary personal data put into every allowed text field is caught,
and a violation never repeats what it found."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_workflow.clock import govuk_date
from audit_workflow.notifications.catalogue import (
    DECLINE_REASON_CHARS,
    KINDS,
    LINK,
    DisallowedField,
    OPTIONAL_TEXT,
    TEXT,
    RenderedMessage,
    render_message,
    sample_context,
)
from audit_workflow.notifications.privacy import (
    PLAN_TEXT_MAX_CHARS,
    UPN_LETTERS,
    check_message,
    is_valid_nhs_number,
    upn_check_letter,
)

PARAGRAPH = (
    "Section B: Jane has significant difficulties with speech and language and finds busy classrooms "
    "overwhelming. She communicates best with visual supports and needs an adult to help her manage "
    "transitions between activities, particularly after lunch and at the end of the school day, every day."
)
CANARIES = {
    "nhs_number": "9434765919",
    "nhs_number_spaced": "943 476 5919",
    "upn": "B801200005001",
    "date_of_birth": "Date of birth: 03/04/2015",
    "born_on": "born 3 April 2015",
    "dob_short": "DOB 3.4.15",
    "child_name": "Child's name: Jane Smith",
    "first_name": "First name: Jane",
    "postcode": "SW1A 1AA",
}
RULE_OF = {"nhs_number": "nhs_number", "nhs_number_spaced": "nhs_number", "upn": "upn",
           "date_of_birth": "date_of_birth", "born_on": "date_of_birth", "dob_short": "date_of_birth",
           "child_name": "name_label", "first_name": "name_label", "postcode": "address"}
TEXT_TYPES = (TEXT, OPTIONAL_TEXT, LINK)


def _text_fields():
    """Every field that can hold text: where a child's name or date of birth could be slipped in."""
    return [(kind, field) for kind in sorted(KINDS) for field, field_type in KINDS[kind].fields.items()
            if field_type in TEXT_TYPES or field_type.free_text_chars]


def test_the_free_text_fields_are_among_those_tried():
    assert ("decline_receipt", "decline.reason") in _text_fields()


def _with_value(kind: str, field: str, value: str) -> dict:
    """The sample context with `value` in `field` (the first item of any list on the way)."""
    context = sample_context(kind)
    if KINDS[kind].fields[field] is LINK:
        value = f"https://audit.nm.demo.example/{value}"
    *parents, last = field.split(".")
    target = context
    for step in parents:
        target = target[step.removesuffix("[]")]
        if step.endswith("[]"):
            target = target[0]
    if last.endswith("[]"):
        target[last.removesuffix("[]")][0] = value
    else:
        target[last] = value
    return context


def _message(text: str) -> RenderedMessage:
    return RenderedMessage(kind="test", subject="Subject", html=f"<p>{text}</p>", text=text)


def _rules(text: str) -> set[str]:
    return {violation.rule for violation in check_message(_message(text))}


@pytest.mark.parametrize(("kind", "field"), _text_fields())
@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_a_canary_in_any_allowed_text_field_is_caught_in_what_is_sent(kind, field, canary):
    context = _with_value(kind, field, CANARIES[canary])
    message = render_message(kind, context)

    violations = check_message(message)  # the rendered email alone, as a template change would leak it

    assert RULE_OF[canary] in {violation.rule for violation in violations}
    for violation in violations + check_message(message, context):
        assert CANARIES[canary] not in violation.excerpt_redacted
        shown = re.findall(r"“(.*)”", violation.excerpt_redacted)
        assert not any(re.search(r"\d", text) for text in shown), "digits leak into the excerpt"


@pytest.mark.parametrize(("kind", "field"), _text_fields())
def test_plan_text_in_any_allowed_text_field_is_caught(kind, field):
    context = _with_value(kind, field, PARAGRAPH)
    assert len(PARAGRAPH) > PLAN_TEXT_MAX_CHARS

    violations = check_message(render_message(kind, context), context)

    assert "plan_text" in {violation.rule for violation in violations}
    assert not any("Jane" in violation.excerpt_redacted for violation in violations)


def test_text_over_several_lines_is_refused_as_possible_plan_text():
    context = sample_context("reminder")
    context["recipient"]["display_name"] = "Priya\nNeeds: speech therapy weekly"
    violations = check_message(render_message("reminder", context), context)
    assert "plan_text" in {violation.rule for violation in violations}


@pytest.mark.parametrize(("text", "rule"), [
    ("B801200005001", "upn"),
    ("b801200005001", "upn"),
    ("UPN: unknown", "upn"),
    ("unique pupil number", "upn"),
    ("9434765919", "nhs_number"),
    ("943-476-5919", "nhs_number"),
    ("NHS number withheld", "nhs_number"),
    ("DOB 3.4.15", "date_of_birth"),
    ("d.o.b. unknown", "date_of_birth"),
    ("her birthday is soon", "date_of_birth"),
    ("born on 3rd April 2015", "date_of_birth"),
    ("born in 2015", "date_of_birth"),
    ("aged 7", "date_of_birth"),
    ("Age: 14", "date_of_birth"),
    ("a 7-year-old", "date_of_birth"),
    ("7 years old", "date_of_birth"),
    ("Child's name: Jane", "name_label"),
    ("Child’s full name", "name_label"),
    ("Name of the young person", "name_label"),
    ("Forename", "name_label"),
    ("Surname Smith", "name_label"),
    ("First name: Jane", "name_label"),
    ("M1 1AE", "address"),
    ("sw1a1aa", "address"),
    ("EC1A 1BB", "address"),
    ("Home address: 1 High Street", "address"),
    ("Section F: provision", "plan_text"),
    ("Outcomes: by the end of key stage 2 she will read fluently", "plan_text"),
])
def test_personal_data_is_recognised(text, rule):
    assert rule in _rules(text)


@pytest.mark.parametrize("text", [
    "System ID NM-100123",
    "System IDs SV-100457, NM-100982",
    "Key stage: KS2",
    "Key stage 4",
    "Primary need: ASD",
    "Setting: Oak Primary (Mainstream school)",
    "Post-16",
    "Due: 13 December 2026",
    "due on 2026-12-13",
    "First audits of the sampled plans: 60",
    "Moderation: 7 of 10 second audits submitted, 1 overdue",
    "in 2 working days",
    "5 working days overdue. We have sent 3 reminders.",
    "Call 0161 496 0000",
    "email send.qa@nm.demo.example",
    "Email address: send.qa@nm.demo.example",
    "A801200005001",  # a UPN's shape with the wrong check letter
    "9434765918",  # an NHS number's shape with the wrong check digit
    "Reason given: Conflict of interest",
    "the page 12 of the guidance",
])
def test_ordinary_email_text_is_not_flagged(text):
    assert _rules(text) == set()


def test_labels_are_shown_but_values_only_by_their_shape():
    violations = check_message(_message("Surname Smith, UPN B801200005001, postcode SW1A 1AA"))
    excerpts = {violation.excerpt_redacted for violation in violations}
    assert "text, character 0: “Surname”" in excerpts
    assert "text, character 19: “x############”" in excerpts
    assert "text, character 43: “xx#x #xx”" in excerpts
    assert not any("Smith" in excerpt for excerpt in excerpts)


def test_the_upn_check_letter_follows_the_dfe_rule():
    assert upn_check_letter("801200005001") == "B"  # B801200005001 is valid
    assert upn_check_letter("80120000500A") is not None  # a temporary UPN ends in a letter
    assert upn_check_letter("8012000050I1") is None


@given(digits=st.text("0123456789", min_size=11, max_size=11), temporary=st.sampled_from(["", *UPN_LETTERS]))
def test_every_valid_upn_is_caught(digits, temporary):
    rest = digits + (temporary or "7")
    upn = upn_check_letter(rest) + rest
    assert "upn" in _rules(f"Pupil {upn} joined")


def _nhs_numbers():
    def with_check_digit(nine: str) -> str | None:
        check = 11 - sum(int(digit) * weight for digit, weight in zip(nine, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        return None if check == 10 else nine + str(check)

    return st.text("0123456789", min_size=9, max_size=9).map(with_check_digit).filter(bool)


@given(number=_nhs_numbers(), separator=st.sampled_from(["", " ", "-"]))
def test_every_valid_nhs_number_is_caught(number, separator):
    assert is_valid_nhs_number(number)
    written = separator.join((number[:3], number[3:6], number[6:]))
    assert "nhs_number" in _rules(f"NHS {written}.")


@given(prefix=st.sampled_from(["NM", "SV", "KT"]), serial=st.integers(100000, 999999),
       due=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)))
def test_system_ids_and_due_dates_are_never_flagged(prefix, serial, due):
    text = f"Your audit of System ID {prefix}-{serial} is due on {govuk_date(due)} ({due.isoformat()})."
    assert _rules(text) == set()


def test_an_html_label_and_its_value_in_separate_cells_are_still_read_together():
    message = RenderedMessage(kind="test", subject="S", text="",
                              html="<table><tr><th>Born</th><td>3&nbsp;April&nbsp;2015</td></tr></table>")
    assert {violation.rule for violation in check_message(message)} == {"date_of_birth"}


def test_the_real_due_dates_of_the_samples_pass():
    for offset in range(0, 400, 7):
        day = date(2026, 1, 1) + timedelta(days=offset)
        for kind in KINDS:
            context = sample_context(kind, on=day)
            assert check_message(render_message(kind, context), context) == []


# --- Free text: a decline reason may use all of its form's 500 characters --------------------------


def _decline_reason(length: int) -> str:
    """An auditor's reason of exactly `length` characters, over two lines, as a textarea sends it."""
    first = "I am on leave for most of the audit window and cannot finish it before it is due."
    second = "I have told my manager and asked for a lighter load next term"
    body = f"{first}\r\n{second}"
    return (body + " and" * length)[: length - 1] + "."


def test_a_decline_reason_may_fill_its_form_over_several_lines():
    context = sample_context("decline_receipt")
    context["decline"]["reason"] = _decline_reason(DECLINE_REASON_CHARS)
    assert len(context["decline"]["reason"]) == DECLINE_REASON_CHARS > PLAN_TEXT_MAX_CHARS

    message = render_message("decline_receipt", context)

    assert check_message(message, context) == []
    assert "I am on leave for most of the audit window" in message.text


def test_a_decline_reason_longer_than_its_form_allows_is_refused():
    context = sample_context("decline_receipt")
    context["decline"]["reason"] = _decline_reason(DECLINE_REASON_CHARS + 1)
    with pytest.raises(DisallowedField, match="must be text of at most 500 characters"):
        render_message("decline_receipt", context)


@pytest.mark.parametrize("canary", sorted(CANARIES))
def test_personal_data_in_a_long_decline_reason_is_still_caught(canary):
    context = sample_context("decline_receipt")
    context["decline"]["reason"] = f"{_decline_reason(300)} {CANARIES[canary]}"
    violations = check_message(render_message("decline_receipt", context), context)
    assert RULE_OF[canary] in {violation.rule for violation in violations}


def test_other_text_keeps_the_short_limit_and_stays_on_one_line():
    context = sample_context("decline_receipt")
    context["auditor"]["display_name"] = "x" * (PLAN_TEXT_MAX_CHARS + 1)
    context["recipient"]["display_name"] = "Sam\nOkafor"
    violations = check_message(render_message("decline_receipt", context), context)
    assert [violation.excerpt_redacted for violation in violations] == [
        "context recipient.display_name: text over several lines",
        f"context auditor.display_name: {PLAN_TEXT_MAX_CHARS + 1} characters of text (at most {PLAN_TEXT_MAX_CHARS} allowed)",
    ]


# Typed text (reasons, comments, cycle names, values in an imported file): what personal_data_in
# refuses on top of the email rules, and the ordinary text it must let through.

from audit_workflow.notifications.privacy import personal_data_in  # noqa: E402


@pytest.mark.parametrize("text, found", [
    ("Zebedee Quxley 03/04/2015", "a name with a date"),
    ("QUXLEY, Zebedee 3 April 2015", "a name with a date"),
    ("Zebedee Quxley (03-Apr-2015)", "a name with a date"),
    ("Zebedee Quxley, b. 3.4.15", "a name with a date"),
    ("Oak Primary - Zebedee O'Quxley 2015-04-03", "a name with a date"),
    ("Sam Jo-Quxley 3rd of April 2015", "a name with a date"),
    ("Zebedee Quxley April 3rd, 2015", "a name with a date"),
    ("DOB 3.4.15", "a date of birth or age"),
    ("born 2015/04/03", "a date of birth or age"),
    ("B801200005001", "a UPN"),
    ("943 476 5919", "an NHS number"),
    ("lives at SW1A 1AA", "an address or postcode"),
    ("parent: zq@example.org", "an email address"),
    ("mum on 07700 900123", "a phone number"),
    ("ring +44 (0)161 496 0000", "a phone number"),
])
def test_typed_text_with_personal_details_is_refused(text, found):
    assert found in personal_data_in(text)


@pytest.mark.parametrize("text", [
    "Annual Review 03/04/2026 was late; Section F is not specific",
    "Autumn Term 1 September 2026",
    "Autumn 2026 EHCP audit",
    "Cycle 01/09/2026 to 18/12/2026",
    "Spring Term Moderation 12 January 2027",
    "Reviewed at SEN Panel 4 March 2026",
    "Conflict of interest: I wrote this plan",
    "I am away from 3 November 2026 until the due date",
    "Section F provision is not quantified (speech and language therapy 'regular')",
    "Outcomes are not SMART; see Section E",
    "Key Stage 4 transition not addressed",
    "St Mary's CE Primary, Oak Primary, Moor Lane College",
    "The plan was issued on 2026-10-01 and amended 12/11/2026",
    "SV-100001",
    "Needs 12 hours of 1:1 support",
])
def test_ordinary_audit_text_is_not_refused(text):
    assert personal_data_in(text) == []


@pytest.mark.parametrize("text", ["Oak Primary 03/04/2015", "SEN North 2015-04-03", "3 April 2015"])
def test_a_short_label_may_hold_no_date_at_all(text):
    assert personal_data_in(text) == []
    assert personal_data_in(text, dates_allowed=False) == ["a date"]


@given(st.sampled_from(["Zebedee", "Priya", "Olu", "Siobhan", "Mohammed"]), st.sampled_from(["Quxley", "Nkemelu", "O'Neill", "Smith-Jones"]),
       st.dates(date(2000, 1, 1), date(2025, 12, 31)), st.sampled_from(["%d/%m/%Y", "%d.%m.%y", "%Y-%m-%d", "%d %B %Y", "%d-%b-%Y"]),
       st.sampled_from([" ", ", ", " - ", " DOB ", " (", " born "]))
def test_a_name_then_a_date_of_birth_is_caught_in_any_common_format(forename, surname, born, style, between):
    text = f"{forename} {surname}{between}{born.strftime(style)}"
    assert personal_data_in(text), text


def test_a_cycle_name_with_a_name_and_a_date_of_birth_is_refused_on_the_field(sign_in_as, db):
    from tests.cycles.test_views import CYCLE_FORM, post

    client = sign_in_as("coordinator")
    response = post(client, "/cycles/new", {**CYCLE_FORM, "name": "Zebedee Quxley 03/04/2015"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Remove a name with a date from the name" in page and "Quxley" not in page.split("govuk-error-summary")[1][:2000]
    assert post(client, "/cycles/new", {**CYCLE_FORM, "name": "Autumn Term 2026"}).status_code == 302


@pytest.mark.parametrize(("name", "found"), [
    ("Autumn 2026 EHCP audit", []),
    ("Section F: provision", ["plan text"]),
    ("Needs: support with reading and writing every day", ["plan text"]),
])
def test_a_cycle_name_is_checked_as_every_email_showing_it_would_be(db, world, name, found):
    from audit_workflow.notifications.catalogue import sample_context
    from audit_workflow.notifications.outbox import queue_message
    from audit_workflow.notifications.privacy import emails_blocked_by_cycle_name

    assert emails_blocked_by_cycle_name(name) == found
    context = sample_context("assignment")
    context["cycle"]["name"] = name
    queued = queue_message(db, kind="assignment", to=["auditor@council.example.gov.uk"], context=context, key="k:1",
                           la_id=world.las["own"].id)
    assert queued is (not found)  # what the check refuses, the guard would have blocked


# Pieces that make the rules match, nearly match or match by IGNORECASE's non-ASCII letters ("ſ" is
# an "s", the Kelvin sign a "k" to it), joined at random: the guard's shortcuts must change nothing.
PIECES = [*CANARIES.values(), PARAGRAPH[:60], "UPN", "unique pupil number", "NHS no", "nhs  Number", "d.o.b", "Do.B",
          "birthday", "born", "Born on", "aged 7", "12 yrs old", "Surname", "forenames", "name of the pupil", "Last name:",
          "Address:", "email address:", "Section K -", "ſection F:", "Outcomes: to read and write with some help", "Needs:",
          "GIR 0AA", "gir0aa", "\u212a", "İ", "ı", "ſ", "’s", "–", " ", "\n", "\t", ":", "<b>", "</td><td>", "&amp;", "&#39;",
          "2015", "3", "03/04/2015", "\u0663", "x", "Z", "9434765919", "b801200005001", "M80120000500A", "943-476-591",
          "\u0669\u0663\u0664\u0664\u0667\u0666\u0665\u0669\u0661\u0669"]
texts = st.one_of(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), st.text(max_size=60))


@pytest.mark.parametrize("piece", PIECES)
def test_the_guard_finds_exactly_what_the_definition_finds_in_each_piece(piece):
    from audit_workflow.notifications.privacy import check_message_by_definition

    rendered = RenderedMessage(kind="typed_text", subject=piece, html=piece, text=piece)
    assert check_message(rendered, {"value": piece}) == check_message_by_definition(rendered, {"value": piece})


@settings(max_examples=300, deadline=None)
@given(texts, texts, texts, st.dictionaries(st.sampled_from(["name", "cycle", "due", "url"]), texts, max_size=4),
       st.sampled_from(["reminder", "decline_receipt", "typed_text"]))
def test_the_guard_finds_exactly_what_every_rule_over_every_part_finds(subject, text, markup, values, kind):
    from audit_workflow.notifications.privacy import check_message_by_definition

    rendered = RenderedMessage(kind=kind, subject=subject, html=markup, text=text)
    context = {"la": dict(values), "items": list(values.values())}
    assert check_message(rendered, context) == check_message_by_definition(rendered, context)
    assert check_message(rendered) == check_message_by_definition(rendered)
