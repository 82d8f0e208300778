"""Feedback use cases: questionnaires, contacts, invitations and reminders, links and visits,
answers, results and the purge. Each takes the session first and flushes; the caller commits.

Privacy: contacts are an email address (and optionally a mobile number) per plan, never a name,
deleted at the cycle's retention date. Link tokens exist only in the email: the database keeps
their SHA-256 (docs/checks.md#check-10), and a visit's cookie token likewise.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import bindparam, delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..audits.models import Audit
from ..auth.models import User
from ..authorities.models import LocalAuthority
from ..clock import ENGLAND, govuk_date
from ..cycles.models import Assignment, AssignmentKind, AssignmentStatus, AuditCycle, CyclePlan, CycleStatus
from ..notifications.outbox import queue_message
from ..notifications.privacy import personal_data_in
from ..plans.models import Plan
from ..refusals import Refused
from . import results
from .models import (
    FeedbackAnswer, FeedbackContact, FeedbackInvitation, FeedbackLink, FeedbackResponse, FeedbackVisit,
    LinkPurpose, QuestionnaireVersion,
)
from .questionnaire import (
    ANSWERS, Questionnaire, QuestionnaireError, RespondentType, check_easy_read_pairs, load_questionnaire,
    questionnaire_from_dict, questionnaire_to_dict, shipped_questionnaires,
)
from .rules import (
    VISIT_MINUTES, ContactRow, FeedbackSettings, contact_problems, new_token, normalise_mobile, recipient_hash,
    token_hash,
)

COMMENT_MAX_CHARS = 1000
HELD_ROWS = "feedback_held_rows"  # in Session.info: rows a request keeps for its later gets


class FeedbackError(Refused):
    """A change the feedback rules refuse (see refusals.Refused)."""


class LinkGone(Exception):
    """A link or visit that no longer works: reason is answered, expired, opted_out or unknown."""

    def __init__(self, reason: str, la_name: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.la_name = la_name


# --- Questionnaires ---------------------------------------------------------------------------------


def _canonical(questionnaire: Questionnaire) -> str:
    return json.dumps(questionnaire_to_dict(questionnaire), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=64)
def parse_stored(content: str) -> Questionnaire:
    return questionnaire_from_dict(json.loads(content))


_PARSED_VERSIONS: dict[uuid.UUID, Questionnaire] = {}


def stored_questionnaire(db: Session, version_id: uuid.UUID) -> Questionnaire:
    """A stored version's questionnaire, read and parsed once per process: a stored version never
    changes (a changed file needs a new version), so every later page of every visit skips both."""
    parsed = _PARSED_VERSIONS.get(version_id)
    if parsed is None:
        parsed = _PARSED_VERSIONS[version_id] = parse_stored(db.get(QuestionnaireVersion, version_id).content)
    return parsed


def load_la_questionnaire(db: Session, la_id: uuid.UUID, path: str | Path) -> QuestionnaireVersion:
    """Validate the file and make it the LA's active version of its questionnaire. A version
    string always means one content: a changed file must have a new version."""
    questionnaire = load_questionnaire(path)
    shipped = shipped_questionnaires().get(questionnaire.key)
    if shipped is None or (shipped.respondent_type, shipped.easy_read) != (questionnaire.respondent_type, questionnaire.easy_read):
        raise QuestionnaireError([f"{path}: key must be one of {', '.join(sorted(shipped_questionnaires()))}, "
                                  "with the respondent_type and easy_read of the shipped file of that name"])
    content = _canonical(questionnaire)
    row = db.exec(select(QuestionnaireVersion).where(
        QuestionnaireVersion.la_id == la_id, QuestionnaireVersion.key == questionnaire.key,
        QuestionnaireVersion.version == questionnaire.version)).first()
    if row is not None and row.content != content:
        raise QuestionnaireError([f"{path}: version {questionnaire.version!r} is already loaded with different "
                                  "questions. Give the changed questionnaire a new version."])
    db.exec(update(QuestionnaireVersion).where(QuestionnaireVersion.la_id == la_id,
                                               QuestionnaireVersion.key == questionnaire.key).values(active=False))
    row = row or QuestionnaireVersion(la_id=la_id, key=questionnaire.key, version=questionnaire.version, content=content)
    row.active = True
    db.add(row)
    db.flush()
    # The standard and easy-read questionnaires of one kind must still ask the same questions.
    problems = check_easy_read_pairs({
        key: parse_stored(active_questionnaire(db, la_id, key).content)
        for key, candidate in shipped_questionnaires().items() if candidate.respondent_type == questionnaire.respondent_type
    })
    if problems:
        raise QuestionnaireError([f"{path}: {problem}" for problem in problems])
    return row


def active_questionnaire(db: Session, la_id: uuid.UUID, key: str) -> QuestionnaireVersion:
    """The LA's active version of the questionnaire, else the shipped one (stored on first use)."""
    row = db.exec(select(QuestionnaireVersion).where(
        QuestionnaireVersion.la_id == la_id, QuestionnaireVersion.key == key, QuestionnaireVersion.active)).first()
    return row or _shipped(db, key)


