"""The mix a benchmark played is reported beside the mix asked, and a drift beyond the
tolerance is flagged (the run then fails loudly instead of reporting another workload)."""

from __future__ import annotations

from yibao.bench.stats import MIX_MIN_FLOWS, mix_report

ASKED = {"outpatient": 0.6, "inpatient": 0.1, "pharmacy": 0.3}


def test_a_mix_played_as_asked_is_ok() -> None:
    report = mix_report(ASKED, {"outpatient": 610, "inpatient": 95, "pharmacy": 295})
    assert report["ok"] and report["judged"] and report["drift"] == {}
    assert report["asked"] == {"outpatient": 0.6, "inpatient": 0.1, "pharmacy": 0.3}
    assert report["played"]["inpatient"] == 0.095


def test_inpatient_flows_turned_outpatient_are_a_drift() -> None:
    # the symptom seen: every inpatient flow fell back to an outpatient visit
    report = mix_report(ASKED, {"outpatient": 700, "inpatient": 0, "pharmacy": 300})
    assert not report["ok"]
    assert report["drift"] == {"outpatient": 0.1, "inpatient": -0.1}


def test_too_few_flows_are_not_judged() -> None:
    report = mix_report(ASKED, {"outpatient": MIX_MIN_FLOWS - 1})
    assert report["ok"] and not report["judged"] and report["drift"] == {}


def test_weights_need_not_sum_to_one() -> None:
    report = mix_report({"outpatient": 3, "pharmacy": 1}, {"outpatient": 300, "pharmacy": 100})
    assert report["asked"] == {"outpatient": 0.75, "pharmacy": 0.25} and report["ok"]
