"""Hot-path statements at the driver level.

Executing a Core statement through `Connection.execute` spends more Python per statement
(compile-cache lookup, execution context, result metadata, row objects) than SQLite takes to
run it (docs/measurements.md). A `Prepared` statement is the same Core statement compiled
once per dialect (the dialect's own SQL text and paramstyle: `?` on SQLite, `%s` on
PyMySQL), with its bind and result conversions looked up once, executed on the DBAPI cursor
of the caller's connection — inside the caller's transaction, with the same stored
representation SQLAlchemy would use (amounts as integer fen through `Scaled`, datetimes as
the dialect stores them).
DBAPI errors come back as SQLAlchemy's (`IntegrityError`, `OperationalError` …) so that the
msgid retry and the transient-error retry see what they expect.

Rows come back as plain dicts keyed by column name.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NoReturn, cast

from sqlalchemy import Connection, Date, DateTime, Dialect, Table, bindparam, insert, update
from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Select

from yibao.storage import deferred
from yibao.storage.types import Scaled

Processor = Callable[[Any], Any] | None


def _scaled_bind(scale: int) -> Callable[[Any], int | None]:
    def process(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("float given for an exact column; use Decimal")
        scaled = (value if isinstance(value, Decimal) else Decimal(value)).scaleb(scale)
        integral = int(scaled)
        if scaled != integral:
            raise ValueError(f"{value} has more than {scale} decimals")
        return integral

    return process


def _scaled_result(scale: int) -> Callable[[Any], Decimal | None]:
    def process(value: Any) -> Decimal | None:
        if value is None:
            return None
        # the driver gives an int (SQLite, PyMySQL BIGINT): no int() call for it
        return Decimal(value if type(value) is int else int(value)).scaleb(-scale)

    return process


def _sqlite_datetime_bind(fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A naive datetime as SQLite's DATETIME stores it ('YYYY-MM-DD HH:MM:SS.ffffff', the
    dialect's own format) via `isoformat`, which is cheaper than the dialect's string
    formatting; anything else through the dialect."""

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return fallback(value)

    return process


def _bind_processor(type_: Any, dialect: Dialect) -> Processor:
    if isinstance(type_, Scaled):
        return _scaled_bind(type_.scale)
    proc: Processor = type_._cached_bind_processor(dialect)
    if dialect.name == "sqlite" and proc is not None and type(type_) in (DateTime, SQLITE_DATETIME):
        return _sqlite_datetime_bind(proc)
    return proc


def _iso(parse: Callable[[str], Any], fallback: Processor) -> Callable[[Any], Any]:
    """SQLite stores datetimes as ISO text: `fromisoformat` (C) reads them for a fraction of
    the dialect's regular expression (which stays the fallback for anything else)."""

    def process(value: Any) -> Any:
        if value is None:
            return None
        try:
            return parse(value)
        except (TypeError, ValueError):
            return fallback(value) if fallback is not None else value

    return process


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    if isinstance(type_, Scaled):
        return _scaled_result(type_.scale)
    proc: Processor = type_._cached_result_processor(dialect, None)
    if dialect.name == "sqlite" and proc is not None:
        if isinstance(type_, DateTime):
            return _iso(datetime.fromisoformat, proc)
        if isinstance(type_, Date):
            return _iso(date.fromisoformat, proc)
    return proc


class _Compiled:
    __slots__ = (
        "args",
        "binds",
        "columns",
        "defaults",
        "many",
        "names",
        "positional",
        "results",
        "row",
        "text",
    )

    def __init__(self, stmt: ClauseElement, dialect: Dialect, keys: Sequence[str] | None) -> None:
        # A SQL expression compiles to its dialect's SQLCompiler (DDL would not, and is never
        # prepared); SQLAlchemy's stub types the result as the base `Compiled`.
        compiled = cast(
            SQLCompiler,
            stmt.compile(
                dialect=dialect,
                column_keys=list(keys) if keys is not None else None,
                compile_kwargs={"render_postcompile": True},
            ),
        )
        if "POSTCOMPILE" in compiled.string:
            raise ValueError("statement needs post-compile parameters")
        self.text = compiled.string
        self.positional = bool(compiled.positional)
        names = list(compiled.positiontup or ()) if self.positional else list(compiled.binds)
        if any(n not in compiled.binds for n in names):
            raise ValueError("expanding (IN list) parameters are not supported: bind each value")
        self.names = tuple(names)
        self.defaults = tuple(compiled.binds[n].value for n in names)
        self.binds = tuple(_bind_processor(compiled.binds[n].type, dialect) for n in names)
        bind_inline = tuple(_bind_inline(compiled.binds[n].type, dialect) for n in names)
        if isinstance(stmt, Select):
            cols = list(stmt.selected_columns)
            self.columns: tuple[str, ...] = tuple(c.name for c in cols)
            self.results: tuple[Processor, ...] = tuple(
                _result_processor(c.type, dialect) for c in cols
            )
            result_inline = tuple(_result_inline(c.type) for c in cols)
        else:
            self.columns = ()
            self.results = ()
            result_inline = ()
        self.args = _args_function(
            self.names, self.defaults, self.binds, self.positional, bind_inline
        )
        self.row = _row_function(self.columns, self.results, result_inline)
        found = _VALUES.match(self.text) if not isinstance(stmt, Select) else None
        #: an INSERT's text split around its one row of parameters — `INSERT … VALUES `, the
        #: row `(%s, …)`, and what follows (`ON DUPLICATE KEY UPDATE …`) — for a multi-row
        #: statement; None for any other statement
        self.many: tuple[bytes, str, bytes] | None = (
            None if found is None else (found[1].encode(), found[2], found[3].encode())
        )


