"""What a service raises when its rules refuse a change. Each area names its own refusal (CycleError,
AuditError, ...) as a subclass, so its callers can tell whose rule it was, and the web layer
(web.changes.apply_change) can answer any refusal the same way."""

from __future__ import annotations


class Refused(ValueError):
    """A change the rules refuse, worded for the person; `field` names the form field it is about,
    when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
