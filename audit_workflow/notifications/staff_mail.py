"""What emails to staff need from the database and the settings, passed to the services that queue
them (a view or command builds it from the application's settings, a job from the config it is
given), so no service reads the settings behind its caller's back."""

from __future__ import annotations

import uuid
from typing import Any, Mapping

from flask import current_app
from sqlmodel import Session

from ..auth.models import Role, User
from ..auth.service import active_users_with_role
from ..authorities.models import LocalAuthority
from .catalogue import staff_context


class StaffMail:
    """The context every staff email carries, and each LA's coordinators, looked up once per
    session (a request, or one transaction of a job)."""

    def __init__(self, db: Session, config: Mapping[str, Any]):
        self.db = db
        self.config = config
        self._coordinators: dict[uuid.UUID, list[User]] = {}
        # Held here: the session's identity map keeps objects only while something refers to them,
        # so without this every email read its LA again (a quarter of a chase tick on PostgreSQL).
        self._authorities: dict[uuid.UUID, LocalAuthority] = {}

    @classmethod
    def with_app_settings(cls, db: Session) -> "StaffMail":
        """For views and commands, which run inside the application: its settings."""
        return cls(db, current_app.config)

    def context(self, la_id: uuid.UUID, recipient_name: str, **fields) -> dict:
        if la_id not in self._authorities:
            self._authorities[la_id] = self.db.get(LocalAuthority, la_id)
        return staff_context(self.config, self._authorities[la_id], recipient_name, **fields)

    def coordinators(self, la_id: uuid.UUID) -> list[User]:
        """The LA's active coordinators, by email."""
        if la_id not in self._coordinators:
            self._coordinators[la_id] = active_users_with_role(self.db, la_id, Role.COORDINATOR)
        return self._coordinators[la_id]
