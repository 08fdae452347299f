"""Per-person annual accumulators (psn_accum): read before a settlement, add its delta after.

Keys are the policy engine's (`yibao.policy.AccKey`), kept per insurance type: the stored
`acc_key` is ``<insutype>:<key>`` (e.g. ``310:otp.dedc_used``), because the calculator keeps
one map per person, insurance type and year. Callers hold the person's lock
(`repo.insurance(..., lock=True)`) so read → settle → add never interleaves for one person.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, insert, select, update

from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import psn_accum

_READ = select(psn_accum.c.acc_key, psn_accum.c.amount).where(
    psn_accum.c.psn_no == bindparam("psn_no"), psn_accum.c.year == bindparam("year")
)
_ADD = (
    update(psn_accum)
    .where(
        psn_accum.c.psn_no == bindparam("b_psn_no"),
        psn_accum.c.year == bindparam("b_year"),
        psn_accum.c.acc_key == bindparam("b_acc_key"),
    )
    .values(amount=psn_accum.c.amount + bindparam("b_delta", type_=psn_accum.c.amount.type))
    .values(updated_at=bindparam("b_at"))
)
_INSERT = insert(psn_accum)
_P_READ = Prepared(_READ)
_P_ADD = Prepared(_ADD)
_P_INSERT = PreparedInsert(psn_accum)


def _prefix(insutype: str) -> str:
    return f"{insutype}:"


def read(conn: Connection, psn_no: str, insutype: str, year: int) -> dict[str, Decimal]:
    prefix = _prefix(insutype)
    rows = _P_READ.all(conn, {"psn_no": psn_no, "year": year})
    return {
        r["acc_key"][len(prefix) :]: r["amount"] for r in rows if r["acc_key"].startswith(prefix)
    }


def add(
    conn: Connection,
    psn_no: str,
    insutype: str,
    year: int,
    delta: Mapping[str, Decimal],
    at: datetime,
) -> None:
    """Add `delta` to the stored totals (upsert per key; a zero delta writes nothing). The
    increment is bound through the column's Money type, i.e. added as integer fen."""
    prefix = _prefix(insutype)
    for key, value in delta.items():
        if not value:
            continue
        acc_key = prefix + key
        if len(acc_key) > 40:
            raise ValueError(f"accumulator key too long: {acc_key}")
        updated = _P_ADD.execute(
            conn,
            {
                "b_psn_no": psn_no,
                "b_year": year,
                "b_acc_key": acc_key,
                "b_delta": value,
                "b_at": at,
            },
        )
        if not updated:
            _P_INSERT.execute(
                conn,
                {
                    "psn_no": psn_no,
                    "year": year,
                    "acc_key": acc_key,
                    "amount": value,
                    "updated_at": at,
                },
            )
