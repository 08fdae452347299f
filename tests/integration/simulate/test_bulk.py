"""Bulk load of a small city into a migrated SQLite store: every split identity holds, the
accumulators equal the sum of the settlements' deltas, balances follow the account payments,
and the replica gets every settlement straight from the loader (`replica verify` holds; the
log is left with one reserved hole, which any replica that missed the load rebuilds over)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from yibao.config import Settings
from yibao.errors import ConfigError
from yibao.kit.money import round_fen
from yibao.replica import rebuild
from yibao.replica.lock import OwnerLock
from yibao.replica.service import Replica
from yibao.replica.store import ReplicaStore
from yibao.replica.verify import VerifyReport, verify
from yibao.simulate import bulk
from yibao.simulate.bulk import bulk_load
from yibao.simulate.clinical import BUILTIN_ITEMS, NON_DRUG_GOODS, OUT_OF_CATALOG
from yibao.simulate.model import CityParams, Label
from yibao.simulate.people import PersonFactory
from yibao.simulate.replica_load import replica_for_load
from yibao.storage import changelog
from yibao.storage.engine import make_engine
from yibao.storage.tables import change_log, fee_detail, psn_accum, psn_insu, setl, setl_fund

ZERO = Decimal("0.00")
PARAMS = CityParams(seed=77, persons=240, institutions=20, days=365, settlements=1500,
                    reversal_rate=0.05)  # fmt: skip


#: the catalog's items and those a bill may carry from outside it (out_of_catalog)
ITEMS_BY_CODE = {i.code: i for i in (*BUILTIN_ITEMS, *OUT_OF_CATALOG, *NON_DRUG_GOODS)}
SMALL = CityParams(seed=5, persons=60, institutions=12, days=60, settlements=120)


def test_bulk_load_keeps_every_identity(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # several commits, so that the replica gets several slices, each spanning the year
    monkeypatch.setattr(bulk, "COMMIT_EVERY", 300)
    engine = make_engine(settings.db_url)
    try:
        with replica_for_load(settings) as replica:
            _check(engine, replica)
        # the server opens the same replica without a rebuild; verify holds through it
        replica_service = Replica.open(settings)
        try:
            assert replica_service.store.meta.source == "bulk"
            report = replica_service.applier.store.applied_seq
            checked = _verify(replica_service)
            assert checked.ok, [c.as_dict() for c in checked.checks if not c.ok]
            assert checked.seq == report
            # a change after the load follows the reserved seq without a gap
            with engine.begin() as conn:
                seq = changelog.append(
                    conn, "fixmedins", "H00000000001", {"fixmedins_code": "H00000000001",
                    "fixmedins_name": "后来的机构", "kind": "clinic", "hosp_lv": "9",
                    "admdvs": "110105", "vali_flag": "1"},
                )  # fmt: skip
            assert seq == report + 1
            assert replica_service.applier.catch_up() == seq
        finally:
            replica_service.close()
    finally:
        engine.dispose()


def _verify(replica: Replica) -> VerifyReport:
    return verify(replica.store, replica.source, lambda target: replica.applier.catch_up(target))


def test_a_replica_that_missed_the_load_rebuilds_from_the_tables(settings: Settings) -> None:
    engine = make_engine(settings.db_url)
    try:
        # an empty replica file exists before the load, and the load does not write it
        ReplicaStore(settings.replica_path).close()
        report = bulk_load(engine, SMALL, workers=1)
        assert report.settlements > 0
        assert rebuild.choose_source(engine) == "tables"
        replica = Replica.open(settings)
        try:
            assert replica.store.meta.source == "tables"
            assert replica.store.applied_seq == report.reserved_seq
            checked = _verify(replica)
            assert checked.ok, [c.as_dict() for c in checked.checks if not c.ok]
        finally:
            replica.close()
    finally:
        engine.dispose()


def test_a_load_starts_from_a_rebuilt_replica_when_the_old_one_cannot_follow(
    settings: Settings,
) -> None:
    engine = make_engine(settings.db_url)
    try:
        ReplicaStore(settings.replica_path).close()
        first = bulk_load(engine, SMALL, workers=1)  # no replica: it meets the hole later
        with replica_for_load(settings) as replica:
            assert replica.meta.source == "tables"
            assert replica.applied_seq == first.reserved_seq
    finally:
        engine.dispose()


def test_bulk_load_refuses_while_a_server_owns_the_replica(settings: Settings) -> None:
    lock = OwnerLock(settings.data_dir)
    assert lock.acquire()
    try:
        lock.publish("http://127.0.0.1:1")
        with (
            pytest.raises(ConfigError, match="stop it before a bulk load"),
            replica_for_load(settings),
        ):
            pass
    finally:
        lock.release()


def _check(engine: Engine, replica: ReplicaStore) -> None:
    labels: list[Label] = []
    report = bulk_load(engine, PARAMS, workers=2, labels_out=labels, replica=replica)
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
        setl_of_visit = {
            r.mdtrt_id: r for r in conn.execute(select(setl)).all() if r.refd_setl_flag == "0"
        }
        for r in conn.execute(select(fee_detail)).mappings():
            assert r["det_item_fee_sumamt"] == (
                r["fulamt_ownpay_amt"] + r["overlmt_amt"] + r["preselfpay_amt"] + r["inscp_scp_amt"]
            )
            # every column in its place (the loader builds these tuples by hand)
            item = ITEMS_BY_CODE[r["med_list_codg"]]
            # unknown to the catalog (a hospital's 目录外 item, a pharmacy's non-drug goods): the
            # region's rule, self-paid
            if item in OUT_OF_CATALOG or item in NON_DRUG_GOODS:
                assert r["hilist_name"] is None
                assert r["fulamt_ownpay_amt"] == r["det_item_fee_sumamt"]
                lines[r["mdtrt_id"]] += r["det_item_fee_sumamt"]
                continue
            assert (r["medins_list_codg"], r["hilist_name"]) == (item.code, item.name)
            assert (r["list_type"], r["med_chrgitm_type"]) == (
                item.list_type,
                item.med_chrgitm_type,
            )
            assert r["det_item_fee_sumamt"] == round_fen(r["cnt"] * r["pric"])
            assert r["pric_uplmt_amt"] == item.cap
            # the line's effective ratio: the item's, or wholly self-paid / class A
            assert r["selfpay_prop"] in (item.selfpay_prop, Decimal(1), Decimal(0))
            visit = setl_of_visit[r["mdtrt_id"]]
            assert (r["psn_no"], r["fixmedins_code"]) == (visit.psn_no, visit.fixmedins_code)
            assert r["setl_id"] == (visit.setl_id if visit.vali_flag == "1" else None)
            assert r["bilg_dept_codg"].startswith("D") and r["bilg_dept_name"][0] > "~"
            assert r["bilg_dr_codg"] != r["bilg_dr_name"] and r["bilg_dr_name"][0] > "~"
            assert isinstance(r["fee_ocur_time"], datetime) and isinstance(
                r["created_at"], datetime
            )
            assert len(r["flags"]) == 7 and r["vali_flag"] == "1"
            # approved (1) where the item is a 限制使用 one, no approval needed (0) elsewhere
            assert r["hosp_appr_flag"] == ("1" if item.diag_codes else "0")
            lines[r["mdtrt_id"]] += r["det_item_fee_sumamt"]
        accum = {(r.psn_no, r.year, r.acc_key): r.amount for r in conn.execute(select(psn_accum))}
        balances = {r.psn_no: r.balc for r in conn.execute(select(psn_insu))}
        assert conn.execute(select(func.count()).select_from(change_log)).scalar_one() == 0
        # the load writes with foreign keys off on a fresh store: every key must still hold
        assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        n_setl = conn.execute(select(func.count()).select_from(setl)).scalar_one()
    assert len(setls) == n_setl == report.settlements + report.reversals
    in_replica = {
        r[0] for r in replica.cursor().execute("SELECT setl_id FROM setl_fact").fetchall()
    }
    assert in_replica == {s["setl_id"] for s in setls}
    # the facts are stored in date order (the load clusters them once at the end)
    out_of_order = (
        replica.cursor()
        .execute(
            "SELECT count(*) FROM (SELECT setl_date, lag(setl_date) OVER (ORDER BY rowid) AS prev "
            "FROM setl_fact) WHERE prev > setl_date"
        )
        .fetchall()
    )
    assert out_of_order == [(0,)]
    assert replica.applied_seq == report.reserved_seq == 1
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
