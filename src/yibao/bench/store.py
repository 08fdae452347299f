"""What the driver reads from the server's row store (read-only, a small pool of its own):
the open admissions at the start of a run, the catalog's restricted items, and the change-log position `(seq, ts_ms)` of the
settlements a freshness run made. The fixtures' data directory is the server's data
directory (`yibao demo` wrote both), so its settings name the same database."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import Engine, func, or_, select

from yibao.config import load_settings
from yibao.storage.engine import make_engine
from yibao.storage.tables import catalog_item, change_log, mdtrt

#: settlement.repo's values (not imported: the driver must not load the settlement domain)
INPATIENT = "inpatient"
OPEN_STATES = ("admitted", "discharged")
SETL_ENTITY = "setl"


def row_store(data_dir: Path) -> Engine:
    settings = load_settings(data_dir=data_dir)
    return make_engine(
        settings.db_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        writer=False,
        pool_size=1,
    )


def open_admissions(engine: Engine) -> set[str]:
    """psn_no of every person with an open inpatient visit (2401 would refuse them)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(mdtrt.c.psn_no)
            .where(mdtrt.c.mdtrt_kind == INPATIENT, mdtrt.c.mdtrt_stas.in_(OPEN_STATES))
            .distinct()
        ).all()
        conn.rollback()
    return {str(r[0]) for r in rows}


def latest_seq(engine: Engine) -> int:
    with engine.connect() as conn:
        value = conn.execute(select(func.max(change_log.c.seq))).scalar_one_or_none()
        conn.rollback()
    return int(value or 0)


def settlement_positions(
    engine: Engine, setl_ids: Iterable[str], since_seq: int
) -> dict[str, tuple[int, int]]:
    """`{setl_id: (seq, ts_ms)}` of each settlement's first change after `since_seq` — the
    change written in the settling transaction. `ts_ms` is stamped inside that transaction,
    just before its commit, so `visible − ts_ms` slightly overstates the lag (safe side)."""
    wanted = set(setl_ids)
    found: dict[str, tuple[int, int]] = {}
    with engine.connect() as conn:
        result = conn.execute(
            select(change_log.c.entity_key, change_log.c.seq, change_log.c.ts_ms)
            .where(change_log.c.seq > since_seq, change_log.c.entity == SETL_ENTITY)
            .order_by(change_log.c.seq)
        )
        for key, seq, ts_ms in result:
            if key in wanted and key not in found:
                found[key] = (int(seq), int(ts_ms))
        conn.rollback()
    return found


def open_admission_visits(
    engine: Engine, psn_nos: Iterable[str]
) -> list[tuple[str, str, str, str]]:
    """(mdtrt_id, psn_no, fixmedins_code, mdtrt_stas) of the open inpatient visits of these
    persons — what `yibao bench settle` closes before it plays."""
    wanted = sorted(set(psn_nos))
    out: list[tuple[str, str, str, str]] = []
    with engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            rows = conn.execute(
                select(mdtrt.c.mdtrt_id, mdtrt.c.psn_no, mdtrt.c.fixmedins_code, mdtrt.c.mdtrt_stas)
                .where(
                    mdtrt.c.mdtrt_kind == INPATIENT,
                    mdtrt.c.mdtrt_stas.in_(OPEN_STATES),
                    mdtrt.c.psn_no.in_(wanted[start : start + 500]),
                )
                .order_by(mdtrt.c.mdtrt_id)
            ).all()
            out.extend((str(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows)
        conn.rollback()
    return out


def restricted_codes(engine: Engine, codes: Iterable[str]) -> set[str]:
    """The codes among `codes` whose current catalog term restricts their use (限定支付: sex,
    age, institution level, visit type, indications, days, quantity, children's drugs): the
    driver bills clean items, as most of a city's bills are."""
    wanted = sorted(set(codes))
    if not wanted:
        return set()
    c = catalog_item.c
    restricted = or_(
        c.lmt_used_flag == "1",
        c.chld_medc_flag == "1",
        c.lmt_gend.is_not(None),
        c.lmt_age_min.is_not(None),
        c.lmt_age_max.is_not(None),
        c.lmt_hosp_lv.is_not(None),
        c.lmt_med_type.is_not(None),
        c.lmt_diag_codes.is_not(None),
        c.lmt_days.is_not(None),
        c.lmt_cnt.is_not(None),
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.hilist_code)
            .where(c.hilist_code.in_(wanted), c.enddate.is_(None), restricted)
            .distinct()
        ).all()
        conn.rollback()
    return {str(r[0]) for r in rows}
