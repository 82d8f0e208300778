import uuid
from datetime import date

from audit_workflow.reports.filters import ReportFilter, parse_filter


def test_a_filter_survives_the_round_trip_through_the_url():
    cycle = uuid.uuid4()
    original = ReportFilter(submitted_from=date(2026, 9, 1), cycle=cycle, key_stage="KS2", primary_need="ASD")
    assert parse_filter(original.as_query()) == type(parse_filter({}))(original, {})


def test_labels_and_spellings_are_accepted_as_codes():
    parsed = parse_filter({"key_stage": "Key Stage 2", "primary_need": "asd", "discipline": "Social care"})
    assert parsed.errors == {}
    assert (parsed.filter.key_stage, parsed.filter.primary_need, parsed.filter.discipline) == ("KS2", "ASD", "social_care")


def test_nonsense_is_explained_and_left_out():
    parsed = parse_filter({"key_stage": "KS9", "cycle": "not-a-cycle", "submitted_from": "yesterday",
                           "primary_need": "<script>"})
    assert parsed.filter == ReportFilter()
    assert set(parsed.errors) == {"key_stage", "cycle", "submitted_from", "primary_need"}
    assert parsed.errors["submitted_from"] == "Submitted from must be a date like 2026-09-01"


def test_a_period_that_ends_before_it_starts_is_refused():
    parsed = parse_filter({"submitted_from": "2026-10-01", "submitted_to": "2026-09-01"})
    assert parsed.filter == ReportFilter(submitted_from=date(2026, 10, 1))
    assert "submitted_to" in parsed.errors


def test_described_in_words():
    cycle = uuid.uuid4()
    described = ReportFilter(cycle=cycle, key_stage="KS2", primary_need="ASD").describe({cycle: "Autumn 2026"})
    assert described[0] == ("Cycle", "Autumn 2026")
    assert described[1][0] == "Key stage"
    assert described[2][0] == "Primary need"
