"""The audit trail: one `audit_log` record for every console action, sign-in and failed sign-in,
view or export of personal data, and rule, parameter, role or credential change — who
(`actor`, `tenant`, `role`), when (`at`), from where (`address`), why (`purpose`), what
(`action`, `target`, `detail`) and how many records (`records`).

The trail is append-only and hash-chained (docs/audit.md): record n carries `prev_hash` (record
n-1's `row_hash`) and `row_hash = sha256(prev_hash "\\n" canonical(record))`, where `canonical` is
the record's fields as compact JSON with sorted keys (`canonical`). The chain head
(`audit_chain`) is taken under a lock held to commit, so concurrent writers never fork it.
`verify` walks the chain and names the first record that was changed, removed or reordered;
`purge` removes records older than the retention and leaves a purge anchor where `verify`
starts afterwards; `anchor` records the head so that it can be kept outside the database.

`detail` is JSON; personal data in it is masked by the caller (see `masking`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection

from yibao.enrolment.repo import audit as repo
from yibao.errors import InvalidInput
from yibao.kit.clock import fmt_datetime, local_naive_now
from yibao.kit.ids import IdGenerator

#: the fields a record's hash covers, in the canonical serialisation (everything but its
#: position `chain_seq`, which the links themselves order, and the hashes)
HASHED = (
    "audit_id",
    "at",
    "actor",
    "tenant",
    "role",
    "address",
    "purpose",
    "action",
    "target",
    "records",
    "detail",
)
#: column lengths (storage/schema/platform.py): values are cut to them before hashing
_LENGTHS = {
    "actor": 50,
    "tenant": 30,
    "role": 16,
    "address": 64,
    "purpose": 200,
    "action": 50,
    "target": 100,
}
#: the columns `list_entries` filters on by equality
FILTERS = ("actor", "action", "target", "tenant", "role")
GENESIS = repo.GENESIS


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return fmt_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value).__name__}")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The record's canonical serialisation: the HASHED fields as compact JSON, keys sorted,
    `audit_id` as text, `at` as 'YYYY-MM-DD HH:MM:SS', `detail` as the stored JSON text."""
    at = row["at"]
    fields = {name: row.get(name) for name in HASHED}
    fields["audit_id"] = str(row["audit_id"])
    fields["at"] = at.strftime("%Y-%m-%d %H:%M:%S") if isinstance(at, datetime) else str(at)
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + canonical(row)).hexdigest()


def _cut(name: str, value: str | None) -> str | None:
    return None if value is None else value[: _LENGTHS[name]]


def record(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    action: str,
    target: str | None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    tenant: str | None = None,
    role: str | None = None,
    address: str | None = None,
    purpose: str | None = None,
    records: int | None = None,
) -> int:
    """Append one record to the chain in the caller's transaction; returns its `audit_id`.

    `tenant` and `role` are the actor's (a console user's tenant code and role), `address` the
    client address or "cli", `purpose` the stated purpose or case id, `records` how many records
    were viewed, exported or changed."""
    audit_id = ids.next_id()
    seq, prev = repo.advance_head(conn)
    values: dict[str, Any] = {
        "audit_id": audit_id,
        "chain_seq": seq,
        # whole seconds: MySQL DATETIME keeps none, and the hash must survive the round trip
        "at": (at or local_naive_now()).replace(microsecond=0),
        "actor": _cut("actor", actor) or "-",
        "tenant": _cut("tenant", tenant),
        "role": _cut("role", role),
        "address": _cut("address", address),
        "purpose": _cut("purpose", purpose),
        "action": _cut("action", action),
        "target": _cut("target", target),
        "records": records,
        "detail": None if detail is None else orjson.dumps(detail, default=_default).decode(),
        "prev_hash": prev,
    }
    values["row_hash"] = row_hash(prev, values)
    repo.insert_entry(conn, values)
    repo.set_head_hash(conn, values["row_hash"])
    return audit_id


# --------------------------------------------------------------------------- reading


def _decoded(entry: dict[str, Any]) -> dict[str, Any]:
    entry["detail"] = orjson.loads(entry["detail"]) if entry["detail"] else None
    return entry