def _shipped(db: Session, key: str) -> QuestionnaireVersion:
    questionnaire = shipped_questionnaires()[key]
    content = _canonical(questionnaire)

    def stored() -> QuestionnaireVersion | None:
        return db.exec(select(QuestionnaireVersion).where(
            col(QuestionnaireVersion.la_id).is_(None), QuestionnaireVersion.key == key,
            QuestionnaireVersion.version == questionnaire.version)).first()

    row = stored()
    if row is None:
        try:
            with db.begin_nested():
                row = QuestionnaireVersion(la_id=None, key=key, version=questionnaire.version, content=content)
                db.add(row)
        except IntegrityError:
            row = stored()  # another request stored it first
    if row.content != content:
        raise QuestionnaireError([f"config/questionnaires/{key}.yaml has changed but its version is still "
                                  f"{questionnaire.version!r}; give it a new version."])
    return row


def questionnaire_key(respondent_type: str, easy_read: bool = False) -> str:
    """The shipped questionnaire for a respondent type (young people may choose easy read)."""
    for key, questionnaire in shipped_questionnaires().items():
        if questionnaire.respondent_type == respondent_type and questionnaire.easy_read == easy_read:
            return key
    raise KeyError(f"no {'easy-read ' if easy_read else ''}questionnaire for {respondent_type}")


def has_easy_read(respondent_type: str) -> bool:
    return any(q.respondent_type == respondent_type and q.easy_read for q in shipped_questionnaires().values())


# --- Settings and contacts ------------------------------------------------------------------------


def cycle_settings(cycle: AuditCycle) -> FeedbackSettings:
    return FeedbackSettings.from_json(cycle.feedback_settings)


def save_settings(db: Session, cycle: AuditCycle, settings: FeedbackSettings) -> None:
    problems = settings.problems()
    if problems:
        field, message = next(iter(problems.items()))
        raise FeedbackError(message, field)
    cycle.feedback_settings = settings.to_json()
    db.add(cycle)
    db.flush()


def _plan_in_sample(db: Session, cycle: AuditCycle, system_id: str) -> Plan:
    plan = db.exec(
        select(Plan).join(CyclePlan, CyclePlan.plan_id == Plan.id)
        .where(CyclePlan.cycle_id == cycle.id, col(CyclePlan.removed_at).is_(None), Plan.system_id == system_id.strip())
    ).first()
    if plan is None:
        raise FeedbackError(f"No plan with System ID {system_id.strip()!r} is in this cycle's sample.", "system_id")
    return plan


def add_contact(db: Session, cycle: AuditCycle, system_id: str, respondent_type: str, email: str,
                mobile: str | None, actor: User | None) -> FeedbackContact:
    # A closed cycle still takes contacts: families are asked after the audits, which may be after
    # the cycle closes; the purge deletes them at the retention date all the same.
    if not cycle.feedback_enabled:
        raise FeedbackError("Family feedback is off for this cycle. Turn it on in the cycle's settings first.")
    email, mobile = email.strip().lower(), normalise_mobile(mobile or "")
    problems = contact_problems(respondent_type, email, mobile)
    if problems:
        raise FeedbackError(problems[0][0].upper() + problems[0][1:], "email" if "email" in problems[0] else "mobile")
    if respondent_type not in cycle_settings(cycle).respondent_types:
        raise FeedbackError(f"This cycle does not ask {RespondentType(respondent_type).label.lower()}.", "respondent_type")
    plan = _plan_in_sample(db, cycle, system_id)
    existing = db.exec(select(FeedbackContact).where(
        FeedbackContact.cycle_id == cycle.id, FeedbackContact.plan_id == plan.id,
        FeedbackContact.respondent_type == respondent_type, FeedbackContact.email == email)).first()
    if existing:
        return existing
    contact = FeedbackContact(la_id=cycle.la_id, cycle_id=cycle.id, plan_id=plan.id, respondent_type=respondent_type,
                              email=email, mobile=mobile, added_by_id=actor.id if actor else None)
    db.add(contact)
    db.flush()
    return contact


