"""Settings: config/settings.toml, then instance/settings.toml, then AUDIT_WORKFLOW_* variables."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Mapping

from .resources import shipped_path

ENV_PREFIX = "AUDIT_WORKFLOW_"
DEFAULTS_FILE = shipped_path("config", "settings.toml")


class ConfigError(ValueError):
    """A setting has a value of the wrong type; the message names the variable."""


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        with path.open("rb") as handle:
            return {key.upper(): value for key, value in tomllib.load(handle).items()}
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: {error}") from error


def _coerce(name: str, raw: str, default: Any) -> Any:
    """Environment values are strings; give them the type of the shipped default."""
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{ENV_PREFIX}{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must be a whole number, not {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name} must be a number, not {raw!r}") from None
    return raw


def load_settings(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    settings = _read_toml(DEFAULTS_FILE)
    settings.update(_read_toml(instance_path / "settings.toml"))
    for key, raw in environ.items():
        if key.startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX):]
            settings[name] = _coerce(name, raw, settings.get(name, ""))
    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{instance_path / 'audit-workflow.db'}"
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _instance_secret_key(instance_path)
    return settings


def _instance_secret_key(instance_path: Path) -> str:
    """One random key per installation, so sessions survive restarts without anyone choosing a key."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
