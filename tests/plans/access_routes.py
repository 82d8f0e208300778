from tests.access import COORDINATOR, MANAGER, roles

ROUTES = {
    "plans.register": roles(COORDINATOR, MANAGER),
    "plans.upload": roles(COORDINATOR),
}


def _upload(db, world, la_key, objects):
    from audit_workflow.plans.models import PendingUpload

    upload = PendingUpload(la_id=world.las[la_key].id, uploaded_by_id=world.user(COORDINATOR, la_key).id,
                           filename="register.csv", data=b"Case,Stage\nP-1,KS2\n")
    db.add(upload)
    db.flush()
    return upload.id


ROUTES |= {
    "plans.map_columns": roles(COORDINATOR),
    "plans.map_values": roles(COORDINATOR),
}
PARAM_BUILDERS = {"upload_id": _upload}
