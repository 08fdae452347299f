"""Per-person annual accumulators (`psn_accum`): the year's stored totals and the upsert of a
settlement's delta.

The upsert is one statement on either store (SQLite `ON CONFLICT … DO UPDATE`, MySQL/TiDB
`ON DUPLICATE KEY UPDATE`) rather than an UPDATE and, for a key the year has not seen yet, an
INSERT. A person's year is read once per flow on SQLite (the writer's `storage.row_cache`: a
2206 and its 2207 read the same totals); every upsert drops it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.dialects import mysql, sqlite

from yibao.settlement.repo.rows import Row
from yibao.storage import row_cache
from yibao.storage.prepared import Prepared
from yibao.storage.tables import psn_accum

_P_READ = Prepared(
    select(psn_accum.c.acc_key, psn_accum.c.amount).where(
        psn_accum.c.psn_no == bindparam("psn_no"), psn_accum.c.year == bindparam("year")
    )
)
_ADDED = {
    "psn_no": bindparam("psn_no"),
    "year": bindparam("year"),
    "acc_key": bindparam("acc_key"),
    # bound through the column's Money type: added as integer fen
    "amount": bindparam("amount", type_=psn_accum.c.amount.type),
    "updated_at": bindparam("updated_at"),
}
_sqlite_add = sqlite.insert(psn_accum).values(_ADDED)
_mysql_add = mysql.insert(psn_accum).values(_ADDED)
_P_ADD = {
    "sqlite": Prepared(
        _sqlite_add.on_conflict_do_update(
            index_elements=[psn_accum.c.psn_no, psn_accum.c.year, psn_accum.c.acc_key],
            set_={
                "amount": psn_accum.c.amount + _sqlite_add.excluded.amount,
                "updated_at": _sqlite_add.excluded.updated_at,
            },
        )
    ),
    "mysql": Prepared(
        _mysql_add.on_duplicate_key_update(
            amount=psn_accum.c.amount + _mysql_add.inserted.amount,
            updated_at=_mysql_add.inserted.updated_at,
        )
    ),
}


def accumulators_of_year(conn: Connection, psn_no: str, year: int) -> list[Row]:
    """acc_key and amount of every stored total of the person's year."""
    key, statement, params, _many = accumulators_read(psn_no, year)
    return row_cache.rows(  # type: ignore[return-value]
        conn, key, lambda: statement.all(conn, params)
    )


def accumulators_read(psn_no: str, year: int) -> row_cache.Read:
    """The year's totals as a read of the row cache (`row_cache.prefetch`)."""
    return (("psn_accum", psn_no, year), _P_READ, {"psn_no": psn_no, "year": year}, True)


def add_to_accumulators(
    conn: Connection,
    psn_no: str,
    year: int,
    deltas: Sequence[tuple[str, Decimal]],
    at: datetime,
) -> None:
    """Add each (acc_key, delta) to its stored total, inserting a total the year has not seen
    yet (one upsert for them all; on the MySQL protocol it travels with the transaction's
    next round trip: `storage.deferred`)."""
    if not deltas:
        return
    dialect = conn.dialect.name
    _P_ADD["sqlite" if dialect == "sqlite" else "mysql"].later(
        conn,
        [
            {"psn_no": psn_no, "year": year, "acc_key": key, "amount": delta, "updated_at": at}
            for key, delta in deltas
        ],
    )
    row_cache.forget(conn, ("psn_accum", psn_no, year))
