"""`compare_stores`: two data dirs are the same city when every table holds the same rows,
whatever the write timestamps and the order the rows were written in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from yibao.bench.compare_stores import compare, main


def _store(path: Path, rows: list[tuple[str, int, str]]) -> Path:
    path.mkdir()
    conn = sqlite3.connect(path / "yibao.db")
    conn.execute("CREATE TABLE setl (setl_id TEXT, amount INTEGER, created_at TEXT)")
    conn.executemany("INSERT INTO setl VALUES (?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return path


def test_the_same_rows_in_another_order_and_at_another_time_are_equal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _store(tmp_path / "a", [("S1", 100, "2024-01-01"), ("S2", -100, "2024-01-01")])
    b = _store(tmp_path / "b", [("S2", -100, "2025-06-01"), ("S1", 100, "2025-06-01")])
    (diff,) = compare(a, b)
    assert diff.equal and (diff.rows_a, diff.rows_b) == (2, 2)
    assert main([str(a), str(b)]) == 0
    assert "same city" in capsys.readouterr().out


def test_a_differing_row_is_counted_on_both_sides(tmp_path: Path) -> None:
    a = _store(tmp_path / "a", [("S1", 100, "t"), ("S1", 100, "t")])
    b = _store(tmp_path / "b", [("S1", 100, "t"), ("S1", 101, "t")])
    (diff,) = compare(a, b)
    assert (diff.only_a, diff.only_b) == (1, 1) and not diff.equal
    assert main([str(a), str(b)]) == 1
