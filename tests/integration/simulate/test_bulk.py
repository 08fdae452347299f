"""Bulk load of a small city into a migrated SQLite store: every split identity holds, the
accumulators equal the sum of the settlements' deltas, balances follow the account payments,
and the replica hears of every settlement."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Engine, func, select

from yibao.simulate.bulk import bulk_load
from yibao.simulate.model import CityParams, Label
from yibao.simulate.people import PersonFactory
from yibao.storage.engine import make_engine
from yibao.storage.tables import change_log, fee_detail, psn_accum, psn_insu, setl, setl_fund

ZERO = Decimal("0.00")
PARAMS = CityParams(seed=77, persons=240, institutions=20, days=365, settlements=1500,
                    reversal_rate=0.05)  # fmt: skip


def test_bulk_load_keeps_every_identity(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        _check(engine)
    finally:
        engine.dispose()


def _check(engine: Engine) -> None:
    labels: list[Label] = []
    report = bulk_load(engine, PARAMS, workers=2, labels_out=labels)
    assert report.refused == 0, report.refusals
    assert report.settlements > 800 and report.reversals > 0
    assert labels
    with engine.connect() as conn:
        setls = [dict(r) for r in conn.execute(select(setl)).mappings()]
        funds = defaultdict(lambda: ZERO)
        for r in conn.execute(select(setl_fund)).mappings():
            if r["fund_pay_type"] != "310200":
                funds[r["setl_id"]] += r["fund_payamt"]
        lines = defaultdict(lambda: ZERO)
        for r in conn.execute(select(fee_detail)).mappings():
            assert r["det_item_fee_sumamt"] == (
                r["fulamt_ownpay_amt"] + r["overlmt_amt"] + r["preselfpay_amt"] + r["inscp_scp_amt"]
            )
            lines[r["mdtrt_id"]] += r["det_item_fee_sumamt"]
        accum = {(r.psn_no, r.year, r.acc_key): r.amount for r in conn.execute(select(psn_accum))}
        balances = {r.psn_no: r.balc for r in conn.execute(select(psn_insu))}
        logged = {
            r.entity_key
            for r in conn.execute(
                select(change_log.c.entity_key).where(change_log.c.entity == "setl")
            )
        }
        n_setl = conn.execute(select(func.count()).select_from(setl)).scalar_one()
    assert len(setls) == n_setl == report.settlements + report.reversals
    delta: dict[tuple[str, int, str], Decimal] = defaultdict(lambda: ZERO)
    paid: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for s in setls:
        assert s["medfee_sumamt"] == (
            s["fulamt_ownpay_amt"] + s["overlmt_selfpay"] + s["preselfpay_amt"] + s["inscp_scp_amt"]
        )
        assert s["medfee_sumamt"] == s["fund_pay_sumamt"] + s["psn_part_amt"] + s["hosp_part_amt"]
        assert s["psn_part_amt"] == s["acct_pay"] + s["psn_cash_pay"]
        assert s["fund_pay_sumamt"] == (
            s["hifp_pay"] + s["cvlserv_pay"] + s["hifes_pay"] + s["hifmi_pay"] + s["hifob_pay"]
            + s["maf_pay"] + s["oth_pay"] + s["hifdm_pay"]
        )  # fmt: skip
        assert funds[s["setl_id"]] == s["fund_pay_sumamt"]
        if s["refd_setl_flag"] == "0":
            assert s["medfee_sumamt"] == lines[s["mdtrt_id"]]
        assert s["setl_id"] in logged
        for key, value in json.loads(s["extra"])["acc"].items():
            delta[(s["psn_no"], s["year"], f"{s['insutype']}:{key}")] += Decimal(value)
        paid[s["psn_no"]] += s["acct_pay"]
    # accumulators = the sum of the settlement deltas (reversals included)
    assert {k: v for k, v in delta.items() if v} == {k: v for k, v in accum.items() if v}
    # balance = opening balance − net account payments
    factory = PersonFactory(PARAMS)
    for i in range(PARAMS.persons):
        p = factory.make(i)
        assert balances[p.psn_no] == p.balc - paid[p.psn_no]
        assert balances[p.psn_no] >= 0
    # the originals of reversals are marked invalid and net to zero with their reversal
    by_id = {s["setl_id"]: s for s in setls}
    for s in setls:
        if s["refd_setl_flag"] == "1":
            original = by_id[s["init_setl_id"]]
            assert original["vali_flag"] == "0"
            assert original["medfee_sumamt"] + s["medfee_sumamt"] == 0
