"""The privacy guard: the last look at an email before it is queued (docs/checks.md#check-8).

Emails carry the pseudonymous System ID and metadata only: never a child's name, date of birth,
address, UPN, NHS number or plan text. The catalogue's allow-lists keep such fields out of the
context; this guard catches personal data that arrived inside an allowed field anyway (a setting
name typed as "Oak Primary - J Smith DOB 03/04/2015") or that a template edit let in.

It looks for:
- upn: a letter and 12 characters with a valid UPN check letter (DfE: weights 2-13 on characters
  2-13, modulo 23, letters without I, O and S; temporary UPNs end in a letter), and the words
  "UPN" or "unique pupil number";
- nhs_number: 10 digits, optionally spaced 3-3-4, with a valid modulus-11 check digit, and the
  words "NHS number";
- date_of_birth: "date of birth", "DOB", "birth date" or "birthday" anywhere, "born" near a
  date, and ages ("aged 7", "7 years old"). Bare dates are allowed: due dates are dates too, and
  the catalogue only accepts typed dates in date fields;
- name_label: labels for a child's name ("Child's name", "Name of child", "Forename",
  "Surname", "First name:");
- address: UK postcodes, and an "Address:" label;
- plan_text: plan section headings followed by text ("Section F: ...", "Outcomes: ..." with
  several words), and any context text longer than PLAN_TEXT_MAX_CHARS or spanning lines, which
  no label, name or ID needs to be. A field the catalogue declares free text (a decline reason,
  typed in a form with its own limit) may be as long as that limit and span lines; every other
  rule still reads it.

Text a person typed (a reason, a comment, a cycle name, a value in an imported file) is read by
`personal_data_in`, which also looks for what an email of the service legitimately carries and so
is not in RULES (the LA's contact address, dates next to setting names in a table):
- name_and_date: a name (two or more capitalised words that are not ordinary words, or
  "SURNAME, Forename") followed by a date, as in "Zebedee Quxley 03/04/2015";
- email and phone: an email address, and a UK phone number (0 or +44, then 9 or 10 digits);
- with dates_allowed=False, for short labels that never need a date (a setting name, a team, an
  ID), any full date at all.

A violation says which rule matched and where, never the value: the excerpt gives a label as
found ("DOB") but only the shape of a value ("x############" for a UPN), and none of the text
around it, which could hold a name.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping

from .catalogue import KINDS, ContextLeaf, RenderedMessage, context_leaves, render_message, sample_context

PLAN_TEXT_MAX_CHARS = 200

UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # value 0-22; no I, O or S


@dataclass(frozen=True)
class Violation:
    rule: str
    excerpt_redacted: str


def upn_check_letter(characters_2_to_13: str) -> str | None:
    """The check letter for the 12 characters after it, or None if they cannot be a UPN."""
    total = 0
    for weight, character in enumerate(characters_2_to_13.upper(), start=2):
        if character in "0123456789":
            value = int(character)
        elif weight == 13 and character in UPN_LETTERS:  # a temporary UPN ends in a letter
            value = UPN_LETTERS.index(character)
        else:
            return None
        total += weight * value
    return UPN_LETTERS[total % 23]


def is_valid_nhs_number(digits: str) -> bool:
    total = sum(int(digit) * weight for digit, weight in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class _Rule:
    name: str
    pattern: re.Pattern[str]
    confirms: Callable[[re.Match[str]], bool] = lambda match: True
    is_label: bool = False  # what it matches is a label ("Surname"), safe to show
    # What every match contains, so a text without it is skipped unread (the guard reads every part
    # of every email): a run of this many digits (\d the pattern cannot do without), and one of these
    # words, lower case. The words are trusted only in ASCII text: IGNORECASE also matches a few other
    # letters ("ſ" for "s", the Kelvin sign for "k") that str.lower() does not turn into ASCII.
    needs_digits: int = 0
    needs_one_of: tuple[str, ...] = ()

    def find(self, text: str) -> Iterator[re.Match[str]]:
        return (match for match in self.pattern.finditer(text) if self.confirms(match))

    def may_match(self, longest_digit_run: int, ascii_lowered: str | None) -> bool:
        """False only when the text (ascii_lowered: it in lower case, None if not ASCII) cannot hold a match."""
        if longest_digit_run < self.needs_digits:
            return False
        return not (self.needs_one_of and ascii_lowered is not None
                    and not any(word in ascii_lowered for word in self.needs_one_of))


def _is_upn(match: re.Match[str]) -> bool:
    return upn_check_letter(match["rest"]) == match["letter"].upper()


def _is_nhs_number(match: re.Match[str]) -> bool:
    return is_valid_nhs_number(re.sub(r"\D", "", match[0]))


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
# A day, month and year in the ways people write them: 3/4/15, 03.04.2015, 2015-04-03, 2015/04/03,
# 3 April 2015, 3rd of Apr 15, 03-Apr-2015, April 3rd, 2015.
_FULL_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[\s\-/]+(?:of\s+)?{_MONTH},?[\s\-/]+\d{{2,4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}})"
)
_DATE = rf"(?:{_FULL_DATE}|(?:19|20)\d{{2}})"
_I = re.IGNORECASE

RULES = (
    _Rule("upn", re.compile(r"(?<![A-Za-z0-9])(?P<letter>[A-Za-z])(?P<rest>\d{11}[0-9A-Za-z])(?![A-Za-z0-9])"),
          _is_upn, needs_digits=11),
    _Rule("upn", re.compile(r"\bUPN\b|\bunique\s+pupil\s+number\b", _I), is_label=True,
          needs_one_of=("upn", "pupil")),
    _Rule("nhs_number", re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"), _is_nhs_number, needs_digits=4),
    _Rule("nhs_number", re.compile(r"\bNHS\s+(?:number|no\b)", _I), is_label=True, needs_one_of=("nhs",)),
    _Rule("date_of_birth", re.compile(r"\bdate\s+of\s+birth\b|\bbirth\s*date\b|\bbirthday\b|\bd\.?o\.?b\b", _I),
          is_label=True, needs_one_of=("birth", "dob", "d.ob", "do.b", "d.o.b")),
    _Rule("date_of_birth", re.compile(rf"\bborn\b.{{0,20}}?{_DATE}", _I | re.DOTALL), needs_digits=1,
          needs_one_of=("born",)),
    _Rule("date_of_birth", re.compile(r"\baged?\s*:?\s*\d{1,2}\b|\b\d{1,2}[\s-]*(?:years?|yrs?)[\s-]*old\b", _I),
          needs_digits=1, needs_one_of=("age", "old")),
    _Rule("name_label", re.compile(
        r"\b(?:child|young\s+person|pupil|student|learner)['’]?s?\s+(?:full\s+)?name\b"
        r"|\bname\s+of\s+(?:the\s+)?(?:child|young\s+person|pupil|student|learner)\b"
        r"|\b(?:fore|sur)names?\b"
        r"|\b(?:first|last|given|middle|family)\s+names?\s*:", _I), is_label=True, needs_one_of=("name",)),
    _Rule("address", re.compile(
        r"\b(?:GIR\s?0AA|[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPS-UW]|[A-HK-Y]\d[ABEHMNPRV-Y])"
        r"\s?\d[ABD-HJLNP-UW-Z]{2})\b", _I), needs_digits=1),
    _Rule("address", re.compile(r"(?<!email )(?<!e-mail )\b(?:home\s+|postal\s+)?address\s*:", _I), is_label=True,
          needs_one_of=("address",)),
    _Rule("plan_text", re.compile(r"\bsection\s+[A-K]\b\s*[:\-–]", _I), is_label=True, needs_one_of=("section",)),
    # A plan heading followed by a line of prose; "Primary need: ASD" is not one.
    _Rule("plan_text", re.compile(r"\b(?:needs|outcomes?|provision|aspirations?)\s*:[ \t]*(?:[^\s<>]+[ \t]+){5,}", _I),
          needs_one_of=("needs", "outcome", "provision", "aspiration")),
)


# Words that start with a capital in ordinary text about audits, so two of them before a date
# ("Annual Review 03/04/2026", "Autumn Term 1 September 2026") are not taken for a name.
ORDINARY_WORDS = frozenset("""
a an and the of for in on at by to from with after before until due next last this that per or not no
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday
spring summer autumn winter term half year years week weeks month day days date today tomorrow
annual review reviewed reviews plan plans ehcp ehc ehcps draft final issued issue amended amendment new
interim audit audits audited cycle cycles round moderation sample meeting meetings panel tribunal
section sections outcome outcomes provision need needs education health care social send sen la
council authority team teams service north south east west central city county borough district
school schools primary secondary academy academies college colleges nursery special unit trust
free independent maintained mainstream infant junior high middle upper lower sixth form centre
church st saint catholic ce rc c of e community foundation
key stage ks eyfs post reception group class deadline report reports version updated update
received sent requested request start end started ended closed open opened complete completed
dfe sendco senco ofsted cqc dco dmo nhs icb ep salt ot camhs
""".split())
_NAME_WORD = re.compile(r"[A-Z][A-Za-z'’\-]*\.?$")
_BEFORE_DATE = re.compile(r"((?:[A-Za-z'’.\-]+,?\s+){1,4})(?:\(|-|–|:|,)?\s*(?:(?:dob|d\.o\.b\.?|born|b\.)\s*:?\s*)?$", _I)


def _follows_a_name(match: re.Match[str]) -> bool:
    """Whether the date comes straight after two or more words that look like a person's name."""
    before = _BEFORE_DATE.search(match.string[max(0, match.start() - 80):match.start()])
    if before is None:
        return False
    words = [word for word in before[1].replace(",", " ").split() if any(character.isalpha() for character in word)]
    while words and words[-1].lower().strip(":") in ("dob", "d.o.b", "d.o.b.", "born", "b.", "b"):
        words.pop()
    name = 0
    for word in reversed(words):
        if not _NAME_WORD.match(word) or word.strip(".").lower() in ORDINARY_WORDS:
            break
        name += 1
    return name >= 2


