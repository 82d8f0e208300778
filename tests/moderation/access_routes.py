from tests.access import AUDITOR, COORDINATOR, MANAGER, roles

OVERSEERS = roles(COORDINATOR, MANAGER)

ROUTES = {
    "moderation.find": OVERSEERS,
    "moderation.compare": OVERSEERS,
    "moderation.cycle": OVERSEERS,
    "moderation.select": roles(COORDINATOR),
    "moderation.add_pick": roles(COORDINATOR),
    "moderation.remove_pick": roles(COORDINATOR),
    # Coordinators, and auditors marked as moderators who audited neither side (others are refused, 409).
    "moderation.adjudicate": roles(COORDINATOR, AUDITOR),
    "moderation.statistics": OVERSEERS,
    "moderation.moderators": roles(COORDINATOR),
}


def build_pick(db, world, la_key, objects):
    """The matrix's plan picked for moderation in the matrix's cycle."""
    from audit_workflow.moderation.models import ModerationPick

    pick = ModerationPick(la_id=world.las[la_key].id, cycle_id=objects["cycle_id"], plan_id=objects["plan_id"], reason="matrix")
    db.add(pick)
    db.flush()
    return pick.id


PARAM_BUILDERS = {"pick_id": build_pick}
