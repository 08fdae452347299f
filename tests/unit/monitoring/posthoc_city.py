"""A tiny columnar replica for the post-hoc detectors: `setl_fact` and `fixmedins_dim` with the
columns the detectors read, filled row by row by the tests."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa

from yibao.replica.schema import FEE_ENTITY, PSN_ENTITY

_ids = itertools.count(1)


class City:
    def __init__(self) -> None:
        self._con = duckdb.connect()
        self._pending: list[list[object]] = []
        self._con.execute(
            """CREATE TABLE setl_fact (
                 setl_id VARCHAR, mdtrt_id VARCHAR, psn_ref VARCHAR, fixmedins_code VARCHAR,
                 visit_kind VARCHAR, med_type VARCHAR, vali_flag VARCHAR, refd_setl_flag VARCHAR,
                 setl_date DATE, setl_time TIMESTAMP, begndate TIMESTAMP, enddate TIMESTAMP,
                 ipt_days INTEGER, maindiag_code VARCHAR,
                 medfee_sumamt DECIMAL(16,2), fund_pay_sumamt DECIMAL(16,2),
                 drug_sumamt DECIMAL(16,2), exam_sumamt DECIMAL(16,2), mcs_sumamt DECIMAL(16,2),
                 dept_code VARCHAR, caty VARCHAR, dr_code VARCHAR)"""
        )
        self._con.execute(
            "CREATE TABLE fixmedins_dim (fixmedins_code VARCHAR, kind VARCHAR, hosp_lv VARCHAR)"
        )
        # the replica's persons and fee lines, empty: a whole run reads them too
        self._con.execute(PSN_ENTITY.ddl())
        self._con.execute(FEE_ENTITY.ddl())

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The replica, with every row added so far (inserted in one batch: DuckDB is slow at
        single-row inserts)."""
        if self._pending:
            rows, self._pending = self._pending, []
            names = [
                "setl_id", "mdtrt_id", "psn_ref", "fixmedins_code", "visit_kind", "med_type",
                "vali_flag", "setl_date", "setl_time", "begndate", "enddate", "ipt_days",
                "maindiag_code", "medfee_sumamt", "fund_pay_sumamt", "drug_sumamt",
                "exam_sumamt", "mcs_sumamt", "dept_code", "caty", "dr_code",
            ]  # fmt: skip
            batch = pa.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
            self._con.register("batch", batch)
            self._con.execute(
                f"INSERT INTO setl_fact ({', '.join(names)}, refd_setl_flag) "
                f"SELECT {', '.join(names)}, '0' FROM batch"
            )
            self._con.unregister("batch")
        return self._con

    def institution(self, code: str, kind: str = "clinic", hosp_lv: str = "1") -> str:
        self._con.execute("INSERT INTO fixmedins_dim VALUES (?, ?, ?)", [code, kind, hosp_lv])
        return code

    def visit(
        self,
        psn: str,
        inst: str,
        when: datetime,
        *,
        kind: str = "outpatient",
        medfee: str = "100.00",
        fund: str = "60.00",
        drug: str = "40.00",
        exam: str = "20.00",
        mcs: str = "5.00",
        valid: bool = True,
        diag: str = "J06.900",
        caty: str | None = None,
        dr: str | None = None,
    ) -> str:
        n = next(_ids)
        setl_id = f"S{n:08d}"
        self._pending.append(
            [setl_id, f"M{n:08d}", psn, inst, kind, "11", "1" if valid else "0", when.date(),
             when, when, when, 0, diag, Decimal(medfee), Decimal(fund), Decimal(drug),
             Decimal(exam), Decimal(mcs), caty, caty, dr]
        )  # fmt: skip
        return setl_id

    def stay(
        self,
        psn: str,
        inst: str,
        admitted: date,
        days: int,
        *,
        diag: str = "J18.900",
        medfee: str = "8000.00",
        fund: str = "6000.00",
    ) -> str:
        n = next(_ids)
        setl_id = f"S{n:08d}"
        begin = datetime.combine(admitted, datetime.min.time()).replace(hour=9)
        end = begin + timedelta(days=days)
        self._pending.append(
            [setl_id, f"M{n:08d}", psn, inst, "inpatient", "21", "1", end.date(), end, begin,
             end, days, diag, Decimal(medfee), Decimal(fund), Decimal("3000"), Decimal("1000"),
             Decimal("500"), None, None, None]
        )  # fmt: skip
        return setl_id