_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
TYPED_TEXT_RULES = (
    _Rule("name_and_date", re.compile(rf"(?<![\w/.\-]){_FULL_DATE}(?![\w/\-])", _I), _follows_a_name),
    _Rule("email", _EMAIL),
    _Rule("phone", re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|0)[1237](?:[\s\-]?\d){8,9}(?!\d)")),
)
_ANY_DATE = _Rule("date", re.compile(rf"(?<![\w])(?:{_FULL_DATE})(?![\w])", _I))


def check_message(rendered: RenderedMessage, context: Mapping[str, Any] | None = None) -> list[Violation]:
    """Everything in the message (and its context, if given) that looks like personal data: exactly
    what check_message_by_definition finds, with less work (it reads every email the service sends).
    A rule is skipped in a text that cannot hold its match, and a context value's findings are kept
    for the next email showing the same value (an LA's name, a cycle's, a date, a link)."""
    violations, rendered_parts, context_parts = _long_text_and_parts(rendered, context)
    for parts, findings_in in ((rendered_parts, _findings), (context_parts, _findings_in_context_value)):
        for where, text in parts:
            violations.extend(Violation(rule, f"{where}, {at}") for rule, at in findings_in(text))
    return list(dict.fromkeys(violations))  # one of each, in the order found


def check_message_by_definition(rendered: RenderedMessage, context: Mapping[str, Any] | None = None) -> list[Violation]:
    """What the guard finds, by its definition: every rule over every part (the subject, the text,
    the visible HTML, every text in the context), one of each violation in the order found. The
    reference that check_message is tested against."""
    violations, rendered_parts, context_parts = _long_text_and_parts(rendered, context)
    for where, text in [*rendered_parts, *context_parts]:
        for rule in RULES:
            violations.extend(Violation(rule.name, f"{where}, {_at(match, rule)}") for match in rule.find(text))
    return list(dict.fromkeys(violations))


