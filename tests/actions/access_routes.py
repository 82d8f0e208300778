from audit_workflow.actions.models import Action
from tests.access import COORDINATOR, MANAGER, roles

OVERSEERS = roles(COORDINATOR, MANAGER)

ROUTES = {
    "actions.index": OVERSEERS,
    "actions.new": roles(COORDINATOR),
    "actions.show": OVERSEERS,
    "actions.assign": roles(COORDINATOR),
    "actions.amended": roles(COORDINATOR),
    "actions.close": roles(COORDINATOR),
    "actions.edit": roles(COORDINATOR),
    "actions.themes": OVERSEERS,
    "actions.raise_theme": roles(COORDINATOR),
    "actions.board": OVERSEERS,
    "actions.export": OVERSEERS,
    "actions.settings": roles(COORDINATOR),
    "actions.find_record": OVERSEERS,
    "actions.plan_record": OVERSEERS,
}


def _action(db, world, la_key, objects):
    action = Action(la_id=world.las[la_key].id, plan_id=objects["plan_id"], action_type="reaudit", summary="Amend section F")
    db.add(action)
    db.flush()
    return action.id


PARAM_BUILDERS = {"action_id": _action}
