"""The coordinator's cycle pages: settings, the sample, the auditor pool, allocation and the
dashboard; and the one page of this area an auditor uses, to decline an assignment.

One blueprint, its routes in a module for each part of the cycle (settings, opening and closing;
the sample; the pool; allocation and assignments). Managers may read every page; only coordinators
change anything. A closed cycle shows no controls, and the service refuses any change to it anyway.
Every change is a POST that either redirects (success) or answers its page with the error summary
and a 400 (web.changes.apply_change).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from flask import Blueprint, abort, redirect, request, url_for

from ...access import has_role, load_owned
from ...auth.models import Role
from .. import lifecycle
from ..models import AuditCycle, CycleStatus

bp = Blueprint("cycles", __name__, template_folder=str(Path(__file__).parent.parent / "templates"))

OVERSEERS = (Role.COORDINATOR, Role.MANAGER)


@bp.context_processor
def cycle_helpers():
    return {"describe_target": lifecycle.describe_target, "strata_labels": strata_labels, "reminder_policy": reminder_policy,
            "can_change": can_change}


def strata_labels(strata: str | None) -> str:
    """The fields a sample is stratified by, as a phrase: "key stage, primary need"."""
    return ", ".join(lifecycle.STRATA_FIELDS[name].lower() for name in lifecycle.split_strata(strata))


def reminder_policy(cycle: AuditCycle) -> str:
    reallocate = (f"; reallocated after {cycle.reallocate_after_days} working days overdue" if cycle.reallocate_after_days
                  else "; never reallocated automatically")
    return (f"Reminded {cycle.remind_days_before} working days before the due date; chased every "
            f"{cycle.overdue_interval_days} working days when overdue; coordinator told after "
            f"{cycle.escalate_after_days} working days overdue{reallocate}")


def can_change(cycle: AuditCycle) -> bool:
    return cycle.status != CycleStatus.CLOSED and has_role(Role.COORDINATOR)


def cycle_to_change(cycle_id: uuid.UUID, back_to: str = "cycles.show") -> AuditCycle:
    """The cycle a form changes. Opening such a form in a closed cycle leads back to the page
    `back_to`, as nothing there can change; a POST is left to the service, which refuses it."""
    cycle = load_owned(AuditCycle, cycle_id)
    if request.method == "GET" and cycle.status == CycleStatus.CLOSED:
        abort(redirect(url_for(back_to, cycle_id=cycle.id)))
    return cycle


# The parts of the cycle, each adding its routes to bp.
from . import allocation, pool, sample, settings  # noqa: E402