def _long_text_and_parts(rendered: RenderedMessage, context: Mapping[str, Any] | None
                         ) -> tuple[list[Violation], list[tuple[str, str]], list[tuple[str, str]]]:
    """The context texts too long or over several lines, and the parts to read, with where each is:
    the rendered ones (the subject, the text, the visible HTML), then each text in the context."""
    too_long: list[Violation] = []
    rendered_parts = [("subject", rendered.subject), ("text", rendered.text), ("html", _visible_text(rendered.html))]
    context_parts = []
    if context is not None:
        fields = KINDS[rendered.kind].fields if rendered.kind in KINDS else {}
        for leaf in context_leaves(context):
            if isinstance(leaf.value, str):
                context_parts.append((f"context {leaf.path}", leaf.value))
                too_long.extend(_long_text(leaf, getattr(fields.get(leaf.field), "free_text_chars", None)))
    return too_long, rendered_parts, context_parts


def _findings(text: str) -> tuple[tuple[str, str], ...]:
    """Each rule's matches in the text, as (rule, where in the text), in RULES order."""
    longest_digit_run = max(map(len, _DIGITS.findall(text)), default=0)
    ascii_lowered = text.lower() if text.isascii() else None
    return tuple((rule.name, _at(match, rule)) for rule in RULES if rule.may_match(longest_digit_run, ascii_lowered)
                 for match in rule.find(text))


