"""The city's persons go in through the driver cursor (at-rest values, not SQLAlchemy's
parameter processing) and read back through the tables exactly as they were made."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from yibao.simulate.model import CityParams
from yibao.simulate.people import make_persons
from yibao.simulate.store import person_rows, write_persons
from yibao.storage.tables import psn, psn_idet, psn_insu

#: whole seconds: a MySQL-protocol store keeps DATETIME to the second
NOW = datetime(2024, 6, 1, 8, 30, 15)


def test_persons_read_back_as_written_and_a_rerun_adds_none(engine: Engine) -> None:
    persons = list(make_persons(CityParams(persons=400, institutions=20, seed=7)))
    assert any(p.idets for p in persons)
    with engine.begin() as conn:
        assert write_persons(conn, persons, now=NOW) == len(persons)
    with engine.begin() as conn:
        assert write_persons(conn, persons, now=NOW) == 0
    with engine.connect() as conn:
        got_psn = {r["psn_no"]: dict(r) for r in conn.execute(select(psn)).mappings()}
        got_insu = {r["psn_no"]: dict(r) for r in conn.execute(select(psn_insu)).mappings()}
        got_idet = sorted(
            (r["psn_no"], r["psn_idet_type"], r["begntime"], r["memo"])
            for r in conn.execute(select(psn_idet)).mappings()
        )
    want_idet = []
    for p in persons:
        prow, irow, drows = person_rows(p, NOW)
        assert got_psn[p.psn_no] == prow
        assert got_insu[p.psn_no] == irow
        want_idet += [(d["psn_no"], d["psn_idet_type"], d["begntime"], d["memo"]) for d in drows]
    assert got_idet == sorted(want_idet)
