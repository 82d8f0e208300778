"""Where the files that ship beside the code live: config/, email_templates/ and migrations/.

In a checkout (and an editable install) they are folders at the top of the repository, where
councils and developers find them. A wheel carries copies inside the package, under `_shipped/`
(setup.py puts them there), so a plain `pip install` runs without the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
INSTALLED_COPY = PACKAGE_DIR / "_shipped"
SHIPPED_FOLDERS = ("config", "email_templates", "migrations")


def shipped_path(*parts: str) -> Path:
    """A path under one of SHIPPED_FOLDERS, e.g. shipped_path("config", "settings.toml")."""
    if parts[0] not in SHIPPED_FOLDERS:
        raise ValueError(f"{parts[0]!r} is not shipped with the package")
    root = INSTALLED_COPY if INSTALLED_COPY.is_dir() else PACKAGE_DIR.parent
    return root.joinpath(*parts)


def setting_path(value: str) -> Path:
    """A file named by a setting: an absolute path as it is; a relative one under a shipped folder
    (config/framework/default.yaml) from wherever those live; any other relative one from the
    working directory."""
    path = Path(value)
    if path.is_absolute():
        return path
    return shipped_path(*path.parts) if path.parts and path.parts[0] in SHIPPED_FOLDERS else Path.cwd() / path