def import_contacts(db: Session, cycle: AuditCycle, rows: list[ContactRow], actor: User | None) -> int:
    """All or nothing: every row's problem is listed, each with its line, and none is stored."""
    problems = []
    for row in rows:
        try:
            with db.begin_nested():
                add_contact(db, cycle, row.system_id, row.respondent_type, row.email, row.mobile, actor)
        except FeedbackError as error:
            problems.append(f"Line {row.line}: {error}")
    if problems:
        raise FeedbackError(" ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""))
    return len(rows)


@dataclass(frozen=True)
class ContactSummary:
    respondent_type: str
    contacts: int
    invited: int
    answered: int


def contact_summary(db: Session, cycle: AuditCycle) -> list[ContactSummary]:
    contacts = dict(db.exec(select(FeedbackContact.respondent_type, func.count()).where(
        FeedbackContact.cycle_id == cycle.id).group_by(FeedbackContact.respondent_type)).all())
    invited = dict(db.exec(select(FeedbackInvitation.respondent_type, func.count()).where(
        FeedbackInvitation.cycle_id == cycle.id).group_by(FeedbackInvitation.respondent_type)).all())
    answered = dict(db.exec(select(FeedbackResponse.respondent_type, func.count()).where(
        FeedbackResponse.cycle_id == cycle.id).group_by(FeedbackResponse.respondent_type)).all())
    return [ContactSummary(t.value, contacts.get(t.value, 0), invited.get(t.value, 0), answered.get(t.value, 0))
            for t in RespondentType]


# --- Invitations and reminders (feedback_invite_job) -------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    base_url: str
    service_name: str


def _link(db: Session, invitation: FeedbackInvitation, purpose: LinkPurpose, base_url: str) -> str:
    token = new_token()
    db.add(FeedbackLink(la_id=invitation.la_id, invitation_id=invitation.id, token_hash=token_hash(token),
                        purpose=purpose, expires_at=invitation.closes_at))
    path = "start" if purpose == LinkPurpose.ANSWER else "stop"
    return f"{base_url.rstrip('/')}/feedback/{path}/{token}"


def _email(db: Session, invitation: FeedbackInvitation, email: str, kind: str, mail: MailSettings, la: LocalAuthority) -> bool:
    context = {
        "service_name": mail.service_name,
        "la": {"name": la.name, "contact_email": la.contact_email},
        "audience": RespondentType(invitation.respondent_type).audience,
        "feedback_url": _link(db, invitation, LinkPurpose.ANSWER, mail.base_url),
        "opt_out_url": _link(db, invitation, LinkPurpose.OPT_OUT, mail.base_url),
        "closes_on": invitation.closes_at.date(),
    }
    # The key names the address by its hash: one invitation and one reminder per address per cycle.
    key = f"feedback:{invitation.cycle_id}:{invitation.recipient_hash}:{kind.removeprefix('feedback_')}"
    return queue_message(db, kind=kind, to=[email], context=context, key=key, la_id=invitation.la_id)


class _AlreadyInvited(Exception):
    pass


def _submitted_at(db: Session, cycle_id: uuid.UUID, plan_id: uuid.UUID) -> datetime | None:
    return db.exec(select(func.max(Assignment.submitted_at)).where(
        Assignment.cycle_id == cycle_id, Assignment.plan_id == plan_id, Assignment.kind == AssignmentKind.PRIMARY,
        Assignment.status == AssignmentStatus.SUBMITTED)).one()


def send_due_invitations(db: Session, mail: MailSettings, now: datetime) -> dict[str, int]:
    """Invite each contact whose plan's audit was submitted long enough ago, and remind those who
    have not answered; each email at most once per address per cycle (unique recipient hash and
    the outbox's idempotency key). Returns how many of each were queued."""
    counts = {"invitations": 0, "reminders": 0}
    cycles = db.exec(select(AuditCycle).where(AuditCycle.feedback_enabled,
                                              AuditCycle.status.in_((CycleStatus.OPEN, CycleStatus.CLOSED)))).all()
    for cycle in cycles:
        settings = cycle_settings(cycle)
        la = db.get(LocalAuthority, cycle.la_id)
        counts["invitations"] += _invite(db, cycle, settings, la, mail, now)
        counts["reminders"] += _remind(db, cycle, settings, la, mail, now)
    return counts


def _invite(db: Session, cycle: AuditCycle, settings: FeedbackSettings, la: LocalAuthority, mail: MailSettings,
            now: datetime) -> int:
    invited = 0
    contacts = db.exec(
        select(FeedbackContact).outerjoin(FeedbackInvitation, FeedbackInvitation.contact_id == FeedbackContact.id)
        .where(FeedbackContact.cycle_id == cycle.id, col(FeedbackInvitation.id).is_(None),
               FeedbackContact.respondent_type.in_(settings.respondent_types))
    ).all()
    for contact in contacts:
        submitted = _submitted_at(db, cycle.id, contact.plan_id)
        if submitted is None or submitted > now - timedelta(days=settings.invite_after_days):
            continue
        hashed = recipient_hash(cycle.id, contact.email)
        if db.exec(select(FeedbackInvitation.id).where(FeedbackInvitation.cycle_id == cycle.id,
                                                       FeedbackInvitation.recipient_hash == hashed)).first():
            continue  # this address already has an invitation in the cycle (another plan or type)
        try:
            with db.begin_nested():
                invitation = FeedbackInvitation(
                    la_id=cycle.la_id, cycle_id=cycle.id, plan_id=contact.plan_id, contact_id=contact.id,
                    respondent_type=contact.respondent_type, recipient_hash=hashed, invited_at=now,
                    closes_at=now + timedelta(days=settings.open_days))
                db.add(invitation)
                db.flush()
                if not _email(db, invitation, contact.email, "feedback_invitation", mail, la):
                    raise _AlreadyInvited  # undo the invitation: its email was queued before
        except (IntegrityError, _AlreadyInvited):
            continue  # another run invited this address at the same moment
        invited += 1
    return invited


def _remind(db: Session, cycle: AuditCycle, settings: FeedbackSettings, la: LocalAuthority, mail: MailSettings,
            now: datetime) -> int:
    reminded = 0
    due = db.exec(
        select(FeedbackInvitation, FeedbackContact).join(FeedbackContact, FeedbackContact.id == FeedbackInvitation.contact_id)
        .where(FeedbackInvitation.cycle_id == cycle.id, col(FeedbackInvitation.answered_at).is_(None),
               col(FeedbackInvitation.opted_out_at).is_(None), col(FeedbackInvitation.reminded_at).is_(None),
               FeedbackInvitation.invited_at <= now - timedelta(days=settings.remind_after_days),
               FeedbackInvitation.closes_at > now + timedelta(days=1))
    ).all()
    for invitation, contact in due:
        claimed = db.execute(update(FeedbackInvitation).where(
            FeedbackInvitation.id == invitation.id, col(FeedbackInvitation.reminded_at).is_(None))
            .values(reminded_at=now).execution_options(synchronize_session=False)).rowcount == 1
        if claimed and _email(db, invitation, contact.email, "feedback_reminder", mail, la):
            reminded += 1
    return reminded


# --- Links and visits -----------------------------------------------------------------------------


def _gone_reason(invitation: FeedbackInvitation, now: datetime) -> str | None:
    if invitation.answered_at is not None:
        return "answered"
    if invitation.opted_out_at is not None:
        return "opted_out"
    if invitation.closes_at <= now:
        return "expired"
    return None


def _la_name(db: Session, la_id: uuid.UUID) -> str:
    return db.get(LocalAuthority, la_id).name


def open_link(db: Session, token: str, now: datetime) -> tuple[str, FeedbackVisit]:
    """Swap a link's token for a visit: a new random token for the cookie (only its hash stored).
    Raises LinkGone for a link that is unknown, expired, already answered or opted out."""
    link = db.exec(select(FeedbackLink).where(FeedbackLink.token_hash == token_hash(token))).first()
    if link is None:
        raise LinkGone("unknown")
    invitation = db.get(FeedbackInvitation, link.invitation_id)
    _refuse_if_gone(db, invitation, now, link.expires_at, "expired", invitation.la_id)
    return start_visit(db, invitation, link.purpose, now)


def start_visit(db: Session, invitation: FeedbackInvitation, purpose: str, now: datetime, *,
                helped_by: User | None = None) -> tuple[str, FeedbackVisit]:
    version = active_questionnaire(db, invitation.la_id, questionnaire_key(invitation.respondent_type))
    token = new_token()
    visit = FeedbackVisit(la_id=invitation.la_id, invitation_id=invitation.id, token_hash=token_hash(token),
                          purpose=purpose, questionnaire_version_id=version.id, created_at=now,
                          expires_at=now + timedelta(minutes=VISIT_MINUTES), helped_by_id=helped_by.id if helped_by else None)
    db.add(visit)
    db.flush()
    return token, visit


# Built once: every public page asks it, and building a statement costs more than running it.
_VISIT_BY_TOKEN = (select(FeedbackVisit, FeedbackInvitation, LocalAuthority)
                   .join(FeedbackInvitation, FeedbackInvitation.id == FeedbackVisit.invitation_id)
                   .join(LocalAuthority, LocalAuthority.id == FeedbackVisit.la_id)
                   .where(FeedbackVisit.token_hash == bindparam("token_hash")))


def find_visit(db: Session, token: str | None, now: datetime) -> FeedbackVisit:
    """The visit the cookie names, if it is still open; LinkGone otherwise. Its invitation and LA
    come in the same query and stay in the session, so describing the visit reads nothing more."""
    found = db.exec(_VISIT_BY_TOKEN, params={"token_hash": token_hash(token)}).first() if token else None
    if found is None:
        raise LinkGone("timed_out")
    visit, invitation, la = found
    # The session holds loaded rows weakly: without a reference they would be read again by each get.
    db.info.setdefault(HELD_ROWS, []).extend((invitation, la))
    _refuse_if_gone(db, invitation, now, visit.expires_at, "timed_out", visit.la_id)
    return visit


def _refuse_if_gone(db: Session, invitation: FeedbackInvitation, now: datetime, expires_at: datetime, expired: str,
                    la_id: uuid.UUID) -> None:
    """Raise LinkGone when the invitation is gone (_gone_reason), or with the reason `expired` when expires_at has passed."""
    reason = _gone_reason(invitation, now) or (expired if expires_at <= now else None)
    if reason:
        raise LinkGone(reason, _la_name(db, la_id))


@dataclass(frozen=True)
class VisitView:
    """What a public page shows: the questionnaire, the answers so far and who it is for."""

    questionnaire: Questionnaire
    answers: dict[str, str]
    comment: str
    la_name: str
    respondent_type: RespondentType
    system_id: str | None  # shown to schools only, so they can find the pupil
    helped: bool
    easy_read_available: bool
    closes_on: str  # e.g. "3 January 2027"

    def first_unanswered(self) -> int | None:
        for number, question in enumerate(self.questionnaire.questions, start=1):
            if question.id not in self.answers:
                return number
        return None


def describe_visit(db: Session, visit: FeedbackVisit) -> VisitView:
    invitation = db.get(FeedbackInvitation, visit.invitation_id)
    respondent_type = RespondentType(invitation.respondent_type)
    draft = json.loads(visit.draft)
    questionnaire = stored_questionnaire(db, visit.questionnaire_version_id)
    system_id = db.get(Plan, invitation.plan_id).system_id if respondent_type == RespondentType.SETTING else None
    return VisitView(questionnaire=questionnaire, answers=draft.get("answers", {}), comment=draft.get("comment", ""),
                     la_name=_la_name(db, visit.la_id), respondent_type=respondent_type, system_id=system_id,
                     helped=visit.helped_by_id is not None, easy_read_available=has_easy_read(respondent_type),
                     closes_on=govuk_date(invitation.closes_at.astimezone(ENGLAND).date()))


def _save_draft(db: Session, visit: FeedbackVisit, answers: dict[str, str], comment: str) -> None:
    visit.draft = json.dumps({"answers": answers, "comment": comment})
    db.add(visit)
    db.flush()


def save_answer(db: Session, visit: FeedbackVisit, question_id: str, answer: str) -> None:
    view = describe_visit(db, visit)
    if question_id not in {q.id for q in view.questionnaire.questions} or answer not in ANSWERS:
        raise FeedbackError("Choose one of the answers", "answer")
    _save_draft(db, visit, {**view.answers, question_id: answer}, view.comment)


def save_comment(db: Session, visit: FeedbackVisit, comment: str) -> None:
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_CHARS:
        raise FeedbackError(f"Write no more than {COMMENT_MAX_CHARS} characters", "comment")
    found = personal_data_in(comment)
    if found:
        raise FeedbackError(f"Take out {' and '.join(found)}: we do not keep details that could identify someone",
                            "comment")
    view = describe_visit(db, visit)
    _save_draft(db, visit, view.answers, comment)


def switch_version(db: Session, visit: FeedbackVisit, easy_read: bool) -> None:
    """Young people may switch to the easy-read questionnaire (same questions) and back."""
    invitation = db.get(FeedbackInvitation, visit.invitation_id)
    if not has_easy_read(invitation.respondent_type):
        raise FeedbackError("There is no easy-read version of these questions")
    visit.questionnaire_version_id = active_questionnaire(
        db, visit.la_id, questionnaire_key(invitation.respondent_type, easy_read)).id
    db.add(visit)
    db.flush()


def submit(db: Session, visit: FeedbackVisit, now: datetime) -> FeedbackResponse:
    """Store the answers once: the invitation is claimed with a conditional UPDATE, so a second
    submission (another tab, a double click) finds it answered and the first answer stays."""
    view = describe_visit(db, visit)
    if view.first_unanswered() is not None:
        raise FeedbackError("Answer every question before you send your answers")
    claimed = db.execute(update(FeedbackInvitation).where(
        FeedbackInvitation.id == visit.invitation_id, col(FeedbackInvitation.answered_at).is_(None),
        col(FeedbackInvitation.opted_out_at).is_(None), FeedbackInvitation.closes_at > now)
        .values(answered_at=now).execution_options(synchronize_session=False)).rowcount == 1
    if not claimed:
        raise LinkGone("answered", view.la_name)
    invitation = db.get(FeedbackInvitation, visit.invitation_id)
    response = FeedbackResponse(
        la_id=visit.la_id, invitation_id=invitation.id, cycle_id=invitation.cycle_id, plan_id=invitation.plan_id,
        respondent_type=invitation.respondent_type, questionnaire_version_id=visit.questionnaire_version_id,
        answered_with_help=visit.helped_by_id is not None, comment=view.comment or None, submitted_at=now)
    db.add(response)
    db.flush()
    for question in view.questionnaire.questions:
        db.add(FeedbackAnswer(la_id=visit.la_id, response_id=response.id, question_id=question.id,
                              answer=view.answers[question.id]))
    _forget_drafts(db, invitation.id)
    db.flush()
    return response


def _forget_drafts(db: Session, invitation_id: uuid.UUID) -> None:
    """Other visits to a finished invitation keep no answers; they now lead to the 410 page."""
    db.execute(update(FeedbackVisit).where(FeedbackVisit.invitation_id == invitation_id).values(draft="{}")
               .execution_options(synchronize_session=False))
    db.flush()


def opt_out(db: Session, visit: FeedbackVisit, now: datetime) -> None:
    db.execute(update(FeedbackInvitation).where(
        FeedbackInvitation.id == visit.invitation_id, col(FeedbackInvitation.opted_out_at).is_(None),
        col(FeedbackInvitation.answered_at).is_(None)).values(opted_out_at=now).execution_options(synchronize_session=False))
    _forget_drafts(db, visit.invitation_id)


# --- Answering with help ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvitation:
    id: uuid.UUID
    reference: str
    cycle_name: str
    respondent_type: str
    phone: str | None
    closes_at: datetime


def open_invitations(db: Session, la_id: uuid.UUID, now: datetime) -> list[OpenInvitation]:
    """Invitations a forum volunteer or coordinator may answer with a family on the phone."""
    rows = db.exec(
        select(FeedbackInvitation, AuditCycle.name, FeedbackContact.mobile)
        .join(AuditCycle, AuditCycle.id == FeedbackInvitation.cycle_id)
        .outerjoin(FeedbackContact, FeedbackContact.id == FeedbackInvitation.contact_id)
        .where(FeedbackInvitation.la_id == la_id, col(FeedbackInvitation.answered_at).is_(None),
               col(FeedbackInvitation.opted_out_at).is_(None), FeedbackInvitation.closes_at > now)
        .order_by(FeedbackInvitation.closes_at)
    ).all()
    return [OpenInvitation(invitation.id, reference(invitation.id), cycle_name, invitation.respondent_type, mobile,
                           invitation.closes_at) for invitation, cycle_name, mobile in rows]


def reference(invitation_id: uuid.UUID) -> str:
    """A short reference a family can read out on the phone."""
    return invitation_id.hex[:8].upper()


def start_helped_visit(db: Session, invitation: FeedbackInvitation, helper: User, now: datetime) -> str:
    reason = _gone_reason(invitation, now)
    if reason:
        raise LinkGone(reason, _la_name(db, invitation.la_id))
    token, _visit = start_visit(db, invitation, LinkPurpose.ANSWER, now, helped_by=helper)
    return token


# --- Results ---------------------------------------------------------------------------------------


def has_invitations(db: Session, cycle: AuditCycle) -> bool:
    return db.exec(select(FeedbackInvitation.id).where(FeedbackInvitation.cycle_id == cycle.id).limit(1)).first() is not None


def cycle_results(db: Session, cycle: AuditCycle, *, with_comments: bool) -> results.CycleResults:
    invited = dict(db.exec(select(FeedbackInvitation.respondent_type, func.count()).where(
        FeedbackInvitation.cycle_id == cycle.id).group_by(FeedbackInvitation.respondent_type)).all())
    grades = dict(db.exec(
        select(Assignment.plan_id, Audit.overall_grade).join(Audit, Audit.assignment_id == Assignment.id)
        .where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.PRIMARY,
               Assignment.status == AssignmentStatus.SUBMITTED)).all())
    responses = db.exec(select(FeedbackResponse).where(FeedbackResponse.cycle_id == cycle.id)).all()
    answers: dict[uuid.UUID, dict[str, str]] = {response.id: {} for response in responses}
    for answer in db.exec(select(FeedbackAnswer).join(FeedbackResponse, FeedbackResponse.id == FeedbackAnswer.response_id)
                          .where(FeedbackResponse.cycle_id == cycle.id)).all():
        answers[answer.response_id][answer.question_id] = answer.answer
    submitted = [
        results.Submitted(respondent_type=response.respondent_type, answers=answers[response.id],
                          helped=response.answered_with_help, grade=grades.get(response.plan_id),
                          comment=response.comment if with_comments and not personal_data_in(response.comment or "") else None)
        for response in responses
    ]
    questionnaires = {t.value: parse_stored(active_questionnaire(db, cycle.la_id, questionnaire_key(t)).content)
                      for t in RespondentType}
    return results.summarise(invited, submitted, questionnaires)


