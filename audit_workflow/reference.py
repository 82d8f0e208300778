"""Reference data every area uses: auditor disciplines and the English regions, with the codes the
service stores and the words people see (see vocabulary.py for how spellings are matched)."""

from __future__ import annotations

from .vocabulary import Term, Vocabulary

DISCIPLINES = Vocabulary("a discipline", (
    Term("education", "Education"),
    Term("health", "Health"),
    Term("social_care", "Social care"),
    Term("other", "Other"),
))

REGIONS = Vocabulary("an English region", (
    Term("E12000001", "North East"),
    Term("E12000002", "North West"),
    Term("E12000003", "Yorkshire and The Humber", ("Yorkshire & The Humber", "Yorkshire")),
    Term("E12000004", "East Midlands"),
    Term("E12000005", "West Midlands"),
    Term("E12000006", "East of England"),
    Term("E12000007", "London", ("Greater London",)),
    Term("E12000008", "South East"),
    Term("E12000009", "South West"),
), list_labels=True)

normalise_discipline, discipline_label = DISCIPLINES.normalise, DISCIPLINES.label
normalise_region, region_label = REGIONS.normalise, REGIONS.label
