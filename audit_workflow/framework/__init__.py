"""The grading framework: the sections and criteria auditors tick, and the engine that grades them.

What this package imports is pure domain code (no Flask, no database): load and validate a
framework file, then grade ticks with it. Storing each LA's framework versions (models.py,
versions.py) and the CLI (commands.py) need the database and are imported where used, not here.
"""

from .grading import AuditResult, SectionResult, grade_audit, grade_section
from .loader import (
    FrameworkError,
    check_framework,
    default_framework,
    default_framework_path,
    framework_from_dict,
    framework_to_dict,
    load_framework,
)
from .model import SECTION_CODES, Band, Criterion, Framework, Grade, Rules, Section

__all__ = [
    "SECTION_CODES",
    "AuditResult",
    "Band",
    "Criterion",
    "Framework",
    "FrameworkError",
    "Grade",
    "Rules",
    "Section",
    "SectionResult",
    "check_framework",
    "default_framework",
    "default_framework_path",
    "framework_from_dict",
    "framework_to_dict",
    "grade_audit",
    "grade_section",
    "load_framework",
]
