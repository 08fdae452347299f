"""`GET /metrics` (issue 22): the Prometheus text format, every name prefixed `yibao_`, calls
counted by transaction and infcode (an infno yibao does not serve is `other`), the group
commit, pool, replica, rule-hit and sign-in metrics present — and no personal data in any
label."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from settle_factories import register_input

from yibao.obs import metrics

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def _scrape(client: httpx.AsyncClient) -> tuple[str, Samples]:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return answer.text, samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_calls_without_personal_data(world: dict[str, Any]) -> None:
    client: httpx.AsyncClient = world["client"]
    his = world["his"]
    person = world["people"]["emp2"]
    _, before = await _scrape(client)

    await his.ok("2201", register_input(person))
    await his.ok("1101", {"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": person.certno}})
    unknown = await his.call("9999", {})
    assert unknown["infcode"] == -1
    not_a_number = await his.call("ab12", {})
    assert not_a_number["infcode"] == -1
    wrong_key = await his.call("1101", {}, headers={**his.headers(), "x-yibao-key": "nope"})
    assert wrong_key["infcode"] == -1
    metrics.rule_hit("R-TEST-CAP", "refuse")

    text, after = await _scrape(client)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("yibao_calls_total", infno="2201", infcode="0") == 1
    assert delta("yibao_calls_total", infno="1101", infcode="0") == 1
    assert delta("yibao_calls_total", infno="1101", infcode="-1") == 1  # the wrong key
    assert delta("yibao_calls_total", infno="other", infcode="-1") == 2  # 9999 and ab12
    assert not any(labels for (name, labels) in after if ("infno", "9999") in labels)
    assert delta("yibao_call_seconds_count", infno="2201") == 1
    assert delta("yibao_signin_failures_total", via="gateway") == 1
    assert delta("yibao_rule_hits_total", rule="R-TEST-CAP", outcome="refuse") == 1
    assert delta("yibao_group_commit_batch_size_count") >= 1
    assert delta("yibao_commit_seconds_count") >= 1
    assert ("yibao_db_pool_open", (("pool", "write"),)) in after
    assert ("yibao_db_pool_in_use", (("pool", "write"),)) in after
    for name in (
        "yibao_replica_lag_rows",
        "yibao_replica_lag_seconds",
        "yibao_replica_batch_seconds",
    ):
        assert f"# TYPE {name} " in text

    names = {name for name, _ in after}
    ours = {n for n in names if not n.startswith(("python_", "process_"))}
    assert ours and all(n.startswith("yibao_") for n in ours)
    # no label value is a person's data
    personal = {person.psn_no, person.certno, person.psn_name}
    values = {value for _, labels in after for _, value in labels}
    assert not values & personal
    for secret in personal:
        assert secret not in text


def test_unknown_or_missing_infno_is_other() -> None:
    metrics.call(None, -1, 0.001)
    text = metrics.render().decode()
    assert 'yibao_calls_total{infcode="-1",infno="other"}' in text
