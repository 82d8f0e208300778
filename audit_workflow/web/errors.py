"""Error pages in the service's own style: never a stack trace (non-negotiable 4)."""

import traceback

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ..db import ConcurrentChange, describe_error

PAGES = {
    400: ("There is a problem with your request", ["Check what you entered and try again."]),
    401: ("Your session has ended", ["You have been signed out. Sign in again to carry on; anything you saved is kept."]),
    403: ("You do not have access to this page", ["If you think you should, ask your coordinator or administrator."]),
    404: ("Page not found", ["If you typed the web address, check it is correct.", "If you pasted the web address, check you copied the entire address."]),
    405: ("There is a problem with your request", ["That page cannot be used like that."]),
    409: ("Someone else changed this at the same time", ["Nothing you sent was saved. Go back, reload the page and try again."]),
    410: ("This link has already been used or has expired", ["Links like this work once, for a limited time."]),
    413: ("The file is too large", ["Choose a smaller file."]),
    429: ("Too many requests", ["Wait a few minutes and try again."]),
    500: ("Sorry, there is a problem with the service", ["Try again later. Anything you saved has been kept."]),
    503: ("Sorry, the service is busy", ["Nothing you sent was saved. Wait a moment and try again."]),
}


def render_error(status: int, paragraphs: list[str] | None = None):
    heading, default_paragraphs = PAGES.get(status, PAGES[500])
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=heading), status
    return (
        render_template(
            "errors/error.html",
            heading=heading,
            paragraphs=paragraphs or default_paragraphs,
            show_sign_in=status == 401,
        ),
        status,
    )


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(_error):
        return render_error(400, ["The form had expired or was sent from another site. Go back, reload the page and try again."])

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_error(error.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        # The page itself reads the database (the menu), through a session the error may have broken.
        session = g.get("db_session")
        if session is not None:
            try:
                session.rollback()
            except Exception:  # a dead connection: the page renders without the menu
                g.pop("db_session", None)
        outcome = database_race(error)
        if outcome is not None:
            app.logger.warning("%s on %s: %s", "concurrent change refused" if outcome == 409 else "database busy",
                               request.endpoint, describe_error(getattr(error, "orig", error)))
            return render_error(outcome)
        if isinstance(error, DBAPIError):
            # Not logger.exception: the message's later lines carry the row's values (docs/checks.md#check-9).
            app.logger.error("unhandled error on %s: %s\n%s", request.endpoint, describe_error(error.orig),
                             "".join(traceback.format_tb(error.__traceback__)))
        else:
            app.logger.exception("unhandled error on %s", request.endpoint)
        return render_error(500)


# PostgreSQL's unique violation; serialization failure, deadlock and lock timeout; SQLite's by message.
DUPLICATE_SQLSTATES = {"23505"}
BUSY_SQLSTATES = {"40001", "40P01", "55P03"}


def database_race(error: BaseException) -> int | None:
    """409 when two requests raced for the same row and this one lost (reload and look again); 503
    when the database was too busy to take the change (try again); None for anything else."""
    if isinstance(error, ConcurrentChange):
        return 409
    if not isinstance(error, DBAPIError):
        return None
    sqlstate = getattr(error.orig, "sqlstate", None)
    message = str(error.orig)
    if sqlstate in DUPLICATE_SQLSTATES or message.startswith("UNIQUE constraint failed"):
        return 409
    if sqlstate in BUSY_SQLSTATES or "database is locked" in message:
        return 503
    return None
