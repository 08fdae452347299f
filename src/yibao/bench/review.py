"""`review`: the time real-time review adds to a settlement call, in process (no server).

A fresh SQLite store in a temporary directory gets the demo catalog, the demo knowledge base,
one institution and one person with a year of history (two outpatient visits a week of five
lines each, an admission a quarter); then a 20-line bill of that person is reviewed `runs`
times as a pharmacy's one-call settlement would (every rule: the history read, the knowledge
base from its cache, the catalog terms from theirs, the rules). The figure is the review's own
time per call (p50/p99), which is what review on adds to review off, in wall-clock time and in
the thread's CPU time.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert

from yibao.bench.stats import summary_ms
from yibao.catalog.cache import CatalogCache
from yibao.catalog.demo import load_demo_catalog
from yibao.kit.ids import IdGenerator
from yibao.review import service as review
from yibao.review.demo_kb import load_demo_kb
from yibao.review.service import Reviewer
from yibao.risk import Institution, Person, load_ruleset
from yibao.storage.engine import make_engine
from yibao.storage.migrate import upgrade
from yibao.storage.tables import fee_detail, fixmedins, mdtrt, psn

HOSP = "H11010200001"
PSN = "BENCH0000000001"
#: the demo catalog's items the bill and the history use (drugs, tests, consultations)
CODES = (
    "110200001000000",
    "250101015000000",
    "250102001000000",
    "250301001000000",
    "250302001000000",
    "250302003000000",
    "250303001000000",
    "210102001000000",
    "310701001000000",
    "120400001000000",
    "XJ01CAA040E001010100001",
    "XJ01DDC104A001010100002",
    "XM01AEB060E002010100003",
    "C0101010100100000001",
    "C0101010200100000005",
    "250305011000000",
    "250304012000000",
    "250306011000000",
    "120400006000000",
    "120900001000000",
)


def seed_year(conn: Connection, today: date, ids: IdGenerator) -> int:
    """One institution and one person with a year of visits and lines up to `today`;
    returns the visits written."""
    now = datetime.combine(today, datetime.min.time())
    conn.execute(
        insert(fixmedins).values(
            fixmedins_code=HOSP,
            fixmedins_name="基准医院",
            kind="hospital",
            hosp_lv="3",
            admdvs="110102",
            vali_flag="1",
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(
        insert(psn).values(
            psn_no=PSN,
            psn_cert_type="01",
            certno="110101199003074514",
            psn_name="基准",
            gend="1",
            naty="01",
            brdy=date(1960, 3, 7),
            created_at=now,
            updated_at=now,
        )
    )
    visits: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    day = today - timedelta(days=365)
    n = 0
    while day < today:
        for offset, kind in ((0, "outpatient"), (3, "outpatient")):
            begn = datetime.combine(day + timedelta(days=offset), datetime.min.time()).replace(
                hour=9
            )
            if begn.date() >= today:
                continue
            mid = ids.next_str()
            inpatient = n % 26 == 25
            visits.append(
                {
                    "mdtrt_id": mid,
                    "fixmedins_code": HOSP,
                    "psn_no": PSN,
                    "insutype": "310",
                    "med_type": "21" if inpatient else "11",
                    "mdtrt_kind": "inpatient" if inpatient else kind,
                    "mdtrt_cert_type": "02",
                    "begntime": begn,
                    "endtime": begn + timedelta(days=5) if inpatient else None,
                    "mdtrt_stas": "settled",
                    "vali_flag": "1",
                    "created_at": begn,
                    "updated_at": begn,
                }
            )
            for j in range(5):
                code = CODES[(n + j) % len(CODES)]
                lines.append(
                    {
                        "mdtrt_id": mid,
                        "feedetl_sn": str(j + 1),
                        "psn_no": PSN,
                        "fixmedins_code": HOSP,
                        "fee_ocur_time": begn,
                        "med_list_codg": code,
                        "det_item_fee_sumamt": Decimal("10.00"),
                        "cnt": Decimal(2),
                        "pric": Decimal(5),
                        "fulamt_ownpay_amt": Decimal(0),
                        "overlmt_amt": Decimal(0),
                        "preselfpay_amt": Decimal(0),
                        "inscp_scp_amt": Decimal("10.00"),
                        "prd_days": Decimal(3) if code.startswith("X") else None,
                        "vali_flag": "1",
                        "created_at": begn,
                    }
                )
            n += 1
        day += timedelta(days=7)
    conn.execute(insert(mdtrt), visits)
    conn.execute(insert(fee_detail), lines)
    return len(visits)


def measure(directory: Path, *, runs: int = 2000) -> dict[str, Any]:
    """p50/p99 of the review of a 20-line bill with a year of history; `runs` reviews."""
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="review-bench-", dir=directory))
    engine = make_engine(f"sqlite:///{work / 'bench.db'}")
    try:
        upgrade(engine)
        today = date.today()
        ids = IdGenerator(7)
        with engine.begin() as conn:
            load_demo_catalog(conn)
            load_demo_kb(conn, ids=ids, now=datetime.now())
            visits = seed_year(conn, today, ids)
        reviewer = Reviewer(load_ruleset(), kb_check_seconds=5.0)
        catalog = CatalogCache()
        begn = datetime.combine(today, datetime.min.time()).replace(hour=10)
        institution = Institution(HOSP, "3", "110102")
        person = Person(PSN, "1", 66)
        latencies: list[float] = []
        cpu: list[float] = []
        hits = 0
        with engine.connect() as conn:
            items = catalog.terms_at(conn, CODES, today)
            for i in range(runs + 50):
                start = time.perf_counter()
                cpu_start = time.thread_time()
                terms = catalog.terms_at(conn, CODES, today)
                bill = review.bill_of(
                    mdtrt_id="BENCH-NEW",
                    scene="outpatient",
                    med_type="11",
                    begntime=begn,
                    diag_codes=["I10.x00"],
                    person=person,
                    institution=institution,
                    lines=[
                        review.line_of(
                            line_id=str(k),
                            code=code,
                            cnt=Decimal(1),
                            pric=Decimal(8),
                            amount=Decimal(8),
                            when=begn,
                            item=terms.get(code),
                            prd_days=Decimal(3) if code.startswith("X") else None,
                        )
                        for k, code in enumerate(CODES, start=1)
                    ],
                )
                found = reviewer.review(conn, "mid", bill, part="all")
                elapsed = time.perf_counter() - start
                used = time.thread_time() - cpu_start
                if i >= 50:  # the first calls fill the caches
                    latencies.append(elapsed)
                    cpu.append(used)
                    hits = len(found)
                if i % 500 == 0:
                    gc.collect()
            conn.rollback()
        return {
            "scenario": "review",
            "runs": runs,
            "bill_lines": len(CODES),
            "history_visits": visits,
            "catalog_items": len(items),
            "rules": len(reviewer.ruleset.rules),
            "hits_per_review": hits,
            "review_ms": summary_ms(latencies),
            # this thread's CPU time per review: what the review costs when it need not wait
            # for a core (on a shared, loaded machine the wall-clock tail is mostly waiting)
            "review_cpu_ms": summary_ms(cpu),
            "load_avg_1m": os.getloadavg()[0],
        }
    finally:
        engine.dispose()
        shutil.rmtree(work, ignore_errors=True)
