"""The moderation pages: finding and comparing, the sample, adjudication, and statistics."""

import re

from sqlmodel import select

from audit_workflow.moderation import service
from audit_workflow.moderation.models import AgreedGrade, ModerationPick
from audit_workflow.plans.models import Plan
from tests.conftest import csrf_token
from tests.moderation.test_adjudication_and_statistics import moderated  # noqa: F401  (fixture)


def test_find_goes_to_the_plans_audits_or_says_what_is_wrong(client, sign_in_as, db, submitted):
    cycle, assignments, _ = submitted
    sign_in_as("coordinator")
    system_id = db.get(Plan, assignments[0].plan_id).system_id
    response = client.get(f"/moderation?system_id={system_id}")
    assert response.status_code == 302 and f"/moderation/plans/{assignments[0].plan_id}" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Side by side, section by section" in page and "Pool auditor" in page
    missing = client.get("/moderation?system_id=NOPE-1")
    assert missing.status_code == 400 and "There is no plan with System ID NOPE-1" in missing.get_data(as_text=True)


def test_a_coordinator_picks_adds_and_removes(client, sign_in_as, db, submitted):
    cycle, assignments, _ = submitted
    sign_in_as("coordinator")
    page = f"/moderation/cycles/{cycle.id}"
    response = client.post(f"{page}/select", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
    shown = client.get(page).get_data(as_text=True)
    assert "Moderation sample:" in shown and "picked" in shown
    db.rollback()  # see what the request committed
    picked = {pick.plan_id for pick in db.exec(select(ModerationPick)).all()}
    spare = db.get(Plan, next(a.plan_id for a in assignments if a.plan_id not in picked))
    refused = client.post(f"{page}/picks", data={"csrf_token": csrf_token(client, page), "system_id": spare.system_id,
                                                 "reason": "NHS number 943 476 5919"})
    assert refused.status_code == 400 and "Remove" in refused.get_data(as_text=True)
    added = client.post(f"{page}/picks", data={"csrf_token": csrf_token(client, page), "system_id": spare.system_id,
                                               "reason": "A complaint about its audit"})
    assert added.status_code == 302
    db.rollback()  # see what the requests committed
    pick = db.exec(select(ModerationPick).where(ModerationPick.plan_id == spare.id)).one()
    remove = f"/moderation/picks/{pick.id}/remove"
    assert client.post(remove, data={"csrf_token": csrf_token(client, remove)}).status_code == 400
    assert client.post(remove, data={"csrf_token": csrf_token(client, remove), "reason": "Added by mistake"}).status_code == 302
    db.rollback()
    db.refresh(pick)
    assert pick.removed_reason == "Added by mistake"
    assert f"{spare.system_id}: Added by mistake" in client.get(page).get_data(as_text=True)


def test_a_flagged_pair_is_adjudicated_on_the_web(client, sign_in_as, db, moderated):  # noqa: F811
    pair = next(pair for pair in service.pairs_for(db, [moderated]) if pair.flagged and not pair.adjudicated)
    sign_in_as("coordinator")
    cycle_page = client.get(f"/moderation/cycles/{moderated.id}").get_data(as_text=True)
    assert "Flagged for adjudication" in cycle_page
    url = f"/moderation/picks/{pair.pick.id}/adjudicate"
    form = client.get(url).get_data(as_text=True)
    assert "Agree the grades" in form and "Flagged:" in form
    data = {"csrf_token": csrf_token(client, url), "rationale": ""}
    data.update({f"grade_{code}": pair.first.grade(code) or "not_applicable" for code in pair.section_codes})
    data["grade_overall"] = "good"
    assert client.post(url, data=data).status_code == 400  # no rationale
    data["rationale"] = "Agreed at the moderation meeting"
    assert client.post(url, data=data).status_code == 302
    db.rollback()  # see what the request committed
    assert db.exec(select(AgreedGrade).where(AgreedGrade.audit_id == pair.first.audit.id,
                                             AgreedGrade.section_code == "overall")).one().grade == "good"


def test_an_auditor_who_is_not_an_uninvolved_moderator_is_refused(client, sign_in_as, db, moderated):  # noqa: F811
    pair = service.pairs_for(db, [moderated])[0]
    sign_in_as("auditor")
    response = client.get(f"/moderation/picks/{pair.pick.id}/adjudicate")
    assert response.status_code == 409 and "Agree the grades" not in response.get_data(as_text=True)


def test_the_statistics_page_shows_kappa_and_alpha_with_intervals(client, sign_in_as, moderated):  # noqa: F811
    sign_in_as("manager")
    page = client.get(f"/moderation/cycles/{moderated.id}/statistics").get_data(as_text=True)
    for testid in ("kappa", "alpha"):
        cell = re.search(rf'data-testid="{testid}">(.*?)</dd>', page, re.S).group(1)
        assert re.search(r"\d\.\d\d.*95% interval -?\d\.\d\d to -?\d\.\d\d", cell, re.S), cell
    assert "Calibration: who needs support" in page and "Criteria ticked differently most often" in page
    across = client.get(f"/moderation/cycles/{moderated.id}/statistics?across=all")
    assert across.status_code == 200 and "All moderated cycles" in across.get_data(as_text=True)


def test_the_statistics_page_without_pairs_says_so_in_words(client, sign_in_as, submitted):
    cycle, _, _ = submitted
    sign_in_as("manager")
    page = client.get(f"/moderation/cycles/{cycle.id}/statistics").get_data(as_text=True)
    cell = re.search(r'data-testid="kappa">(.*?)</dd>', page, re.S).group(1)
    assert "too few pairs to say" in cell and "None" not in cell, cell


def test_the_comparison_shows_both_audits_and_the_criteria_ticked_differently(client, sign_in_as, db, moderated):  # noqa: F811
    pair = next(pair for pair in service.pairs_for(db, [moderated]) if pair.first.overall != pair.second.overall)
    sign_in_as("manager")
    page = client.get(f"/moderation/plans/{pair.plan.id}").get_data(as_text=True)
    assert f"Audit by {pair.first.auditor.display_name}" in page and f"Moderation by {pair.second.auditor.display_name}" in page
    assert "ticked differently" in page


def test_a_coordinator_chooses_the_moderators(client, sign_in_as, db, world):
    auditor = world.user("auditor")
    sign_in_as("coordinator")
    page = client.get("/moderation/moderators").get_data(as_text=True)
    assert auditor.email in page
    url = "/moderation/moderators"
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "moderators": [str(auditor.id)]}).status_code == 302
    db.rollback()
    assert service.is_moderator(db, auditor)
    assert client.post(url, data={"csrf_token": csrf_token(client, url), "moderators": ["not-an-auditor"]}).status_code == 400
    assert client.post(url, data={"csrf_token": csrf_token(client, url)}).status_code == 302
    db.rollback()
    assert not service.is_moderator(db, auditor)
