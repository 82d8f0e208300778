"""The access trail page, "who accessed System ID X", for data-protection officers (the admin
role), and the hook that writes each request's noted accesses."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..access import allow, require_user
from ..auth.models import Role
from ..db import get_session
from ..web import navigation
from . import recorder, service

bp = Blueprint("trail", __name__, template_folder="templates")
bp.after_app_request(recorder.write_pending)

navigation.register("Access trail", "trail.index", (Role.ADMIN,), "Who read or changed a plan, for data-protection requests",
                    order=80)


@bp.get("/trail")
@allow(Role.ADMIN)
def index():
    system_id = (request.args.get("system_id") or "").strip()
    events, total, error = [], 0, None
    if system_id:
        try:
            events, total = service.accesses_to_plan(get_session(), require_user().la_id, system_id)
        except service.TrailError as refusal:
            error = str(refusal)
    return render_template("trail/index.html", system_id=system_id, events=events, total=total, error=error), 400 if error else 200
