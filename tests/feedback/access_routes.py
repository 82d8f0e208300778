from tests.access import COORDINATOR, MANAGER, PUBLIC, VOLUNTEER, roles
from tests.feedback.helpers import invitation_with_link

OVERSEERS = roles(COORDINATOR, MANAGER)

ROUTES = {
    # The questionnaire itself: anyone holding a link (or the visit it was swapped for).
    "feedback.start": PUBLIC,
    "feedback.stop": PUBLIC,
    "feedback.introduction": PUBLIC,
    "feedback.easy_read": PUBLIC,
    "feedback.question": PUBLIC,
    "feedback.comment": PUBLIC,
    "feedback.check": PUBLIC,
    "feedback.done": PUBLIC,
    "feedback.opt_out": PUBLIC,
    # Staff.
    "feedback.index": OVERSEERS,
    "feedback.cycle": OVERSEERS,
    "feedback.save_settings": roles(COORDINATOR),
    "feedback.add_contact": roles(COORDINATOR),
    "feedback.upload_contacts": roles(COORDINATOR),
    "feedback.results": OVERSEERS,
    "feedback.phone_answers": roles(COORDINATOR, VOLUNTEER),
    "feedback.phone_answer": roles(COORDINATOR, VOLUNTEER),
}


def _invitation(db, world, la_key, objects):
    from audit_workflow.cycles.models import AuditCycle
    from audit_workflow.plans.models import Plan

    invitation, token = invitation_with_link(db, db.get(AuditCycle, objects["cycle_id"]), db.get(Plan, objects["plan_id"]),
                                             email=f"matrix-{la_key}@example.org")
    objects["_token"] = token
    return invitation.id


PARAM_BUILDERS = {
    "invitation_id": _invitation,
    "token": lambda db, world, la_key, objects: objects["_token"],
    "number": lambda db, world, la_key, objects: 1,
}
