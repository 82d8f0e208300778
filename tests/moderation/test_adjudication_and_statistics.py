"""Flags from the framework's discrepancy rules, adjudication, and the statistics as the CLI prints
them, checked against an independent computation from the CSV export."""

import csv
import json

import numpy as np
import pytest
from sqlmodel import select
from statsmodels.stats.inter_rater import cohens_kappa

from audit_workflow.audits.service import start_audit
from audit_workflow.auth.models import User
from audit_workflow.cycles.models import HELD_STATUSES, Assignment, AssignmentKind
from audit_workflow.framework import Band
from audit_workflow.moderation import service
from audit_workflow.moderation.export import neutralised
from audit_workflow.moderation.models import Adjudication, AgreedGrade
from tests.moderation.conftest import complete

SCORES = {"inadequate": 1, "requires_improvement": 2, "good": 3, "outstanding": 4}
# How the demo-like moderators stray from the first grade: by pair number.
SECOND_BAND = {0: Band.GOOD, 1: Band.REQUIRES_IMPROVEMENT, 2: Band.INADEQUATE, 3: Band.OUTSTANDING}


@pytest.fixture
def moderated(db, app, submitted):
    """Half the cycle moderated, every second audit submitted with some disagreement."""
    cycle, _, _ = submitted
    cycle.moderation_share = 0.6
    service.select_and_assign(db, cycle, app.config, seed=11)
    moderations = db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.MODERATION,
                                                   Assignment.status.in_(HELD_STATUSES))).all()
    for number, moderation in enumerate(moderations):
        complete(db, moderation, SECOND_BAND[number % 4], overrides={"B": Band.GOOD} if number % 3 == 0 else None)
    db.commit()
    return cycle


def test_pairs_are_flagged_by_the_framework_rules(db, moderated):
    pairs = service.pairs_for(db, [moderated])
    assert pairs and all(pair.complete for pair in pairs)
    for pair in pairs:
        apart = abs(SCORES[pair.first.overall] - SCORES[pair.second.overall])
        sections_differ = any(pair.first.grade(code) != pair.second.grade(code) for code in ("B", "E", "F"))
        assert pair.flagged == (apart >= 2 or sections_differ), pair.reasons
        if apart >= 2:
            assert any("bands apart" in reason for reason in pair.reasons)


def _agreed(pair, overall="good"):
    return {**{code: pair.first.grade(code) or "not_applicable" for code in pair.section_codes}, "overall": overall}


def test_adjudication_keeps_the_originals_and_logs_who_when_and_why(db, world, moderated):
    pair = next(pair for pair in service.pairs_for(db, [moderated]) if pair.flagged)
    original = (pair.first.overall, pair.second.overall)
    coordinator = world.user("coordinator")
    with pytest.raises(service.ModerationError, match="Choose the agreed grade for the overall grade"):
        service.adjudicate(db, pair, {**_agreed(pair), "overall": "not_applicable"}, "Discussed", coordinator)
    with pytest.raises(service.ModerationError, match="UPN|date of birth"):
        service.adjudicate(db, pair, _agreed(pair), "Child DOB 01/02/2015", coordinator)
    service.adjudicate(db, pair, _agreed(pair), "Both read F again; the provision is specific enough for Good.", coordinator)
    service.adjudicate(db, service.pair_for_pick(db, pair.pick), _agreed(pair, "requires_improvement"), "On reflection", coordinator)
    db.commit()
    again = service.pair_for_pick(db, pair.pick)
    assert (again.first.overall, again.second.overall) == original
    assert again.adjudicated and again.agreed["overall"] == "requires_improvement" and again.state == "adjudicated"
    rows = db.exec(select(AgreedGrade).where(AgreedGrade.audit_id == pair.first.audit.id)).all()
    assert len(rows) == len(pair.section_codes) + 1 and {row.decided_by_id for row in rows} == {coordinator.id}
    log = db.exec(select(Adjudication).where(Adjudication.audit_id == pair.first.audit.id)).all()
    assert [entry.rationale for entry in sorted(log, key=lambda entry: entry.decided_at)] == [
        "Both read F again; the provision is specific enough for Good.", "On reflection"]


def test_only_coordinators_and_uninvolved_moderators_adjudicate(db, world, moderated):
    pair = service.pairs_for(db, [moderated])[0]
    assert not service.may_adjudicate(db, world.user("manager"), pair)
    assert not service.may_adjudicate(db, pair.second.auditor, pair)
    service.set_moderator(db, pair.second.auditor, True)
    assert not service.may_adjudicate(db, pair.second.auditor, pair)  # audited one side
    outsider = world.user("auditor")
    assert not service.may_adjudicate(db, outsider, pair)
    service.set_moderator(db, outsider, True)
    assert service.may_adjudicate(db, outsider, pair)
    assert not service.may_adjudicate(db, world.user("coordinator", "other"), pair)


