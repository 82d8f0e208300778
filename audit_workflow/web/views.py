import ipaddress
import os
import socket
import time

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy import text

from ..access import current_user, public, require_user, signed_in
from ..auth.models import Role
from ..auth.sessions import signed_in_la
from ..db import get_engine, get_session
from . import navigation
from .contributions import HEALTH_CHECKS, HOME_PANELS

bp = Blueprint("web", __name__, template_folder="templates")

@bp.get("/")
@signed_in
def home():
    user = require_user()
    panels = [panel for panel in (build(user) for build in HOME_PANELS.values()) if panel is not None]
    return render_template("web/home.html", panels=panels, home_links=navigation.home_links())


# Until this long after an app with the embedded scheduler started, a check's "alert" reads
# "starting": the scheduler has not yet taken its lease nor run its start-up jobs (the retention
# purges run a minute after it starts), so "never succeeded" is no news yet.
STARTUP_GRACE_SECONDS = 60.0
STARTED_KEY = "web.started_monotonic"


@bp.record_once
def _remember_start(state) -> None:
    state.app.extensions[STARTED_KEY] = time.monotonic()


@bp.get("/healthz")
@public
def healthz():
    """ok, degraded (with the names of the failing checks) or down. The checks' details (host, pid,
    queue counts, lease holder) only for a signed-in admin or a request from the server itself."""
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver error means "unreachable" to a load balancer
        current_app.logger.error("health check: database unreachable: %s", type(error).__name__)
        return jsonify(status="down", failing=["database"]), 503
    starting = (current_app.config["SCHEDULER_EMBEDDED"]
                and time.monotonic() - current_app.extensions[STARTED_KEY] < STARTUP_GRACE_SECONDS)
    checks = {"database": {"status": "ok"}}
    for name, check in HEALTH_CHECKS.items():
        checks[name] = check()
        if starting and checks[name].get("status") == "alert":
            checks[name]["status"] = "starting"
    failing = [name for name, result in checks.items() if result.get("status") not in ("ok", "starting")]
    body: dict = {"status": "degraded" if failing else "ok", "failing": failing}
    if _may_see_health_details():
        body.update(host=socket.gethostname(), pid=os.getpid(), **checks)
    return jsonify(body)


def _may_see_health_details() -> bool:
    user = current_user()
    if user is not None and user.has_role(Role.ADMIN):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/privacy")
@public
def privacy():
    return render_template(
        "web/page.html",
        heading="Privacy",
        paragraphs=[
            "This service records the quality of Education, Health and Care Plans. It identifies each plan only by the council's pseudonymous System ID, with its key stage, setting, setting type and primary need.",
            "It never holds a child's or young person's name, date of birth, address, Unique Pupil Number, NHS number or the text of their plan. Plans are sent to auditors separately by the council's own secure email.",
            "Staff accounts hold a name, work email address, role and team. Email message contents are deleted after a few days; family feedback contact details are deleted after the retention period the council sets.",
        ],
    )


@bp.get("/accessibility")
@public
def accessibility():
    return render_template(
        "web/page.html",
        heading="Accessibility statement",
        paragraphs=[
            "This service is built with the GOV.UK Design System's components and aims to meet WCAG 2.2 at level AA.",
            "If you find a problem using it, contact your council's SEND quality assurance team, who will respond within 5 working days.",
        ],
    )


@bp.app_context_processor
def signed_in_context():
    return {"current_user": current_user(), "la": signed_in_la()}
