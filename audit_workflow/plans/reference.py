"""Reference data an import must accept: SEN2 primary needs, key stages, setting types, plan types,
auditor disciplines and English regions, each with the codes the service stores and the words
coordinators see.

Each kind is one table of terms and one `Vocabulary`; a single normaliser accepts a term's code,
label or aliases in any case, spacing or punctuation ("ks 1", "Key Stage 1" and "KS1" are the same
key), so adding a spelling is a data change. Failing that it matches by words (`word_key`): word
order, "&" for "and", plurals and filler words ("school", "setting", "LA", "the") do not matter, so
"Free School - Special" is "Special free school". A phrase that is not an alias, such as a bare
"Academy", is still refused, and `suggest` names the closest labels. Sources: the domain notes on
reference data (SEN2 codes, key stages, setting types).
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


PRIMARY_NEEDS = Vocabulary("a SEN2 primary-need code", (
    Term("SPLD", "Specific learning difficulty", ("Dyslexia", "SpLD (dyslexia, dyspraxia, dyscalculia)")),
    Term("MLD", "Moderate learning difficulty"),
    Term("SLD", "Severe learning difficulty"),
    Term("PMLD", "Profound and multiple learning difficulty"),
    Term("SEMH", "Social, emotional and mental health", ("Social, emotional and mental health difficulty",
                                                             "Behaviour, emotional and social difficulty", "BESD")),
    Term("SLCN", "Speech, language and communication needs", ("Speech, language and communication",
                                                                "Speech, language and communication difficulty")),
    Term("HI", "Hearing impairment", ("Deaf", "Hearing impaired")),
    Term("VI", "Vision impairment", ("Visual impairment", "Visually impaired")),
    Term("MSI", "Multi-sensory impairment", ("Deafblind",)),
    Term("PD", "Physical disability", ("Physical difficulty",)),
    Term("ASD", "Autistic spectrum disorder", ("Autism", "Autism spectrum disorder", "Autistic spectrum condition",
                                               "Autism spectrum condition", "ASC", "Autistic")),
    Term("DS", "Down syndrome", ("Down's syndrome",)),  # new in SEN2 2025
    Term("OTH", "Other difficulty", ("Other", "Other difficulty or disability", "Other difficulty/disability")),
    # Only the school census has NSA, for pupils on SEN support; on an EHCP it is probably an error.
    Term("NSA", "SEN support, no specialist assessment", ("No specialist assessment",
                                                          "SEN support but no specialist assessment of type of need"),
         flag="NSA: SEN support only; not expected on an EHCP"),
))


def _year_groups(first: int, last: int) -> tuple[str, ...]:
    """The ways registers write national curriculum years first..last ("Year 7", "Y7", "Yr 7", "NCY 7")."""
    return tuple(f"{prefix} {year}" for year in range(first, last + 1) for prefix in ("Year", "Y", "Yr", "NCY", "NC year"))


# Bare numbers are deliberately not accepted: "3" could be key stage 3 or year 3 (key stage 2).
# Year groups map by national curriculum year (age on 31 August minus 4); years 14 and up are
# third-year post-16 and post-19 learners.
KEY_STAGES = Vocabulary("a key stage", (
    Term("EYFS", "Early years foundation stage", ("Early years", "EY", "Foundation stage", "Nursery", "Pre-school",
                                                  "Reception", "Year R", "YR")),
    Term("KS1", "Key stage 1", _year_groups(1, 2)),
    Term("KS2", "Key stage 2", _year_groups(3, 6)),
    Term("KS3", "Key stage 3", _year_groups(7, 9)),
    Term("KS4", "Key stage 4", _year_groups(10, 11)),
    Term("KS5", "Key stage 5 (post-16)", ("Key stage 5", "Post-16", "16-19", "Sixth form", "Year 12-13",
                                         *_year_groups(12, 14))),
    Term("POST19", "Post-19", ("19-25", "19+", *_year_groups(15, 20))),
))

# Ages as people write them in a register, to the key stage. A single age fits two national
# curriculum years (NCY is the age on 31 August minus 4, and the register does not say when the
# age was taken), so it is read only when both years are in one key stage.
_NCY_STAGES = ((0, "EYFS"), (2, "KS1"), (6, "KS2"), (9, "KS3"), (11, "KS4"), (14, "KS5"), (99, "POST19"))
AGE_BANDS = {(0, 4): "EYFS", (0, 5): "EYFS", (5, 7): "KS1", (7, 11): "KS2", (11, 14): "KS3", (14, 16): "KS4",
             (16, 18): "KS5", (16, 19): "KS5", (19, 25): "POST19", (20, 25): "POST19"}
_AGE = re.compile(r"(?:aged?\s*)?(\d{1,2})(?:\s*(?:years?|yrs?)(?:\s*old)?)?", re.IGNORECASE)
_AGE_BAND = re.compile(r"(?:aged?\s*)?(\d{1,2})\s*(?:-|–|to)\s*(\d{1,2})(?:\s*(?:years?|yrs?))?", re.IGNORECASE)


def _stage_of_year(ncy: int) -> str:
    return next(stage for last_year, stage in _NCY_STAGES if ncy <= last_year)


def key_stage_for_age(value: str) -> str:
    """The key stage of an age ("12", "Aged 12") or an age band ("11-14", "16 to 19"); UnknownValue
    when the age could be in two key stages (an 11-year-old is in year 6 or year 7)."""
    text = value.strip()
    band = _AGE_BAND.fullmatch(text)
    if band:
        stage = AGE_BANDS.get((int(band[1]), int(band[2])))
        if stage is None:
            raise UnknownValue(f'the ages "{text}" span more than one key stage; give the key stage or year group')
        return stage
    age = _AGE.fullmatch(text)
    if age is None or not 0 <= int(age[1]) <= 25:
        raise UnknownValue(f'"{text[:_SHOWN_VALUE_LENGTH]}" is not an age from 0 to 25')
    stages = {_stage_of_year(int(age[1]) - 5), _stage_of_year(int(age[1]) - 4)}
    if len(stages) > 1:
        first, second = sorted(stages, key=list(KEY_STAGES).index)
        raise UnknownValue(f"age {age[1]} could be {KEY_STAGES[first]} or {KEY_STAGES[second]}, depending on the month "
                           "of birth; give the key stage or year group")
    return stages.pop()


# Slugs follow the columns of the DfE EHCP statistics; aliases include the SEN2 codes for placements
# without a URN. Phrases that could mean two types ("Academy", "Special school") are left out on
# purpose, so the coordinator is asked rather than the plan filed under the wrong type.
SETTING_TYPES = Vocabulary("a setting type", (
    Term("mainstream_maintained", "Mainstream school: LA-maintained", (
        "Maintained mainstream", "Maintained mainstream school", "Mainstream school (maintained)",
        "LA maintained mainstream school", "Community school", "Voluntary aided school", "Voluntary controlled school",
        "Foundation school", "E_MMS")),
    Term("mainstream_academy_free", "Mainstream school: academy or free school", (
        "Mainstream academy", "Mainstream free school", "Mainstream academy or free school",
        "Mainstream school (academy)", "Mainstream academy converter", "Mainstream academy sponsor led")),
    Term("mainstream_resourced_provision", "Mainstream school: resourced provision or SEN unit", (
        "Resourced provision", "SEN unit", "Resourced provision or SEN unit", "Additionally resourced provision",
        "ARP", "Mainstream with resourced provision", "Mainstream with SEN unit")),
    Term("mainstream_independent", "Mainstream school: independent", (
        "Independent mainstream", "Independent mainstream school")),
    Term("special_maintained", "Special school: LA-maintained", (
        "Maintained special", "Maintained special school", "Special school (maintained)",
        "LA maintained special school")),
    Term("special_academy_free", "Special school: academy or free school", (
        "Special academy", "Special free school", "Special academy or free school", "Special school (academy)")),
    Term("special_independent_non_maintained", "Special school: independent or non-maintained", (
        "Independent special school", "Non-maintained special school", "Independent or non-maintained special school",
        "Special school (independent)", "Special school (non-maintained)", "NMSS", "INMSS", "ISS", "E_INSS")),
    Term("ap_pru", "Alternative provision or pupil referral unit", (
        "AP", "PRU", "Alternative provision", "Pupil referral unit", "AP academy", "AP free school",
        "Alternative provision academy", "Alternative provision PRU", "E_PRU")),
    Term("post16_fe_college", "General FE or tertiary college", (
        "FE college", "General FE college", "Further education college", "General further education college",
        "Tertiary college", "General FE and tertiary college", "Sixth form college")),
    Term("post16_specialist", "Specialist post-16 institution", (
        "SPI", "Specialist post 16", "Specialist post-16 provider", "Independent specialist provider", "ISP",
        "Independent specialist college", "Specialist college")),
    Term("post16_other_provider", "Other post-16 provider (UKRLP or work-based)", (
        "UKRLP", "UKRLP provider", "Work-based learning", "Work based", "Training provider", "Apprenticeship")),
    Term("early_years", "Early years setting", (
        "EYP", "Early years provider", "Non-maintained early years", "Private nursery", "Childminder")),
    Term("ehe", "Elective home education", ("Home educated", "Home education", "Electively home educated")),
    Term("ola_arrangements", "Other arrangements by the LA (including EOTAS)", (
        "OLA", "LA arrangements", "Other arrangements by the LA", "Other arrangements made by the local authority",
        "EOTAS", "Education otherwise than at school", "Education other than at school", "Education otherwise")),
    Term("opa_arrangements", "Other arrangements by parents", (
        "OPA", "Parent arrangements", "Arrangements made by parents", "Other arrangements made by parents")),
    # The DfE statistics count "notice to cease" (SEN2 NIEC) with NEET.
    Term("neet", "Not in education, employment or training (including notice to cease)", (
        "Not in education, employment or training", "NIEC", "Not in education - notice to cease")),
    Term("not_in_education", "Not in education (other)", ("NIEO",)),
    Term("other", "Other", ("OTH", "Other setting", "Other school", "Online provider")),
    Term("unknown", "Unknown", ("Not known", "Not recorded")),
))

PLAN_TYPES = Vocabulary("a plan type", (
    Term("new", "New plan", ("New EHCP", "Initial", "Initial plan")),
    Term("annual_review", "Annual review", ("AR", "Review", "Annual review plan")),
    Term("amended", "Amended plan", ("Amendment", "Amended EHCP")),
))

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

normalise_need, need_label = PRIMARY_NEEDS.normalise, PRIMARY_NEEDS.label
normalise_key_stage, key_stage_label = KEY_STAGES.normalise, KEY_STAGES.label
normalise_setting_type, setting_type_label = SETTING_TYPES.normalise, SETTING_TYPES.label
normalise_plan_type, plan_type_label = PLAN_TYPES.normalise, PLAN_TYPES.label
normalise_discipline, discipline_label = DISCIPLINES.normalise, DISCIPLINES.label
normalise_region, region_label = REGIONS.normalise, REGIONS.label

NEED_CHOICES = PRIMARY_NEEDS.choices
KEY_STAGE_CHOICES = KEY_STAGES.choices
SETTING_TYPE_CHOICES = SETTING_TYPES.choices


# Demo data weights, in per cent of plans (for random.choices; they need not total exactly 100).

# Published: share of EHCPs by primary need, January 2025. DS is not in the published mix yet.
NATIONAL_NEED_MIX: dict[str, float] = {
    "ASD": 31.5, "SLCN": 21.3, "SEMH": 20.7, "MLD": 10.6, "SLD": 3.9, "PD": 3.9,
    "SPLD": 2.4, "HI": 1.4, "PMLD": 1.3, "OTH": 1.2, "VI": 0.8, "MSI": 0.3,
}

# An estimate, not a published figure: the DfE publishes plans by age band (under 5, 5-10, 11-15,
# 16-19, 20-25), shared here across key stages by the years each spans.
KEY_STAGE_MIX: dict[str, float] = {
    "EYFS": 5, "KS1": 10, "KS2": 24, "KS3": 22, "KS4": 15, "KS5": 17, "POST19": 7,
}

# An estimate, not a published figure: roughly the shape of the DfE EHCP statistics by
# establishment type (about 41% mainstream, 34% special, 14% post-16, the rest other settings).
SETTING_TYPE_MIX: dict[str, float] = {
    "mainstream_maintained": 16, "mainstream_academy_free": 20, "mainstream_resourced_provision": 4,
    "mainstream_independent": 1, "special_maintained": 15, "special_academy_free": 12,
    "special_independent_non_maintained": 7, "ap_pru": 1, "post16_fe_college": 11, "post16_specialist": 2,
    "post16_other_provider": 1, "early_years": 2, "ehe": 2, "ola_arrangements": 1.5, "opa_arrangements": 0.5,
    "neet": 2, "not_in_education": 1, "other": 0.5, "unknown": 0.5,
}
