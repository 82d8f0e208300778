"""Error pages in the service's own style: never a stack trace (non-negotiable 4)."""

from flask import Flask, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ..db import ConcurrentChange

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
    503: ("Sorry, the service is unavailable", ["Try again later."]),
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
            session.rollback()
        if is_concurrent_change(error):
            app.logger.warning("concurrent change refused on %s: %s", request.endpoint, type(getattr(error, "orig", error)).__name__)
            return render_error(409)
        app.logger.exception("unhandled error on %s", request.endpoint)
        return render_error(500)


# PostgreSQL's unique violation, serialization failure and deadlock; SQLite's equivalents by message.
CONCURRENT_SQLSTATES = {"23505", "40001", "40P01"}
CONCURRENT_SQLITE_MESSAGES = ("UNIQUE constraint failed", "database is locked")


def is_concurrent_change(error: BaseException) -> bool:
    """Two requests racing for the same row: the loser is told to reload, not shown a 500."""
    if isinstance(error, ConcurrentChange):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in CONCURRENT_SQLSTATES:
        return True
    return any(text in str(error.orig) for text in CONCURRENT_SQLITE_MESSAGES)
