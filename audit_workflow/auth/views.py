from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for

from ..access import current_user, public, signed_in
from ..clock import utcnow
from ..db import get_session
from . import entra, service
from .forms import SignInForm
from .passwords import verify_password
from .service import SignInLimits, record_failed_sign_in, sign_in_throttled
from .sessions import end_session, start_session

bp = Blueprint("auth", __name__, template_folder="templates")

FLOW_KEY = "entra_flow"
NEXT_KEY = "after_sign_in"


def _safe_next(target: str | None) -> str:
    """Only ever redirect within this site after sign-in (no open redirect)."""
    if not target:
        return url_for("web.home")
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("web.home")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user() is not None:
        return redirect(url_for("web.home"))
    form = SignInForm()
    db = get_session()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        address = request.remote_addr  # the real client's when TRUSTED_PROXIES is set (ProxyFix)
        limits = SignInLimits.from_settings(current_app.config)
        if sign_in_throttled(db, email, address, limits, utcnow()):
            current_app.logger.warning("sign-in rate limit reached")
            minutes = int(limits.window.total_seconds() // 60)
            form.email.errors.append(f"Too many failed sign-in attempts. Wait {minutes} minutes and try again.")
            status = 429
        else:
            user = service.user_by_email(db, email)
            db.commit()  # ends the read (and any write lock) before the deliberately slow hash check
            if user is not None and user.active and verify_password(user.password_hash, form.password.data):
                start_session(db, user, method="password")
                current_app.logger.info("signed in: user %s (password)", user.id)
                return redirect(_safe_next(request.args.get("next")))
            if user is None:
                verify_password(None, form.password.data)  # same cost as a wrong password
            record_failed_sign_in(db, email, address, limits, utcnow())
            db.commit()
            current_app.logger.info("sign-in failed")
            form.email.errors.append("Enter a correct email address and password")
            status = 401 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "auth/sign_in.html",
            form=form,
            entra_enabled=entra.settings() is not None,
            next=request.args.get("next"),
            **_demo_context(),
        ),
        status,
    )


@bp.post("/sign-out")
@signed_in
def sign_out():
    end_session(get_session())
    flash("You have signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.get("/sign-in/microsoft")
@public
def entra_start():
    settings = _entra_settings()
    flow = entra.begin(settings, redirect_uri=url_for("auth.entra_callback", _external=True))
    session[FLOW_KEY] = flow
    session[NEXT_KEY] = _safe_next(request.args.get("next"))
    return redirect(flow["auth_uri"])


@bp.get("/sign-in/microsoft/callback")
@public
def entra_callback():
    settings = _entra_settings()
    flow = session.pop(FLOW_KEY, None)
    next_url = session.pop(NEXT_KEY, None)
    if flow is None:
        return _refused("Your sign-in took too long or was started in another browser. Try again.")
    try:
        claims = entra.complete(settings, flow, request.args.to_dict())
    except entra.EntraRefused as refusal:
        current_app.logger.warning("Entra sign-in refused: %s", refusal)
        return _refused(str(refusal))
    object_id, email = entra.user_keys(claims)
    db = get_session()
    # The object id first: it never changes, while an email address can move to another person.
    user = service.user_by_entra_object_id(db, object_id) if object_id else None
    if user is None and email:
        user = service.user_by_email(db, email)
        if user is not None and user.entra_object_id is not None and user.entra_object_id != object_id:
            current_app.logger.warning("Entra sign-in refused: the account is bound to another Entra user")
            return _refused("This account belongs to another Microsoft account. Ask your coordinator to check it.")
    if user is None or not user.active:
        current_app.logger.warning("Entra sign-in for an unknown or inactive user refused")
        return _refused("You do not have an account for this service. Ask your coordinator to add you.")
    if user.entra_object_id is None and object_id:
        user.entra_object_id = object_id  # bind the account so a later email change keeps working
    start_session(db, user, method="entra")
    current_app.logger.info("signed in: user %s (entra)", user.id)
    return redirect(_safe_next(next_url))


def _entra_settings():
    """Microsoft sign-in's settings; its pages are not found when it is not set up."""
    settings = entra.settings()
    if settings is None:
        abort(404)
    return settings


def _demo_context() -> dict:
    if not current_app.config["DEMO_MODE"]:
        return {}
    # Given by the app factory, so that the sign-in page does not import the demo seeder.
    return current_app.extensions["demo_sign_in"]()


def _refused(message: str):
    return render_template("auth/refused.html", message=message), 403
