from audit_workflow.cycles.models import CycleAuditor, CyclePlan
from tests.access import AUDITOR, COORDINATOR, MANAGER, roles

OVERSEERS = roles(COORDINATOR, MANAGER)

ROUTES = {
    "cycles.index": OVERSEERS,
    "cycles.new": roles(COORDINATOR),
    "cycles.show": OVERSEERS,
    "cycles.assignments": OVERSEERS,
    "cycles.calendar": OVERSEERS,
    "cycles.edit": roles(COORDINATOR),
    "cycles.open_cycle": roles(COORDINATOR),
    "cycles.close": roles(COORDINATOR),
    "cycles.sample": OVERSEERS,
    "cycles.draw": roles(COORDINATOR),
    "cycles.add_plan": roles(COORDINATOR),
    "cycles.remove_plan": roles(COORDINATOR),
    "cycles.auditors": OVERSEERS,
    "cycles.add_auditor": roles(COORDINATOR),
    "cycles.import_auditors": roles(COORDINATOR),
    "cycles.remove_auditor": roles(COORDINATOR),
    "cycles.allocation": OVERSEERS,
    "cycles.allocate": roles(COORDINATOR),
    "cycles.reassign": roles(COORDINATOR),
    "cycles.plan_sent": roles(COORDINATOR),
    "cycles.decline": roles(AUDITOR),
}


def _cycle_plan(db, world, la_key, objects):
    entry = CyclePlan(la_id=world.las[la_key].id, cycle_id=objects["cycle_id"], plan_id=objects["plan_id"])
    db.add(entry)
    db.flush()
    return entry.id


def _cycle_auditor(db, world, la_key, objects):
    member = CycleAuditor(la_id=world.las[la_key].id, cycle_id=objects["cycle_id"], user_id=world.user(AUDITOR, la_key).id)
    db.add(member)
    db.flush()
    return member.id


PARAM_BUILDERS = {"cycle_plan_id": _cycle_plan, "cycle_auditor_id": _cycle_auditor}
