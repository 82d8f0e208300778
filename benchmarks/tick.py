"""Workload 1: the scheduler's chase tick, against the least work that queues the same emails.

The tick measured is an ordinary working day's: yesterday's tick has already run (untimed), so
the outbox holds the chases sent so far and today's run queues only what is new today. Each
repetition removes what the previous one queued. The floor does what any code must do to queue the
same emails, and nothing else: one SELECT of the candidate rows with what their emails need (plan
System ID, auditor, LA; the coordinators and earlier chases for an escalation), the same templates
rendered with plain Jinja, and one executemany INSERT of the same rows. Which chases are owed today
is taken from the tick's own first run (the rules are arithmetic on a few dates); the floor's
subjects must equal the tick's, key by key, or the run fails.

Then the closed cycles' assignments are copied until there are ten times as many (a few of them
left unfinished, as closing a cycle allows) and the tick is timed again: it should grow with the
rows that are due, not with all the rows there are.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import timedelta

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, insert, select

from audit_workflow.auth.models import User
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.clock import govuk_date, govuk_date_time, utcnow
from audit_workflow.cycles import chase_rules as rules
from audit_workflow.cycles.models import ACTIVE_STATUSES, Assignment, AuditCycle, CycleStatus
from audit_workflow.notifications.catalogue import DEFAULT_TEMPLATES_DIR, message_kind
from audit_workflow.notifications.models import MessageStatus, OutboxMessage
from audit_workflow.plans.models import Plan
from audit_workflow.workdays import WorkingCalendar

from .data import NOW, TODAY, delete_where, multiply_closed_assignments
from .harness import Bench, Check, Result, median_seconds, ratio_at_most

GOAL_RATIO = 1.5
GOAL_GROWTH = 1.2  # with ten times the closed assignments
CLOSED_FACTOR = 10
ASSIGNMENT, CYCLE, PLAN, USER = Assignment.__table__, AuditCycle.__table__, Plan.__table__, User.__table__
LA, OUTBOX = LocalAuthority.__table__, OutboxMessage.__table__
AUDITOR_CHASES = ("reminder", "due_today", "overdue")
REMIND_DAYS = 2  # every generated cycle keeps the default policy


def plain_jinja() -> Environment:
    """The email templates' settings in a plain (not sandboxed, not strict) Jinja environment."""
    environment = Environment(loader=FileSystemLoader(DEFAULT_TEMPLATES_DIR), trim_blocks=True, lstrip_blocks=True,
                              autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
                              keep_trailing_newline=True)
    environment.filters.update(long_date=govuk_date, long_date_time=govuk_date_time)
    return environment


class _Floor:
    """Queues the emails the tick queued (`owed`: key -> (kind, assignment id)) with the least work."""

    def __init__(self, bench: Bench, owed: dict[str, tuple[str, uuid.UUID]]):
        self.engine = bench.engine
        self.owed = owed
        self.staff = {"service_name": bench.config["SERVICE_NAME"],
                      "sign_in_url": f"{bench.config['BASE_URL'].rstrip('/')}/sign-in"}
        jinja = plain_jinja()
        self.templates = {kind: (jinja.from_string(message_kind(kind).subject), jinja.get_template(f"{kind}.html"),
                                 jinja.get_template(f"{kind}.txt")) for kind in {kind for kind, _ in owed.values()}}
        self.calendar = WorkingCalendar()
        self.candidate_rows = 0
        self.subjects: dict[str, str] = {}  # the last run's, by key

    def run(self) -> None:
        horizon = self.calendar.add_working_days(TODAY, REMIND_DAYS)
        escalated = [assignment_id for kind, assignment_id in self.owed.values() if kind == "escalation"]
        with self.engine.begin() as connection:
            details = {row.id: row for row in connection.execute(
                select(ASSIGNMENT.c.id, ASSIGNMENT.c.la_id, ASSIGNMENT.c.due_date, PLAN.c.system_id, USER.c.email,
                       USER.c.display_name, LA.c.name, LA.c.contact_email)
                .join(CYCLE, CYCLE.c.id == ASSIGNMENT.c.cycle_id)
                .join(PLAN, PLAN.c.id == ASSIGNMENT.c.plan_id)
                .join(USER, USER.c.id == ASSIGNMENT.c.auditor_id)
                .join(LA, LA.c.id == ASSIGNMENT.c.la_id)
                .where(ASSIGNMENT.c.status.in_(ACTIVE_STATUSES), ASSIGNMENT.c.due_date <= horizon,
                       CYCLE.c.status == CycleStatus.OPEN))}
            coordinators, chased = defaultdict(list), {}
            if escalated:
                for la_id, email, name in connection.execute(
                        select(USER.c.la_id, USER.c.email, USER.c.display_name)
                        .where(USER.c.active, USER.c.roles.contains("coordinator")).order_by(USER.c.email)):
                    coordinators[la_id].append((email, name))
                chased = dict(connection.execute(
                    select(OUTBOX.c.assignment_id, func.count())
                    .where(OUTBOX.c.assignment_id.in_(escalated), OUTBOX.c.kind.in_(AUDITOR_CHASES),
                           OUTBOX.c.status.not_in((MessageStatus.BLOCKED, MessageStatus.CANCELLED)))
                    .group_by(OUTBOX.c.assignment_id)).all())
            rows = [self._row(key, kind, details[assignment_id], coordinators, chased.get(assignment_id, 0))
                    for key, (kind, assignment_id) in sorted(self.owed.items())]
            connection.execute(insert(OUTBOX), rows)
        self.candidate_rows = len(details)
        self.subjects = {row["idempotency_key"]: row["subject"] for row in rows}

    def _row(self, key: str, kind: str, details, coordinators: dict, chased: int) -> dict:
        due = rules.effective_due_date(self.calendar, details.due_date)
        assignment = {"system_id": details.system_id, "due_date": due}
        to, name, extra = [details.email], details.display_name, {}
        if kind == "reminder":
            assignment["working_days_left"] = self.calendar.working_days_between(TODAY, due)
        elif kind in ("overdue", "escalation"):
            assignment["working_days_overdue"] = self.calendar.working_days_between(due, TODAY)
        if kind == "escalation":
            staff = coordinators[details.la_id]
            to = [email for email, _ in staff]
            name = staff[0][1] if len(staff) == 1 else "coordinators"
            assignment["reminders_sent"] = chased
            extra = {"auditor": {"display_name": details.display_name}}
        context = {**self.staff, "la": {"name": details.name, "contact_email": details.contact_email},
                   "recipient": {"display_name": name}, "assignment": assignment, **extra}
        subject_template, html_template, text_template = self.templates[kind]
        subject = " ".join(subject_template.render(context).split())
        variables = {**context, "subject": subject}
        now = utcnow()
        return {"id": uuid.uuid4(), "la_id": details.la_id, "idempotency_key": key, "kind": kind,
                "recipients": json.dumps(sorted(set(to))), "subject": subject,
                "body_html": html_template.render(variables), "body_text": text_template.render(variables),
                "status": MessageStatus.QUEUED, "attempts": 0, "next_attempt_at": now, "created_at": now,
                "assignment_id": details.id}


