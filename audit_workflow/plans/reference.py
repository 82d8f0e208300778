"""Reference data a plan import must accept: SEN2 primary needs, key stages, setting types and plan
types, each one `Vocabulary` (vocabulary.py) of the codes the service stores and the words
coordinators see. Sources: the domain notes on reference data (SEN2 codes, key stages, setting
types). Disciplines and regions, which every area uses, are in the shared reference.py.
"""

from __future__ import annotations

import re

from ..vocabulary import Term, UnknownValue, Vocabulary

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

normalise_need, need_label = PRIMARY_NEEDS.normalise, PRIMARY_NEEDS.label
normalise_key_stage, key_stage_label = KEY_STAGES.normalise, KEY_STAGES.label
normalise_setting_type, setting_type_label = SETTING_TYPES.normalise, SETTING_TYPES.label
normalise_plan_type, plan_type_label = PLAN_TYPES.normalise, PLAN_TYPES.label

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
