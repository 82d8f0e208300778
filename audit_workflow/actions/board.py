"""The board's numbers: actions counted by type, team or cycle into proposed, open, overdue and
closed, and the red/amber/green counts at each review date. Pure: no Flask, no database."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from .kinds import ActionStatus, Rag

BUCKETS = ("proposed", "open", "overdue", "closed")


@dataclass(frozen=True)
class ActionFacts:
    action_type: str
    team: str
    cycle: str
    status: str
    due_date: date | None


def bucket(facts: ActionFacts, today: date) -> str:
    """Where an action counts: closed, overdue (not closed, past its due date), proposed, or open.
    Overdue comes before proposed so that an overdue action is never hidden as merely proposed."""
    if facts.status == ActionStatus.CLOSED:
        return "closed"
    if facts.due_date is not None and facts.due_date < today:
        return "overdue"
    return "proposed" if facts.status == ActionStatus.PROPOSED else "open"


@dataclass(frozen=True)
class BoardRow:
    label: str
    counts: dict[str, int]  # by BUCKETS

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def counts_by(facts: Iterable[ActionFacts], key: Callable[[ActionFacts], str], today: date) -> list[BoardRow]:
    """One row per value of key, in alphabetical order, each with its count in every bucket."""
    table: dict[str, Counter] = defaultdict(Counter)
    for item in facts:
        table[key(item)][bucket(item, today)] += 1
    return [BoardRow(label, {name: table[label][name] for name in BUCKETS}) for label in sorted(table)]


def rag_over_time(reviews: Iterable[tuple[date, str]]) -> list[tuple[date, dict[str, int]]]:
    """For each review date, oldest first, how many actions were red, amber and green then."""
    table: dict[date, Counter] = defaultdict(Counter)
    for review_date, rag in reviews:
        table[review_date][rag] += 1
    return [(day, {colour.value: table[day][colour.value] for colour in Rag}) for day in sorted(table)]
