"""The bulk load's chunk spools (`yibao.simulate.spool`): the rows merged from spools are the
rows executemany writes, and no spool outlives the load, whether it completes or fails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from yibao.simulate import bulk, spool
from yibao.simulate.bulk import bulk_load
from yibao.simulate.model import CityParams
from yibao.storage.engine import make_engine

CITY = CityParams(seed=31, persons=300, institutions=15, days=200, settlements=1200,
                  reversal_rate=0.05)  # fmt: skip
TABLES = ("mdtrt", "diag", "fee_detail", "setl", "setl_fund", "psn_accum", "psn_insu")


def _rows(engine: Engine, table: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        cols = [
            r[1]
            for r in conn.execute(text(f"PRAGMA table_info({table})"))
            if r[1] not in ("created_at", "updated_at")  # the load's own timestamp
        ]
        return [tuple(r) for r in conn.execute(text(f"SELECT {', '.join(cols)} FROM {table}"))]


def test_spooled_rows_equal_the_executemany_rows(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other" / "yibao.db"
    other.parent.mkdir()
    shutil.copy(sqlite_url.removeprefix("sqlite:///"), other)
    spooled, direct = make_engine(sqlite_url), make_engine(f"sqlite:///{other}")
    merged: list[str] = []
    groups: list[int] = []
    merge = bulk.merge_spools

    def counting(raw: object, paths: list[str], sql: list[list[str]]) -> None:
        merged.extend(paths)
        groups.append(len(paths))
        merge(raw, paths, sql)

    monkeypatch.setattr(bulk, "merge_spools", counting)
    try:
        bulk_load(spooled, CITY, workers=2)
        chunks = -(-CITY.persons // bulk.chunk_size(CITY.persons))
        assert len(set(merged)) == len(merged) == chunks  # every chunk, once
        # MERGE_GROUP spools a transaction, the last group what is left
        assert groups == [spool.MERGE_GROUP] * (chunks // spool.MERGE_GROUP) + (
            [chunks % spool.MERGE_GROUP] if chunks % spool.MERGE_GROUP else []
        )
        monkeypatch.setattr(bulk, "_spool_dir", lambda _engine: None)
        bulk_load(direct, CITY, workers=2)
        for table in TABLES:
            a, b = _rows(spooled, table), _rows(direct, table)
            assert a and sorted(map(repr, a)) == sorted(map(repr, b)), table
    finally:
        spooled.dispose()
        direct.dispose()
    assert not list((tmp_path / "data").glob(".bulk-spool-*"))


def test_no_spool_is_left_when_a_worker_fails(failed_load: Path) -> None:
    assert not list(failed_load.parent.glob(".bulk-spool-*"))
