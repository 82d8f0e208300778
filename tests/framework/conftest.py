from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from audit_workflow.framework import Band, Framework, default_framework, framework_to_dict

FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


@pytest.fixture(scope="session")
def shipped() -> Framework:
    return default_framework()


def criterion_ids(framework: Framework, code: str, band: Band, *, core_only: bool = False) -> list[str]:
    """The ids of one band of a section (none if the section lacks the band), optionally only the core ones."""
    return [criterion.id for criterion in framework.section(code).bands.get(band, ()) if criterion.core or not core_only]


@pytest.fixture
def write_framework(tmp_path, shipped) -> Callable[..., Path]:
    """Write the shipped framework, after change(data) edits its plain-data form, as a YAML file."""

    def write(change: Callable[[dict], None] = lambda data: None, name: str = "x.yaml") -> Path:
        data = copy.deepcopy(framework_to_dict(shipped))
        change(data)
        path = tmp_path / name
        path.write_text(yaml.dump(data, Dumper=FAST_DUMPER, sort_keys=False, allow_unicode=True), encoding="utf-8")
        return path

    return write


def section_data(data: dict, code: str) -> dict:
    return next(section for section in data["sections"] if section["code"] == code)
