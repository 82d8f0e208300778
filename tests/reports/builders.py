"""Submitted audits with chosen grades, written straight into the tables the reports read."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import yaml

from audit_workflow.audits.models import Audit, AuditStatus, SectionJudgement
from audit_workflow.cycles.models import AssignmentStatus
from audit_workflow.framework import SECTION_CODES, default_framework, framework_to_dict
from audit_workflow.framework.versions import active_framework, configured_framework_file
from tests.factories import make_assignment, make_cycle, make_plan

SUBMITTED = datetime(2026, 10, 15, 12, 0, tzinfo=timezone.utc)
CONFIGURED = "Configured wording: "  # starts every Good criterion and section description of configure_framework's file


def configure_framework(app, folder: Path) -> Path:
    """FRAMEWORK_FILE names a framework of its own (the shipped one, reworded under another version),
    as a council's settings may; the file, as services are given it."""
    data = framework_to_dict(default_framework())
    data["version"] = "configured-2099.1"
    for section in data["sections"]:
        section["what_good_looks_like"] = CONFIGURED + section["what_good_looks_like"]
        for criterion in section["bands"]["good"]:
            criterion["text"] = CONFIGURED + criterion["text"]
    path = folder / "configured.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    app.config["FRAMEWORK_FILE"] = str(path)
    return configured_framework_file(app.config)


def submitted_audit(db, la, cycle, auditor, system_id: str, overall: str, sections: dict | None = None,
                    ticked: dict | None = None, kind: str = "primary", submitted_at: datetime = SUBMITTED,
                    status: str = AuditStatus.SUBMITTED, **plan_fields) -> Audit:
    """An audit of a new plan; every section graded `overall` unless `sections` says otherwise."""
    plan = make_plan(db, la, system_id=system_id, **plan_fields)
    assignment = make_assignment(db, cycle, plan, auditor, kind=kind, status=AssignmentStatus.SUBMITTED,
                                 submitted_at=submitted_at)
    version, _ = active_framework(db, la.id)
    audit = Audit(la_id=la.id, assignment_id=assignment.id, framework_version_id=version.id, status=status,
                  overall_grade=overall, submitted_at=submitted_at if status == AuditStatus.SUBMITTED else None)
    db.add(audit)
    db.flush()
    sections, ticked = sections or {}, ticked or {}
    for code in SECTION_CODES:
        db.add(SectionJudgement(la_id=la.id, audit_id=audit.id, section_code=code, grade=sections.get(code, overall),
                                ticked=json.dumps(ticked.get(code, []))))
    db.flush()
    return audit


def grade_mix(db, la, cycle, auditor, prefix: str, counts: dict[str, int], **plan_fields) -> list[Audit]:
    """counts: overall grade -> how many audits of it."""
    audits = []
    for grade, count in counts.items():
        for number in range(count):
            audits.append(submitted_audit(db, la, cycle, auditor, f"{prefix}-{grade[:2]}-{number:03d}", grade, **plan_fields))
    return audits


def dated_cycle(db, la, name: str, start, end, status: str = "closed"):
    cycle = make_cycle(db, la, name, status=status)
    cycle.period_start, cycle.period_end = start, end
    db.add(cycle)
    db.flush()
    return cycle
