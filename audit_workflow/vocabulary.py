"""Vocabularies: a table of terms, each with the code the service stores, the label people read and
the aliases it accepts, and one normaliser for them all. It accepts a term's code, label or aliases
in any case, spacing or punctuation ("ks 1", "Key Stage 1" and "KS1" are the same key), so adding a
spelling is a data change. Failing that it matches by words (`word_key`): word order, "&" for "and",
plurals and filler words ("school", "setting", "LA", "the") do not matter, so "Free School -
Special" is "Special free school". A phrase that is not an alias, such as a bare "Academy", is still
refused, and `suggest` names the closest labels. The plans' vocabularies are in plans/reference.py,
the ones shared by every area (disciplines, regions) in reference.py.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
_SHOWN_VALUE_LENGTH = 40
_WORDS = re.compile(r"[^\W\d_]+|\d+")
# Words that never tell two terms apart ("Special school" is "Special"; "LA-maintained" is "maintained").
FILLER_WORDS = frozenset({"a", "an", "and", "or", "the", "of", "for", "la", "school", "setting", "type", "local",
                          "authority", "with"})
_PARTS = re.compile(r"\s[-–—:|]\s|[()\[\]]")  # "ASD - Autism", "Autism (ASD)"


class UnknownValue(ValueError):
    """A value that is not in the reference data; the message says what was expected."""


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    aliases: tuple[str, ...] = ()
    flag: str | None = None  # accepted, but worth a second look (e.g. NSA on an EHCP)


def match_key(value: str) -> str:
    """The form values are compared in: case-folded, letters and digits only."""
    return _NOT_LETTER_OR_DIGIT.sub("", value.casefold())


def _stem(word: str) -> str:
    if word.isdigit():
        return word.lstrip("0") or "0"  # "Year 07" is year 7
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"  # difficulties
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]  # needs, arrangements
    return word


def word_key(value: str) -> str:
    """The words of a value, in a form where word order, case, punctuation, "&"/"and", plurals and
    filler words do not matter: "Academy - Mainstream" and "mainstream academies" give the same key."""
    text = value.casefold().replace("&", " and ").replace("+", " plus ")
    stems = {_stem(word) for word in _WORDS.findall(text)}
    return " ".join(sorted(stems - FILLER_WORDS))


@dataclass(frozen=True, eq=False)
class Vocabulary(Mapping[str, str]):
    """One kind of reference data: a read-only mapping of code to label, in table order, that also
    turns any accepted spelling into its code."""

    noun: str  # completes '"X" is not ...', e.g. "a key stage"
    terms: tuple[Term, ...]
    list_labels: bool = False  # name the labels, not the codes, when a value is refused
    _codes_by_key: dict[str, str] = field(init=False, repr=False)
    _terms_by_code: dict[str, Term] = field(init=False, repr=False)
    _codes_by_words: dict[str, str | None] = field(init=False, repr=False)  # None: the words fit two terms

    def __post_init__(self) -> None:
        object.__setattr__(self, "_terms_by_code", {term.code: term for term in self.terms})
        codes_by_key: dict[str, str] = {}
        for term in self.terms:
            for spelling in (term.code, term.label, *term.aliases):
                key = match_key(spelling)
                if codes_by_key.setdefault(key, term.code) != term.code:
                    raise ValueError(f"{spelling!r} would mean both {codes_by_key[key]} and {term.code} ({self.noun})")
        object.__setattr__(self, "_codes_by_key", codes_by_key)
        codes_by_words: dict[str, str | None] = {}
        for term in self.terms:
            for spelling in (term.code, term.label, *term.aliases):
                key = word_key(spelling)
                if key and codes_by_words.setdefault(key, term.code) != term.code:
                    codes_by_words[key] = None
        object.__setattr__(self, "_codes_by_words", codes_by_words)

    def ambiguous_word_keys(self) -> list[str]:
        """Word keys two terms share, which therefore match neither (tests keep this list empty)."""
        return [key for key, code in self._codes_by_words.items() if code is None]

    def __getitem__(self, code: str) -> str:
        return self._terms_by_code[code].label

    def __iter__(self) -> Iterator[str]:
        return (term.code for term in self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def lookup(self, value: str) -> str | None:
        """The code a careful reader takes the value to mean, or None: the exact spelling of a
        code, label or alias, else the same words, else parts that all agree ("ASD - Autism")."""
        code = self._codes_by_key.get(match_key(value)) or self._codes_by_words.get(word_key(value))
        if code is None:
            parts = [part for part in _PARTS.split(value) if part.strip()]
            if len(parts) > 1:
                codes = {self._codes_by_key.get(match_key(part)) or self._codes_by_words.get(word_key(part))
                         for part in parts}
                code = codes.pop() if len(codes) == 1 else None
        return code

    def suggest(self, value: str, limit: int = 3) -> list[str]:
        """The labels closest to a value that is not accepted, best first, as a person reads them
        (never an internal code): the terms sharing most words with it, else the most alike in spelling."""
        words = set(word_key(value).split())

        def closeness(term: Term) -> tuple[float, float]:
            spellings = (term.code, term.label, *term.aliases)
            shared = max(len(words & set(word_key(spelling).split())) / max(len(words), 1) for spelling in spellings)
            alike = max(difflib.SequenceMatcher(None, match_key(value), match_key(spelling)).ratio() for spelling in spellings)
            return shared, alike

        scored = [(closeness(term), term) for term in self.terms]
        best = max(score for score, _ in scored)
        if best[0]:  # terms sharing as many words, in table order
            close = [term for score, term in scored if score[0] == best[0]]
        else:
            close = [term for score, term in sorted(scored, key=lambda item: -item[0][1]) if score[1] >= best[1] - 0.1]
        return [self.shown(term.code) for term in close[:limit]]

    def shown(self, code: str) -> str:
        """A code as a person reads it: the label, with the code where people know it ("Autistic
        spectrum disorder (ASD)"); slugs such as special_academy_free are never shown."""
        term = self._terms_by_code[code]
        known = term.code.isalpha() and term.code.isupper()
        return f"{term.label} ({term.code})" if known else term.label

    def normalise(self, value: str) -> str:
        """The code for a code, label or alias; UnknownValue, naming what is accepted, otherwise."""
        code = self.lookup(value)
        if code is None:
            shown = value if len(value) <= _SHOWN_VALUE_LENGTH else value[:_SHOWN_VALUE_LENGTH] + "…"
            expected = sorted(self.values() if self.list_labels else self)
            raise UnknownValue(f'"{shown}" is not {self.noun} (expected one of {", ".join(expected)})')
        return code

    def label(self, code: str) -> str:
        """The label for a stored code; an unknown code is shown as it is rather than failing a page."""
        return self.get(code, code)

    def flag(self, code: str) -> str | None:
        return self._terms_by_code[code].flag

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """(code, label) pairs in table order, for select boxes."""
        return tuple(self.items())
