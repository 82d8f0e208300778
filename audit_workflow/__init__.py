"""audit-workflow: quality-assurance audit cycles for Education, Health and Care Plans."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from flask_wtf import CSRFProtect
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from .plans.parsing import MAX_FILE_BYTES

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    from . import access, db
    from .cli import register_commands
    from .config import load_settings

    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=instance_path,
        static_folder="web/static",
        template_folder="web/templates",
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(load_settings(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    _configure_flask(app)
    if app.config["TRUSTED_PROXIES"]:  # the client's address and scheme as the proxies saw them
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    db.init_app(app)
    csrf.init_app(app)
    WTFormsHelpers(app)

    from .auth import sessions
    from .web import errors, filters, navigation, security

    # Order matters: the session loader puts the user on g before access rules are enforced.
    sessions.init_app(app)
    access.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    filters.init_app(app)
    _register_areas(app)
    register_commands(app)
    from .demo import sign_in_details

    app.extensions["demo_sign_in"] = sign_in_details
    return app


def _configure_flask(app: Flask) -> None:
    config = app.config
    secure = config["COOKIE_SECURE"]
    config.update(
        # __Host- cookies are only for this host, over https, for the whole site (ASVS 3.3.1-3.3.4).
        SESSION_COOKIE_NAME="__Host-session" if secure else "session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        MAX_CONTENT_LENGTH=MAX_FILE_BYTES + 64 * 1024,  # the file plus the form around it
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session, which has its own timeouts
    )
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(Path(app.root_path) / "web" / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # O365 logs Graph's error text (which can name a recipient) and, at DEBUG, whole request bodies;
    # our dispatcher logs outcomes itself without personal data (docs/checks.md#check-9).
    logging.getLogger("O365").setLevel(logging.CRITICAL)


def _register_areas(app: Flask) -> None:
    from importlib import import_module

    from .areas import BLUEPRINTS

    for module_name in BLUEPRINTS:
        app.register_blueprint(import_module(module_name).bp)
