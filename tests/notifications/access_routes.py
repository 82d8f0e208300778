from tests.access import ADMIN, COORDINATOR, roles

ROUTES = {
    "notifications.outbox": roles(ADMIN),
    "notifications.message": roles(ADMIN),
    "notifications.retry": roles(ADMIN),
    "notifications.cancel": roles(ADMIN),
    "notifications.dev_mailbox": roles(ADMIN),
    "notifications.dev_mailbox_message": roles(ADMIN),
    "notifications.alerts": roles(COORDINATOR, ADMIN),
    "notifications.resolve_alert": roles(COORDINATOR, ADMIN),
}


def _message(db, world, la_key, **fields):
    from audit_workflow.notifications.models import OutboxMessage

    la = world.las[la_key]
    message = OutboxMessage(
        la_id=la.id, kind="reminder", recipients='["auditor@example.gov.uk"]', subject="Reminder",
        body_html="<p>Reminder</p>", body_text="Reminder", **fields,
    )
    message.idempotency_key = f"matrix:{message.id}"
    db.add(message)
    db.flush()
    return message


def build_failed_message(db, world, la_key, objects):
    """A refused message: it can be sent again (and, once queued again, cancelled)."""
    return _message(db, world, la_key, status="permanent_failure", attempts=1, last_error="Graph answered 400").id


def build_devmail_message(db, world, la_key, objects):
    message = _message(db, world, la_key, status="sent", attempts=1)
    message.provider_id = f"devmail:{message.idempotency_key}"
    return message.id


def build_coordinator_alert(db, world, la_key, objects):
    from audit_workflow.notifications.models import Alert

    alert = Alert(la_id=world.las[la_key].id, audience="coordinator", kind="message_failed",
                  message="The reminder email to the auditor could not be sent: Graph answered 400")
    db.add(alert)
    db.flush()
    return alert.id


PARAM_BUILDERS = {
    "message_id": build_failed_message,
    "devmail_id": build_devmail_message,
    "alert_id": build_coordinator_alert,
}
