"""The filters of every report and export, read from a URL's query string (so a filtered view can be
bookmarked and shared) and written back into one. Pure: no Flask, no database.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date

from ..plans.reference import KEY_STAGES, PLAN_TYPES, PRIMARY_NEEDS, SETTING_TYPES
from ..reference import DISCIPLINES
from ..vocabulary import Vocabulary

# Query parameter -> the vocabulary its value must come from.
CODED = {
    "key_stage": KEY_STAGES,
    "primary_need": PRIMARY_NEEDS,
    "setting_type": SETTING_TYPES,
    "plan_type": PLAN_TYPES,
    "discipline": DISCIPLINES,
}
LABELS = {
    "submitted_from": "Submitted from",
    "submitted_to": "Submitted to",
    "cycle": "Cycle",
    "key_stage": "Key stage",
    "primary_need": "Primary need",
    "setting_type": "Setting type",
    "plan_type": "Plan type",
    "discipline": "Auditor discipline",
}


@dataclass(frozen=True)
class ReportFilter:
    """Which submitted primary audits a report counts. Every field None: all of the LA's."""

    submitted_from: date | None = None
    submitted_to: date | None = None  # inclusive
    cycle: uuid.UUID | None = None
    key_stage: str | None = None
    primary_need: str | None = None
    setting_type: str | None = None
    plan_type: str | None = None
    discipline: str | None = None

    def as_query(self) -> dict[str, str]:
        """The query-string parameters that give this filter back (empty ones left out)."""
        return {field.name: str(value) for field in fields(self) if (value := getattr(self, field.name)) is not None}

    def without(self, name: str) -> ReportFilter:
        return replace(self, **{name: None})

    def with_cycle(self, cycle_id: uuid.UUID | None) -> ReportFilter:
        return replace(self, cycle=cycle_id)

    @property
    def plan_filters(self) -> dict[str, str]:
        """The filters on the plan and the auditor, which also apply to a benchmark."""
        return {name: getattr(self, name) for name in CODED if getattr(self, name) is not None}

    def describe(self, cycle_names: Mapping[uuid.UUID, str] | None = None) -> list[tuple[str, str]]:
        """(label, value in words) for each filter set, for the page and the exports' first lines."""
        described = []
        for name, value in self.as_query().items():
            if name in CODED:
                value = CODED[name].label(value)
            elif name == "cycle" and cycle_names:
                value = cycle_names.get(self.cycle, value)
            described.append((LABELS[name], value))
        return described


@dataclass(frozen=True)
class ParsedFilter:
    filter: ReportFilter
    errors: dict[str, str]  # parameter -> what is wrong, in words


def parse_filter(args: Mapping[str, str]) -> ParsedFilter:
    """Read a filter from query parameters. A value that makes no sense is left out of the filter
    and explained in errors, so the page still answers (with a message, never a 500)."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for name in ("submitted_from", "submitted_to"):
        text = (args.get(name) or "").strip()
        if text:
            try:
                values[name] = date.fromisoformat(text)
            except ValueError:
                errors[name] = f"{LABELS[name]} must be a date like 2026-09-01"
    if values.get("submitted_from") and values.get("submitted_to") and values["submitted_from"] > values["submitted_to"]:
        errors["submitted_to"] = "Submitted to must be the same as or after submitted from"
        del values["submitted_to"]
    cycle = (args.get("cycle") or "").strip()
    if cycle:
        try:
            values["cycle"] = uuid.UUID(cycle)
        except ValueError:
            errors["cycle"] = "Choose a cycle from the list"
    for name, vocabulary in CODED.items():
        text = (args.get(name) or "").strip()
        if text:
            code = _code(vocabulary, text)
            if code is None:
                errors[name] = f"Choose a {LABELS[name].lower()} from the list"
            else:
                values[name] = code
    return ParsedFilter(ReportFilter(**values), errors)


def _code(vocabulary: Vocabulary, text: str) -> str | None:
    try:
        return vocabulary.normalise(text)
    except ValueError:
        return None
