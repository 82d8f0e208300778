"""Which grading framework an LA's audits use, kept as immutable stored versions.

An audit is pinned to the FrameworkVersion row it started under and is always graded from that
row's content, so loading a new framework never changes a past grade. The shipped default is
stored the first time it is needed (la_id None), keyed by its version string; a version string
always means exactly one content, so a changed file with an unchanged version is refused.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select, update

from ..resources import setting_path
from .loader import default_framework, default_framework_path, framework_from_dict, framework_to_dict, load_framework
from .model import Framework
from .models import FrameworkVersion

VERSION_MAX_LENGTH = 40


class FrameworkVersionError(ValueError):
    """A framework that cannot be stored or used; the message says what to change."""


class PinnedToAVersion(Protocol):
    """What is graded under one stored version, such as an audit."""

    framework_version_id: uuid.UUID


def configured_framework_file(config: Mapping[str, Any]) -> Path:
    """The shipped default named by the FRAMEWORK_FILE setting (see resources.setting_path)."""
    return setting_path(config["FRAMEWORK_FILE"])


def active_framework(db: Session, la_id: uuid.UUID, shipped_file: Path | None = None) -> tuple[FrameworkVersion, Framework]:
    """The LA's active loaded framework if it has one, else the shipped default: the framework in
    `shipped_file` (see configured_framework_file), or without one the package's own default file."""
    row = _loaded_by(db, la_id)
    if row is None:
        row = _shipped_default(db, shipped_file)
    return row, parse_stored(row.content)


def framework_in_use(db: Session, la_id: uuid.UUID, shipped_file: Path | None = None) -> Framework:
    """active_framework's framework, only read: for reports, which store nothing (the shipped default
    is stored when the first audit is graded under it)."""
    row = _loaded_by(db, la_id)
    return parse_stored(row.content) if row is not None else shipped_framework(shipped_file)[0]


def _loaded_by(db: Session, la_id: uuid.UUID) -> FrameworkVersion | None:
    return db.exec(select(FrameworkVersion).where(FrameworkVersion.la_id == la_id, FrameworkVersion.active)).first()


def load_la_framework(db: Session, la_id: uuid.UUID, path: str | Path) -> FrameworkVersion:
    """Validate the file, store it as the LA's new version and make it the active one."""
    framework = load_framework(Path(path))
    _check_version_string(framework.version)
    content = _canonical(framework)
    row = db.exec(
        select(FrameworkVersion).where(FrameworkVersion.la_id == la_id, FrameworkVersion.version == framework.version)
    ).first()
    if row is not None and row.content != content:
        raise FrameworkVersionError(
            f"Version {framework.version!r} is already loaded for this LA with different content. "
            "Give the changed framework a new version."
        )
    db.exec(
        update(FrameworkVersion).where(FrameworkVersion.la_id == la_id).values(active=False)
    )
    if row is None:
        row = FrameworkVersion(la_id=la_id, version=framework.version, content=content)
    row.active = True  # loading an earlier version again makes it the active one
    db.add(row)
    db.flush()
    return row


def framework_for_audit(db: Session, audit: PinnedToAVersion) -> Framework:
    return parse_stored(db.get(FrameworkVersion, audit.framework_version_id).content)


def frameworks_by_version(db: Session, version_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Framework]:
    """Each of these stored versions' framework, read in one query: for a report over many audits."""
    wanted = set(version_ids)
    if not wanted:
        return {}
    rows = db.exec(select(FrameworkVersion.id, FrameworkVersion.content).where(col(FrameworkVersion.id).in_(wanted))).all()
    return {version_id: parse_stored(content) for version_id, content in rows}


@lru_cache(maxsize=32)
def parse_stored(content: str) -> Framework:
    # Stored content never changes, so each version is parsed once per process, not per request.
    return framework_from_dict(json.loads(content))


def shipped_framework(shipped_file: Path | None = None) -> tuple[Framework, str]:
    """The shipped default and where it came from."""
    if shipped_file is None or shipped_file == default_framework_path():  # the package's own file, read once
        return default_framework(), "the shipped default framework"
    return load_framework(shipped_file), str(shipped_file)


def _shipped_default(db: Session, shipped_file: Path | None) -> FrameworkVersion:
    framework, source = shipped_framework(shipped_file)
    _check_version_string(framework.version)
    content = _canonical(framework)
    row = _stored_shipped(db, framework.version)
    if row is None:
        try:
            with db.begin_nested():
                row = FrameworkVersion(la_id=None, version=framework.version, content=content)
                db.add(row)
        except IntegrityError:
            row = _stored_shipped(db, framework.version)  # another request stored it first
    if row.content != content:
        raise FrameworkVersionError(
            f"The shipped framework ({source}) has changed but its version is still "
            f"{framework.version!r}. Give it a new version so audits graded under the old one keep their grades."
        )
    return row


def _stored_shipped(db: Session, version: str) -> FrameworkVersion | None:
    return db.exec(
        select(FrameworkVersion).where(FrameworkVersion.la_id.is_(None), FrameworkVersion.version == version)
    ).first()


def _check_version_string(version: str) -> None:
    if not version or len(version) > VERSION_MAX_LENGTH:
        raise FrameworkVersionError(f"A framework version must be 1 to {VERSION_MAX_LENGTH} characters long")


def _canonical(framework: Framework) -> str:
    # One text per content, so "same version, same content" is a plain string comparison.
    return json.dumps(framework_to_dict(framework), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
