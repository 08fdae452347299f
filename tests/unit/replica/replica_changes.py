"""Change-log rows as the applier reads them (`storage.changelog.read_after`), and a batch's
table as the store sees it, for the replica's unit tests."""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from yibao.replica import batches
from yibao.replica.schema import PSN_REF
from yibao.storage.changelog import encode


def change(seq: int, entity: str, key: str, payload: dict, op: str = "upsert") -> dict:
    """One change-log row; its `ts_ms` follows its seq."""
    return {
        "seq": seq,
        "entity": entity,
        "op": op,
        "entity_key": key,
        "payload": encode(payload),
        "ts_ms": 1_700_000_000_000 + seq,
    }


def entity_table(changes: Iterable[dict], entity: str) -> pa.Table:
    """The batch's table of `entity` with `psn_no` named `psn_ref`, as `ReplicaStore.apply`
    hands it on (the person number left readable: no key needed)."""
    table = batches.build(changes).tables[entity]
    return table.rename_columns([PSN_REF if n == "psn_no" else n for n in table.column_names])
