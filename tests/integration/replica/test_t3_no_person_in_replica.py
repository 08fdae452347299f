"""Issue 17: after a demo load (its settlement history bulk-loaded into the replica) and live
settlements through the gateway (tailed by the applier), neither the DuckDB file's bytes nor
the logs hold any person's `psn_no`, `certno` or name; the replica knows persons only by
`psn_ref`, and `replica verify` still passes."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from yibao.api.app import create_app
from yibao.config import Settings
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.service import Replica
from yibao.replica.verify import verify
from yibao.runtime import open_platform
from yibao.simulate.demo import load_demo, load_history
from yibao.simulate.replica_load import replica_for_load
from yibao.storage.engine import make_engine
from yibao.storage.tables import psn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "settlement"))

from settle_factories import (
    CONSULT_A,
    EXAM_A,
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

LIVE_HOSP = "H11019900077"


async def _settle(his: His, p: Any, n: int) -> None:
    reg = await his.ok("2201", register_input(p, ipt_otp_no=f"OTP-T3-{n}"))
    mdtrt_id = reg["data"]["mdtrt_id"]
    lines = [
        fee_line("1", mdtrt_id, p.psn_no, EXAM_A, "20.00"),
        fee_line("2", mdtrt_id, p.psn_no, CONSULT_A, "10.00"),
    ]
    await his.ok("2204", {"feedetail": lines})
    pre = await his.ok("2206", settle_input(p, mdtrt_id, "30.00"))
    await his.ok("2207", settle_input(p, mdtrt_id, "30.00", **echo(pre)))


async def test_no_person_number_certno_or_name_in_the_replica_file_or_the_logs(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    engine = make_engine(settings.db_url)
    try:
        load_demo(engine, settings.data_dir, persons=120)
        with replica_for_load(settings) as store:
            report = load_history(engine, settings.data_dir, store, persons=120, days=10)
        assert report is not None and report.settlements > 0
        with engine.begin() as conn:
            paasid, secret = seed_institution(conn, LIVE_HOSP)
            seed_catalog(conn)
            live = seed_person(conn, Person("P-T3-LIVE-0001", "110101199003074514", "欧阳明"))
    finally:
        engine.dispose()
    fixtures = json.loads((settings.data_dir / "demo-fixtures.json").read_text())
    demo = [p for p in fixtures["persons"] if p["insutype"] == "310"][:3]
    assert demo

    platform = open_platform(settings)
    try:
        app = create_app(settings, platform=platform)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                his = His(c, LIVE_HOSP, paasid, secret)
                await _settle(his, live, 0)
                for n, p in enumerate(demo, start=1):
                    await _settle(his, SimpleNamespace(**p), n)
                assert platform.analytics is not None
                answer = platform.analytics.run_on_replica("summary", {}, consistency="strong")
                assert answer.data[0]["setl_cnt"] >= 4
    finally:
        platform.close()

    # the file the applier wrote; then rebuilt from the tables (the factories above wrote
    # without change-log rows) and checked with `replica verify`
    files = [b"".join(p.read_bytes() for p in settings.data_dir.glob("replica.duckdb*"))]
    replica = Replica.open(settings)
    try:
        replica.rebuild(source="tables")
        checked = verify(replica.store, replica.source, replica.applier.catch_up)
        assert checked.ok, [c.as_dict() for c in checked.checks if not c.ok]
        refs = Pseudonyms.for_dir(settings.data_dir)
        _seq, _names, found = replica.store.query(
            "SELECT count(*) FROM setl_fact WHERE psn_ref = ?", [refs.ref(live.psn_no)]
        )
        assert found == [(1,)]
        _seq, _names, cols = replica.store.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE column_name IN ('psn_no', 'certno', 'psn_name')"
        )
        assert cols == []
        replica.store.checkpoint()
    finally:
        replica.close()
    files.append(b"".join(p.read_bytes() for p in settings.data_dir.glob("replica.duckdb*")))

    logs = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    # every fixture person, and every other person the row store holds
    engine = make_engine(settings.db_url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(psn.c.psn_no, psn.c.certno, psn.c.psn_name)).all()
    finally:
        engine.dispose()
    people = [
        *fixtures["persons"],
        *({"psn_no": r.psn_no, "certno": r.certno, "name": r.psn_name} for r in stored),
    ]
    assert len(stored) == 121 and len(fixtures["persons"]) > 10
    for p in people:
        for value in (p["psn_no"], p["certno"], p["name"]):
            for raw in files:
                assert value.encode() not in raw, "a person's identifier is in the replica file"
            assert value not in logs, "a person's identifier is in the logs"
