"""Deterministic synthetic data at a chosen scale: LAs, registers, cycles, assignments, audits.

Every value, ids included, comes from one seeded `random.Random`, so two builds at the same scale
are identical row for row. Rows go in through SQLAlchemy Core in chunks (executemany), one LA at a
time, so memory stays flat at national scale.

The shape follows /work/shared/domain/reference-data.md: LAs of very different sizes (a few under
1,500 plans, the largest about 20,000), the national primary-need mix, and per LA a run of closed
cycles plus one open cycle holding about 5% of its assignments. A few assignments in closed
cycles are left not started, as the service allows (closing a cycle does not touch them): the
scheduler must not chase them, and must not read them either.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator

from sqlalchemy import String, Table, cast, delete, func, insert, literal, select, text, true, type_coerce, union_all
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import audit_workflow.models  # noqa: F401  (every table on the metadata)
from audit_workflow.audits.models import Audit, SectionJudgement
from audit_workflow.auth.models import User
from audit_workflow.authorities.models import LocalAuthority
from audit_workflow.cycles.models import Assignment, AuditCycle, CycleAuditor, CyclePlan
from audit_workflow.framework.models import FrameworkVersion
from audit_workflow.notifications.models import OutboxMessage
from audit_workflow.plans.models import Plan

# The benchmark's "now": a Tuesday in term time, inside the bank-holiday data the service knows.
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)
TODAY = NOW.date()
SEED = 20260310
CHUNK_ROWS = 10_000
CYCLES_PER_LA = 20  # 19 closed and 1 open: the open one holds 1/20 = 5% of the assignments
MODERATED_SHARE = 0.1  # plans audited a second time
SECTIONS = ("A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K")
GRADES = ("outstanding", "good", "requires_improvement", "inadequate")
COORDINATOR_PASSWORD = "benchmark coordinator password"

# National primary-need mix (January 2025); DS and NSA are rare enough to be a sprinkle.
NEED_MIX = {"ASD": 31.5, "SLCN": 21.3, "SEMH": 20.7, "MLD": 10.6, "SLD": 3.9, "PD": 3.9, "SPLD": 2.4, "HI": 1.4,
            "PMLD": 1.3, "OTH": 1.2, "VI": 0.8, "MSI": 0.3, "DS": 0.5, "NSA": 0.2}
KEY_STAGE_MIX = {"EYFS": 5, "KS1": 12, "KS2": 25, "KS3": 22, "KS4": 16, "KS5": 12, "POST19": 8}
SETTING_TYPE_MIX = {"mainstream_maintained": 20, "mainstream_academy_free": 18, "mainstream_resourced_provision": 5,
                    "special_maintained": 17, "special_academy_free": 12, "special_independent_non_maintained": 8,
                    "ap_pru": 3, "post16_fe_college": 9, "post16_specialist": 2, "ehe": 2, "neet": 2, "other": 2}
PLAN_TYPE_MIX = {"annual_review": 80, "new": 15, "amended": 5}
DISCIPLINES = ("education", "education", "health", "social_care", "other")


@dataclass(frozen=True)
class Scale:
    name: str
    las: int
    plans: int
    assignments: int
    audits: int
    import_rows: int  # workload 3
    mail_messages: int  # workload 2
    mail_cap_seconds: float  # workload 2, how long the capped run lasts (Exchange counts per minute)
    web_seconds: float  # workload 5, per endpoint
    default_repeat: int


# The import is of 100,000 rows at every scale but tiny (a register that size is what an LA sends,
# whatever the size of the deployment); the mail drain of 5,000 messages needs a few minutes, so
# small sends a tenth of them. tiny exists for the smoke test: every workload, in seconds.
SCALES = {
    "national": Scale("national", las=153, plans=640_000, assignments=1_000_000, audits=100_000,
                      import_rows=100_000, mail_messages=5_000, mail_cap_seconds=75, web_seconds=20, default_repeat=3),
    "tenth": Scale("tenth", las=15, plans=64_000, assignments=100_000, audits=10_000,
                   import_rows=100_000, mail_messages=5_000, mail_cap_seconds=75, web_seconds=20, default_repeat=3),
    "small": Scale("small", las=2, plans=6_400, assignments=10_000, audits=1_000,
                   import_rows=100_000, mail_messages=500, mail_cap_seconds=10, web_seconds=5, default_repeat=3),
    "tiny": Scale("tiny", las=2, plans=640, assignments=1_000, audits=100,
                  import_rows=2_000, mail_messages=40, mail_cap_seconds=3, web_seconds=1, default_repeat=1),
}


@dataclass
class AuthorityFacts:
    """What the workloads need to know about one LA after the build."""

    la_id: uuid.UUID
    code: str
    plans: int
    open_cycle_id: uuid.UUID
    coordinator_email: str
    auditor_ids: list[uuid.UUID]
    plan_ids: list[uuid.UUID] = field(repr=False)


@dataclass
class Dataset:
    scale: Scale
    authorities: list[AuthorityFacts]  # largest register first
    closed_assignments: int = 0
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def largest(self) -> AuthorityFacts:
        return self.authorities[0]


class RowGenerator:
    """Seeded values: ids, weighted choices, dates."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def weighted(self, mix: dict[str, float], count: int) -> list[str]:
        return self.rng.choices(list(mix), weights=list(mix.values()), k=count)

    def instant(self, day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc) + timedelta(minutes=self.rng.randrange(600))


