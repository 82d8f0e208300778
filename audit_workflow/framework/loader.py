"""Reading a framework: YAML (or a dict) in, a validated Framework out, or every problem at once.

Frameworks are edited by hand by local authorities, so a bad file must produce a list of plain
messages, each naming the file, section and criterion it is about, and never a traceback.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from ..resources import shipped_path
from .model import (
    GRADED_BANDS,
    GRADES_BEST_FIRST,
    SECTION_CODES,
    Band,
    Criterion,
    DiscrepancyRules,
    Framework,
    Grade,
    Rules,
    Section,
)

TOTAL_WEIGHT = 100
# Ids end up in HTML form values and stored audits, so keep them to a safe, readable alphabet.
CRITERION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

TOP_LEVEL_KEYS = ("version", "name", "rules", "sections")
OPTIONAL_TOP_LEVEL_KEYS = ("moderation",)
MODERATION_KEYS = ("flag_overall_difference", "flag_sections")
RULE_KEYS = (
    "good_minimum",
    "outstanding_minimum",
    "requires_improvement_blocks_good",
    "scores",
    "thresholds",
    "limiting_sections",
    "limiting_cap",
)
SECTION_TEXT_KEYS = ("title", "law", "what_good_looks_like", "how_to_choose")
SECTION_KEYS = ("code", *SECTION_TEXT_KEYS, "weight", "bands")
BAND_NAMES = tuple(band.value for band in Band)
CRITERION_KEYS = ("id", "text")
THRESHOLD_GRADES = GRADES_BEST_FIRST[:-1]  # below the last threshold the overall grade is Inadequate

Where = tuple[str, ...]


class FrameworkError(ValueError):
    """A framework that cannot be used; problems lists every reason, one readable line each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def default_framework_path() -> Path:
    return shipped_path("config", "framework", "default.yaml")


@lru_cache(maxsize=1)
def default_framework() -> Framework:
    return load_framework(default_framework_path())


def load_framework(path: str | Path) -> Framework:
    source = str(path)
    return framework_from_dict(read_yaml(Path(path), source), source)


def check_framework(path: str | Path) -> list[str]:
    """Every problem with the file; empty when it is a valid framework."""
    return problems_loading(load_framework, path)


def problems_loading(load: Callable[[str | Path], Any], path: str | Path) -> list[str]:
    """Every problem `load` (a reader that raises FrameworkError, or a subclass) finds with the file;
    empty when it loads."""
    try:
        load(path)
    except FrameworkError as error:
        return error.problems
    return []


def framework_from_dict(data: Any, source: str = "<framework>") -> Framework:
    """Validate already-parsed data (from YAML or stored JSON). source names it in messages."""
    reader = _Reader(source)
    framework = reader.framework(data)
    if reader.problems:
        raise FrameworkError(reader.problems)
    return framework


def framework_to_dict(framework: Framework) -> dict[str, Any]:
    """The framework as plain data in the file's own layout (YAML- and JSON-ready)."""
    rules = framework.rules
    return {
        "version": framework.version,
        "name": framework.name,
        "rules": {
            "good_minimum": rules.good_minimum,
            "outstanding_minimum": rules.outstanding_minimum,
            "requires_improvement_blocks_good": rules.requires_improvement_blocks_good,
            "scores": {grade.value: score for grade, score in rules.scores.items()},
            "thresholds": {grade.value: threshold for grade, threshold in rules.thresholds.items()},
            "limiting_sections": list(rules.limiting_sections),
            "limiting_cap": rules.limiting_cap.value,
        },
        "sections": [_section_to_dict(section) for section in framework.sections],
        # Only when the file has it, so frameworks written without it keep their stored content.
        **({"moderation": {"flag_overall_difference": framework.moderation.overall_difference,
                           "flag_sections": list(framework.moderation.sections)}} if framework.moderation else {}),
    }


