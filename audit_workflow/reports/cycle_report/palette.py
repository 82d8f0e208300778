"""Series colours and patterns shared by the writers: each series differs by pattern as well as
colour, so a chart still reads in greyscale or to someone who does not tell the colours apart."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Swatch:
    colour: str  # RGB hex without '#'
    pattern: str | None  # None: solid; otherwise a name the writers map to their own pattern


# GOV.UK dark blue, orange, turquoise, purple, dark grey: each has at least 3:1 contrast with white.
SWATCHES = (
    Swatch("1D70B8", None),
    Swatch("B35200", "diagonal"),
    Swatch("28A197", "dots"),
    Swatch("4C2C92", "horizontal"),
    Swatch("505A5F", "vertical"),
)


def swatch(index: int) -> Swatch:
    return SWATCHES[index % len(SWATCHES)]
