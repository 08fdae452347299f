"""Mutated envelopes of every registered transaction (`yibao.bench.fuzz`), sent to the call
pipeline directly and once over HTTP: no `系统内部错误`, no exception escaping, no HTTP 5xx, and
a refused call writes nothing (design.md §4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from settle_factories import HOSP, Person, seed_catalog, seed_institution, seed_person

from yibao.bench.fuzz import (
    Caller,
    Counts,
    FuzzReport,
    SeedIds,
    Sender,
    http_sender,
    open_visits,
    pipeline_sender,
    run_fuzz,
    seed_inputs,
)
from yibao.interface.pipeline import CallPipeline
from yibao.interface.registry import load_handlers
from yibao.runtime import Platform

PERSON = Person("P0001", "110101199003074514")
SPARE = Person("P0002", "110101198001010010", psn_name="李四")
load_handlers()


@pytest.fixture
def fuzzed(platform: Platform) -> Iterator[tuple[CallPipeline, Caller]]:
    with platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_catalog(conn)
        seed_person(conn, PERSON)
        seed_person(conn, SPARE)
    pipeline = CallPipeline(platform)
    try:
        yield pipeline, Caller(HOSP, paasid, secret)
    finally:
        pipeline.close()


async def _fuzz(
    send: Sender, caller: Caller, platform: Platform, *, cases: int, seed: int
) -> FuzzReport:
    spare = {"spare_psn_no": SPARE.psn_no, "spare_certno": SPARE.certno}
    ids = await open_visits(send, caller, SeedIds(PERSON.psn_no, PERSON.certno, **spare))
    # the inputs name real visits (the world fixture has P0002 too, as a person of its own)
    assert ids.mdtrt_id != "0" and ids.ipt_mdtrt_id != "0" and ids.spare_mdtrt_id != "0"
    seeds = seed_inputs(
        ids, now=datetime.now().replace(microsecond=0), fixmedins_code=caller.fixmedins_code
    )
    return await run_fuzz(
        send,
        caller,
        seeds,
        Counts(platform.db.read_engine),
        cases_=cases,
        seed=seed,
    )


async def test_fuzzed_envelopes_get_clear_answers(
    fuzzed: tuple[CallPipeline, Caller], platform: Platform
) -> None:
    pipeline, caller = fuzzed
    report = await _fuzz(pipeline_sender(pipeline), caller, platform, cases=1500, seed=23)
    assert report.cases == 1500
    assert report.refused > report.cases // 2 and report.answered > 0
    assert report.failures == 0, "\n".join(report.samples)


async def test_fuzzed_envelopes_over_http(world: dict[str, Any]) -> None:
    his = world["his"]
    caller = Caller(his.code, his.paasid, his.secret)
    report = await _fuzz(http_sender(world["client"]), caller, world["platform"], cases=400, seed=5)
    assert report.http_5xx == 0 and report.failures == 0, "\n".join(report.samples)
