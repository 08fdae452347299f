"""The audit chain's canonical serialisation is a contract: records hashed today must verify
after any upgrade, and an export must be re-checkable outside yibao (docs/audit.md)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from yibao.enrolment import audit

ROW = {
    "audit_id": 123456789012345678,
    "chain_seq": 7,
    "at": datetime(2026, 12, 6, 9, 30, 15),
    "actor": "aud",
    "tenant": "agency",
    "role": "auditor",
    "address": "10.1.2.3",
    "purpose": None,
    "action": "psn.unmask",
    "target": "P1",
    "records": 1,
    "detail": '{"fields":["certno"]}',
}


def test_canonical_form_is_sorted_compact_json_of_the_hashed_fields() -> None:
    assert audit.canonical(ROW) == (
        b'{"action":"psn.unmask","actor":"aud","address":"10.1.2.3","at":"2026-12-06 09:30:15",'
        b'"audit_id":"123456789012345678","detail":"{\\"fields\\":[\\"certno\\"]}","purpose":null,'
        b'"records":1,"role":"auditor","target":"P1","tenant":"agency"}'
    )


def test_row_hash_is_sha256_of_prev_newline_canonical() -> None:
    prev = "ab" * 32
    expected = hashlib.sha256(prev.encode() + b"\n" + audit.canonical(ROW)).hexdigest()
    assert audit.row_hash(prev, ROW) == expected


def test_the_position_is_not_hashed_but_every_field_is() -> None:
    prev = audit.GENESIS
    base = audit.row_hash(prev, ROW)
    assert audit.row_hash(prev, {**ROW, "chain_seq": 8}) == base
    for name, value in [("actor", "x"), ("records", 2), ("purpose", "p"), ("detail", "{}"),
                        ("at", datetime(2026, 12, 6, 9, 30, 16)), ("tenant", None)]:  # fmt: skip
        assert audit.row_hash(prev, {**ROW, name: value}) != base, name
    assert audit.row_hash("0" * 63 + "1", ROW) != base
