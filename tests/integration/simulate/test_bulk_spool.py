"""The bulk load's chunk spools (`yibao.simulate.spool`): the rows merged from spools are the
rows executemany writes, a group of spools merges whole or not at all, and no spool outlives
the load, whether it completes or fails."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from yibao.bench import bulk_worker
from yibao.kit.clock import local_naive_now
from yibao.policy import load_book
from yibao.simulate import bulk, bulk_writer, spool
from yibao.simulate.bulk import bulk_load
from yibao.simulate.catalog_seed import catalog_item_of
from yibao.simulate.chunk_rows import ChunkRows
from yibao.simulate.clinical import BUILTIN_ITEMS
from yibao.simulate.context import CityContext
from yibao.simulate.model import CityParams
from yibao.simulate.people import make_institutions
from yibao.simulate.row_shapes import constants_for
from yibao.simulate.settle_rows import Settler
from yibao.simulate.visits import build_chunk
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
    merge = bulk_writer.merge_spools

    def counting(raw: object, paths: list[str], sql: list[list[str]]) -> None:
        merged.extend(paths)
        groups.append(len(paths))
        merge(raw, paths, sql)

    monkeypatch.setattr(bulk_writer, "merge_spools", counting)
    try:
        bulk_load(spooled, CITY, workers=2)
        chunks = -(-CITY.persons // bulk.chunk_size(CITY.persons))
        assert len(set(merged)) == len(merged) == chunks  # every chunk, once
        assert all(1 <= g <= spool.MERGE_GROUP for g in groups)
        monkeypatch.setattr(bulk, "spool_dir", lambda _engine: None)
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


def _spools(tmp_path: Path, chunks: int) -> tuple[list[str], list[list[str]], sqlite3.Connection]:
    """`chunks` chunks of a small city spooled as a load's workers spool them, the statements
    that merge them, and a scratch row store with the settlement tables (no persons)."""
    params = CityParams(seed=7, persons=400, institutions=20, settlements=2000)
    institutions = make_institutions(params)
    people = list(bulk.persons_for(params))
    ctx = CityContext(params, institutions, scale=bulk.size_city(params, people))
    catalog = {i.code: catalog_item_of(i) for i in BUILTIN_ITEMS}
    now = local_naive_now()
    settler = Settler(load_book([]), catalog, {i.fixmedins_code: i for i in institutions},
                      now=now, compact=True)  # fmt: skip
    size = bulk.chunk_size(params.persons)
    paths = []
    for k in range(chunks):
        part = people[k * size : (k + 1) * size]
        rows = settler.run(part, build_chunk(ctx, k, part).visits)
        spool.write_spool(tmp_path, k, rows)
        paths.append(str(rows.spool))
    constants = {name: constants_for(t, now) for name, t in spool.ROW_TABLES.items()}
    store = bulk_worker._scratch_store(tmp_path / "rows.db")
    return paths, spool.merge_statements(constants, None), store


def _count(store: sqlite3.Connection, table: str) -> int:
    (n,) = store.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(n)


def test_a_group_of_spools_merges_whole_or_not_at_all(tmp_path: Path) -> None:
    paths, statements, store = _spools(tmp_path, 3)
    try:
        # the third spool is broken: its setl table is gone
        broken = sqlite3.connect(paths[2])
        broken.execute("DROP TABLE setl")
        broken.commit()
        broken.close()
        with pytest.raises(sqlite3.OperationalError, match="setl"):
            spool.merge_spools(store, paths, statements)
        # the first two spools' rows went in and came out again with the rollback
        assert all(_count(store, t) == 0 for t in spool.ROW_TABLES)
        assert all(Path(p).exists() for p in paths)  # kept for the load's cleanup
        assert not store.execute("PRAGMA database_list").fetchall()[1:]  # all detached

        spool.merge_spools(store, paths[:2], statements)
        assert _count(store, "setl") > 0 and _count(store, "fee_detail") > 0
        assert not any(Path(p).exists() for p in paths[:2])
    finally:
        store.close()


def test_a_group_larger_than_the_slots_is_refused(tmp_path: Path) -> None:
    paths, statements, store = _spools(tmp_path, 1)
    try:
        too_many = spool.MERGE_GROUP + 1
        with pytest.raises(ValueError, match=f"{too_many} spools: 1 … {spool.MERGE_GROUP} at"):
            spool.merge_spools(store, paths * too_many, statements)
        with pytest.raises(ValueError, match="0 spools"):
            spool.merge_spools(store, [], statements)
        assert _count(store, "setl") == 0 and Path(paths[0]).exists()
    finally:
        store.close()


def test_the_writer_merges_groups_then_each_last_chunk_at_once(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    groups: list[list[str]] = []
    monkeypatch.setattr(bulk_writer, "merge_spools", lambda _raw, paths, _sql: groups.append(paths))
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as conn:
            writer = bulk_writer.ChunkWriter(conn, local_naive_now())
            group, extra = spool.MERGE_GROUP, 4
            total = 2 * group + extra
            for i in range(total):
                # from chunk 2·group − 1 on, every chunk is with the workers
                writer.write(ChunkRows(spool=f"chunk-{i}"), last=i >= 2 * group - 1)
            writer.flush()  # nothing is left to merge
    finally:
        engine.dispose()
    assert [len(g) for g in groups] == [group, group] + [1] * extra
    assert [p for g in groups for p in g] == [f"chunk-{i}" for i in range(total)]