def insert_rows(connection: Connection, table: Table, rows: Iterable[dict]) -> int:
    """executemany in chunks; returns the number of rows."""
    total = 0
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            connection.execute(insert(table), chunk)
            total += len(chunk)
            chunk = []
    if chunk:
        connection.execute(insert(table), chunk)
        total += len(chunk)
    return total


def reset_schema(engine: Engine) -> None:
    """An empty database with the application's schema (PostgreSQL: the public schema is dropped)."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    SQLModel.metadata.create_all(engine)


def settle(engine: Engine) -> None:
    """Bring freshly loaded tables to the state a running server keeps them in, so a bulk load does
    not distort the timings after it: PostgreSQL's autovacuum would have vacuumed and analysed
    them, and SQLite's automatic checkpoints would have moved the write-ahead log into the file."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:  # outside any transaction, which a checkpoint must wait for
        connection = engine.raw_connection()
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()


def _register_sizes(gen: RowGenerator, scale: Scale) -> list[int]:
    # Log-normal: the largest LA has about five times the median, as Kent does.
    weights = sorted((gen.rng.lognormvariate(0, 0.6) for _ in range(scale.las)), reverse=True)
    total = sum(weights)
    return [max(10, round(scale.plans * weight / total)) for weight in weights]


class Builder:
    """Builds a Dataset."""

    def __init__(self, engine: Engine, scale: Scale, password_hash: str, seed: int = SEED):
        self.engine = engine
        self.scale = scale
        self.gen = RowGenerator(seed)
        self.password_hash = password_hash
        self.framework_version_id = self.gen.uuid()
        self.counts: dict[str, int] = {}
        self.audits_left = 0  # of the LA being built: its share of the national audits, newest first
        self.open_assignments = 0
        self.pending: dict[Table, list[dict]] = {}

    def _insert(self, connection: Connection, model: type[SQLModel], rows: Iterable[dict]) -> None:
        """Buffer rows, and flush once enough wait: a few large executemany calls instead of a small
        one per cycle and table."""
        self.pending.setdefault(model.__table__, []).extend(rows)
        if sum(map(len, self.pending.values())) >= CHUNK_ROWS:
            self._flush(connection)

    def _flush(self, connection: Connection) -> None:
        for table in SQLModel.metadata.sorted_tables:  # parents before children
            rows = self.pending.get(table, ())
            self.counts[table.name] = self.counts.get(table.name, 0) + insert_rows(connection, table, rows)
        self.pending = {}

    def build(self) -> Dataset:
        reset_schema(self.engine)
        sizes = _register_sizes(self.gen, self.scale)
        per_plan = self.scale.assignments / sum(sizes)
        authorities = []
        with self.engine.begin() as connection:
            self._insert(connection, FrameworkVersion, [{
                "id": self.framework_version_id, "la_id": None, "version": "benchmark", "content": "{}",
                "active": True, "loaded_at": NOW - timedelta(days=400)}])
        for number, size in enumerate(sizes):
            with self.engine.begin() as connection:
                authorities.append(self._authority(connection, number, size, round(size * per_plan)))
                self._flush(connection)
        settle(self.engine)
        dataset = Dataset(self.scale, authorities, row_counts=self.counts)
        dataset.closed_assignments = self.counts["assignment"] - self.open_assignments
        return dataset

    def _authority(self, connection: Connection, number: int, register: int, assignments: int) -> AuthorityFacts:
        gen = self.gen
        la_id = gen.uuid()
        code = f"{100 + number:03d}"
        self._insert(connection, LocalAuthority, [{
            "id": la_id, "code": code, "name": f"Benchmark LA {code}", "region": f"E1200000{number % 9 + 1}",
            "contact_email": f"send.qa@la{code}.example.gov.uk", "created_at": NOW - timedelta(days=900)}])
        plan_ids = [gen.uuid() for _ in range(register)]
        self._insert(connection, Plan, self._plans(la_id, plan_ids))
        coordinator = {"id": gen.uuid(), "la_id": la_id, "email": f"coordinator@la{code}.example.gov.uk",
                       "display_name": f"Coordinator {code}", "roles": "coordinator", "discipline": "education",
                       "password_hash": self.password_hash, "active": True, "created_at": NOW - timedelta(days=900)}
        auditors = [{"id": gen.uuid(), "la_id": la_id, "email": f"auditor{index}@la{code}.example.gov.uk",
                     "display_name": f"Auditor {index:03d} ({code})", "roles": "auditor",
                     "discipline": DISCIPLINES[index % len(DISCIPLINES)], "team": f"Team {index % 6}",
                     "password_hash": None, "active": True, "created_at": NOW - timedelta(days=900)}
                    for index in range(max(8, register // 150))]
        self._insert(connection, User, [coordinator, *auditors])
        facts = AuthorityFacts(la_id, code, register, open_cycle_id=uuid.UUID(int=0),
                               coordinator_email=coordinator["email"],
                               auditor_ids=[auditor["id"] for auditor in auditors], plan_ids=plan_ids)
        per_cycle = self._plans_per_cycle(assignments)
        self.audits_left = round(self.scale.audits * assignments / self.scale.assignments)
        facts.open_cycle_id = self._cycle(connection, facts, per_cycle, age=0)
        for age in range(1, CYCLES_PER_LA):
            self._cycle(connection, facts, per_cycle, age)
        self.audits_left = 0
        return facts

    @staticmethod
    def _plans_per_cycle(assignments: int) -> int:
        return max(1, round(assignments / CYCLES_PER_LA / (1 + MODERATED_SHARE)))

    def _plans(self, la_id: uuid.UUID, plan_ids: list[uuid.UUID]) -> Iterator[dict]:
        gen, count = self.gen, len(plan_ids)
        needs = gen.weighted(NEED_MIX, count)
        stages = gen.weighted(KEY_STAGE_MIX, count)
        settings = gen.weighted(SETTING_TYPE_MIX, count)
        kinds = gen.weighted(PLAN_TYPE_MIX, count)
        created = NOW - timedelta(days=800)
        for index, plan_id in enumerate(plan_ids):
            yield {"id": plan_id, "la_id": la_id, "system_id": f"SYS-{index:07d}", "key_stage": stages[index],
                   "setting_name": f"Setting {index % 400}", "setting_type": settings[index],
                   "primary_need": needs[index], "plan_type": kinds[index], "writer_team": f"Team {index % 6}",
                   "flag": "NSA on an EHCP" if needs[index] == "NSA" else None,
                   "created_at": created, "updated_at": created}

    def _cycle(self, connection: Connection, facts: AuthorityFacts, size: int, age: int) -> uuid.UUID:
        """One cycle `age` months ago (0: the open one) with `size` plans, each assigned once, and
        one in ten of them audited a second time (moderation)."""
        gen = self.gen
        cycle_id = gen.uuid()
        start = TODAY - timedelta(days=30 * age + 25)
        is_open = age == 0
        self._insert(connection, AuditCycle, [{
            "id": cycle_id, "la_id": facts.la_id, "name": f"Cycle {start:%B %Y}", "period_start": start,
            "period_end": start + timedelta(days=30), "status": "open" if is_open else "closed",
            "sample_size": size, "sample_seed": age, "sample_drawn_at": gen.instant(start),
            "created_at": gen.instant(start), "opened_at": gen.instant(start),
            "closed_at": None if is_open else gen.instant(start + timedelta(days=45))}])
        self._insert(connection, CycleAuditor, ({"id": gen.uuid(), "la_id": facts.la_id, "cycle_id": cycle_id,
                                                 "user_id": auditor_id, "capacity": 5}
                                                for auditor_id in facts.auditor_ids))
        plan_ids = gen.rng.sample(facts.plan_ids, min(size, len(facts.plan_ids)))
        self._insert(connection, CyclePlan, ({"id": gen.uuid(), "la_id": facts.la_id, "cycle_id": cycle_id,
                                              "plan_id": plan_id, "source": "sample",
                                              "added_at": gen.instant(start)} for plan_id in plan_ids))
        moderated = plan_ids[: round(len(plan_ids) * MODERATED_SHARE)]
        assignments = [self._assignment(facts, cycle_id, plan_id, kind, start, is_open)
                       for kind, plans in (("primary", plan_ids), ("moderation", moderated)) for plan_id in plans]
        self._insert(connection, Assignment, assignments)
        if is_open:
            self.open_assignments += len(assignments)
        else:
            self._insert(connection, OutboxMessage, self._sent_messages(facts.la_id, assignments))
        audited = [row for row in assignments if row["status"] == "submitted"][: self.audits_left]
        self.audits_left -= len(audited)
        self._audits(connection, facts.la_id, audited)
        return cycle_id

    def _assignment(self, facts: AuthorityFacts, cycle_id: uuid.UUID, plan_id: uuid.UUID, kind: str,
                    start: date, is_open: bool) -> dict:
        gen, rng = self.gen, self.gen.rng
        if is_open:
            # Allocated over the last four weeks; 15 working days is about three weeks.
            assigned_on = TODAY - timedelta(days=rng.randrange(28))
            due = assigned_on + timedelta(days=21)
            done_share = 0.35 if due < TODAY else 0.2
            roll = rng.random()
            status = ("submitted" if roll < done_share else "declined" if roll < done_share + 0.04
                      else "in_progress" if roll < 0.7 else "not_started")
        else:
            assigned_on = start + timedelta(days=rng.randrange(10))
            due = assigned_on + timedelta(days=21)
            roll = rng.random()
            status = ("submitted" if roll < 0.88 else "declined" if roll < 0.92 else "withdrawn" if roll < 0.97
                      else "not_started")  # left unfinished when the cycle closed
        assigned_at = gen.instant(assigned_on)
        started = status in ("in_progress", "submitted")
        return {
            "id": gen.uuid(), "la_id": facts.la_id, "cycle_id": cycle_id, "plan_id": plan_id,
            "auditor_id": rng.choice(facts.auditor_ids), "kind": kind, "status": status, "due_date": due,
            "assigned_at": assigned_at,
            "started_at": assigned_at + timedelta(days=2) if started else None,
            "submitted_at": assigned_at + timedelta(days=12) if status == "submitted" else None,
            "declined_at": assigned_at + timedelta(days=1) if status == "declined" else None,
            "decline_reason": "Conflict of interest" if status == "declined" else None,
            # Coordinators tick "plan sent" within a couple of days; the newest are still to send.
            "plan_sent_at": assigned_at + timedelta(days=1) if assigned_on < TODAY - timedelta(days=2) else None,
        }

    def _sent_messages(self, la_id: uuid.UUID, assignments: list[dict]) -> Iterator[dict]:
        """Each closed assignment's allocation email, long sent and purged: the outbox the dispatcher
        scans is mostly history."""
        for row in assignments:
            sent = row["assigned_at"]
            yield {"id": self.gen.uuid(), "la_id": la_id, "idempotency_key": f"assignment:{row['id']}:allocated",
                   "kind": "assignment_allocated", "status": "sent", "attempts": 1, "next_attempt_at": sent,
                   "assignment_id": row["id"], "created_at": sent, "sent_at": sent,
                   "purged_at": sent + timedelta(days=7)}

    def _audits(self, connection: Connection, la_id: uuid.UUID, assignments: list[dict]) -> None:
        gen = self.gen
        audits, judgements = [], []
        for assignment in assignments:
            audit_id = gen.uuid()
            submitted = assignment["submitted_at"]
            grades = [gen.rng.choice(GRADES) for _ in SECTIONS]
            audits.append({"id": audit_id, "la_id": la_id, "assignment_id": assignment["id"],
                           "framework_version_id": self.framework_version_id, "status": "submitted",
                           "overall_grade": grades[0], "overall_explanation": "Weighted mean of the sections",
                           "score": round(gen.rng.uniform(1, 4), 2), "started_at": assignment["started_at"],
                           "updated_at": submitted, "submitted_at": submitted})
            judgements.extend({"id": gen.uuid(), "la_id": la_id, "audit_id": audit_id, "section_code": section,
                               "ticked": json.dumps([f"{section}{n}" for n in range(1, 4)]),
                               "comment": "Outcomes are specific and measurable.", "grade": grade,
                               "explanation": "Most criteria met", "updated_at": submitted}
                              for section, grade in zip(SECTIONS, grades))
        self._insert(connection, Audit, audits)
        self._insert(connection, SectionJudgement, judgements)


def multiply_closed_assignments(engine: Engine, dataset: Dataset, factor: int) -> None:
    """Make the closed cycles' assignments `factor` times as many, in one INSERT ... SELECT (copies
    of each, statuses included, with ids derived from the original's): ten times the national
    closed rows would take most of an hour to generate row by row in Python."""
    assignment, cycle = Assignment.__table__, AuditCycle.__table__
    copies = union_all(*(select(literal(number).label("copy")) for number in range(1, factor))).subquery("copies")
    if engine.dialect.name == "sqlite":
        # Ids are 32 hex digits. A copy's has "f" for the version digit (always 4 in a random UUID, so
        # never an original's) and the copy's number for the last two.
        hex_id = type_coerce(assignment.c.id, String)
        new_id = (func.substr(hex_id, 1, 12).op("||")(literal("f")).op("||")(func.substr(hex_id, 14, 17))
                  .op("||")(func.printf("%02x", copies.c.copy)))
    else:
        new_id = cast(func.md5(cast(assignment.c.id, String) + cast(copies.c.copy, String)), assignment.c.id.type)
    others = [column for column in assignment.c if column.name != "id"]
    source = (select(new_id, *others).select_from(assignment.join(cycle, cycle.c.id == assignment.c.cycle_id))
              .join(copies, true()).where(cycle.c.status == "closed"))
    with engine.begin() as connection:
        connection.execute(insert(assignment).from_select(["id", *(c.name for c in others)], source))
        total = connection.execute(select(func.count()).select_from(assignment)).scalar_one()
    settle(engine)
    dataset.closed_assignments += total - dataset.row_counts["assignment"]
    dataset.row_counts["assignment"] = total


def delete_where(engine: Engine, model: type[SQLModel], *conditions) -> None:
    with engine.begin() as connection:
        connection.execute(delete(model.__table__).where(*conditions))


def queued_messages(gen: RowGenerator, count: int, queued_at: datetime) -> Iterator[dict]:
    """Outbox rows ready to send, as queue_message would have left them."""
    for index in range(count):
        yield {"id": gen.uuid(), "la_id": None, "idempotency_key": f"benchmark:mail:{index}",
               "kind": "assignment_reminder", "recipients": '["auditor@example.gov.uk"]', "subject": "An audit is due soon",
               "body_html": "<p>Your audit of plan SYS-0000001 is due on 12 March 2026.</p>",
               "body_text": "Your audit of plan SYS-0000001 is due on 12 March 2026.", "status": "queued",
               "attempts": 0, "next_attempt_at": queued_at, "created_at": queued_at}
