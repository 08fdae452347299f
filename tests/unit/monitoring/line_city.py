"""A tiny replica with settled fee lines, for the post-hoc rules over lines: settlements, their
`fee` payloads and persons go in through the replica's own bulk path (`ReplicaStore.
bulk_append`, the payload contract of `replica.rows`), so the detectors read the real
`fee_fact`, `setl_fact` and `psn_dim`."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import duckdb

from yibao.replica import batches, rows
from yibao.replica.store import ReplicaStore

BED, NURSING, ROUND, EXAM = "01", "07", "02", "03"
DRUG = "09"
_ids = itertools.count(1)


def line(
    when: datetime,
    kind: str,
    code: str | None = None,
    *,
    cnt: str = "1",
    amount: str = "10.00",
    days: int | None = None,
) -> dict[str, Any]:
    """A fee line (`fee_detail` columns the `fee` payload reads); the serial number is set
    when the settlement is added."""
    return {
        "fee_ocur_time": when,
        "med_list_codg": code or f"ITEM-{kind}",
        "list_type": "101" if kind == DRUG else "201",
        "med_chrgitm_type": kind,
        "cnt": Decimal(cnt),
        "det_item_fee_sumamt": Decimal(amount),
        "prd_days": Decimal(days) if days is not None else None,
    }


class LineCity:
    def __init__(self) -> None:
        self.store = ReplicaStore(":memory:")

    def ref(self, psn_no: str) -> str:
        return self.store.pseudonyms.ref(psn_no)

    @property
    def cur(self) -> duckdb.DuckDBPyConnection:
        return self.store.cursor()

    def person(self, psn_no: str, *, death: date | None = None) -> None:
        payload = {
            "psn_no": psn_no,
            "gend": "1",
            "birth_year": 1950,
            "death_date": death.isoformat() if death else None,
        }
        self.store.bulk_append(rows.PSN, batches.from_payloads(rows.PSN, [payload]))

    def settle(
        self,
        psn_no: str,
        lines: Sequence[dict[str, Any]],
        *,
        begin: datetime,
        end: datetime | None = None,
        med_type: str = "11",
        inst: str = "H1",
        visit: str | None = None,
    ) -> tuple[str, str]:
        """A settlement of these lines at `end` (a stay from `begin` to `end`; an outpatient
        visit at `begin`), of the visit `visit` (another settlement of it: an interim one)
        or a new one; returns (setl_id, mdtrt_id)."""
        n = next(_ids)
        setl_id, mdtrt_id = f"S{n:06d}", visit or f"M{n:06d}"
        at = end or begin
        setl = {
            "setl_id": setl_id,
            "mdtrt_id": mdtrt_id,
            "psn_no": psn_no,
            "fixmedins_code": inst,
            "med_type": med_type,
            "refd_setl_flag": "0",
            "vali_flag": "1",
            "setl_time": at.strftime("%Y-%m-%d %H:%M:%S"),
            "setl_date": at.date().isoformat(),
            "begndate": begin.strftime("%Y-%m-%d %H:%M:%S"),
            "enddate": end.strftime("%Y-%m-%d %H:%M:%S") if end else None,
            "ipt_days": (end.date() - begin.date()).days if end else None,
            "fee_line_cnt": len(lines),
            **{name: 0 for name in rows.SETL_AMOUNTS},
            "medfee_sumamt": 10000,
            "fund_pay_sumamt": 6000,
        }
        self.store.bulk_append(rows.SETL, batches.from_payloads(rows.SETL, [setl]))
        numbered = [{**ln, "feedetl_sn": f"{i:03d}"} for i, ln in enumerate(lines, start=1)]
        fee = rows.fee_payload(
            setl_id=setl_id,
            setl_time=at,
            psn_no=psn_no,
            visit={"mdtrt_id": mdtrt_id, "fixmedins_code": inst},
            med_type=med_type,
            lines=numbered,
        )
        self.store.bulk_append(rows.FEE, batches.from_payloads(rows.FEE, [fee]))
        return setl_id, mdtrt_id

    def stay(
        self,
        psn_no: str,
        admitted: date,
        days: int,
        *,
        bed_only_last: int = 0,
        extra: Sequence[dict[str, Any]] = (),
    ) -> tuple[str, str]:
        """A stay of `days` days (discharged on admitted + days at 10:00): bed, nursing, the
        ward round and a drug every day, the last `bed_only_last` days bed and nursing only."""
        lines: list[dict[str, Any]] = []
        for d in range(days):
            at = datetime.combine(admitted + timedelta(days=d), time(8))
            lines += [line(at, BED, "BED"), line(at, NURSING, "NURSE")]
            if d < days - bed_only_last:
                lines += [line(at, ROUND, "ROUND"), line(at, DRUG, "WARD-DRUG", days=1)]
        begin = datetime.combine(admitted, time(9))
        end = datetime.combine(admitted + timedelta(days=days), time(10))
        return self.settle(psn_no, [*lines, *extra], begin=begin, end=end, med_type="21")