def _section_to_dict(section: Section) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": section.code,
        "title": section.title,
        "law": section.law,
        "weight": section.weight,
        "what_good_looks_like": section.what_good_looks_like,
        "how_to_choose": section.how_to_choose,
    }
    if section.applicable_always:
        data["applicable_always"] = True
    data["bands"] = {
        band.value: [
            {"id": criterion.id, "text": criterion.text, **({"core": True} if criterion.core else {})}
            for criterion in criteria
        ]
        for band, criteria in section.bands.items()
    }
    return data


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # LibYAML's parser, when present, is far faster
    """Safe YAML that refuses a key given twice in one mapping: PyYAML would silently keep the
    last one, and a band pasted twice would quietly lose its first set of criteria."""

    def construct_mapping(self, node, deep=False):
        seen = []  # a list, as a key may be unhashable (the base class reports that)
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{_quoted(key)} appears twice in the same mapping", key_node.start_mark
                )
            seen.append(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, source: str) -> Any:
    """The file's YAML data (a repeated key refused), or FrameworkError naming source and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FrameworkError([f"{source}: file not found"]) from None
    except IsADirectoryError:
        raise FrameworkError([f"{source}: is a directory, not a framework file"]) from None
    except UnicodeDecodeError:
        raise FrameworkError([f"{source}: is not UTF-8 text"]) from None
    except OSError as error:
        raise FrameworkError([f"{source}: cannot be read ({error.strerror})"]) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        raise FrameworkError([f"{source}: {where}: invalid YAML: {error.problem or error.context}"]) from None
    except yaml.YAMLError as error:
        raise FrameworkError([f"{source}: invalid YAML: {error}"]) from None
    if data is None:
        raise FrameworkError([f"{source}: the file is empty"])
    return data


class _Reader:
    """Builds the framework while collecting every problem; a part with problems comes back as None."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(": ".join((self.source, *where, message)))

    # -- the parts -------------------------------------------------------------------------------

    def framework(self, data: Any) -> Framework | None:
        top = self.mapping(data, (), "the top level", TOP_LEVEL_KEYS, optional=OPTIONAL_TOP_LEVEL_KEYS)
        if top is None:
            return None
        version = self.text(top, "version", ())
        name = self.text(top, "name", ())
        rules = self.rules(top["rules"]) if "rules" in top else None
        sections = self.sections(top["sections"], rules) if "sections" in top else None
        moderation = self.discrepancy_rules(top["moderation"]) if "moderation" in top else None
        if self.problems:
            return None
        return Framework(version=version, name=name, rules=rules, sections=sections, moderation=moderation)

    def discrepancy_rules(self, data: Any) -> DiscrepancyRules | None:
        """The moderation block: when a pair of audits of one plan is flagged for adjudication."""
        where = ("moderation",)
        block = self.mapping(data, where, "", MODERATION_KEYS)
        if block is None:
            return None
        bands = len(GRADES_BEST_FIRST) - 1
        difference = self.integer(block, "flag_overall_difference", where, minimum=1)
        if difference is not None and difference > bands:
            self.problem(where, f'"flag_overall_difference" is {difference}, but grades are at most {bands} bands apart')
            difference = None
        sections = self.section_codes(block, "flag_sections", where)
        return None if difference is None or sections is None else DiscrepancyRules(difference, sections)

    def rules(self, data: Any) -> Rules | None:
        where = ("rules",)
        rules = self.mapping(data, where, "", RULE_KEYS)
        if rules is None:
            return None
        scores = self.grade_numbers(rules, "scores", where, GRADES_BEST_FIRST)
        thresholds = self.grade_numbers(rules, "thresholds", where, THRESHOLD_GRADES)
        if scores and thresholds:
            self.check_thresholds_reachable(scores, thresholds)
        values = dict(
            good_minimum=self.integer(rules, "good_minimum", where, minimum=1),
            outstanding_minimum=self.integer(rules, "outstanding_minimum", where, minimum=1),
            requires_improvement_blocks_good=self.boolean(rules, "requires_improvement_blocks_good", where),
            scores=scores,
            thresholds=thresholds,
            limiting_sections=self.limiting_sections(rules, where),
            limiting_cap=self.graded_grade(rules, "limiting_cap", where),
        )
        return None if None in values.values() else Rules(**values)

    def sections(self, data: Any, rules: Rules | None) -> tuple[Section, ...] | None:
        if not isinstance(data, list):
            self.problem((), f'"sections" must be a list of sections (found {_kind(data)})')
            return None
        sections: list[Section | None] = []
        codes_seen: set[str] = set()
        ids_seen: dict[str, str] = {}  # criterion id -> the section that used it first, as messages name it
        for number, entry in enumerate(data, start=1):
            code = entry.get("code") if isinstance(entry, dict) else None
            where = (f'section "{code}"',) if isinstance(code, str) else (f"section #{number}",)
            if isinstance(code, str):
                if code not in SECTION_CODES:
                    self.problem(where, f"unknown section (expected one of {', '.join(SECTION_CODES)})")
                elif code in codes_seen:
                    self.problem(where, "appears more than once")
                codes_seen.add(code)
            sections.append(self.section(entry, where, rules, ids_seen))
        for code in SECTION_CODES:
            if code not in codes_seen:
                every = ", ".join(SECTION_CODES)
                self.problem((), f'missing section "{code}" (a framework needs every section: {every})')
        # Summed from the raw entries, so a wrong total is reported even when other parts have problems.
        weights = [entry.get("weight") if isinstance(entry, dict) else None for entry in data]
        if all(_is_whole_number(weight, minimum=1) for weight in weights):
            total = sum(weights)
            if total != TOTAL_WEIGHT:
                self.problem((), f"section weights add up to {total}, not {TOTAL_WEIGHT}")
        if None in sections:
            return None
        if sections and not any(section.applicable_always for section in sections):
            self.problem((), 'every section can be not applicable; mark at least one "applicable_always: true" '
                             "so that every audit has something to grade")
        return tuple(sections)

    def section(self, data: Any, where: Where, rules: Rules | None, ids_seen: dict[str, str]) -> Section | None:
        section = self.mapping(data, where, "", SECTION_KEYS, optional=("applicable_always",))
        if section is None:
            return None
        code = section.get("code")
        if "code" in section and not isinstance(code, str):
            self.problem(where, f'"code" must be text (found {_kind(code)})')
        texts = {key: self.text(section, key, where) for key in SECTION_TEXT_KEYS}
        weight = self.integer(section, "weight", where, minimum=1)
        applicable_always = self.boolean(section, "applicable_always", where, default=False)
        bands = None
        if "bands" in section:
            bands = self.bands(section["bands"], where, applicable_always, rules, ids_seen)
        if not isinstance(code, str) or weight is None or bands is None or None in texts.values():
            return None
        return Section(code=code, weight=weight, bands=bands, **texts)

    def bands(
        self, data: Any, where: Where, applicable_always: bool | None, rules: Rules | None, ids_seen: dict[str, str],
    ) -> dict[Band, tuple[Criterion, ...]] | None:
        if not isinstance(data, dict):
            band_names = ", ".join(BAND_NAMES)
            self.problem(where, f'"bands" must be a mapping of {band_names} to lists of criteria (found {_kind(data)})')
            return None
        for key in data:
            if key not in BAND_NAMES:
                self.problem(where, f"band {_quoted(key)}: unknown band (expected one of {', '.join(BAND_NAMES)})")
        bands: dict[Band, tuple[Criterion, ...] | None] = {}
        for band in Band:
            if band.value in data:
                bands[band] = self.criteria(data[band.value], (*where, f'band "{band.value}"'), band, ids_seen)
            elif band in GRADED_BANDS:
                self.problem(where, f'missing band "{band.value}"')
        if bands.get(Band.NOT_APPLICABLE) == ():
            del bands[Band.NOT_APPLICABLE]  # an empty list says the same as leaving the band out
        if applicable_always and Band.NOT_APPLICABLE in bands:
            self.problem(where, 'has not_applicable criteria and "applicable_always: true"; keep only one of them')
        if applicable_always is False and Band.NOT_APPLICABLE not in bands:
            self.problem(
                where, 'missing band "not_applicable" (or set "applicable_always: true" if this section always applies)'
            )
        if rules is not None:
            self.check_grades_reachable(bands, where, rules)
        if None in bands.values() or any(band not in bands for band in GRADED_BANDS):
            return None
        return bands

    def criteria(self, data: Any, where: Where, band: Band, ids_seen: dict[str, str]) -> tuple[Criterion, ...] | None:
        if data is None:  # "good:" with nothing under it
            return ()
        if not isinstance(data, list):
            self.problem(where, f"must be a list of criteria (found {_kind(data)})")
            return None
        criteria = [self.criterion(entry, number, where, band, ids_seen) for number, entry in enumerate(data, start=1)]
        return None if None in criteria else tuple(criteria)

    def criterion(self, data: Any, number: int, where: Where, band: Band, ids_seen: dict[str, str]) -> Criterion | None:
        identifier = data.get("id") if isinstance(data, dict) else None
        where = (*where, f'criterion "{identifier}"' if isinstance(identifier, str) else f"criterion #{number}")
        criterion = self.mapping(data, where, "", CRITERION_KEYS, optional=("core",))
        if criterion is None:
            return None
        valid_id = False
        if "id" in criterion:
            if not isinstance(identifier, str) or not CRITERION_ID.fullmatch(identifier):
                self.problem(
                    where,
                    f'"id" must be letters, digits, ".", "_" or "-", starting with a letter or digit '
                    f"(found {_kind(identifier)})",
                )
            elif identifier in ids_seen:
                self.problem(where, f"duplicate id, also used in {ids_seen[identifier]}")
            else:
                ids_seen[identifier] = where[0]
                valid_id = True
        text = self.text(criterion, "text", where)
        core = self.boolean(criterion, "core", where, default=False)
        if core and band is not Band.GOOD:
            self.problem(where, '"core" applies only to good criteria')
        if not valid_id or text is None or core is None:
            return None
        return Criterion(id=identifier, text=text, band=band, core=core)

    # -- rule checks -----------------------------------------------------------------------------

    def grade_numbers(
        self, rules: dict, key: str, where: Where, grades: tuple[Grade, ...]
    ) -> dict[Grade, int | float] | None:
        """A mapping from each of grades to a number, strictly falling from the first to the last."""
        if key not in rules:
            return None
        where = (*where, key)
        mapping = self.mapping(rules[key], where, "", tuple(grade.value for grade in grades))
        if mapping is None:
            return None
        numbers = {grade: self.number(mapping, grade.value, where) for grade in grades}
        if None in numbers.values():
            return None
        for higher, lower in zip(grades, grades[1:]):
            if numbers[higher] <= numbers[lower]:
                self.problem(
                    where, f"{higher.value} ({numbers[higher]}) must be more than {lower.value} ({numbers[lower]})"
                )
                return None
        return numbers

    def check_thresholds_reachable(
        self, scores: dict[Grade, int | float], thresholds: dict[Grade, int | float]
    ) -> None:
        where = ("rules", "thresholds")
        if thresholds[Grade.OUTSTANDING] > scores[Grade.OUTSTANDING]:
            self.problem(where, f"outstanding ({thresholds[Grade.OUTSTANDING]}) is above the outstanding score "
                                f"({scores[Grade.OUTSTANDING]}), so no audit could be Outstanding")
        if thresholds[Grade.REQUIRES_IMPROVEMENT] <= scores[Grade.INADEQUATE]:
            self.problem(where, f"requires_improvement ({thresholds[Grade.REQUIRES_IMPROVEMENT]}) must be above the "
                                f"inadequate score ({scores[Grade.INADEQUATE]}), or no audit could be Inadequate")

    def check_grades_reachable(self, bands: dict[Band, tuple[Criterion, ...] | None], where: Where, rules: Rules) -> None:
        """Good and Outstanding each need a minimum number of ticks; a band with fewer criteria could
        never reach its grade. A section may have no Outstanding criteria at all, and so never be Outstanding."""
        for band, rule, minimum in (
            (Band.GOOD, "good_minimum", rules.good_minimum),
            (Band.OUTSTANDING, "outstanding_minimum", rules.outstanding_minimum),
        ):
            criteria = bands.get(band)
            if criteria is None or (band is Band.OUTSTANDING and not criteria) or len(criteria) >= minimum:
                continue
            self.problem(
                (*where, f'band "{band.value}"'),
                f"has {len(criteria)} criteria but rules.{rule} is {minimum}, so the section could never be {band.label}",
            )

    def limiting_sections(self, rules: dict, where: Where) -> tuple[str, ...] | None:
        return self.section_codes(rules, "limiting_sections", where)

    def section_codes(self, data: dict, key: str, where: Where) -> tuple[str, ...] | None:
        if key not in data:
            return None
        codes = data[key]
        where = (*where, key)
        if not isinstance(codes, list):
            self.problem(where, f"must be a list of section codes, such as [B, F] (found {_kind(codes)})")
            return None
        unknown = [code for code in codes if code not in SECTION_CODES]
        for code in unknown:
            self.problem(where, f"{_quoted(code)} is not a section (expected one of {', '.join(SECTION_CODES)})")
        repeated = [code for code in SECTION_CODES if codes.count(code) > 1]
        if repeated:
            self.problem(where, f"lists {', '.join(repeated)} more than once")
        return None if unknown or repeated else tuple(codes)

    def graded_grade(self, rules: dict, key: str, where: Where) -> Grade | None:
        allowed = [grade.value for grade in GRADES_BEST_FIRST]
        value = self.value(rules, key, where, lambda value: value in allowed, f"one of {', '.join(allowed)}")
        return None if value is None else Grade(value)

    # -- plain values (a missing required key has already been reported by mapping()) ---------

    def mapping(
        self, data: Any, where: Where, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict | None:
        """what names the value when where does not already ("the top level"); "" otherwise."""
        if not isinstance(data, dict):
            self.problem(where, f"{what} must be a mapping with {', '.join(required)} (found {_kind(data)})".lstrip())
            return None
        for key in data:
            if key not in required and key not in optional:
                self.problem(where, f"unknown key {_quoted(key)} (expected one of {', '.join(required + optional)})")
        for key in required:
            if key not in data:
                self.problem(where, f'missing "{key}"')
        return data

    def text(self, data: dict, key: str, where: Where) -> str | None:
        if key not in data:
            return None
        value = data[key]
        if not isinstance(value, str):
            hint = "; put it in quotes" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
            self.problem(where, f'"{key}" must be text (found {_kind(value)}{hint})')
            return None
        if not value.strip():
            self.problem(where, f'"{key}" is empty')
            return None
        return value.strip()

    def integer(self, data: dict, key: str, where: Where, minimum: int) -> int | None:
        whole = f"a whole number, at least {minimum}"
        return self.value(data, key, where, lambda value: _is_whole_number(value, minimum), whole)

    def number(self, data: dict, key: str, where: Where) -> int | float | None:
        return self.value(data, key, where, _is_number, "a number")

    def boolean(self, data: dict, key: str, where: Where, default: bool | None = None) -> bool | None:
        return self.value(data, key, where, lambda value: isinstance(value, bool), "true or false", default)

    def value(
        self, data: dict, key: str, where: Where, fits: Callable[[Any], bool], expected: str, default: Any = None
    ) -> Any:
        """data[key] if it fits; default if it is missing; None, with the problem, if it does not fit."""
        if key not in data:
            return default
        value = data[key]
        if not fits(value):
            self.problem(where, f'"{key}" must be {expected} (found {_kind(value)})')
            return None
        return value


def _is_number(value: Any) -> bool:
    # YAML's true/false are Python bools, which are ints; they are never meant as numbers here.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_whole_number(value: Any, minimum: int) -> bool:
    return _is_number(value) and isinstance(value, int) and value >= minimum


def _quoted(value: Any) -> str:
    return f'"{value}"'


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 40 else "a long text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
