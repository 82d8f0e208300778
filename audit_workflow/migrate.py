"""Alembic driven from the application's settings (`audit-workflow db ...`)."""

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from .resources import shipped_path


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(shipped_path("migrations")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def make_revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)
