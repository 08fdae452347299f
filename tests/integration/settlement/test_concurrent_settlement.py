"""One person settling at two institutions at once: the settlements serialise on the person's
lock, so the annual deductible is consumed once, the account pays exactly its balance and
never goes below zero. On SQLite (one writer, group commit) and on MariaDB (marker `mysql`:
the writer runs jobs in parallel threads, each in its own transaction)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from settle_factories import (
    EXAM_A,
    HOSP,
    HOSP2,
    His,
    Person,
    echo,
    fee_line,
    register_input,
    seed_catalog,
    seed_institution,
    seed_person,
    settle_input,
)
from sqlalchemy import select

from yibao.api.app import create_app
from yibao.config import load_settings
from yibao.runtime import open_platform
from yibao.storage.tables import psn_accum, psn_insu, setl


@pytest.fixture
async def two_hospitals(db_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    settings = load_settings(data_dir=tmp_path / "data", database_url=db_url)
    platform = open_platform(settings)
    app = create_app(settings, platform=platform)
    with platform.db.engine.begin() as conn:
        c1 = seed_institution(conn, HOSP)
        c2 = seed_institution(conn, HOSP2)
        seed_catalog(conn)
        person = seed_person(conn, Person("P0001", "110101199003074514"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield {
            "platform": platform,
            "person": person,
            "hospitals": [His(client, HOSP, *c1), His(client, HOSP2, *c2)],
        }
    platform.close()


async def test_concurrent_settlements_of_one_person_serialise(
    two_hospitals: dict[str, Any],
) -> None:
    p = two_hospitals["person"]
    platform = two_hospitals["platform"]
    prepared = []
    for i in range(6):
        his = two_hospitals["hospitals"][i % 2]
        mdtrt_id = (await his.ok("2201", register_input(p, ipt_otp_no=f"OTP{i}")))["data"][
            "mdtrt_id"
        ]
        await his.ok("2204", {"feedetail": [fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "1000.00")]})
        pre = await his.ok("2206", settle_input(p, mdtrt_id, "1000.00"))
        # every trial sees the untouched year: the full deductible and the full balance
        assert pre["setlinfo"]["act_pay_dedc"] == Decimal("1000.00")
        prepared.append((his, settle_input(p, mdtrt_id, "1000.00", **echo(pre))))
    answers = await asyncio.gather(*(his.call("2207", body) for his, body in prepared))
    assert all(a["infcode"] == 0 for a in answers), [a["err_msg"] for a in answers]
    infos = [a["output"]["setlinfo"] for a in answers]
    assert sum(i["act_pay_dedc"] for i in infos) == Decimal("1800.00")
    assert sum(i["acct_pay"] for i in infos) == Decimal("500.00")
    assert all(i["balc"] >= 0 for i in infos)
    for i in infos:
        assert i["medfee_sumamt"] == i["fund_pay_sumamt"] + i["psn_part_amt"]
        assert i["psn_part_amt"] == i["acct_pay"] + i["psn_cash_pay"]
    with platform.db.read() as conn:
        balc = conn.execute(
            select(psn_insu.c.balc).where(psn_insu.c.psn_no == p.psn_no)
        ).scalar_one()
        accum = {r.acc_key: r.amount for r in conn.execute(select(psn_accum))}
        paid = sum(r.hifp_pay for r in conn.execute(select(setl)))
    assert balc == Decimal("0.00")
    assert accum["310:otp.dedc_used"] == Decimal("1800.00")
    assert accum["310:otp.inscp"] == Decimal("6000.00")
    assert paid == sum(i["hifp_pay"] for i in infos) == Decimal("2940.00")  # 4200 × 70 %