def list_entries(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    tenant: str | None = None,
    role: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first (by chain position); `since` inclusive, `until` exclusive."""
    rows = repo.list_entries(
        conn,
        filters={
            "actor": actor,
            "action": action,
            "target": target,
            "tenant": tenant,
            "role": role,
        },
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [_decoded(entry) for entry in rows]


def count_entries(
    conn: Connection,
    *,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    tenant: str | None = None,
    role: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    return repo.count_entries(
        conn,
        filters={
            "actor": actor,
            "action": action,
            "target": target,
            "tenant": tenant,
            "role": role,
        },
        since=since,
        until=until,
    )


#: the columns of an export, in order
EXPORT_FIELDS = (
    "chain_seq",
    "audit_id",
    "at",
    "actor",
    "tenant",
    "role",
    "address",
    "purpose",
    "action",
    "target",
    "records",
    "detail",
    "prev_hash",
    "row_hash",
)


def export_entries(
    conn: Connection, *, since: datetime | None, until: datetime | None, batch: int = 2000
) -> Iterator[dict[str, Any]]:
    """The records in [since, until) in chain order, with their hashes (`detail` as the stored
    JSON text, so that an exported record can be re-hashed outside yibao)."""
    offset = 0
    while True:
        rows = repo.list_entries(
            conn,
            filters={},
            since=since,
            until=until,
            limit=batch,
            offset=offset,
            newest_first=False,
        )
        for row in rows:
            yield {name: row[name] for name in EXPORT_FIELDS}
        if len(rows) < batch:
            return
        offset += batch


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What `verify` found: `ok`, how many records it checked from where it started
    (`start_seq`: 0, or the last purge anchor), and the first bad record."""

    ok: bool
    checked: int
    start_seq: int
    head_seq: int
    #: the position and audit_id of the first bad record (None when ok)
    bad_seq: int | None = None
    bad_audit_id: int | None = None
    #: changed | removed | reordered | truncated | anchor
    problem: str | None = None
    message: str = ""


def _bad(start: int, checked: int, head: int, seq: int, audit_id: int | None, problem: str,
         message: str) -> ChainReport:  # fmt: skip
    return ChainReport(False, checked, start, head, seq, audit_id, problem, message)


def verify(conn: Connection) -> ChainReport:
    """Walk the chain from the last purge anchor (or the start) to the head."""
    anchor = repo.latest_anchor(conn, "purge")
    start = 0 if anchor is None else int(anchor["chain_seq"])
    expected_prev = GENESIS if anchor is None else str(anchor["row_hash"])
    head_seq, head_hash = repo.head(conn)
    position = start
    checked = 0
    for row in repo.chain_rows(conn, after_seq=start):
        seq = int(row["chain_seq"])
        audit_id = int(row["audit_id"])
        if seq > head_seq:  # appended after the head was read
            break
        position += 1
        if row["row_hash"] != row_hash(str(row["prev_hash"]), row):
            return _bad(start, checked, head_seq, seq, audit_id, "changed",
                        f"记录 #{seq} (audit_id {audit_id}) 内容被修改 "
                        f"(record #{seq}, audit_id {audit_id}, was changed: its hash does not "
                        "match its content)")  # fmt: skip
        if row["prev_hash"] != expected_prev:
            if seq != position:
                return _bad(start, checked, head_seq, position, audit_id, "removed",
                            f"记录 #{position} 已被删除, 其后为 #{seq} (audit_id {audit_id}) "
                            f"(record #{position} was removed; the chain continues at #{seq}, "
                            f"audit_id {audit_id})")  # fmt: skip
            return _bad(start, checked, head_seq, seq, audit_id, "reordered",
                        f"记录 #{seq} (audit_id {audit_id}) 不接续前一条: 顺序被调换或前一条被"
                        f"替换 (record #{seq}, audit_id {audit_id}, does not follow the one "
                        "before it: records were reordered or the one before was replaced)")  # fmt: skip
        if seq != position:  # links intact but a position skipped: renumbered
            return _bad(start, checked, head_seq, position, audit_id, "reordered",
                        f"记录 #{position} 的位置被改为 #{seq} (audit_id {audit_id}) "
                        f"(record #{position}, audit_id {audit_id}, was renumbered #{seq})")  # fmt: skip
        expected_prev = str(row["row_hash"])
        checked += 1
    if position == head_seq and head_seq > start and expected_prev != head_hash:
        return _bad(start, checked, head_seq, head_seq, None, "changed",
                    f"记录 #{head_seq} 被改写, 与链头哈希不符 (record #{head_seq} was rewritten: "
                    "its hash differs from the chain head's)")  # fmt: skip
    if position != head_seq:
        missing = position + 1
        return _bad(start, checked, head_seq, missing, None, "truncated",
                    f"记录 #{missing} 至 #{head_seq} 已被删除 (records #{missing} to #{head_seq} "
                    f"were removed: the chain head is #{head_seq})")  # fmt: skip
    if head_seq == start:
        return ChainReport(True, 0, start, head_seq,
                           message="审计链完整, 尚无记录 (audit chain intact: no records"
                           + (f" after the purge anchor #{start})" if start else ")"))  # fmt: skip
    return ChainReport(True, checked, start, head_seq,
                       message=f"审计链完整 (audit chain intact): {checked} 条 records "
                       f"#{start + 1}–#{head_seq}")  # fmt: skip


def check_anchor(conn: Connection, anchor: Mapping[str, Any]) -> str | None:
    """None when an exported anchor (`{"chain_seq", "row_hash"}`) agrees with the chain, else
    what disagrees. An anchor at or before the last purge is checked against the purge anchor
    when it names the same position, and otherwise cannot be checked (None)."""
    seq = int(anchor["chain_seq"])
    expected = str(anchor["row_hash"])
    purge = repo.latest_anchor(conn, "purge")
    if purge is not None and seq <= int(purge["chain_seq"]):
        if seq == int(purge["chain_seq"]) and purge["row_hash"] != expected:
            return f"锚点 #{seq} 与清理锚点不符 (anchor #{seq} disagrees with the purge anchor)"
        return None
    if seq == 0:
        return None
    row = repo.entry_at(conn, seq)
    if row is None:
        return f"锚点 #{seq}: 记录已不存在 (anchor #{seq}: the record is gone)"
    if row["row_hash"] != expected:
        return (
            f"锚点 #{seq}: 哈希不符, 链在此处或之前被改写 (anchor #{seq}: hash differs — the "
            "chain was rewritten at or before it)"
        )
    return None


# --------------------------------------------------------------------------- anchors and purge


def anchor(conn: Connection, *, ids: IdGenerator, now: datetime | None = None) -> dict[str, Any]:
    """Record the chain head as an anchor and return it (to be kept outside the database)."""
    seq, digest = repo.head(conn)
    moment = (now or local_naive_now()).replace(microsecond=0)
    values: dict[str, Any] = {
        "anchor_id": ids.next_id(),
        "kind": "anchor",
        "chain_seq": seq,
        "row_hash": digest,
        "at": moment,
        "purged": None,
        "cutoff": None,
    }
    repo.insert_anchor(conn, values)
    return {"chain_seq": seq, "row_hash": digest, "at": fmt_datetime(moment)}


def retention_cutoff(now: datetime, retention_days: int) -> datetime:
    return (now - timedelta(days=retention_days)).replace(microsecond=0)


def purge(
    conn: Connection,
    *,
    ids: IdGenerator,
    actor: str,
    retention_days: int,
    before: datetime | None = None,
    now: datetime | None = None,
    address: str | None = "cli",
) -> dict[str, Any]:
    """Purge the records older than the retention (or than `before`, which may not be later
    than the retention allows) as one prefix of the chain: write a purge anchor with the
    position and hash of the last record to remove, and audit the purge. From that commit on
    `verify` starts at the anchor; the rows themselves are deleted by `delete_purged`, in
    small transactions (a purge interrupted between the two leaves a chain that verifies, and
    the next `delete_purged` finishes it).

    Refuses (InvalidInput) when the chain does not verify: a purge must not destroy the evidence
    of tampering."""
    moment = (now or local_naive_now()).replace(microsecond=0)
    cutoff = retention_cutoff(moment, retention_days)
    if before is not None:
        if before > cutoff:
            raise InvalidInput(
                f"before: 不得晚于保留期限 {fmt_datetime(cutoff)} (records are kept "
                f"{retention_days} days: YIBAO_AUDIT_RETENTION_DAYS)"
            )
        cutoff = before
    report = verify(conn)
    if not report.ok:
        raise InvalidInput(f"审计链校验失败, 拒绝清理 (the chain does not verify; not purging): "
                           f"{report.message}")  # fmt: skip
    head_seq, head_hash = repo.head(conn)
    first_kept = repo.first_seq_from(conn, cutoff)
    last_removed = head_seq if first_kept is None else first_kept - 1
    removed = 0
    if last_removed > report.start_seq:
        last = repo.entry_at(conn, last_removed)
        digest = head_hash if last is None else str(last["row_hash"])
        removed = repo.count_between(conn, after=report.start_seq, upto=last_removed)
        repo.insert_anchor(
            conn,
            {
                "anchor_id": ids.next_id(),
                "kind": "purge",
                "chain_seq": last_removed,
                "row_hash": digest,
                "at": moment,
                "purged": removed,
                "cutoff": cutoff,
            },
        )
    record(
        conn,
        ids=ids,
        actor=actor,
        action="audit.purge",
        target=None,
        detail={"cutoff": cutoff, "upto_seq": last_removed if removed else None},
        records=removed,
        address=address,
        at=moment,
    )
    return {"purged": removed, "cutoff": cutoff, "upto_seq": last_removed if removed else None}


def delete_purged(conn: Connection, *, batch: int = 5000) -> int:
    """Delete up to about `batch` records at or before the latest purge anchor (call it in
    fresh transactions until it answers 0); how many it deleted."""
    anchor_row = repo.latest_anchor(conn, "purge")
    if anchor_row is None:
        return 0
    return repo.delete_upto(conn, int(anchor_row["chain_seq"]), limit=batch)
