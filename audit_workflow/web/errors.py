"""Error pages in the service's own style: never a stack trace (non-negotiable 4)."""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

PAGES = {
    400: ("There is a problem with your request", ["Check what you entered and try again."]),
    401: ("Your session has ended", ["You have been signed out. Sign in again to carry on; anything you saved is kept."]),
    403: ("You do not have access to this page", ["If you think you should, ask your coordinator or administrator."]),
    404: ("Page not found", ["If you typed the web address, check it is correct.", "If you pasted the web address, check you copied the entire address."]),
    405: ("There is a problem with your request", ["That page cannot be used like that."]),
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
        app.logger.exception("unhandled error on %s", request.endpoint)
        return render_error(500)
