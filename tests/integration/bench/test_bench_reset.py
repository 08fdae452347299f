"""`yibao bench settle` owns the admissions it plays: those earlier runs left open are closed
through the interface (2405 then 2404) before the next run, so inpatient flows keep finding
persons to admit; the flows played are counted by the kind actually played."""

from __future__ import annotations

import random

import httpx
from sqlalchemy import select

from yibao.api.app import create_app
from yibao.bench import store
from yibao.bench.fixtures import load_fixtures
from yibao.bench.flows import Admissions, Session, reset_admissions
from yibao.bench.http import HttpxConnection
from yibao.bench.stats import Recorder
from yibao.runtime import Platform
from yibao.simulate.demo import load_demo
from yibao.storage.tables import mdtrt


async def test_left_open_admissions_are_closed_through_the_interface(platform: Platform) -> None:
    data_dir = platform.settings.data_dir
    load_demo(platform.db.engine, data_dir, persons=200)
    fixtures = load_fixtures(data_dir)
    app = create_app(platform.settings, platform=platform)
    transport = httpx.ASGITransport(app=app)
    recorder = Recorder()
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        session = Session(HttpxConnection(client), fixtures, recorder, random.Random(3),
                          reversal_rate=0.0, admissions=Admissions())  # fmt: skip
        # leave two admissions open: one admitted, one discharged but not settled
        hospital = fixtures.of_kind("hospital")[0]
        persons = [p for p in fixtures.persons][:2]
        opened = []
        for person in persons:
            who = await session._who(hospital, person)
            assert who is not None
            visit_no, dr = session._ids(hospital)
            out = await session.call("2401", hospital, {
                "mdtrtinfo": {"psn_no": person["psn_no"], "insutype": session._insutype(who, person),
                              "mdtrt_cert_type": "02", "mdtrt_cert_no": person["certno"],
                              "med_type": "21", "ipt_no": visit_no, "begntime": "2026-12-01 08:00:00",
                              "atddr_no": dr, "chfpdr_name": "王医生", "adm_diag_dscr": "肺炎",
                              "adm_dept_codg": "A03", "adm_dept_name": "内科", "adm_bed": "1",
                              "dscg_maindiag_code": "J18.900", "dscg_maindiag_name": "肺炎"},
                "diseinfo": [{"psn_no": person["psn_no"], "diag_type": "1", "maindiag_flag": "1",
                              "diag_srt_no": 1, "diag_code": "J18.900", "diag_name": "肺炎",
                              "diag_dept": "内科", "dise_dor_no": dr, "dise_dor_name": "王医生",
                              "diag_time": "2026-12-01 08:00:00"}],
            })  # fmt: skip
            assert out is not None, recorder.error_samples
            opened.append((out["result"]["mdtrt_id"], person["psn_no"]))
        engine = platform.db.engine
        visits = store.open_admission_visits(engine, [p["psn_no"] for p in persons])
        assert {v[0] for v in visits} == {m for m, _ in opened}
        closed, failed = await reset_admissions(session, visits)
    assert (closed, failed) == (2, 0), recorder.error_samples
    assert store.open_admission_visits(engine, [p["psn_no"] for p in persons]) == []
    with engine.connect() as conn:
        states = set(conn.execute(select(mdtrt.c.mdtrt_stas).where(
            mdtrt.c.mdtrt_id.in_([m for m, _ in opened]))).scalars())  # fmt: skip
    assert "admitted" not in states and "discharged" not in states


async def test_flows_are_counted_by_the_kind_played(platform: Platform) -> None:
    data_dir = platform.settings.data_dir
    load_demo(platform.db.engine, data_dir, persons=200)
    fixtures = load_fixtures(data_dir)
    app = create_app(platform.settings, platform=platform)
    recorder = Recorder()
    everyone_busy = Admissions({p["psn_no"] for p in fixtures.persons})
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        session = Session(HttpxConnection(client), fixtures, recorder, random.Random(5),
                          reversal_rate=0.0, admissions=everyone_busy)  # fmt: skip
        await session.inpatient()  # nobody free to admit: plays an outpatient visit
        await session.pharmacy()
    assert recorder.played == {"outpatient": 1, "pharmacy": 1}
