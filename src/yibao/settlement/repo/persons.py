"""Insured persons as a settlement reads them: the person, their insurances (the row lock that
serialises settlements of one person), identities, the family member whose account may share
(家庭共济), the 就诊凭证 lookups of 1101, and the personal-account balance a settlement moves.

The person, insurance and identity rows are read once per flow on SQLite: the writer's
connection carries a cache of them (`storage.row_cache`), which `set_balance` keeps true.
Callers get their own copy of a cached row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from yibao.errors import InvalidInput, NotFound
from yibao.settlement.repo.accumulators import accumulators_read
from yibao.settlement.repo.rows import Row
from yibao.storage import row_cache
from yibao.storage.prepared import Prepared
from yibao.storage.tables import psn, psn_idet, psn_insu

# Statements of the hot path are built once and executed at the driver level
# (`storage.prepared`): building a Core statement per call costs several times its execution.
_P_PERSON = Prepared(select(psn).where(psn.c.psn_no == bindparam("psn_no")))
_INSU = select(psn_insu).where(
    psn_insu.c.psn_no == bindparam("psn_no"), psn_insu.c.insutype == bindparam("insutype")
)
_P_INSU = Prepared(_INSU)
_P_INSU_LOCKED = Prepared(_INSU.with_for_update())
_P_INSURANCES = Prepared(
    select(psn_insu).where(psn_insu.c.psn_no == bindparam("psn_no")).order_by(psn_insu.c.insutype)
)
_P_IDENTITIES = Prepared(
    select(psn_idet).where(psn_idet.c.psn_no == bindparam("psn_no")).order_by(psn_idet.c.begntime)
)
_P_FAMILY = Prepared(
    select(psn_insu)
    .join(psn, psn.c.psn_no == psn_insu.c.psn_no)
    .where(
        psn.c.family_id == bindparam("family_id"),
        psn.c.psn_no != bindparam("psn_no"),
        psn_insu.c.insutype == bindparam("insutype"),
        psn_insu.c.psn_insu_stas == "1",
        psn_insu.c.balc > 0,
    )
    .order_by(psn_insu.c.balc.desc(), psn_insu.c.psn_no)
    .limit(1)
)
_P_SET_BALANCE = Prepared(
    update(psn_insu)
    .where(
        psn_insu.c.psn_no == bindparam("b_psn_no"), psn_insu.c.insutype == bindparam("b_insutype")
    )
    .values(balc=bindparam("b_balc", type_=psn_insu.c.balc.type), updated_at=bindparam("b_at"))
)
#: 1101's lookups by 就诊凭证: 01 e-voucher token, 02 ID number, 03 social-security card
_P_BY_EC_TOKEN = Prepared(select(psn).where(psn.c.ec_token == bindparam("cert_no")).limit(2))
_P_BY_CERTNO = Prepared(select(psn).where(psn.c.certno == bindparam("cert_no")).limit(2))
_P_BY_CARD = Prepared(select(psn).where(psn.c.card_no == bindparam("cert_no")).limit(2))


def person(conn: Connection, psn_no: str, *, node: str = "data") -> Row:
    key, statement, params, _many = person_read(psn_no)
    row = row_cache.row(conn, key, lambda: statement.first(conn, params))
    if row is None:
        raise NotFound(f"{node}.psn_no: 人员编号不存在 '{psn_no}' (no such insured person)")
    return row


def insurance(
    conn: Connection,
    psn_no: str,
    insutype: str,
    *,
    node: str = "data",
    lock: bool = False,
) -> Row:
    """The person's insurance of `insutype`; `lock` takes the person's row lock (MySQL
    `SELECT … FOR UPDATE`; SQLite has one writer) to serialise settlements of one person."""
    params = {"psn_no": psn_no, "insutype": insutype}
    cache = row_cache.of(conn)
    if cache is None:
        row = (_P_INSU_LOCKED if lock else _P_INSU).first(conn, params)
    elif lock and conn.dialect.name != "sqlite":
        # a MySQL transaction's cache: the row as read under its lock in this transaction
        # (`prefetch_party` may have read it with the person's other rows)
        row = row_cache.row(
            conn, locked_key(psn_no, insutype), lambda: _P_INSU_LOCKED.first(conn, params)
        )
    else:  # SQLite's writer (one writer, no row lock to take), or an unlocked read
        kept = cache

        def load() -> dict[str, Any] | None:
            listed: list[Row] | None = kept.get(("insus", psn_no))  # a 1101 read them all
            if listed is None:
                return _P_INSU.first(conn, params)
            return next((dict(r) for r in listed if r["insutype"] == insutype), None)

        row = row_cache.row(conn, ("insu", psn_no, insutype), load)
    if row is None:
        raise InvalidInput(
            f"{node}.insutype: 人员 {psn_no} 未参加险种 {insutype} "
            f"(the person has no insurance of type {insutype})"
        )
    return row


def locked_key(psn_no: str, insutype: str) -> tuple[str, str, str]:
    return ("insu_locked", psn_no, insutype)


def prefetch_party(
    conn: Connection,
    psn_no: str,
    insutype: str,
    *,
    lock: bool,
    year: int,
    first: Sequence[row_cache.Read] = (),
) -> None:
    """(MySQL protocol, inside a transaction's row cache) Read what a settlement reads of the
    person — the person, the insurance (under its row lock when `lock`, in the order the
    settlement takes it), the identities, the year's totals — in one request, after the
    reads `first` (the visit's row, say) (`storage.row_cache.prefetch`); the readers below
    then find them kept. Elsewhere nothing."""
    if not row_cache.prefetching(conn):
        return  # SQLite's writer among others: nothing to build
    row_cache.prefetch(
        conn,
        [
            *first,
            person_read(psn_no),
            insurance_read(psn_no, insutype, lock=lock),
            identities_read(psn_no),
            accumulators_read(psn_no, year),
        ],
    )


# The reads of a person's rows as reads of the row cache (`storage.row_cache.prefetch`): the
# key each reader below keeps its rows under, its statement and parameters.


def person_read(psn_no: str) -> row_cache.Read:
    return (("psn", psn_no), _P_PERSON, {"psn_no": psn_no}, False)


def insurance_read(psn_no: str, insutype: str, *, lock: bool) -> row_cache.Read:
    key = locked_key(psn_no, insutype) if lock else ("insu", psn_no, insutype)
    statement = _P_INSU_LOCKED if lock else _P_INSU
    return (key, statement, {"psn_no": psn_no, "insutype": insutype}, False)


def identities_read(psn_no: str) -> row_cache.Read:
    return (("idet", psn_no), _P_IDENTITIES, {"psn_no": psn_no}, True)


def insurances(conn: Connection, psn_no: str) -> list[Row]:
    return row_cache.rows(  # type: ignore[return-value]
        conn, ("insus", psn_no), lambda: _P_INSURANCES.all(conn, {"psn_no": psn_no})
    )


def identities(conn: Connection, psn_no: str) -> list[Row]:
    key, statement, params, _many = identities_read(psn_no)
    return row_cache.rows(  # type: ignore[return-value]
        conn, key, lambda: statement.all(conn, params)
    )


def prefetch(conn: Connection, reads: Sequence[row_cache.Read]) -> None:
    """Several of the reads above (and `visit_read`, `accumulators_read`) in one request where
    the transaction carries a row cache on the MySQL protocol (`storage.row_cache.prefetch`);
    elsewhere nothing."""
    row_cache.prefetch(conn, reads)


def family_sharer(conn: Connection, family_id: str, psn_no: str, insutype: str) -> Row | None:
    """The active family member (not `psn_no`) with the largest balance of `insutype`."""
    return _P_FAMILY.first(conn, {"family_id": family_id, "psn_no": psn_no, "insutype": insutype})


def set_balance(conn: Connection, psn_no: str, insutype: str, balc: Decimal, at: datetime) -> None:
    """The account's new balance, computed under the row's lock (`insurance(lock=True)`): on
    the MySQL protocol the UPDATE goes with the transaction's next round trip."""
    _P_SET_BALANCE.later(
        conn, [{"b_psn_no": psn_no, "b_insutype": insutype, "b_balc": balc, "b_at": at}]
    )
    cache = row_cache.of(conn)
    if cache is not None:
        cache.forget(("insu", psn_no, insutype))
        cache.forget(("insu_locked", psn_no, insutype))
        cache.forget(("insus", psn_no))


def persons_by_ec_token(conn: Connection, cert_no: str) -> list[Row]:
    return _found(conn, _P_BY_EC_TOKEN.all(conn, {"cert_no": cert_no}))


def persons_by_certno(conn: Connection, cert_no: str) -> list[Row]:
    return _found(conn, _P_BY_CERTNO.all(conn, {"cert_no": cert_no}))


def persons_by_card(conn: Connection, cert_no: str) -> list[Row]:
    return _found(conn, _P_BY_CARD.all(conn, {"cert_no": cert_no}))


def _found(conn: Connection, rows: list[dict[str, Any]]) -> list[Row]:
    """The persons a 就诊凭证 named (1101), kept for the calls of the flow that follow."""
    cache = row_cache.of(conn)
    if cache is not None:
        for row in rows:
            cache.put(("psn", row["psn_no"]), dict(row))
    return rows  # type: ignore[return-value]


__all__ = [
    "family_sharer",
    "identities",
    "insurance",
    "insurances",
    "person",
    "persons_by_card",
    "persons_by_certno",
    "persons_by_ec_token",
    "set_balance",
]
