"""mysqlclient's connection, with the values of a statement rendered for less Python.

mysqlclient binds a statement's parameters in Python: its cursor renders every value through
`Connection.literal`, which tries the value's type against five `isinstance` checks and then,
for anything but a string, calls the conversions' encoder for it and encodes the answer. A
settlement call binds a few hundred values (a 2204's fee lines: ~40 a line), so that rendering
was ~9 % of a MySQL gateway's interpreter-lock time (`bench/RESULTS.md`, "Twentieth session").

`Connection.literal` here renders the types a settlement binds — `str`, `int`, `None`, `Decimal`,
a naive `datetime` — in one type look-up each, to exactly the bytes the driver's own path gives
(a string still goes through libmariadb's `mysql_real_escape_string`, which knows the
connection's character set and SQL mode; held equal by
`tests/integration/storage/test_mysqldb_literal.py`); any other value goes to the driver's own
`literal`. The engine opens its mysqlclient connections with this class (`storage.engine`, the
`do_connect` event).

`Connection.render_statement` binds a statement's positional values the way the driver's
`cursor.mogrify` does (its text encoded in the connection's character set, each value through
`literal`, then `%` formatting), without a cursor made and closed for each statement and
without the round trip through `str` that `mogrify`'s answer takes: the deferred writes
(`storage.deferred.render`) render a statement or a row of a multi-row INSERT at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from MySQLdb import ProgrammingError
from MySQLdb.connections import Connection as DriverConnection

from yibao.storage.engine import datetime_literal


class Connection(DriverConnection):  # type: ignore[misc]
    """A mysqlclient connection whose `literal` is quicker for the common types."""

    def literal(self, o: Any) -> bytes:
        kind = type(o)
        if kind is str:
            return self.string_literal(o.encode(self.encoding))  # type: ignore[no-any-return]
        if kind is int:
            return b"%d" % o
        if o is None:
            return b"NULL"
        if kind is Decimal:
            # the driver's Decimal2Literal: fixed-point, never an exponent the server would
            # read as a floating-point number
            return format(o, "f").encode("ascii")
        if kind is datetime:  # the encoder the engine gives the driver for datetimes
            return datetime_literal(o, self.encoders)  # type: ignore[no-any-return]
        return super().literal(o)  # type: ignore[no-any-return]

    def render_statement(self, text: str, args: Sequence[Any]) -> bytes:
        """`text` (`%s` placeholders) with `args` bound, in the connection's character set:
        the bytes `cursor.mogrify(text, args)` stands for."""
        key = (text, self.encoding)
        encoded = _ENCODED.get(key)
        if encoded is None:
            if len(_ENCODED) >= _ENCODED_MAX:
                _ENCODED.clear()
            encoded = _ENCODED[key] = text.encode(self.encoding)
        try:
            return encoded % tuple(map(self.literal, args))
        except TypeError as exc:  # as the driver: a count of values that does not fit
            raise ProgrammingError(str(exc)) from None


#: statement texts encoded (the compiled statements and their row parts: a bounded set)
_ENCODED: dict[tuple[str, str], bytes] = {}
_ENCODED_MAX = 4096


def connect(*args: Any, **kwargs: Any) -> Connection:
    """`MySQLdb.connect` with this module's connection class."""
    return Connection(*args, **kwargs)
