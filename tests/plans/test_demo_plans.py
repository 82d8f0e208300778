"""The demo register reads like a real one: settings fit the key stage and their names fit the type."""

import re
from collections import Counter

from sqlmodel import select

from audit_workflow import demo
from audit_workflow.plans.models import Plan

PRIMARY_NAMES = ("Primary", "Infant", "Preparatory")
SPECIAL_TYPES = ("special_maintained", "special_academy_free", "special_independent_non_maintained")


def test_demo_plans_fit_their_key_stage_and_setting_type(db, world):
    la = world.las["own"]
    demo.ensure_plans(db, la, demo.DEMO_AUTHORITIES[0])
    plans = db.exec(select(Plan).where(Plan.la_id == la.id)).all()
    assert len(plans) == demo.PLANS_PER_LA
    for plan in plans:
        name = plan.setting_name or ""
        if plan.key_stage in ("KS3", "KS4", "KS5", "POST19"):
            assert not any(word in name for word in PRIMARY_NAMES), plan
        if plan.key_stage in ("KS5", "POST19"):
            assert plan.setting_type not in ("mainstream_maintained", "ap_pru", "early_years"), plan
        if plan.key_stage != "EYFS":
            assert plan.setting_type != "early_years", plan
        if plan.setting_type in ("post16_fe_college", "post16_specialist", "post16_other_provider"):
            assert plan.key_stage in ("KS5", "POST19"), plan
        if plan.setting_type in SPECIAL_TYPES:
            assert re.search(r"\bSpecial\b|School for the Deaf", name), plan
        elif name:
            assert not re.search(r"\bSpecial\b", name), plan
    # Every phase and the common types are there, so every page has real numbers.
    assert set(Counter(plan.key_stage for plan in plans)) == set(demo.PHASE_OF_STAGE)
    assert {"special_maintained", "mainstream_academy_free", "post16_fe_college"} <= {plan.setting_type for plan in plans}
