"""Change-log rows → one Arrow table per entity (a micro-batch).

Within a batch the last change of a key wins (the payload is a full row image), so a batch
applies as "delete every key it names, insert the surviving images that are not deletes".
A key whose first change in the batch is an `insert` (its first image: the writer just
created the row) keeps `op = insert` whatever follows in the batch: the replica cannot hold it
yet, so nothing needs deleting; an insert deleted again within the batch leaves nothing.
Only the columns of `replica.schema` are kept: anything else in a payload is dropped here.
A person stays `psn_no` in these in-memory batches; `ReplicaStore.apply` and `bulk_append`
(the only ways into the DuckDB file) replace it by the keyed pseudonym `psn_ref`
(`replica.pseudonym`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from yibao.replica.schema import BY_ENTITY, Entity
from yibao.storage.changelog import DELETE, INSERT, UPSERT, decode


@dataclass
class Batch:
    """What one DuckDB transaction applies."""

    #: entity → Arrow table (columns: seq, op, payload columns)
    tables: dict[str, pa.Table] = field(default_factory=dict)
    first_seq: int = 0
    last_seq: int = 0
    #: ts_ms of the last change in the batch (its commit time in the row store)
    last_ts_ms: int = 0
    changes: int = 0
    #: changes of entities the replica does not keep (counted, skipped)
    skipped: int = 0

    def __bool__(self) -> bool:
        return self.changes > 0


def _coerce(
    entity: Entity, seq: int, op: str, key: str, payload: Mapping[str, Any]
) -> dict[str, Any]:
    row = {name: payload.get(name) for name in entity.batch_columns}
    row[entity.batch_key] = row.get(entity.batch_key) or key
    row["seq"] = seq
    row["op"] = op
    return row


def build(rows: Iterable[Mapping[str, Any]]) -> Batch:
    """From change-log rows (`seq, entity, op, entity_key, payload, ts_ms`) in seq order."""
    batch = Batch()
    latest: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        seq = int(r["seq"])
        if batch.changes == 0:
            batch.first_seq = seq
        batch.changes += 1
        batch.last_seq = seq
        batch.last_ts_ms = int(r["ts_ms"])
        entity = BY_ENTITY.get(str(r["entity"]))
        if entity is None:
            batch.skipped += 1
            continue
        op = str(r["op"])
        payload = decode(str(r["payload"])) if op != DELETE else {}
        key = str(r["entity_key"])
        by_key = latest.setdefault(entity.entity, {})
        # keep insertion order = seq order of the surviving change
        earlier = by_key.pop(key, None)
        if op == INSERT if earlier is None else earlier["op"] == INSERT:
            if op == DELETE:
                continue  # created and removed within the batch: the replica never sees it
            op = INSERT
        elif op == INSERT:
            op = UPSERT  # the batch had an image of the key before: not new to the replica
        by_key[key] = _coerce(entity, seq, op, key, payload)
    for name, by_key in latest.items():
        entity = BY_ENTITY[name]
        batch.tables[name] = pa.Table.from_pylist(list(by_key.values()), schema=entity.arrow_schema)
    return batch


def from_payloads(
    entity_name: str, payloads: Iterable[Mapping[str, Any]], *, seq: int = 0
) -> pa.Table:
    """An Arrow table of payloads (e.g. built with `replica.rows`), for the bulk path."""
    entity = BY_ENTITY[entity_name]
    rows = [_coerce(entity, seq, UPSERT, str(p.get(entity.batch_key)), p) for p in payloads]
    return pa.Table.from_pylist(rows, schema=entity.arrow_schema)
