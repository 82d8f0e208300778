"""A register and a pool of auditors big enough to sample and allocate, built in bulk; and register
files as an LA exports them (the plan import tests use these too)."""

from __future__ import annotations

import csv
import io
import itertools
import uuid

import pytest
from sqlalchemy import insert

from audit_workflow.auth.service import create_user
from audit_workflow.clock import utcnow
from audit_workflow.notifications.staff_mail import StaffMail
from audit_workflow.plans.models import Plan

KEY_STAGES = ("EYFS", "KS1", "KS2", "KS3", "KS4", "KS5")
NEEDS = ("ASD", "SLCN", "SEMH", "MLD", "SPLD")
SETTING_TYPES = ("mainstream_maintained", "special_maintained", "mainstream_academy_free")
WRITER_TEAMS = ("SEN North", "SEN South", "SEN East")


def add_register(db, la, count: int, prefix: str = "SYS") -> list[uuid.UUID]:
    """count plans cycling through key stages, needs, setting types and writing teams."""
    now = utcnow()
    mixes = itertools.cycle(itertools.product(KEY_STAGES, NEEDS, SETTING_TYPES))
    rows = []
    for number, (key_stage, need, setting_type) in zip(range(count), mixes):
        rows.append({
            "id": uuid.uuid4(), "la_id": la.id, "system_id": f"{prefix}-{number:06d}", "key_stage": key_stage,
            "primary_need": need, "setting_type": setting_type, "setting_name": "Oak Primary", "plan_type": "annual_review",
            "writer_team": WRITER_TEAMS[number % len(WRITER_TEAMS)], "created_at": now, "updated_at": now,
        })
    db.execute(insert(Plan), rows)
    db.commit()
    return [row["id"] for row in rows]


FILE_HEADINGS = ("System ID", "Key stage", "Setting name", "Setting type", "Primary need", "Plan type", "Writer team")


def register_rows(count: int, prefix: str = "SYS") -> list[list[str]]:
    """Rows for a register file, in FILE_HEADINGS order, with the same mix as add_register."""
    mixes = itertools.cycle(itertools.product(KEY_STAGES, NEEDS, SETTING_TYPES))
    return [[f"{prefix}-{number:06d}", key_stage, "Oak Primary", setting_type, need, "annual_review",
             WRITER_TEAMS[number % len(WRITER_TEAMS)]]
            for number, (key_stage, need, setting_type) in zip(range(count), mixes)]


def as_csv(rows, headings=FILE_HEADINGS) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(headings)
    writer.writerows(rows)
    return text.getvalue().encode()


def as_xlsx(rows, headings=FILE_HEADINGS) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Register")
    sheet.append(list(headings))
    for row in rows:
        sheet.append(row)
    data = io.BytesIO()
    workbook.save(data)
    return data.getvalue()


def add_auditors(db, la, count: int, teams=WRITER_TEAMS, discipline: str = "education") -> list:
    users = [
        create_user(db, la.id, f"auditor{number}.{la.code}@example.gov.uk", f"Auditor {number:02d}", "auditor",
                    discipline=discipline, team=teams[number % len(teams)], password=None)
        for number in range(count)
    ]
    db.commit()
    return users


@pytest.fixture
def mail(app, db):
    """What services that queue staff email are given: the service's name and address come from the
    app's settings."""
    return StaffMail(db, app.config)


@pytest.fixture
def la(world):
    return world.las["own"]


@pytest.fixture
def coordinator(world):
    return world.user("coordinator")
