"""Settlements (`setl`) and their fund details (`setl_fund`), with the change-log rows that
carry them to the replica.

Tenant rule: a lookup by a business id an institution sends (setl_id, mdtrt_id, the msgid of
its own message) takes the institution's code and answers another institution's record
exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from yibao.errors import NotFound
from yibao.replica import rows as replica_rows
from yibao.settlement.repo.rows import Row, first
from yibao.storage import changelog
from yibao.storage.prepared import Prepared, PreparedInsert
from yibao.storage.tables import setl, setl_fund

_P_VALID_SETTLEMENTS = Prepared(
    select(setl).where(
        setl.c.mdtrt_id == bindparam("mdtrt_id"),
        setl.c.vali_flag == "1",
        setl.c.refd_setl_flag == "0",
    )
)
_P_SETTLEMENT = Prepared(select(setl).where(setl.c.setl_id == bindparam("setl_id")))
_P_INSERT_SETL = PreparedInsert(setl)
_P_INSERT_FUNDS = PreparedInsert(setl_fund)
_P_FUNDS = Prepared(
    select(setl_fund)
    .where(setl_fund.c.setl_id == bindparam("setl_id"))
    .order_by(setl_fund.c.fund_pay_type)
)


def valid_settlements(conn: Connection, mdtrt_id: str) -> list[Row]:
    """Valid ordinary settlements of a visit (not reversed, not reversal records)."""
    return _P_VALID_SETTLEMENTS.all(conn, {"mdtrt_id": mdtrt_id})  # type: ignore[return-value]


def settlement(conn: Connection, fixmedins_code: str, setl_id: str, *, node: str = "data") -> Row:
    """The institution's own settlement `setl_id`."""
    row = _P_SETTLEMENT.first(conn, {"setl_id": setl_id})
    if row is None or row["fixmedins_code"] != fixmedins_code:
        raise NotFound(
            f"{node}.setl_id: 结算记录不存在或不属于本机构 '{setl_id}' "
            "(no such settlement of this institution)"
        )
    return row


def settlement_by_id(conn: Connection, setl_id: str) -> Row | None:
    return _P_SETTLEMENT.first(conn, {"setl_id": setl_id})


def settlement_of_message(
    conn: Connection, fixmedins_code: str, msgid: str, *, refd_setl_flag: str
) -> Row | None:
    """The institution's settlement (`refd_setl_flag` "0") or reversal record ("1") that its
    message `msgid` wrote (2601)."""
    return first(
        conn.execute(
            select(setl).where(
                setl.c.medins_setl_id == msgid,
                setl.c.fixmedins_code == fixmedins_code,
                setl.c.refd_setl_flag == refd_setl_flag,
            )
        ).mappings()
    )


def latest_settlement(conn: Connection, fixmedins_code: str, mdtrt_id: str) -> Row | None:
    return first(
        conn.execute(
            select(setl)
            .where(setl.c.mdtrt_id == mdtrt_id, setl.c.fixmedins_code == fixmedins_code)
            .order_by(setl.c.setl_time.desc(), setl.c.created_at.desc())
            .limit(1)
        ).mappings()
    )


def funds(conn: Connection, setl_id: str) -> list[dict[str, Any]]:
    """The settlement's fund rows, by fund type."""
    return _P_FUNDS.all(conn, {"setl_id": setl_id})


def insert_settlement(
    conn: Connection, row: Mapping[str, Any], funds: Sequence[Mapping[str, Any]]
) -> None:
    """A new settlement and its fund rows (the hot path: driver-level statements; under a new
    id they travel with the transaction's next round trip on the MySQL protocol)."""
    _P_INSERT_SETL.later(conn, [row])
    _P_INSERT_FUNDS.later(conn, funds)


def insert_reversal(
    conn: Connection, row: Mapping[str, Any], funds: Sequence[Mapping[str, Any]]
) -> None:
    """A reversal record (or its negation, 2601 of a reversal) and its fund rows (new ids:
    with the transaction's next round trip on the MySQL protocol, as a settlement's)."""
    _P_INSERT_SETL.later(conn, [row])
    _P_INSERT_FUNDS.later(conn, funds)


def set_validity(conn: Connection, setl_id: str, vali_flag: str, at: datetime) -> None:
    conn.execute(
        update(setl).where(setl.c.setl_id == setl_id).values(vali_flag=vali_flag, updated_at=at)
    )


def settlements_changed(
    conn: Connection,
    rows: Sequence[Mapping[str, Any]],
    *,
    admdvs: str,
    gend: str | None,
    fees: Sequence[Mapping[str, Any]] = (),
    visit: Mapping[str, Any] | None = None,
    new: str | None = None,
) -> None:
    """Append the settlements' replica rows (`admdvs`: the settling institution's region,
    `visit`: their visit's row, for its department and doctor) and
    the `fee` payloads of the lines they settle or give back (`replica.rows.fee_payload`), in
    one append. `new`: the settlement this transaction created — its images are the key's
    first (`insert`), the others' later ones."""

    def op(setl_id: str) -> changelog.Op:
        return changelog.INSERT if setl_id == new else changelog.UPSERT

    changes: list[tuple[str, str, Mapping[str, Any], changelog.Op]] = [
        (
            replica_rows.SETL,
            r["setl_id"],
            replica_rows.setl_payload(r, admdvs=admdvs, gend=gend, visit=visit),
            op(r["setl_id"]),
        )
        for r in rows
    ]
    changes += [(replica_rows.FEE, f["setl_id"], f, op(f["setl_id"])) for f in fees]
    changelog.append_later(conn, changes)
