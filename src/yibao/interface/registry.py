"""The transaction registry: infno → handler.

A handler is `fn(conn, ctx, input) -> output`:
- `conn` — a SQLAlchemy Connection inside the call's transaction (read-only handlers get a
  read transaction; writing handlers run in the writer, inside a savepoint);
- `ctx` — the `CallContext`;
- `input` — the envelope's `input` object (already a dict; numbers with fractions are Decimal);
- returns the `output` object (a dict, or None for transactions without output).

It raises `yibao.errors.YibaoError` subclasses for refusals (answered `infcode: -1`). It never
commits. Register with the decorator:

    @transaction("2207", "门诊结算", writes=True)
    def settle_outpatient(conn, ctx, input): ...

The registration says how the call pipeline runs the handler (`writes`, `short_read`,
`reads_msg_log`, `binary`); the pipeline knows no transaction by number.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from yibao.interface.context import CallContext

log = logging.getLogger(__name__)

#: where the national transactions' handlers live: every module of this package
HANDLER_PACKAGE = "yibao.interface.transactions"

Handler = Callable[[Connection, CallContext, dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Transaction:
    infno: str
    name: str
    handler: Handler
    #: changes state: runs in the writer and its answer is kept in the message log
    writes: bool
    #: returns a binary file (9102) instead of a JSON envelope
    binary: bool = False
    #: a read of a few indexed rows, short enough to run where the call already is instead of
    #: hopping to the read pool: in the SQLite writer's thread between its groups (one thread
    #: runs the statements; the writer's row cache serves it), on the event loop itself on the
    #: MySQL protocol (`interface.pipeline`)
    short_read: bool = False
    #: the handler reads the message log itself (2601 finds the message it reverses there),
    #: so the msgid must be claimed before the handler runs, never after it
    reads_msg_log: bool = False


_REGISTRY: dict[str, Transaction] = {}


def transaction(
    infno: str,
    name: str,
    *,
    writes: bool,
    binary: bool = False,
    short_read: bool = False,
    reads_msg_log: bool = False,
) -> Callable[[Handler], Handler]:
    if short_read and writes:
        raise ValueError(f"transaction {infno}: a short read cannot write")

    def register(fn: Handler) -> Handler:
        if infno in _REGISTRY and _REGISTRY[infno].handler is not fn:
            raise RuntimeError(f"transaction {infno} registered twice")
        _REGISTRY[infno] = Transaction(infno, name, fn, writes, binary, short_read, reads_msg_log)
        return fn

    return register


def lookup(infno: str) -> Transaction | None:
    """The handler for `infno`; a letter-suffixed variant ("2203A") falls back to its base."""
    found = _REGISTRY.get(infno)
    if found is None and len(infno) == 5 and infno[-1].isalpha():
        found = _REGISTRY.get(infno[:4])
    return found


def all_transactions() -> dict[str, Transaction]:
    return dict(_REGISTRY)


def handler_modules() -> list[str]:
    """The modules whose `@transaction` registrations the pipeline serves (the package's
    helper modules, such as its input readers, come along: importing them registers nothing)."""
    package = importlib.import_module(HANDLER_PACKAGE)
    return sorted(
        f"{HANDLER_PACKAGE}.{info.name}" for info in pkgutil.iter_modules(package.__path__)
    )


def load_handlers() -> None:
    """Import every handler module (their decorators fill the registry); idempotent."""
    for name in handler_modules():
        importlib.import_module(name)
