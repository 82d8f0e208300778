import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Field, Index, SQLModel, UniqueConstraint

from ..modelling import LaOwned, actor_field, created_field, id_field, parent_field


class QuestionnaireVersion(SQLModel, table=True):
    """A questionnaire exactly as it was answered; la_id None is a shipped one. Never changed once stored."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("la_id", "key", "version"),
        # NULLs are distinct in a unique constraint: the shipped versions need their own index.
        Index("uq_questionnaire_version_shipped", "key", "version", unique=True,
              sqlite_where=text("la_id IS NULL"), postgresql_where=text("la_id IS NULL")),
    )

    id: uuid.UUID = id_field()
    la_id: uuid.UUID | None = Field(default=None, foreign_key="local_authority.id", ondelete="CASCADE")
    key: str = Field(max_length=40)
    version: str = Field(max_length=40)
    content: str = Field(description="the questionnaire as JSON")
    active: bool = True
    loaded_at: datetime = created_field()


class FeedbackContact(LaOwned, table=True):
    """Where to send one plan's questionnaire: an email address (and optionally a mobile number),
    never a name. Deleted when the cycle's retention date passes (feedback_purge_job)."""

    __tablename__ = "feedback_contact"
    __table_args__ = (UniqueConstraint("cycle_id", "plan_id", "respondent_type", "email"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    plan_id: uuid.UUID = parent_field("plan", index=False)
    respondent_type: str = Field(max_length=20)
    email: str = Field(max_length=254, description="stored lower-case")
    mobile: str | None = Field(default=None, max_length=20, description="for a later text-message channel")
    added_at: datetime = created_field()
    added_by_id: uuid.UUID | None = actor_field()


class FeedbackInvitation(LaOwned, table=True):
    """One questionnaire sent for one plan to one respondent. Outlives its contact (for response
    rates); recipient_hash, which stops a second invitation to the same address in the cycle, is
    cleared with the contact."""

    __tablename__ = "feedback_invitation"
    __table_args__ = (UniqueConstraint("cycle_id", "recipient_hash"),)

    cycle_id: uuid.UUID = parent_field("audit_cycle")
    plan_id: uuid.UUID = parent_field("plan", index=False)
    contact_id: uuid.UUID | None = Field(default=None, foreign_key="feedback_contact.id", ondelete="SET NULL")
    respondent_type: str = Field(max_length=20)
    recipient_hash: str | None = Field(default=None, max_length=64)
    invited_at: datetime = created_field()
    closes_at: datetime
    reminded_at: datetime | None = None
    opted_out_at: datetime | None = None
    answered_at: datetime | None = None


class LinkPurpose(StrEnum):
    ANSWER = "answer"
    OPT_OUT = "opt_out"


class FeedbackLink(LaOwned, table=True):
    """A single-use link's token, kept only as its SHA-256 (docs/checks.md#check-10). The invitation and the
    reminder each carry their own answer link and opt-out link."""

    __tablename__ = "feedback_link"

    invitation_id: uuid.UUID = parent_field("feedback_invitation")
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=10)
    expires_at: datetime
    created_at: datetime = created_field()


class FeedbackVisit(LaOwned, table=True):
    """The short-lived server-side session a link is swapped for: the browser's cookie holds a
    random token whose hash is here, with the answers given so far."""

    __tablename__ = "feedback_visit"

    invitation_id: uuid.UUID = parent_field("feedback_invitation")
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=10)
    questionnaire_version_id: uuid.UUID = Field(foreign_key="questionnaire_version.id")
    draft: str = Field(default="{}", description="JSON {question id: answer, comment: text}")
    # Set when a coordinator or a forum volunteer enters answers given on the phone.
    helped_by_id: uuid.UUID | None = actor_field()
    created_at: datetime = created_field()
    expires_at: datetime


class FeedbackResponse(LaOwned, table=True):
    """One submitted questionnaire; at most one per invitation. Holds no contact details."""

    __tablename__ = "feedback_response"

    invitation_id: uuid.UUID = parent_field("feedback_invitation", unique=True)
    cycle_id: uuid.UUID = parent_field("audit_cycle")
    plan_id: uuid.UUID = parent_field("plan", index=False)
    respondent_type: str = Field(max_length=20)
    questionnaire_version_id: uuid.UUID = Field(foreign_key="questionnaire_version.id")
    answered_with_help: bool = False
    comment: str | None = Field(default=None, max_length=1000, description="checked for personal data")
    submitted_at: datetime = created_field()


class FeedbackAnswer(LaOwned, table=True):
    __tablename__ = "feedback_answer"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)

    response_id: uuid.UUID = parent_field("feedback_response")
    question_id: str = Field(max_length=40)
    answer: str = Field(max_length=20)

