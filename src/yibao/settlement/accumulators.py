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

from sqlalchemy import Connection

from yibao.settlement import repo


def _prefix(insutype: str) -> str:
    return f"{insutype}:"


def read(conn: Connection, psn_no: str, insutype: str, year: int) -> dict[str, Decimal]:
    prefix = _prefix(insutype)
    rows = repo.accumulators_of_year(conn, psn_no, year)
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
    """Add `delta` to the stored totals (one upsert for the keys; a zero delta writes
    nothing)."""
    prefix = _prefix(insutype)
    deltas = []
    for key, value in delta.items():
        if not value:
            continue
        acc_key = prefix + key
        if len(acc_key) > 40:
            raise ValueError(f"accumulator key too long: {acc_key}")
        deltas.append((acc_key, value))
    repo.add_to_accumulators(conn, psn_no, year, deltas, at)
