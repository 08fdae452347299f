"""Seeding helper for the browser tests: writes straight into a data directory's row store
(with the change-log rows the replica tails), as the writers of the platform do."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from yibao.kit.clock import local_naive_now
from yibao.storage.engine import make_engine

sys.path.insert(0, str(Path(__file__).parents[1] / "integration" / "replica"))
import factories

ADMIN_PASSWORD = "e2e-Sys-pass-1"
#: a reviewer (稽核: reads settlements), created with `yibao users add`
REVIEWER = "e2e-reviewer"
REVIEWER_PASSWORD = "Rev-pass-2026-x"
INSTITUTION = "H11010100001"


def seed_data_dir(data_dir: Path) -> str:
    """Two institutions, a person and two settlements (one today);
    returns the person's psn_no."""
    engine = make_engine(f"sqlite:///{data_dir / 'yibao.db'}")
    now = local_naive_now()
    try:
        with engine.begin() as conn:
            factories.institution(conn, INSTITUTION, name="北京示例三级医院", hosp_lv="3")
            factories.institution(
                conn, "H11010200002", name="朝阳社区卫生服务中心", hosp_lv="1", admdvs="110105"
            )
            person = factories.person(conn)
            factories.settlement(
                conn,
                fixmedins_code=INSTITUTION,
                psn_no=person["psn_no"],
                medfee=Decimal("356.80"),
                setl_time=now - timedelta(minutes=5),
            )
            factories.settlement(
                conn,
                fixmedins_code="H11010200002",
                psn_no=person["psn_no"],
                hosp_lv="1",
                admdvs="110105",
                medfee=Decimal("12800.00"),
                med_type="21",
                days=4,
                setl_time=now - timedelta(days=1) if now.day > 1 else now,
            )
    finally:
        engine.dispose()
    return str(person["psn_no"])


def settle_now(db_url: str, psn_no: str, medfee: Decimal) -> str:
    """A settlement committed now (from this process, as another writer would)."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            row = factories.settlement(
                conn,
                fixmedins_code=INSTITUTION,
                psn_no=psn_no,
                medfee=medfee,
                setl_time=local_naive_now(),
            )
    finally:
        engine.dispose()
    return str(row["setl_id"])


#: the `yibao` command of this interpreter's environment
YIBAO = Path(sys.executable).parent / "yibao"


@dataclass
class Server:
    """A running `yibao serve` process of a test (see conftest's `server` fixture)."""

    url: str
    data_dir: Path
    env: dict[str, str]
    db_url: str
    psn_no: str
