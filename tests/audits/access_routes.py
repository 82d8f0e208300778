from tests.access import AUDITOR, COORDINATOR, MANAGER, roles

READERS = roles(AUDITOR, COORDINATOR, MANAGER)

ROUTES = {
    "audits.my_audits": roles(AUDITOR),
    "audits.start": roles(AUDITOR),
    "audits.show": READERS,
    "audits.section": READERS,
    "audits.save_section": roles(AUDITOR),
    "audits.summary": READERS,
    "audits.submit": roles(AUDITOR),
    "audits.reopen": roles(COORDINATOR),
}


def build_audit(db, world, la_key, objects):
    """The LA's auditor's audit of the matrix's assignment, started the way the auditor starts it."""
    from audit_workflow.audits.service import start_audit
    from audit_workflow.cycles.models import Assignment

    assignment = db.get(Assignment, objects["assignment_id"])
    return start_audit(db, assignment, world.user(AUDITOR, la_key)).id


PARAM_BUILDERS = {"audit_id": build_audit}
