"""Demo data for the cycle report: each demo LA's closed summer cycle has a context page for Ofsted
and CQC, so its report shows every part on first run. Saved through the service (privacy check
included); idempotent: a cycle that already has text keeps it."""

from __future__ import annotations

from sqlmodel import Session, select

from ...authorities.models import LocalAuthority
from ...cycles.models import AuditCycle
from .service import report_texts, save_texts

DEMO_CYCLE = "Summer term 2026 (demo)"
DEMO_CONTEXT = {
    "qa_framework": "Every term a stratified sample of about one plan in ten is audited against the EHC plan quality "
                    "framework by education, health and social care auditors; one audit in ten is moderated blind.",
    "forums": "Findings go to the monthly multi-agency quality panel, chaired by the Principal Educational "
              "Psychologist with the Designated Clinical Officer and the social care lead.",
    "governance": "The SEND partnership board receives this report each term and agrees the actions.",
    "work_done": "Since the spring cycle: outcome-writing workshops for case officers, and a health advice template "
                 "agreed with the community paediatric service.",
    "improvement_plan": "Feeds priority 2 of the SEND improvement plan (quality of EHC plans).",
}


def load_cycle_report_demo(db: Session, authorities: list[LocalAuthority]) -> None:
    for la in authorities:
        cycle = db.exec(select(AuditCycle).where(AuditCycle.la_id == la.id, AuditCycle.name == DEMO_CYCLE)).first()
        if cycle is not None and not report_texts(db, cycle):
            save_texts(db, cycle, DEMO_CONTEXT, user_id=None)