class _Tick:
    def __init__(self, bench: Bench):
        from audit_workflow.cycles.chasing import chase_job

        self.bench = bench
        self.chase = chase_job
        chase_job(bench.engine, bench.config, now=NOW - timedelta(days=1))  # yesterday's run: the history
        self.since = utcnow()

    def forget_today(self) -> None:
        delete_where(self.bench.engine, OutboxMessage, OutboxMessage.created_at >= self.since)

    def run(self) -> None:
        self.chase(self.bench.engine, self.bench.config, now=NOW)

    def queued_today(self) -> dict[str, tuple[str, uuid.UUID, str]]:
        """key -> (kind, assignment id, subject)"""
        with self.bench.engine.connect() as connection:
            return {key: (kind, assignment_id, subject) for key, kind, assignment_id, subject in connection.execute(
                select(OUTBOX.c.idempotency_key, OUTBOX.c.kind, OUTBOX.c.assignment_id, OUTBOX.c.subject)
                .where(OUTBOX.c.created_at >= self.since))}

    def measure(self, name: str) -> Result:
        repeat = self.bench.repeat
        ours_s = median_seconds(self.run, repeat, prepare=self.forget_today)
        queued = self.queued_today()
        # Run again with today's chases in place: what every later tick of the day costs.
        again_s = median_seconds(self.run, repeat)
        floor = _Floor(self.bench, {key: (kind, assignment_id) for key, (kind, assignment_id, _) in queued.items()})
        floor_s = median_seconds(floor.run, repeat, prepare=self.forget_today)
        if floor.subjects != {key: subject for key, (_, _, subject) in queued.items()}:
            raise AssertionError("the tick's floor did not queue the same emails")
        self.forget_today()
        self.run()  # leave the tick's own emails, as the day's later ticks find them
        return Result(name, ours_s, floor_s, extra={
            "candidate_rows": floor.candidate_rows, "queued": len(queued), "same_day_again_s": again_s,
            "closed_assignments": self.bench.dataset.closed_assignments})


def measure(bench: Bench) -> list[Result]:
    tick = _Tick(bench)
    base = ratio_at_most(tick.measure("tick"), GOAL_RATIO)
    multiply_closed_assignments(bench.engine, bench.dataset, CLOSED_FACTOR)
    grown = tick.measure("tick_10x_closed")
    # Here the comparison is with the same tick before the closed rows grew tenfold.
    grown.extra["floor_10x_s"] = grown.floor_s
    grown.floor_s = base.ours_s
    grown.checks.append(Check(f"ratio to tick <= {GOAL_GROWTH:g}", grown.ratio <= GOAL_GROWTH))
    return [base, grown]
