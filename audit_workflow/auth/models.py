import uuid
from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from ..modelling import LaOwned, created_field, id_field, parent_field


class Role(StrEnum):
    AUDITOR = "auditor"
    COORDINATOR = "coordinator"
    MANAGER = "manager"
    ADMIN = "admin"
    VOLUNTEER = "volunteer"  # a parent-carer forum volunteer: enters feedback given on the phone, nothing else


class Discipline(StrEnum):
    EDUCATION = "education"
    HEALTH = "health"
    SOCIAL_CARE = "social_care"
    OTHER = "other"


class User(LaOwned, table=True):
    __tablename__ = "app_user"

    email: str = Field(max_length=254, unique=True, description="stored lower-case")
    display_name: str = Field(max_length=120)
    roles: str = Field(max_length=100, description="comma-separated Role values")
    discipline: str = Field(default=Discipline.OTHER, max_length=20)
    team: str | None = Field(default=None, max_length=120)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=255, description="argon2id; None: Entra only")
    entra_object_id: str | None = Field(default=None, max_length=64, unique=True)
    created_at: datetime = created_field()
    last_signed_in_at: datetime | None = None

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(value) for value in self.roles.split(",") if value)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set.intersection(roles))


class UserSession(SQLModel, table=True):
    """Server-side session: the cookie holds a random token whose hash is looked up here, so
    sign-out, idle and absolute timeouts and disabling a user all end it for real."""

    __tablename__ = "user_session"

    id: uuid.UUID = id_field()
    token_hash: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID = parent_field("app_user")
    created_at: datetime = created_field()
    last_seen_at: datetime = created_field()
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=40)
    method: str = Field(default="password", max_length=20)