#: an INSERT with one row of positional parameters (the MySQL dialects' `%s`)
_VALUES = re.compile(
    r"(\s*INSERT\b.+?\bVALUES\s*)(\((?:\s*%s\s*,)*\s*%s\s*\))(\s*(?:ON DUPLICATE KEY UPDATE\b.*)?)\Z",
    re.IGNORECASE | re.DOTALL,
)


# The two per-statement conversions are generated as straight-line functions (one expression
# per parameter / column) once per compiled statement, so a row costs no loop over processors.
# The commonest conversions are written into that expression for their usual value (an exact
# Decimal into fen, a naive datetime into SQLite's text, an integer back into a Decimal): a
# Python call per value was ~14 % of converting a fee line's 41 parameters. Anything else —
# None, a float, an int or str amount, a Decimal with too many places — goes to the
# processor, which converts or refuses it exactly as before.

#: an inline bind: the expression's template, `{v}` the value's expression and `{p}` the
#: processor's name (the fallback)
_SCALED_BIND = (
    "({p}(v) if type(v := {v}) is not _D else "
    "(i if (s := v.scaleb({scale})) == (i := int(s)) else {p}(v)))"
)
_SQLITE_DATETIME_BIND = (
    "(v.isoformat(' ', 'microseconds') if type(v := {v}) is _DT and v.tzinfo is None else {p}(v))"
)
_SCALED_RESULT = "(_D(v).scaleb({scale}) if type(v := {v}) is int else {q}(v))"


def _bind_inline(type_: Any, dialect: Dialect) -> str | None:
    """The inline form of `_bind_processor(type_, dialect)`, where there is one."""
    if isinstance(type_, Scaled):
        return _SCALED_BIND.replace("{scale}", str(type_.scale))
    sqlite_datetime = dialect.name == "sqlite" and type(type_) in (DateTime, SQLITE_DATETIME)
    if sqlite_datetime and type_._cached_bind_processor(dialect) is not None:
        return _SQLITE_DATETIME_BIND
    return None


def _result_inline(type_: Any) -> str | None:
    """The inline form of `_result_processor` for an amount (the driver's int)."""
    if isinstance(type_, Scaled):
        return _SCALED_RESULT.replace("{scale}", str(-type_.scale))
    return None


_INLINE_ENV = {"_D": Decimal, "_DT": datetime}


def _args_function(
    names: Sequence[str],
    defaults: Sequence[Any],
    binds: Sequence[Processor],
    positional: bool,
    inline: Sequence[str | None],
) -> Callable[[Mapping[str, Any]], Any]:
    env: dict[str, Any] = dict(_INLINE_ENV)
    parts = []
    for i, (name, default, proc, form) in enumerate(
        zip(names, defaults, binds, inline, strict=True)
    ):
        env[f"d{i}"] = default
        expr = f"get({name!r}, d{i})"
        if proc is not None:
            env[f"p{i}"] = proc
            expr = f"p{i}({expr})" if form is None else form.format(v=expr, p=f"p{i}")
        parts.append(expr)
    if positional:
        body = "(" + "".join(f"{p}, " for p in parts) + ")"
    else:
        body = "{" + ", ".join(f"{n!r}: {p}" for n, p in zip(names, parts, strict=True)) + "}"
    exec(f"def args(params):\n    get = params.get\n    return {body}\n", env)
    fn: Callable[[Mapping[str, Any]], Any] = env["args"]
    return fn


