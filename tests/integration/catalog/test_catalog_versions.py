"""Versions: overlapping terms rejected, re-published terms supersede, the term valid at a
fee's time is chosen, the cache answers from memory keyed by version."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from catalog_factories import DRUG, DRUG2, NATIONAL, NOW, apply, write_csv
from sqlalchemy import Engine, select

from yibao.catalog import repo
from yibao.catalog.cache import CatalogCache
from yibao.catalog.importer import import_file
from yibao.storage.tables import catalog_item
from yibao.storage.uow import UnitOfWork


def drug_row(begn: str, end: str = "", cap: str = "1.00", code: str = DRUG) -> list[str]:
    return [code, "地喹氯铵含片", "101", "01", "0", cap, "09", "0", begn, end]


def test_overlapping_terms_in_one_file_are_rejected(engine: Engine, tmp_path: Path) -> None:
    rows = [
        drug_row("2024-01-01", "2024-06-30"),
        drug_row("2024-06-01", ""),  # overlaps line 2
        drug_row("2024-07-01", ""),  # follows line 2: fine
        drug_row("2024-07-01", "2024-12-31"),  # same start as line 4
    ]
    report = apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, rows))
    assert report.applied == 2
    assert [i.line for i in report.rejected] == [3, 5]
    assert all("第2行" in i.reasons[0] or "第4行" in i.reasons[0] for i in report.rejected)
    assert "重叠" in report.rejected[0].reasons[0]


def test_overlap_with_a_stored_term_is_rejected(engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_csv(tmp_path / "a.csv", NATIONAL, [drug_row("2024-01-01", "")]))
    report = apply(engine, write_csv(tmp_path / "b.csv", NATIONAL, [drug_row("2024-06-01", "")]))
    assert report.applied == 0 and report.version_id is None
    reason = report.rejected[0].reasons[0]
    assert "已生效的第1版" in reason and "相同开始日期" in reason


def test_republishing_a_term_supersedes_it(engine: Engine, tmp_path: Path) -> None:
    """The national catalogs end a term by re-publishing it with an end date."""
    first = apply(
        engine, write_csv(tmp_path / "a.csv", NATIONAL, [drug_row("2024-01-01", "", "1.00")])
    )
    rows = [drug_row("2024-01-01", "2024-12-31", "1.00"), drug_row("2025-01-01", "", "0.80")]
    second = apply(engine, write_csv(tmp_path / "b.csv", NATIONAL, rows))
    assert second.applied == 2 and second.superseded == 1 and second.rejected == []
    with engine.connect() as conn:
        old = repo.terms_at(conn, {DRUG}, datetime(2024, 5, 1))[DRUG]
        new = repo.terms_at(conn, {DRUG}, datetime(2025, 5, 1))[DRUG]
        assert old.enddate == date(2024, 12, 31) and old.version_id == second.version_id
        assert new.hilist_pric_uplmt_amt == Decimal("0.800000")
        history = repo.history(conn, DRUG)
        superseded = conn.execute(
            select(catalog_item.c.vali_flag, catalog_item.c.superseded_by).where(
                catalog_item.c.version_id == first.version_id
            )
        ).one()
    # Nothing is deleted: the first row is kept, marked superseded by version 2.
    assert len(history) == 3
    assert tuple(superseded) == ("0", second.version_id)


def test_a_rejected_superseder_brings_the_old_term_back_into_the_check(
    engine: Engine, tmp_path: Path
) -> None:
    apply(engine, write_csv(tmp_path / "a.csv", NATIONAL, [drug_row("2024-01-01", "")]))
    rows = [
        [DRUG, "", "101", "01", "0", "1", "09", "0", "2024-01-01", "2024-12-31"],  # no name
        drug_row("2025-01-01", ""),  # would be fine only if line 2 ended the stored term
    ]
    report = apply(engine, write_csv(tmp_path / "b.csv", NATIONAL, rows))
    assert report.applied == 0
    assert [i.line for i in report.rejected] == [2, 3]
    assert "名称为空" in report.rejected[0].reasons[0]
    assert "重叠" in report.rejected[1].reasons[0]


def test_term_selection_by_fee_time(engine: Engine, tmp_path: Path) -> None:
    rows = [
        drug_row("2024-01-01", "2024-06-30", "1.00"),
        drug_row("2024-07-01", "2024-12-31", "2.00"),
        drug_row("2025-01-01", "", "3.00", code=DRUG2),
    ]
    apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, rows))
    with engine.connect() as conn:
        assert set(repo.terms_at(conn, {DRUG, DRUG2}, datetime(2023, 12, 31, 23, 59))) == set()
        assert repo.terms_at(conn, {DRUG}, datetime(2024, 6, 30, 23, 59))[
            DRUG
        ].hilist_pric_uplmt_amt == Decimal("1")
        assert repo.terms_at(conn, {DRUG}, datetime(2024, 7, 1, 0, 0))[
            DRUG
        ].hilist_pric_uplmt_amt == Decimal("2")
        both = repo.terms_at(conn, [DRUG, DRUG2, DRUG2], date(2025, 1, 1))
        assert set(both) == {DRUG2}  # DRUG ended on 2024-12-31


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cache_answers_from_memory_and_follows_new_versions(engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_csv(tmp_path / "a.csv", NATIONAL, [drug_row("2024-01-01", "", "1.00")]))
    clock = Clock()
    cache = CatalogCache(recheck_seconds=5, clock=clock)
    at = datetime(2025, 2, 1, 10, 0)
    with engine.connect() as conn:
        first = cache.terms_at(conn, {DRUG, "X-UNKNOWN"}, at)
        assert first[DRUG].hilist_pric_uplmt_amt == Decimal("1")
        assert (cache.queries, cache.head_checks) == (1, 1)
        # Warm: no catalog query at all, unknown codes included; other times answered too.
        clock.now = 1
        assert cache.terms_at(conn, {DRUG, "X-UNKNOWN"}, at) == first
        assert cache.terms_at(conn, {DRUG}, datetime(2023, 1, 1)) == {}
        assert (cache.queries, cache.head_checks) == (1, 1)

    # A new version applied in this process invalidates the cache when it commits.
    rows = [drug_row("2024-01-01", "2024-12-31", "1.00"), drug_row("2025-01-01", "", "0.50")]
    with UnitOfWork(engine) as uow:
        import_file(uow.conn, write_csv(tmp_path / "b.csv", NATIONAL, rows), now=NOW, cache=cache)
        uow.commit()
    with engine.connect() as conn:
        assert cache.terms_at(conn, {DRUG}, at)[DRUG].hilist_pric_uplmt_amt == Decimal("0.5")
        assert cache.ver_no == 2

    # A version applied elsewhere (another process) is seen after recheck_seconds.
    rows = [drug_row("2025-01-01", "2025-01-31", "0.50"), drug_row("2025-02-01", "", "0.40")]
    apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, rows))
    with engine.connect() as conn:
        clock.now = 2
        assert cache.terms_at(conn, {DRUG}, at)[DRUG].hilist_pric_uplmt_amt == Decimal("0.5")
        clock.now = 10
        assert cache.terms_at(conn, {DRUG}, at)[DRUG].hilist_pric_uplmt_amt == Decimal("0.4")
        assert cache.ver_no == 3


def test_cache_is_not_invalidated_by_a_rolled_back_import(engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_csv(tmp_path / "a.csv", NATIONAL, [drug_row("2024-01-01", "")]))
    cache = CatalogCache()
    with engine.connect() as conn:
        cache.terms_at(conn, {DRUG}, NOW)
    with UnitOfWork(engine) as uow:
        import_file(
            uow.conn,
            write_csv(tmp_path / "b.csv", NATIONAL, [drug_row("2020-01-01", "2020-12-31")]),
            cache=cache,
        )
        # no commit: rolled back
    with engine.connect() as conn:
        assert DRUG in cache.terms_at(conn, {DRUG}, NOW)
        assert repo.head_ver_no(conn) == 1


def test_reimporting_an_unchanged_catalog_writes_only_the_changes(
    engine: Engine, tmp_path: Path
) -> None:
    rows = [drug_row("2024-01-01", "", "1.00"), drug_row("2024-01-01", "", "2.00", code=DRUG2)]
    first = apply(engine, write_csv(tmp_path / "a.csv", NATIONAL, rows))
    same = apply(engine, write_csv(tmp_path / "b.csv", NATIONAL, rows))
    assert same.version_id is None and same.unchanged == 2 and same.superseded == 0
    assert same.not_applied_reason is not None and "无变化" in same.not_applied_reason
    changed = [rows[0], drug_row("2024-01-01", "", "1.50", code=DRUG2)]
    second = apply(engine, write_csv(tmp_path / "c.csv", NATIONAL, changed))
    assert (second.applied, second.unchanged, second.superseded) == (1, 1, 1)
    with engine.connect() as conn:
        terms = repo.terms_at(conn, {DRUG, DRUG2}, NOW)
        assert terms[DRUG].version_id == first.version_id
        assert terms[DRUG2].version_id == second.version_id
        assert terms[DRUG2].hilist_pric_uplmt_amt == Decimal("1.5")
        assert repo.head_ver_no(conn) == 2
