"""Mutated envelopes of every registered transaction (`yibao.bench.fuzz`), sent to the call
pipeline directly and once over HTTP: no `系统内部错误`, no exception escaping, no HTTP 5xx, and
a refused call writes nothing (design.md §4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from settle_factories import HOSP, Person, seed_catalog, seed_institution, seed_person

from yibao.bench.fuzz import (
    Caller,
    Counts,
    FuzzReport,
    Reply,
    SeedIds,
    Sender,
    open_visits,
    pipeline_sender,
    run_fuzz,
    seed_inputs,
)
from yibao.interface.pipeline import CallPipeline
from yibao.runtime import Platform

PERSON = Person("P0001", "110101199003074514")


@pytest.fixture
def fuzzed(platform: Platform) -> Iterator[tuple[CallPipeline, Caller]]:
    with platform.db.engine.begin() as conn:
        paasid, secret = seed_institution(conn, HOSP)
        seed_catalog(conn)
        seed_person(conn, PERSON)
    pipeline = CallPipeline(platform)
    try:
        yield pipeline, Caller(HOSP, paasid, secret)
    finally:
        pipeline.close()


async def _run(send: Sender, caller: Caller, platform: Platform, cases: int, seed: int) -> FuzzReport:
    ids = await open_visits(send, caller, SeedIds(PERSON.psn_no, PERSON.certno))
    from datetime import datetime

    seeds = seed_inputs(ids, now=datetime.now().replace(microsecond=0))
    return await run_fuzz(send, caller, seeds, Counts(platform), cases_=cases, seed=seed)


async def test_fuzzed_envelopes_get_clear_answers(
    fuzzed: tuple[CallPipeline, Caller], platform: Platform
) -> None:
    pipeline, caller = fuzzed
    report = await _run(pipeline_sender(pipeline), caller, platform, 1500, seed=23)
    assert report.cases == 1500
    assert report.refused > report.cases // 2
    assert report.failures == 0, "\n".join(report.samples)