# --- Retention (feedback_purge_job) -----------------------------------------------------------------


def retention_date(cycle: AuditCycle, retention_days: int) -> datetime | None:
    """When the cycle's contacts are deleted: retention_days after it closed (None while open)."""
    return cycle.closed_at + timedelta(days=retention_days) if cycle.closed_at else None


def purge_expired_contacts(db: Session, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete the contacts of cycles past their retention date, with what could find them again
    (the recipient hashes, links and visits). Running it again changes nothing."""
    due = select(AuditCycle.id).where(col(AuditCycle.closed_at).is_not(None),
                                      AuditCycle.closed_at <= now - timedelta(days=retention_days))
    invitations = select(FeedbackInvitation.id).where(FeedbackInvitation.cycle_id.in_(due))
    db.execute(update(FeedbackInvitation).where(FeedbackInvitation.cycle_id.in_(due),
                                                col(FeedbackInvitation.recipient_hash).is_not(None))
               .values(recipient_hash=None, contact_id=None).execution_options(synchronize_session=False))
    links = db.execute(delete(FeedbackLink).where(FeedbackLink.invitation_id.in_(invitations))
                       .execution_options(synchronize_session=False)).rowcount
    db.execute(delete(FeedbackVisit).where(
        (FeedbackVisit.invitation_id.in_(invitations)) | (FeedbackVisit.expires_at <= now - timedelta(days=1)))
        .execution_options(synchronize_session=False))
    contacts = db.execute(delete(FeedbackContact).where(FeedbackContact.cycle_id.in_(due))
                          .execution_options(synchronize_session=False)).rowcount
    db.flush()
    return {"contacts": contacts, "links": links}


def mail_settings(config: Mapping[str, Any]) -> MailSettings:
    return MailSettings(base_url=config["BASE_URL"], service_name=config["SERVICE_NAME"])