def _row_function(
    columns: Sequence[str],
    results: Sequence[Processor],
    inline: Sequence[str | None],
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    env: dict[str, Any] = dict(_INLINE_ENV)
    parts = []
    for i, (name, proc, form) in enumerate(zip(columns, results, inline, strict=True)):
        if proc is None:
            parts.append(f"{name!r}: r[{i}]")
        else:
            env[f"q{i}"] = proc
            expr = f"q{i}(r[{i}])" if form is None else form.format(v=f"r[{i}]", q=f"q{i}")
            parts.append(f"{name!r}: {expr}")
    exec("def row(r):\n    return {" + ", ".join(parts) + "}\n", env)
    fn: Callable[[Sequence[Any]], dict[str, Any]] = env["row"]
    return fn


class Prepared:
    """A Core statement executed at the driver level (see the module doc). For an INSERT give
    `keys`, the column keys every parameter set carries."""

    __slots__ = ("_by_dialect", "keys", "stmt")

    def __init__(self, stmt: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.stmt = stmt
        self.keys = tuple(keys) if keys is not None else None
        #: id(dialect) → (the dialect, its compiled form). The entry keeps its dialect and is
        #: used only for that very object: an id is reused once its object is freed, and a
        #: dialect of an engine disposed meanwhile (MySQL, say) must never lend its SQL to
        #: the next engine's (SQLite) that happens to get the same id.
        self._by_dialect: dict[int, tuple[Dialect, _Compiled]] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        entry = self._by_dialect.get(id(dialect))
        if entry is None or entry[0] is not dialect:
            entry = self._by_dialect[id(dialect)] = (
                dialect,
                _Compiled(self.stmt, dialect, self.keys),
            )
        return entry[1]

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> tuple[_Compiled, Any]:
        c = self._compiled(conn.dialect)
        args = c.args(params)
        raw = _raw(conn)
        pending = deferred.take(raw)
        if pending:  # the deferred writes go first, in the same request (storage.deferred)
            try:
                return c, deferred.send(raw, pending, deferred.render(conn, c.text, args))
            except conn.dialect.loaded_dbapi.Error as exc:
                _fail(conn, c.text, args, exc)
        cursor = raw.cursor()
        try:
            cursor.execute(c.text, args)
        except conn.dialect.loaded_dbapi.Error as exc:
            _close_quietly(cursor)
            _fail(conn, c.text, args, exc)
        return c, cursor

    def all(
        self, conn: Connection, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        c, cursor = self._run(conn, params or {})
        try:
            raw = cursor.fetchall()
        finally:
            cursor.close()
        return [*map(c.row, raw)]

    def first(
        self, conn: Connection, params: Mapping[str, Any] | None = None
    ) -> dict[str, Any] | None:
        c, cursor = self._run(conn, params or {})
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return c.row(row)

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a write; returns the row count."""
        _c, cursor = self._run(conn, params or {})
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute_last_id(
        self, conn: Connection, params: Mapping[str, Any] | None = None
    ) -> tuple[int, int]:
        """Run a write; returns the row count and the id the server reported with it
        (MySQL protocol: what the statement set with `LAST_INSERT_ID(expr)`, carried in the
        same answer — no second round trip)."""
        _c, cursor = self._run(conn, params or {})
        try:
            return int(cursor.rowcount), int(cursor.lastrowid or 0)
        finally:
            cursor.close()

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        c = self._compiled(conn.dialect)
        args = [c.args(r) for r in rows]
        raw = _raw(conn)
        try:
            pending = deferred.take(raw)
            if pending:
                deferred.send(raw, pending)
            cursor = raw.cursor()
        except conn.dialect.loaded_dbapi.Error as exc:
            _fail(conn, c.text, args, exc)
        try:
            cursor.executemany(c.text, args)
        except conn.dialect.loaded_dbapi.Error as exc:
            _close_quietly(cursor)
            _fail(conn, c.text, args, exc)
        cursor.close()

    def later(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run a write whose outcome the call never reads and whose failure it does not
        handle: deferred to the transaction's next round trip where the connection takes
        multi-statements (`storage.deferred`), else at once. An INSERT's rows go as one
        multi-row statement."""
        if not rows:
            return
        if not deferred.accepts(conn):
            if len(rows) == 1:
                self.execute(conn, rows[0])
            else:
                self.executemany(conn, rows)
            return
        c = self._compiled(conn.dialect)
        many = c.many if len(rows) > 1 else None
        if many is None:
            statements = [deferred.render(conn, c.text, c.args(r)) for r in rows]
        else:
            head, values, tail = many
            rendered = [deferred.render(conn, values, c.args(r)) for r in rows]
            statements = [head + b",".join(rendered) + tail]
        deferred.defer(conn, statements)


class PreparedInsert:
    """`INSERT INTO table (<the row's keys>)` at the driver level, compiled once per key set.
    A key set whose compiled statement would need more than the row gives (a column default
    SQLAlchemy computes at execution) goes through `Connection.execute` as before."""

    __slots__ = ("_by_keys", "_core", "table")

    def __init__(self, table: Table) -> None:
        self.table = table
        self._core = insert(table)
        self._by_keys: dict[tuple[str, ...], Prepared | None] = {}

    def _fast(self, conn: Connection, keys: tuple[str, ...]) -> Prepared | None:
        try:
            return self._by_keys[keys]
        except KeyError:
            pass
        fast: Prepared | None = Prepared(self._core, keys)
        assert fast is not None
        if set(fast._compiled(conn.dialect).names) != set(keys):
            fast = None
        self._by_keys[keys] = fast
        return fast

    def execute(self, conn: Connection, row: Mapping[str, Any]) -> None:
        fast = self._fast(conn, tuple(row))
        if fast is None:
            conn.execute(self._core, row)
        else:
            fast.execute(conn, row)

    def _fast_for_all(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> Prepared | None:
        """The driver-level statement when every row has the first one's keys, else None."""
        keys = tuple(rows[0])
        fast = self._fast(conn, keys)
        if fast is None or any(tuple(r) != keys for r in rows):
            return None
        return fast

    def executemany(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        fast = self._fast_for_all(conn, rows)
        if fast is None:
            conn.execute(self._core, list(rows))
        else:
            fast.executemany(conn, rows)

    def later(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """`Prepared.later`: rows whose insert the call never reads back (fund rows)."""
        if not rows:
            return
        fast = self._fast_for_all(conn, rows)
        if fast is None:
            conn.execute(self._core, list(rows))
        else:
            fast.later(conn, rows)


class PreparedUpdate:
    """`UPDATE table SET <the values' keys> WHERE <key column> = :key` at the driver level,
    compiled once per key set (a visit's changes differ from call to call in which columns
    they set). A value that is a SQL expression goes through `Connection.execute`."""

    __slots__ = ("_by_keys", "key", "table")

    #: the key's parameter name: never a column's
    _KEY = "_yibao_key"

    def __init__(self, table: Table, key: str) -> None:
        self.table = table
        self.key = table.c[key]
        self._by_keys: dict[tuple[str, ...], Prepared] = {}

    def execute(self, conn: Connection, key: Any, values: Mapping[str, Any]) -> int:
        """Set `values` on the row whose key is `key`; returns the row count."""
        if not values:
            return 0
        if any(isinstance(v, ClauseElement) for v in values.values()):
            statement = update(self.table).where(self.key == key).values(**values)
            return int(conn.execute(statement).rowcount)
        names = tuple(values)
        fast = self._by_keys.get(names)
        if fast is None:
            fast = self._by_keys[names] = Prepared(
                update(self.table)
                .where(self.key == bindparam(self._KEY))
                .values({name: bindparam(name) for name in names})
            )
        return fast.execute(conn, {**values, self._KEY: key})


def fetch_together(
    conn: Connection, reads: Sequence[tuple[Prepared, Mapping[str, Any]]]
) -> list[list[dict[str, Any]]]:
    """Several SELECTs in one request (the MySQL protocol's multi-statements: one round trip
    where each would take its own), after what the transaction has deferred; the rows of each.
    Only where `deferred.accepts(conn)`."""
    compiled = [(p._compiled(conn.dialect), params) for p, params in reads]
    raw = _raw(conn)
    selects = [deferred.render(conn, c.text, c.args(params)) for c, params in compiled]
    pending = deferred.take(raw)
    try:
        found = deferred.fetch(raw, pending, selects)
    except conn.dialect.loaded_dbapi.Error as exc:
        _fail(conn, "; ".join(c.text for c, _ in compiled), None, exc)
    return [[*map(c.row, rows)] for (c, _), rows in zip(compiled, found, strict=True)]


def _raw(conn: Connection) -> Any:
    if not conn.in_transaction():
        conn.begin()  # what the first Connection.execute would do (autobegin)
    raw = conn.connection.dbapi_connection
    assert raw is not None  # None only on a connection that was invalidated
    return raw


def _close_quietly(cursor: Any) -> None:
    """Close a cursor whose statement failed: on a lost connection the close fails too
    (mysqlclient's reads what is left of the answer), and that error must not replace the
    statement's own, which `_fail` wraps and turns into the pool's invalidation."""
    with contextlib.suppress(Exception):
        cursor.close()


def _fail(conn: Connection, text: str, args: Any, exc: Exception) -> NoReturn:
    """Raise a driver's error as `Connection.execute` would: wrapped as SQLAlchemy's
    (`IntegrityError`, `OperationalError` …) and, when it says the server is gone, with the
    connection and its pool invalidated — a pool whose statements all run at the driver
    level (`Database.call_read`) must recover from an outage too."""
    conn._handle_dbapi_exception(exc, text, args, None, None)
