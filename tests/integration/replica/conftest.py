"""Replica fixtures: settings on the `db_url` row store (SQLite, and MariaDB under the
`mysql` marker) with the DuckDB file in a temp data directory, a writing engine, and a
seeded city of two institutions, two persons and a handful of settlements."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from yibao.config import Settings, load_settings
from yibao.replica.service import Replica
from yibao.storage.engine import make_engine

sys.path.insert(0, str(Path(__file__).parent))
import factories

JUNE = datetime(2024, 6, 3, 9, 30)


@pytest.fixture
def rs_settings(db_url: str, tmp_path: Path) -> Settings:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return load_settings(data_dir=data, database_url=db_url, replica_poll_ms=50)


@pytest.fixture
def rs_engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(rs_engine: Engine) -> dict[str, object]:
    with rs_engine.begin() as conn:
        factories.institution(
            conn, "H11010100001", name="北京示例三级医院", hosp_lv="3", admdvs="110101"
        )
        factories.institution(
            conn, "H11010200002", name="示例社区卫生服务中心", hosp_lv="1", admdvs="110102"
        )
        employee = factories.person(conn, insutype="310", psn_type="1101")
        resident = factories.person(conn, insutype="390", psn_type="1501", gend="2")
        s1 = factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=employee["psn_no"],
            medfee=Decimal("123.45"),
            setl_time=JUNE,
        )
        factories.settlement(
            conn,
            fixmedins_code="H11010200002",
            psn_no=resident["psn_no"],
            medfee=Decimal("5000.00"),
            med_type="21",
            days=6,
            insutype="390",
            psn_type="1501",
            hosp_lv="1",
            admdvs="110102",
            maindiag_code="I10.x00",
            setl_time=datetime(2024, 6, 4, 11),
        )
        factories.settlement(
            conn,
            fixmedins_code="H11010100001",
            psn_no=resident["psn_no"],
            medfee=Decimal("88.80"),
            med_type="41",
            insutype="390",
            psn_type="1501",
            setl_time=datetime(2024, 5, 30, 16),
        )
        factories.reverse(conn, s1["setl_id"], at=datetime(2024, 6, 5, 8))
    return {"employee": employee, "resident": resident, "reversed": s1}


@pytest.fixture
def replica(rs_settings: Settings) -> Iterator[Replica]:
    r = Replica.open(rs_settings)
    yield r
    r.close()
