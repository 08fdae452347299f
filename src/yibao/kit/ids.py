"""Identifiers that spread writes on TiDB and stay unique without a database round trip.

An id is a positive 63-bit integer: 5 shard bits on top (the low bits of a counter, bit
reversed, so that consecutive ids land in 32 different key ranges, as TiDB's AUTO_RANDOM(5)
does to avoid a write hotspot on the last Region; reference/htap.md §2.2), then a 58-bit
time-ordered part: milliseconds since 2024-01-01 (38 bits, ~8.7 years) and a 20-bit
per-millisecond sequence. Business ids (mdtrt_id, setl_id) are these numbers as text.
"""

from __future__ import annotations

import threading
import time

_EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
_SEQ_BITS = 20
_TIME_BITS = 38
_SHARD_BITS = 5
_SEQ_MASK = (1 << _SEQ_BITS) - 1


def _reverse5(value: int) -> int:
    out = 0
    for _ in range(_SHARD_BITS):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


class IdGenerator:
    """Thread-safe generator of sharded, unique 63-bit ids for one process.

    `node` (0–31) separates processes that generate ids at once (gateway workers on a
    MySQL-protocol store); it is mixed into the sequence's top bits.
    """

    def __init__(self, node: int = 0) -> None:
        if not 0 <= node < 32:
            raise ValueError("node must be within 0..31")
        self._node = node
        self._lock = threading.Lock()
        self._last_ms = 0
        self._seq = 0
        self._counter = 0

    def next_id(self) -> int:
        with self._lock:
            ms = int(time.time() * 1000) - _EPOCH_MS
            if ms <= self._last_ms:
                ms = self._last_ms
                self._seq += 1
                if self._seq > (_SEQ_MASK >> 5):
                    # Sequence exhausted in this millisecond: borrow the next one.
                    ms += 1
                    self._seq = 0
            else:
                self._seq = 0
            self._last_ms = ms
            self._counter += 1
            shard = _reverse5(self._counter & 31)
            seq = (self._node << (_SEQ_BITS - 5)) | self._seq
            return (
                (shard << (_TIME_BITS + _SEQ_BITS))
                | ((ms & ((1 << _TIME_BITS) - 1)) << _SEQ_BITS)
                | seq
            )

    def next_str(self) -> str:
        return str(self.next_id())


default_ids = IdGenerator()
