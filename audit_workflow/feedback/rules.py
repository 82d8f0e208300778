"""Feedback's rules as plain values (pure): a cycle's settings, how a contact list is read, how
much a public page may be asked for, and tokens. No Flask, no database."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

from ..notifications.catalogue import RenderedMessage
from ..notifications.privacy import check_message
from ..rate_limit.rules import Limit
from .questionnaire import RespondentType

# 256 bits from the operating system's generator (docs/checks.md#check-10); only the SHA-256 is stored.
TOKEN_BYTES = 32
VISIT_MINUTES = 60  # how long a visit (the cookie a link is swapped for) lasts without finishing
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
MOBILE_PATTERN = re.compile(r"^(?:\+44|0)7\d{9}$")
CONTACT_COLUMNS = ("system_id", "respondent_type", "email", "mobile")
MAX_CONTACT_ROWS = 5000


def new_token() -> str:
    """256 random bits, URL-safe. Drawn again in the rare case the privacy guard would read them as
    personal data ("-aged12-", a postcode between hyphens, ten digits passing the NHS check), which
    would block the email that carries the link."""
    while True:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if not check_message(RenderedMessage(kind="token", subject="", html="", text=token)):
            return token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def recipient_hash(cycle_id, email: str) -> str:
    """Stops a second invitation to one address in one cycle; cleared with the contact."""
    return hashlib.sha256(f"{cycle_id}:{email.strip().lower()}".encode()).hexdigest()


@dataclass(frozen=True)
class FeedbackSettings:
    """What the coordinator chose for a cycle (AuditCycle.feedback_settings, as JSON)."""

    respondent_types: tuple[str, ...] = (RespondentType.PARENT_CARER.value, RespondentType.YOUNG_PERSON.value)
    invite_after_days: int = 5  # after the plan's audit is submitted
    remind_after_days: int = 7  # after the invitation
    open_days: int = 28  # how long a link works

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "respondent_types": list(self.respondent_types)})

    @classmethod
    def from_json(cls, text: str | None) -> "FeedbackSettings":
        if not text:
            return cls()
        data = json.loads(text)
        return cls(respondent_types=tuple(data.get("respondent_types", cls.respondent_types)),
                   invite_after_days=int(data.get("invite_after_days", cls.invite_after_days)),
                   remind_after_days=int(data.get("remind_after_days", cls.remind_after_days)),
                   open_days=int(data.get("open_days", cls.open_days)))

    def problems(self) -> dict[str, str]:
        found = {}
        if not self.respondent_types or set(self.respondent_types) - {t.value for t in RespondentType}:
            found["respondent_types"] = "Choose who to ask"
        if not 0 <= self.invite_after_days <= 60:
            found["invite_after_days"] = "Enter a number of days from 0 to 60"
        if not 1 <= self.remind_after_days <= 30:
            found["remind_after_days"] = "Enter a number of days from 1 to 30"
        if not 7 <= self.open_days <= 90 or self.open_days <= self.remind_after_days:
            found["open_days"] = "Enter a number of days from 7 to 90, longer than the wait before the reminder"
        return found


@dataclass(frozen=True)
class ContactRow:
    line: int
    system_id: str
    respondent_type: str
    email: str
    mobile: str | None


def normalise_mobile(raw: str) -> str | None:
    digits = re.sub(r"[\s()-]", "", raw or "")
    return digits or None


def contact_problems(respondent_type: str, email: str, mobile: str | None) -> list[str]:
    problems = []
    if respondent_type not in {t.value for t in RespondentType}:
        problems.append(f"who to ask must be one of {', '.join(t.value for t in RespondentType)}")
    if not EMAIL_PATTERN.match(email):
        problems.append("enter an email address like name@example.com")
    if mobile and not MOBILE_PATTERN.match(mobile):
        problems.append("enter a UK mobile number like 07700 900123")
    return problems


def parse_contacts(text: str) -> tuple[list[ContactRow], list[str]]:
    """A CSV of system_id, respondent_type, email, mobile (optional): the rows, or every problem,
    each naming its line. A file with a name column is refused: we never hold names."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    headers = [(name or "").strip().lower() for name in reader.fieldnames or []]
    if any("name" in header and header != "system_id" for header in headers):
        return [], ["The file has a name column. Remove it: the service never holds names."]
    missing = [column for column in CONTACT_COLUMNS[:3] if column not in headers]
    if missing:
        return [], [f"The file needs the columns {', '.join(CONTACT_COLUMNS[:3])} (and optionally mobile); "
                    f"missing {', '.join(missing)}."]
    rows, problems = [], []
    for line, record in enumerate(reader, start=2):
        values = {(key or "").strip().lower(): (value or "").strip() for key, value in record.items()}
        if not any(values.values()):
            continue
        row = ContactRow(line, values.get("system_id", ""), values.get("respondent_type", "").lower(),
                         values.get("email", "").lower(), normalise_mobile(values.get("mobile", "")))
        found = ([] if row.system_id else ["system_id is empty"]) + contact_problems(row.respondent_type, row.email, row.mobile)
        problems += [f"Line {line}: {problem}" for problem in found]
        rows.append(row)
        if len(rows) > MAX_CONTACT_ROWS:
            return [], [f"The file has more than {MAX_CONTACT_ROWS} rows; split it."]
    if not rows and not problems:
        problems.append("The file has no contacts in it.")
    return rows, problems


# A family opens its link a few times; guessing needs millions of tries. A school's shared address
# may carry a class opening links at once, so the per-address limit on opening links is generous,
# while failed lookups from one address are few before it is refused (docs/checks.md#check-12).
# Only opening a link is counted: the pages after it need the visit it gives, in the signed session
# cookie, which nobody can make without a working link.
RATE_WINDOW = timedelta(minutes=10)
PER_TOKEN = Limit("feedback-token", 30, RATE_WINDOW)
PER_ADDRESS = Limit("feedback-address", 1000, RATE_WINDOW)
FAILED_PER_ADDRESS = Limit("feedback-address-failed", 20, RATE_WINDOW)
