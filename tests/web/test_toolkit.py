"""The web toolkit's pure parts: GOV.UK dates and times, one tag for every status, names in natural
order, and summary-list rows that never take a typed value for markup."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from markupsafe import Markup

from audit_workflow.auth.models import Role
from audit_workflow.clock import govuk_date, govuk_date_time, govuk_time
from audit_workflow.cycles.models import AssignmentStatus, CycleStatus
from audit_workflow.framework.model import Grade
from audit_workflow.natural_order import natural_key
from audit_workflow.notifications.models import MessageStatus
from audit_workflow.scheduler.models import RunStatus
from audit_workflow.web.filters import STATUS_TAGS, status_tag, summary_rows
from tests.conftest import sign_in
from tests.factories import make_cycle


@pytest.mark.parametrize("moment, text", [
    # The GOV.UK style guide: 5:30pm, not 17:30; midday and midnight, not 12pm or 00:00; 9am, not 9:00am.
    (datetime(2026, 12, 6, 14, 5, tzinfo=timezone.utc), "6 December 2026 at 2:05pm"),
    (datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc), "6 December 2026 at 9am"),
    (datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc), "6 December 2026 at midday"),
    (datetime(2026, 12, 6, 0, 0, tzinfo=timezone.utc), "6 December 2026 at midnight"),
    # Stored in UTC, read in England: in summer 23:30 UTC is 12:30am the next day.
    (datetime(2026, 7, 1, 23, 30, tzinfo=timezone.utc), "2 July 2026 at 12:30am"),
    (datetime(2026, 7, 1, 23, 30), "2 July 2026 at 12:30am"),  # a naive stored time is UTC too
])
def test_dates_and_times_are_written_as_the_govuk_style_guide_asks(moment, text):
    assert govuk_date_time(moment) == text


def test_a_date_is_the_same_whatever_form_it_comes_in():
    assert govuk_date(date(2026, 9, 1)) == govuk_date("2026-09-01") == "1 September 2026"
    assert govuk_date(datetime(2026, 8, 31, 23, 30, tzinfo=timezone.utc)) == "1 September 2026"  # already the 1st in England
    assert govuk_date(None) == govuk_date_time(None) == ""


def test_an_admin_reading_a_heartbeat_sees_seconds():
    assert govuk_time(datetime(2026, 12, 6, 14, 0, 7, tzinfo=timezone.utc), seconds=True) == "2:00:07pm"


@pytest.mark.parametrize("statuses", [CycleStatus, AssignmentStatus, MessageStatus, RunStatus, Grade])
def test_every_stored_status_has_its_own_words_and_colour(statuses):
    for status in statuses:
        assert status in STATUS_TAGS
        assert status_tag(status)["classes"].startswith("govuk-tag--")
    assert status_tag("withdrawn")["text"] == "Reassigned" and status_tag("requires_improvement")["text"] == "Requires improvement"
    assert status_tag(None) == {"text": "Not graded", "classes": "govuk-tag--grey"}


def test_names_are_in_the_order_people_expect():
    names = ["Auditor 10", "auditor 2", "Auditor 1", "Auditor 11", "Beth", "Auditor 2a"]
    assert sorted(names, key=natural_key) == ["Auditor 1", "auditor 2", "Auditor 2a", "Auditor 10", "Auditor 11", "Beth"]


def test_a_summary_list_shows_typed_values_as_text_and_markup_from_a_macro_as_html():
    rows = summary_rows([("Name", "<b>typed</b>"), ("Status", Markup("<strong>tag</strong>"))])
    assert rows[0]["value"] == {"text": "<b>typed</b>"}
    assert rows[1]["value"] == {"html": Markup("<strong>tag</strong>")}


def test_auditors_are_listed_by_name_in_natural_order(app, db, world):
    from audit_workflow.auth.service import create_user
    from audit_workflow.cycles import auditor_pool

    la = world.las["own"]
    cycle = make_cycle(db, la)
    for number in (1, 10, 11, 2):
        user = create_user(db, la.id, f"auditor{number}@886.example.gov.uk", f"Auditor {number}", Role.AUDITOR.value)
        auditor_pool.add_auditor(db, cycle, user, 5)
    db.commit()
    client = app.test_client()
    sign_in(client, world.user("coordinator"))
    page = client.get(f"/cycles/{cycle.id}/auditors").get_data(as_text=True)
    pool, choices = page[page.index('data-testid="pool"'):], page[page.index('name="add-auditor"'):]
    in_pool = [pool.index(f">Auditor {number}<") for number in (1, 2, 10, 11)]
    to_choose = [choices.index(f">Auditor {number} (") for number in (1, 2, 10, 11)]
    assert in_pool == sorted(in_pool) and to_choose == sorted(to_choose)
