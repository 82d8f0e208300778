"""Names in the order people expect: "Auditor 2" before "Auditor 10" (a natural sort), and
letters regardless of case. Pure: no flask, no database."""

from __future__ import annotations

import re

_NUMBERS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple:
    """A sort key comparing the runs of digits in `text` as numbers and the rest without case."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.casefold())
                 for part in _NUMBERS.split(text) if part)