def _independent_alpha(pairs):
    """Krippendorff's ordinal alpha written out from the 2011 paper's definitions, unit by unit."""
    values = sorted({value for pair in pairs for value in pair})
    counts = {value: sum(pair.count(value) for pair in pairs) for value in values}
    total = sum(counts.values())

    def delta(c, k):
        low, high = min(c, k), max(c, k)
        return (sum(counts[g] for g in values if low <= g <= high) - (counts[c] + counts[k]) / 2) ** 2

    observed = sum(delta(a, b) * 2 for a, b in pairs) / total  # each pair gives (a, b) and (b, a), over m_u - 1 = 1
    expected = sum(counts[c] * counts[k] * delta(c, k) for c in values for k in values) / (total * (total - 1))
    return 1 - observed / expected


def test_stats_json_agrees_with_an_independent_computation_from_the_export(db, runner, moderated, tmp_path):
    result = runner.invoke(args=["moderation", "stats", str(moderated.id), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert set(stats) == {"pairs", "exact_agreement", "within_one", "weighted_kappa", "krippendorff_alpha", "sections",
                          "auditors", "flagged", "adjudicated"}
    out = tmp_path / "moderation.csv"
    exported = runner.invoke(args=["export", "moderation", str(moderated.id), "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    overall = [(SCORES[row["first_grade"]], SCORES[row["second_grade"]]) for row in rows if row["section"] == "overall"]
    assert stats["pairs"] == len(overall) >= 10
    first, second = np.array(overall).T
    assert stats["exact_agreement"] == pytest.approx(np.mean(first == second), abs=5e-4)
    assert stats["within_one"] == pytest.approx(np.mean(abs(first - second) <= 1), abs=5e-4)
    table = np.zeros((4, 4))
    for a, b in overall:
        table[a - 1, b - 1] += 1
    assert stats["weighted_kappa"]["value"] == pytest.approx(cohens_kappa(table, wt="quadratic", return_results=False), abs=5e-4)
    assert stats["krippendorff_alpha"]["value"] == pytest.approx(_independent_alpha(overall), abs=5e-4)
    low, high = stats["weighted_kappa"]["ci"]
    assert low <= stats["weighted_kappa"]["value"] <= high
    section_b = [(SCORES[row["first_grade"]], SCORES[row["second_grade"]]) for row in rows
                 if row["section"] == "B" and row["first_grade"] in SCORES and row["second_grade"] in SCORES]
    assert stats["sections"]["B"]["pairs"] == len(section_b)
    assert stats["flagged"] == sum(pair.flagged for pair in service.pairs_for(db, [moderated])) > 0
    emails = {row["first_auditor"] for row in rows} | {row["second_auditor"] for row in rows}
    assert {entry["auditor"] for entry in stats["auditors"]} == emails
    for entry in stats["auditors"]:
        assert (entry["mean_difference"] is None) == (entry["moderated"] < 3)


def test_stats_refuses_a_bad_cycle_id_in_one_line(runner):
    result = runner.invoke(args=["moderation", "stats", "not-a-cycle", "--json"])
    assert result.exit_code == 1 and "is not a cycle id" in result.output


def test_sample_command_records_the_seed(db, runner, submitted):
    cycle, _, _ = submitted
    result = runner.invoke(args=["moderation", "sample", str(cycle.id), "--seed", "42"])
    assert result.exit_code == 0, result.output
    assert "(seed 42)" in result.output and "moderated by" in result.output


@pytest.mark.parametrize(("value", "safe"), [("=SUM(A1)", "'=SUM(A1)"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"),
                                             ("\tx", "'\tx"), ("\rx", "'\rx"), ("SYS-0001", "SYS-0001")])
def test_export_neutralises_formulas(value, safe):
    assert neutralised(value) == safe


def test_the_statistics_read_every_pair_as_the_pair_pages_show_it(db, app, world, submitted):
    """The report reads plain rows, the pair pages ORM objects: both must say the same of each pair,
    waiting (unstarted, or started and not submitted), agreed, flagged and adjudicated ones alike."""
    cycle, _, _ = submitted
    cycle.moderation_share = 0.6
    service.select_and_assign(db, cycle, app.config, seed=11)
    moderations = db.exec(select(Assignment).where(Assignment.cycle_id == cycle.id, Assignment.kind == AssignmentKind.MODERATION,
                                                   Assignment.status.in_(HELD_STATUSES))).all()
    unstarted, started, *finished = moderations
    start_audit(db, started, db.get(User, started.auditor_id))
    for number, moderation in enumerate(finished):
        complete(db, moderation, SECOND_BAND[number % 4], overrides={"B": Band.GOOD} if number % 3 == 0 else None)
    pair = next(pair for pair in service.pairs_for(db, [cycle]) if pair.flagged)
    service.adjudicate(db, pair, _agreed(pair, "outstanding"), "Discussed", world.user("coordinator"))
    db.commit()

    shown = service.pairs_for(db, [cycle])
    read = service.statistics_report(db, [cycle]).pairs

    def described(pair, email):
        return (pair.complete, pair.flagged, pair.adjudicated, pair.reference(), pair.section_codes,
                [email(side) if side else None for side in (pair.first, pair.second)])

    assert [described(pair, lambda side: (side.auditor.email, side.auditor.display_name)) for pair in shown] == [
        described(pair, lambda side: (side.email, side.name)) for pair in read]
    states = {pair.state for pair in shown}
    assert {"waiting", "adjudicated", "flagged"} <= states, states
