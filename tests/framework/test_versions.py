"""Framework versions per LA: the shipped default stored once, LA versions loaded and pinned."""

from __future__ import annotations

import pytest
import yaml
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from audit_workflow.audits.service import save_section, start_audit, submit_audit, summary
from audit_workflow.framework import FrameworkError, Grade, default_framework, framework_to_dict
from audit_workflow.framework.models import FrameworkVersion
from audit_workflow.framework.versions import (
    FrameworkVersionError,
    active_framework,
    configured_framework_file,
    framework_for_audit,
    load_la_framework,
)
from tests.audits.test_service import assign, band_ticks, fast_password_hashing, save_all  # noqa: F401  (fixture)


def write_framework(path, version: str, **rule_changes):
    """The shipped framework under another version, with some rules changed."""
    data = framework_to_dict(default_framework())
    data["version"] = version
    data["rules"].update(rule_changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def la(world):
    return world.las["own"]


def test_the_shipped_default_is_stored_once_and_shared(app, db, world):
    shipped = configured_framework_file(app.config)
    own, framework = active_framework(db, world.las["own"].id, shipped)
    other, _ = active_framework(db, world.las["other"].id, shipped)

    assert own.id == other.id and own.la_id is None
    assert framework == default_framework()
    assert len(db.exec(select(FrameworkVersion)).all()) == 1


def test_the_database_refuses_a_second_copy_of_a_shipped_version(db):
    # Two requests storing the default at once: the loser's insert fails and it reads the winner's row.
    db.add(FrameworkVersion(la_id=None, version="2026.2", content="{}"))
    db.flush()
    db.add(FrameworkVersion(la_id=None, version="2026.2", content="{}"))
    with pytest.raises(IntegrityError):
        db.flush()


def test_a_relative_framework_file_is_found_from_the_repository_root(app, db, la, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app.config["FRAMEWORK_FILE"] = "config/framework/default.yaml"
    row, _ = active_framework(db, la.id, configured_framework_file(app.config))
    assert row.version == default_framework().version


def test_a_changed_shipped_file_with_the_same_version_is_refused(app, db, la, tmp_path):
    active_framework(db, la.id, configured_framework_file(app.config))
    app.config["FRAMEWORK_FILE"] = str(write_framework(tmp_path / "edited.yaml", default_framework().version, good_minimum=5))
    with pytest.raises(FrameworkVersionError, match="has changed but its version is still"):
        active_framework(db, la.id, configured_framework_file(app.config))


def test_a_new_shipped_version_is_stored_beside_the_old(app, db, la, tmp_path):
    old, _ = active_framework(db, la.id, configured_framework_file(app.config))
    app.config["FRAMEWORK_FILE"] = str(write_framework(tmp_path / "next.yaml", "2099.1"))
    new, framework = active_framework(db, la.id, configured_framework_file(app.config))
    assert (old.version, new.version, framework.version) == (default_framework().version, "2099.1", "2099.1")


def test_loading_an_la_framework_makes_it_that_las_active_version(db, world, la, tmp_path):
    row = load_la_framework(db, la.id, write_framework(tmp_path / "kent.yaml", "kent-2027.1", good_minimum=5))

    active, framework = active_framework(db, la.id)
    assert (active.id, active.la_id, framework.rules.good_minimum) == (row.id, la.id, 5)
    other, _ = active_framework(db, world.las["other"].id)
    assert other.version == default_framework().version


def test_a_newer_la_version_replaces_the_active_one(db, la, tmp_path):
    first = load_la_framework(db, la.id, write_framework(tmp_path / "v1.yaml", "kent-1"))
    second = load_la_framework(db, la.id, write_framework(tmp_path / "v2.yaml", "kent-2", good_minimum=5))

    assert (first.active, second.active) == (False, True)
    assert active_framework(db, la.id)[0].id == second.id


def test_loading_an_earlier_version_again_makes_it_active_without_a_copy(db, la, tmp_path):
    first = load_la_framework(db, la.id, write_framework(tmp_path / "v1.yaml", "kent-1"))
    load_la_framework(db, la.id, write_framework(tmp_path / "v2.yaml", "kent-2"))

    again = load_la_framework(db, la.id, tmp_path / "v1.yaml")

    assert again.id == first.id and again.active
    assert len(db.exec(select(FrameworkVersion).where(FrameworkVersion.la_id == la.id)).all()) == 2


def test_a_used_version_string_with_different_content_is_refused(db, la, tmp_path):
    kept = load_la_framework(db, la.id, write_framework(tmp_path / "v1.yaml", "kent-1"))

    with pytest.raises(FrameworkVersionError, match="already loaded for this LA with different content"):
        load_la_framework(db, la.id, write_framework(tmp_path / "v1-edited.yaml", "kent-1", good_minimum=5))
    assert active_framework(db, la.id)[0].id == kept.id


def test_an_invalid_framework_file_is_refused_with_its_problems(db, la, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: '1'\nname: Broken\n", encoding="utf-8")
    with pytest.raises(FrameworkError, match='missing "rules"'):
        load_la_framework(db, la.id, broken)
    assert db.exec(select(FrameworkVersion).where(FrameworkVersion.la_id == la.id)).first() is None


def test_an_overlong_version_string_is_refused(db, la, tmp_path):
    with pytest.raises(FrameworkVersionError, match="1 to 40 characters"):
        load_la_framework(db, la.id, write_framework(tmp_path / "long.yaml", "v" * 41))


def test_a_new_framework_never_changes_a_past_audit(db, world, la, tmp_path):
    auditor = world.user("auditor")
    past = start_audit(db, assign(db, world, system_id="PAST-1"), auditor)
    ticks = band_ticks(default_framework())
    ticks["A"] = ticks["A"][:4]  # Good under the shipped good_minimum of 4
    save_all(db, past, auditor, ticks)
    submit_audit(db, past, auditor)
    graded = (past.framework_version_id, past.overall_grade, past.score, summary(db, past).sections[0].result.grade)

    load_la_framework(db, la.id, write_framework(tmp_path / "strict.yaml", "kent-strict", good_minimum=5))

    db.expire_all()
    assert (past.framework_version_id, past.overall_grade, past.score, summary(db, past).sections[0].result.grade) == graded
    assert graded[3] == Grade.GOOD
    assert framework_for_audit(db, past).version == default_framework().version
    # A new audit is graded under the new version: the same ticks in A no longer make Good.
    current = start_audit(db, assign(db, world, system_id="NEW-1"), auditor)
    assert save_section(db, current, "A", ticks["A"], "", auditor).grade == Grade.REQUIRES_IMPROVEMENT
    assert framework_for_audit(db, current).version == "kent-strict"