# Bounded: a context value is a name, a date or a link (free text at most a form's limit).
_findings_in_context_value = functools.lru_cache(maxsize=4096)(_findings)


# What the rules find in text a person typed (a comment, a reason), in words for them. The
# plan_text rule is left out: staff rightly write about a plan ("Section F: not quantified").
PERSONAL_DATA_IN_WORDS = {
    "nhs_number": "an NHS number",
    "upn": "a UPN",
    "date_of_birth": "a date of birth or age",
    "name_label": "a child's name",
    "address": "an address or postcode",
    "name_and_date": "a name with a date",
    "email": "an email address",
    "phone": "a phone number",
    "date": "a date",
}


def personal_data_in(typed: str, *, dates_allowed: bool = True) -> list[str]:
    """The kinds of a child's personal details found in typed text, in words, e.g. ["a UPN"].
    dates_allowed=False is for short labels (a setting name, a team, an ID), which never need a
    date, so any date in them is taken for a date of birth."""
    violations = check_message(RenderedMessage(kind="typed_text", subject="", html="", text=typed))
    rules = dict.fromkeys(violation.rule for violation in violations)
    extra = (*TYPED_TEXT_RULES, *(() if dates_allowed else (_ANY_DATE,)))
    rules.update(dict.fromkeys(rule.name for rule in extra if next(rule.find(typed), None)))
    if "name_and_date" in rules:
        rules.pop("date", None)
    return [PERSONAL_DATA_IN_WORDS[rule] for rule in rules if rule in PERSONAL_DATA_IN_WORDS]


def emails_blocked_by_cycle_name(name: str) -> list[str]:
    """What the guard would find in every email that shows a cycle's name, were it this one, in
    words ("plan text", "a UPN"); empty when such emails would pass. Each kind that shows the name is
    rendered with its sample context, so what the templates put around the name counts too."""
    found: dict[str, None] = {}
    for kind in KINDS.values():
        if "cycle.name" not in kind.fields:
            continue
        context = sample_context(kind.name)
        context["cycle"] = {**context["cycle"], "name": name}
        found.update(dict.fromkeys(violation.rule for violation in check_message(render_message(kind.name, context), context)))
    return [{**PERSONAL_DATA_IN_WORDS, "plan_text": "plan text"}[rule] for rule in found]


_TAG = re.compile(r"<[^>]*>")


def _visible_text(markup: str) -> str:
    # Tags become spaces, so a label in one cell and its value in the next stay next to each other.
    return html.unescape(_TAG.sub(" ", markup))


def _long_text(leaf: ContextLeaf, free_text_chars: int | None) -> list[Violation]:
    limit = free_text_chars or PLAN_TEXT_MAX_CHARS
    if len(leaf.value) > limit:
        return [Violation("plan_text", f"context {leaf.path}: {len(leaf.value)} characters of text (at most "
                                       f"{limit} allowed)")]
    if free_text_chars is None and ("\n" in leaf.value or "\r" in leaf.value):
        return [Violation("plan_text", f"context {leaf.path}: text over several lines")]
    return []


def _at(match: re.Match[str], rule: _Rule) -> str:
    """Where the match is in its text, and what it is: a label as found, a value by its shape."""
    shown = match[0] if rule.is_label else _shape(match[0])
    return f"character {match.start()}: “{' '.join(shown.split())}”"


def _shape(value: str) -> str:
    return re.sub(r"\d", "#", re.sub(r"[^\W\d_]", "x", value))
