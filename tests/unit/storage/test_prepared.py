"""A driver-level statement (`storage.fast.Prepared`) compiles once per dialect object, and never
hands one dialect's SQL to another: an id is reused after its object is freed, so a disposed
MySQL engine's dialect could otherwise lend its `%(name)s` SQL to the next SQLite engine's."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import mysql, sqlite

from yibao.storage.prepared import Prepared
from yibao.storage.tables import seq_counter


def _bump() -> Prepared:
    return Prepared(
        update(seq_counter)
        .where(seq_counter.c.name == "change_log")
        .values(last_value=seq_counter.c.last_value + 1)
    )


def test_one_compilation_per_dialect_object() -> None:
    fast, dialect = _bump(), sqlite.dialect()
    assert fast._compiled(dialect) is fast._compiled(dialect)
    assert "?" in fast._compiled(dialect).text


def test_an_entry_left_by_another_dialect_under_the_same_id_is_not_used() -> None:
    fast = _bump()
    mysql_dialect, sqlite_dialect = mysql.dialect(paramstyle="pyformat"), sqlite.dialect()
    stale = fast._compiled(mysql_dialect)
    assert "%(" in stale.text
    # what an id reused after the MySQL dialect was freed looks like to the cache
    fast._by_dialect[id(sqlite_dialect)] = (mysql_dialect, stale)
    compiled = fast._compiled(sqlite_dialect)
    assert compiled is not stale
    assert "%(" not in compiled.text and "?" in compiled.text
