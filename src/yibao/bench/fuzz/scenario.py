"""`yibao bench fuzz`: the fuzz cases sent over HTTP to a running server of a demo city, the
row counts read from its row store around every refusal (the data directory `yibao demo`
wrote, as the other scenarios use it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from yibao.bench import store
from yibao.bench.fixtures import load_fixtures
from yibao.bench.fuzz.run import Counts, http_sender, open_visits, run_fuzz
from yibao.bench.fuzz.seeds import Caller, SeedIds, seed_inputs
from yibao.bench.machine import machine
from yibao.errors import ConfigError


def run_fuzz_scenario(
    url: str,
    data_dir: Path,
    *,
    cases: int,
    seed: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    fixtures = load_fixtures(data_dir)
    hospitals = fixtures.of_kind("hospital", "clinic")
    inst = hospitals[0]
    headers = inst.get("credentials", {}).get("headers", {})
    paasid, secret = headers.get("x-tif-paasid"), headers.get("x-yibao-key")
    if not paasid or not secret:
        raise ConfigError(
            "演示数据缺少机构凭证 (no credentials in the fixtures: rerun `yibao demo`)"
        )
    caller = Caller(inst["code"], paasid, secret, admdvs=inst["admdvs"])
    person = fixtures.persons[0]
    ids = SeedIds(
        psn_no=person["psn_no"],
        certno=person["certno"],
        insutype=person["insutype"],
        item_code=fixtures.catalog_items[0]["code"],
    )
    engine = store.row_store(data_dir)

    async def go() -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=url, timeout=60.0) as client:
            send = http_sender(client)
            opened = await open_visits(send, caller, ids)
            progress(f"fuzz: {cases} cases as {caller.fixmedins_code}, seed {seed}")
            now = datetime.now().replace(microsecond=0)
            seeds = seed_inputs(opened, now=now, fixmedins_code=caller.fixmedins_code)
            report = await run_fuzz(send, caller, seeds, Counts(engine), cases_=cases, seed=seed)
        return report.as_dict()

    try:
        figures = asyncio.run(go())
    finally:
        engine.dispose()
    return {
        "scenario": "fuzz",
        **figures,
        "machine": machine(),
        "params": {"url": url, "cases": cases, "seed": seed, "fixmedins_code": inst["code"]},
    }
