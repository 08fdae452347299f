"""SQL of the institutions' gateway credentials (`fixmedins_credential`).

A static secret is never stored, only its sha256; a signature-mode token only sealed
(`enrolment.token_seal`). Every lookup that a tenant may see takes
the institution (`fixmedins_code`) it acts for; the gateway's check is keyed by the public
`paasid`, which names its institution.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from yibao.storage import row_cache
from yibao.storage.prepared import Prepared
from yibao.storage.tables import fixmedins, fixmedins_credential, seq_counter

_PUBLIC_COLUMNS = (
    fixmedins_credential.c.paasid,
    fixmedins_credential.c.fixmedins_code,
    fixmedins_credential.c.auth_mode,
    fixmedins_credential.c.vali_flag,
    fixmedins_credential.c.created_at,
    fixmedins_credential.c.revoked_at,
    fixmedins_credential.c.expires_at,
    fixmedins_credential.c.rotated_to,
    fixmedins_credential.c.refused_count,
    fixmedins_credential.c.last_refused_at,
)
#: the `seq_counter` row whose value changes with every revocation, rotation or institution
#: (de)activation: every gateway process compares it per call with the value its credential
#: cache was filled under (`interface.credentials`)
GENERATION = "credential_gen"


def institution_flag(conn: Connection, fixmedins_code: str) -> str | None:
    """The institution's `vali_flag`, None when there is no such institution."""
    row = conn.execute(
        select(fixmedins.c.vali_flag).where(fixmedins.c.fixmedins_code == fixmedins_code)
    ).first()
    return None if row is None else str(row.vali_flag)


def insert_credential(
    conn: Connection,
    *,
    paasid: str,
    fixmedins_code: str,
    auth_mode: str,
    created_at: datetime,
    secret_sha256: str | None = None,
    token_sealed: str | None = None,
) -> None:
    conn.execute(
        insert(fixmedins_credential).values(
            paasid=paasid,
            fixmedins_code=fixmedins_code,
            auth_mode=auth_mode,
            secret_sha256=secret_sha256,
            token_sealed=token_sealed,
            vali_flag="1",
            created_at=created_at,
        )
    )


def public_credential(conn: Connection, paasid: str) -> RowMapping | None:
    """The credential's public columns (no digest); the caller checks its institution."""
    return (
        conn.execute(select(*_PUBLIC_COLUMNS).where(fixmedins_credential.c.paasid == paasid))
        .mappings()
        .first()
    )


def mark_revoked(conn: Connection, paasid: str, at: datetime) -> None:
    conn.execute(
        update(fixmedins_credential)
        .where(fixmedins_credential.c.paasid == paasid)
        .values(vali_flag="0", revoked_at=at)
    )


def mark_rotated(conn: Connection, paasid: str, *, successor: str, expires_at: datetime) -> None:
    conn.execute(
        update(fixmedins_credential)
        .where(fixmedins_credential.c.paasid == paasid)
        .values(rotated_to=successor, expires_at=expires_at)
    )


def add_refusals(conn: Connection, paasid: str, count: int, at: datetime) -> None:
    conn.execute(
        update(fixmedins_credential)
        .where(fixmedins_credential.c.paasid == paasid)
        .values(refused_count=fixmedins_credential.c.refused_count + count, last_refused_at=at)
    )


def bump_generation(conn: Connection) -> None:
    """Change the credential generation (in the caller's transaction: the caches of every
    process see the new value once it commits)."""
    bump = (
        update(seq_counter)
        .where(seq_counter.c.name == GENERATION)
        .values(last_value=seq_counter.c.last_value + 1)
    )
    if conn.execute(bump).rowcount == 0:
        try:
            with conn.begin_nested():
                conn.execute(insert(seq_counter).values(name=GENERATION, last_value=1))
        except IntegrityError:  # created by a concurrent writer: bump it behind that one
            conn.execute(bump)
    row_cache.forget(conn, _GENERATION_KEY)  # the SQLite writer's copy (`generation`)


#: read per gateway call: prepared once per dialect, run on the DBAPI cursor (`storage.prepared`)
_GENERATION = Prepared(select(seq_counter.c.last_value).where(seq_counter.c.name == GENERATION))
#: the generation's key in the row cache a connection carries (`storage.row_cache`)
_GENERATION_KEY = ("seq_counter", GENERATION)


def generation(conn: Connection) -> int:
    """The credential generation. On the SQLite writer's connection it is kept in the writer's
    row cache between transactions — every call's transaction checks it — and kept true as the
    cache's other rows are: `bump_generation` drops it, and another connection's commit empties
    the cache (`row_cache.installed`)."""
    # not `row_cache.row`, which keeps no absent row: a store whose credentials never changed
    # has no generation row, and its 0 is kept too
    cache = row_cache.of(conn)
    if cache is not None:
        kept: int | None = cache.get(_GENERATION_KEY)
        if kept is not None:
            return kept
    row = _GENERATION.first(conn)
    value = 0 if row is None else int(row["last_value"])
    if cache is not None:
        cache.put(_GENERATION_KEY, value)
    return value


def list_public(conn: Connection, *, fixmedins_code: str) -> list[dict[str, Any]]:
    """The institution's credentials, newest first (public columns only)."""
    rows = conn.execute(
        select(*_PUBLIC_COLUMNS)
        .where(fixmedins_credential.c.fixmedins_code == fixmedins_code)
        .order_by(fixmedins_credential.c.created_at.desc(), fixmedins_credential.c.paasid)
    ).mappings()
    return [dict(r) for r in rows]


def credential_status(conn: Connection, paasid: str) -> Row[Any] | None:
    """The credential's digest and flags with its institution's flag (console verification)."""
    return conn.execute(
        select(
            fixmedins_credential.c.fixmedins_code,
            fixmedins_credential.c.secret_sha256,
            fixmedins_credential.c.vali_flag,
            fixmedins_credential.c.expires_at,
            fixmedins.c.vali_flag.label("inst_vali_flag"),
        )
        .join(fixmedins, fixmedins.c.fixmedins_code == fixmedins_credential.c.fixmedins_code)
        .where(fixmedins_credential.c.paasid == paasid)
    ).first()


def credential_with_institution(conn: Connection, paasid: str) -> RowMapping | None:
    """The credential's mode, digest or sealed token and flags beside its institution's whole
    row (the gateway's check: `cred_flag` is the credential's `vali_flag`, `vali_flag` the
    institution's)."""
    return (
        conn.execute(
            select(
                fixmedins_credential.c.auth_mode,
                fixmedins_credential.c.secret_sha256,
                fixmedins_credential.c.token_sealed,
                fixmedins_credential.c.vali_flag.label("cred_flag"),
                fixmedins_credential.c.revoked_at,
                fixmedins_credential.c.expires_at,
                fixmedins,
            )
            .join(
                fixmedins,
                fixmedins.c.fixmedins_code == fixmedins_credential.c.fixmedins_code,
            )
            .where(fixmedins_credential.c.paasid == paasid)
        )
        .mappings()
        .first()
    )
