"""What a bulk-load worker hands the writer for one chunk (`ChunkRows`): the row-store rows
as tuples of at-rest values (`yibao.simulate.row_shapes`), or the path of the spool they went
into (`yibao.simulate.spool`), the replica's Arrow tables, the chunk's persons' final rows
and its counts. Built by `yibao.simulate.settle_rows.Settler.run`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyarrow as pa

from yibao.simulate.row_shapes import payload_schema


@dataclass
class ChunkRows:
    mdtrt: list[tuple[Any, ...]] = field(default_factory=list)
    diag: list[tuple[Any, ...]] = field(default_factory=list)
    #: full rows (`FEE_DETAIL_COLUMNS`), or compact ones (`FEE_LINE_COLUMNS`) when `compact`
    fee_detail: list[tuple[Any, ...]] = field(default_factory=list)
    #: compact rows' shapes (`FEE_SHAPE_COLUMNS` after the shape number), each once a chunk
    fee_shape: list[tuple[Any, ...]] = field(default_factory=list)
    compact: bool = False
    setl: list[tuple[Any, ...]] = field(default_factory=list)
    setl_fund: list[tuple[Any, ...]] = field(default_factory=list)
    #: replica payloads by entity (`yibao.replica.rows`) as tuples in the replica's column
    #: order, each key once in its final state; turned into Arrow tables by `seal()` before
    #: the chunk leaves the worker
    payloads: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    replica: dict[str, pa.Table] = field(default_factory=dict)
    #: psn_no → (final balance, {(year, acc_key): amount}); when `compact`, the same as rows
    #: for the spool instead: `psn_balc` (psn_no, insutype, balc in fen) and `psn_accum`
    #: (psn_no, year, acc_key, amount in fen), merged with the chunk
    persons: dict[str, tuple[Decimal, dict[tuple[int, str], Decimal]]] = field(default_factory=dict)
    psn_balc: list[tuple[Any, ...]] = field(default_factory=list)
    psn_accum: list[tuple[Any, ...]] = field(default_factory=list)
    settlements: int = 0
    reversals: int = 0
    refused: int = 0
    unsettled: int = 0
    unsettled_visits: set[int] = field(default_factory=set)
    #: the chunk's row-store rows spooled to this SQLite file (`yibao.simulate.spool`) —
    #: the row lists above are then empty
    spool: str | None = None
    refusals: list[str] = field(default_factory=list)
    lines: int = 0
    #: shape numbers already in `fee_shape` (worker side only: emptied by `seal()`)
    shapes_seen: set[int] = field(default_factory=set)

    def seal(self) -> None:
        """Payloads → Arrow tables (in the worker: the writer process only appends them).
        Without the change-log columns (`seq`, `op`): `ReplicaStore.bulk_append` fills them."""
        self.replica = {}
        for name, rows in self.payloads.items():
            if rows:
                schema = payload_schema(name)
                self.replica[name] = pa.Table.from_arrays(
                    [
                        pa.array(col, type=f.type)
                        for col, f in zip(zip(*rows, strict=True), schema, strict=True)
                    ],
                    schema=schema,
                )
        self.payloads = {}
        self.shapes_seen = set()
