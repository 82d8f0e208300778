"""Issue 15's "Done when", in a browser: a proposed action on an Inadequate plan is assigned (the
owner is emailed), the plan marked amended, the re-audit allocated, done and submitted, and the
action closes with the grade change on the board and in the plan's record. Then `trail
--system-id` lists every read of that plan's audits the browser made."""

from __future__ import annotations

import json
import re
from collections import Counter
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from audit_workflow.actions.jobs import actions_propose_job
from audit_workflow.db import get_engine
from audit_workflow.framework import Band, default_framework
from audit_workflow.notifications.models import OutboxMessage
from tests.browser import browser, server_url, sign_in_page  # noqa: F401  (fixtures)
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser
AUDIT_PAGE = re.compile(r"^/audits/[0-9a-f-]{36}(/|$)")


def test_an_inadequate_plan_is_amended_re_audited_and_its_action_closed(app, browser, server_url, runner, db, world,  # noqa: F811
                                                                        weak_audit, second_auditor):
    second_auditor.password_hash = world.user("auditor").password_hash
    db.add(second_auditor)
    db.commit()
    engine = get_engine(app)
    actions_propose_job(engine, app.config)  # the scheduler's scan
    coordinator, owner = world.user("coordinator"), world.user("manager")
    audit_reads: Counter = Counter()
    context = browser.new_context()
    page = context.new_page()
    page.on("response", lambda response: audit_reads.update(
        [urlparse(response.url).path] if response.request.method == "GET" and response.status == 200
        and AUDIT_PAGE.match(urlparse(response.url).path) else []))

    sign_in_page(page, server_url, coordinator.email, TEST_PASSWORD)
    page.get_by_role("link", name="Actions").first.click()
    page.get_by_role("link", name=re.compile("^Amend and re-audit: graded Inadequate")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Action on NM-100123")
    page.get_by_label("Owner").select_option(label=owner.display_name)
    page.get_by_role("button", name="Assign").click()
    expect(page.get_by_text("Action assigned.")).to_be_visible()
    db.commit()
    [email] = db.exec(select(OutboxMessage).where(OutboxMessage.kind == "action_assigned")).all()
    assert json.loads(email.recipients) == [owner.email]

    page.get_by_label(second_auditor.display_name).check()
    page.get_by_role("button", name="Plan amended: allocate the re-audit").click()
    expect(page.get_by_text(f"The re-audit is allocated to {second_auditor.display_name}")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    sign_in_page(page, server_url, second_auditor.email, TEST_PASSWORD)
    page.get_by_role("link", name="My audits").first.click()
    page.get_by_role("button", name="Start audit of NM-100123").click()
    for section in default_framework().sections:
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(f"^{section.code}:"))
        for criterion in section.bands[Band.GOOD][:4]:
            page.locator(f'input[name="criteria"][value="{criterion.id}"]').check()
        page.get_by_role("button", name="Save and go to next").click()
    page.get_by_role("button", name="Submit audit").click()
    expect(page.get_by_text("Audit submitted")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    db.commit()
    assert actions_propose_job(engine, app.config).summary == "closed after re-audit 1"

    sign_in_page(page, server_url, coordinator.email, TEST_PASSWORD)
    page.goto(f"{server_url}/actions/board")
    expect(page.get_by_test_id("board-grade-changes")).to_contain_text("Inadequate → Good")
    page.goto(f"{server_url}/plans/record?system_id=NM-100123")
    expect(page.get_by_role("heading", level=1)).to_have_text("NM-100123")
    expect(page.get_by_test_id("record-audits")).to_contain_text("First audit")
    expect(page.get_by_test_id("record-audits")).to_contain_text("Re-audit")
    expect(page.get_by_text("Re-audited: Inadequate → Good").first).to_be_visible()
    page.get_by_test_id("record-audits").get_by_role("link", name="Inadequate", exact=True).click()  # the first audit, beside its re-audit
    expect(page.get_by_role("heading", name="Audit summary")).to_be_visible()
    context.close()

    result = runner.invoke(args=["trail", "--system-id", "NM-100123", "--la", "886", "--json"])
    assert result.exit_code == 0, result.output
    reads = [event for event in json.loads(result.output)["events"] if event["action"] == "read" and event["object_kind"] == "audit"]
    # Every audit page the browser was shown is on the trail, once for each time it was shown...
    assert Counter(event["path"] for event in reads if AUDIT_PAGE.match(event["path"])) == audit_reads
    assert sum(audit_reads.values()) >= 13  # twelve sections and the summary of the re-audit, and the first audit
    # ...and so is each audit listed on the plan's record, read by the coordinator.
    record_reads = [event for event in reads if event["path"].endswith("/record")]
    assert len(record_reads) == 2 and {event["user_email"] for event in record_reads} == {coordinator.email}
