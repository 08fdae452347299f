"""Pseudonymised analytic facts in the row store, for TiDB (issue 17; docs/tidb.md).

On TiDB the columnar replica is TiFlash, which replicates whole tables: a TiFlash replica of
`setl` would carry `psn_no` into the columnar engine. So the analytics read `an_setl`
instead — the settlement columns they need, the person as `psn_ref` (HMAC-SHA256 with the
platform key, `replica.pseudonym`) — and only `an_setl` and `fixmedins` get TiFlash replicas.

`an_setl` is fed like the DuckDB replica: from the change log (the `setl` payloads of
`replica.rows`), in order, each batch in one transaction together with `an_state.applied_seq`
(the row is locked `FOR UPDATE`, so two processes never apply the same batch). A read first
catches up to the log's latest seq, then reads in a snapshot that also reads `applied_seq`:
answers stay strong. When `an_state` is missing or was made with another key (a rotation), the
table is rebuilt from `setl` (`rebuild`), since the log may have been trimmed.

Portable SQL: it runs on SQLite and MariaDB too (tested there); only TiDB uses it in service.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from yibao.kit.clock import DATETIME_FMT
from yibao.replica import batches, rows
from yibao.replica.pseudonym import Pseudonyms
from yibao.storage.changelog import position, read_after
from yibao.storage.tables import an_setl, an_state, fixmedins, psn, setl

CHUNK = 5_000
_TEXT = (
    "setl_id",
    "psn_ref",
    "fixmedins_code",
    "insutype",
    "psn_type",
    "med_type",
    "hosp_lv",
    "maindiag_code",
    "refd_setl_flag",
    "vali_flag",
)
_TIMES = ("setl_time", "begndate", "enddate")


def _time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.strptime(str(value), DATETIME_FMT)


def row_of(payload: Mapping[str, Any], pseudonyms: Pseudonyms, seq: int) -> dict[str, Any]:
    """An `an_setl` row from a `setl` payload (`replica.rows.setl_payload`): amounts from
    integer fen to exact yuan, the person as `psn_ref`."""
    out: dict[str, Any] = {name: payload.get(name) for name in _TEXT if name != "psn_ref"}
    out["psn_ref"] = payload.get("psn_ref") or pseudonyms.ref(payload.get("psn_no"))
    for name in _TIMES:
        out[name] = _time(payload.get(name))
    out["fee_line_cnt"] = int(payload.get("fee_line_cnt") or 0)
    out["refd_setl_flag"] = out["refd_setl_flag"] or "0"
    out["vali_flag"] = out["vali_flag"] or "1"
    for name in rows.SETL_AMOUNTS:
        out[name] = Decimal(int(payload.get(name) or 0)).scaleb(-2)
    out["seq"] = seq
    return out


class PseudoTables:
    """Keeps `an_setl` in step with the change log, pseudonymised with `pseudonyms`."""

    def __init__(self, engine: Engine, pseudonyms: Pseudonyms) -> None:
        self.engine = engine
        self.pseudonyms = pseudonyms
        self._lock = threading.Lock()

    def _state(self, conn: Connection, *, lock: bool) -> tuple[int, str] | None:
        query = select(an_state.c.applied_seq, an_state.c.key_id).where(an_state.c.id == 1)
        found = conn.execute(query.with_for_update() if lock else query).first()
        return None if found is None else (int(found[0]), str(found[1]))

    def applied_seq(self, conn: Connection) -> int:
        state = self._state(conn, lock=False)
        return 0 if state is None else state[0]

    def catch_up(self) -> int:
        """Apply every change after `applied_seq` (rebuilding first when the table is missing
        its state or was made with another key); returns the seq applied up to."""
        with self._lock:
            with self.engine.connect() as conn:
                state = self._state(conn, lock=False)
                conn.rollback()
            if state is None or state[1] != self.pseudonyms.key_id:
                self.rebuild()
            while True:
                with self.engine.begin() as conn:
                    state = self._state(conn, lock=True)
                    applied = 0 if state is None else state[0]
                    changes = read_after(conn, applied, CHUNK)
                    if not changes:
                        return applied
                    self._apply(conn, changes)
                    conn.execute(
                        update(an_state)
                        .where(an_state.c.id == 1)
                        .values(applied_seq=int(changes[-1]["seq"]))
                    )

    def _apply(self, conn: Connection, changes: list[dict[str, Any]]) -> None:
        table = batches.build(changes).tables.get(rows.SETL)
        if table is None or not table.num_rows:
            return
        images = self.pseudonyms.table(table).to_pylist()
        keys = [str(r["setl_id"]) for r in images]
        for start in range(0, len(keys), 500):
            conn.execute(delete(an_setl).where(an_setl.c.setl_id.in_(keys[start : start + 500])))
        fresh = [row_of(r, self.pseudonyms, int(r["seq"])) for r in images if r["op"] != "delete"]
        if fresh:
            conn.execute(insert(an_setl), fresh)

    def rebuild(self) -> int:
        """Refill `an_setl` from `setl` with the current key; the change log's position is
        taken first, so later changes are applied again by `catch_up` (idempotent). Pages by
        `setl_id` on one connection, a transaction a page."""
        with self.engine.begin() as conn:
            start = position(conn)
            conn.execute(delete(an_state))
            conn.execute(delete(an_setl))
            conn.execute(
                insert(an_state).values(id=1, applied_seq=start, key_id=self.pseudonyms.key_id)
            )
        after = ""
        while True:
            with self.engine.begin() as conn:
                page = (
                    conn.execute(
                        select(setl, fixmedins.c.admdvs.label("_admdvs"), psn.c.gend.label("_gend"))
                        .join(fixmedins, fixmedins.c.fixmedins_code == setl.c.fixmedins_code)
                        .join(psn, psn.c.psn_no == setl.c.psn_no)
                        .where(setl.c.setl_id > after)
                        .order_by(setl.c.setl_id)
                        .limit(CHUNK)
                    )
                    .mappings()
                    .all()
                )
                if not page:
                    return start
                payloads = [
                    rows.setl_payload(dict(r), admdvs=r["_admdvs"], gend=r["_gend"]) for r in page
                ]
                conn.execute(insert(an_setl), [row_of(p, self.pseudonyms, start) for p in payloads])
                after = str(page[-1]["setl_id"])
