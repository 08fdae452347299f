"""Keyed pseudonyms (issue 17): the replica carries `psn_ref` = HMAC-SHA256(key, psn_no), never
`psn_no`; the key is owner-only in the data directory; a replica built with another key is
rebuilt (key rotation)."""

from __future__ import annotations

import hashlib
import hmac
import stat
from datetime import datetime
from pathlib import Path

import pyarrow as pa
from test_store import change, setl_change, setl_row

from yibao.replica import batches, pseudonym, rows
from yibao.replica.pseudonym import Pseudonyms
from yibao.replica.store import ReplicaStore

PSN_NO = "11010000000000012345"


def test_a_pseudonym_is_the_keyed_hmac_and_not_a_plain_hash() -> None:
    key = bytes(range(32))
    refs = Pseudonyms(key)
    expected = hmac.new(key, PSN_NO.encode(), hashlib.sha256).hexdigest()[:32]
    assert refs.ref(PSN_NO) == expected
    assert refs.ref(PSN_NO) != hashlib.sha256(PSN_NO.encode()).hexdigest()[:32]
    assert Pseudonyms(bytes(range(1, 33))).ref(PSN_NO) != expected
    assert refs.ref(None) is None


def test_an_arrow_column_is_mapped_value_by_value() -> None:
    refs = Pseudonyms.ephemeral()
    table = pa.table({"psn_no": ["A", "B", "A", None], "x": [1, 2, 3, 4]})
    out = refs.table(table)
    assert "psn_no" not in out.column_names
    assert out.column("psn_ref").to_pylist() == [refs.ref("A"), refs.ref("B"), refs.ref("A"), None]
    assert out.column("x").to_pylist() == [1, 2, 3, 4]


def test_the_key_file_is_created_owner_only_once_and_rotation_replaces_it(tmp_path: Path) -> None:
    path, created = pseudonym.ensure_key(tmp_path)
    assert created and path == tmp_path / "pseudonym.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = Pseudonyms.for_dir(tmp_path)
    _path, created_again = pseudonym.ensure_key(tmp_path)
    assert not created_again
    assert Pseudonyms.for_dir(tmp_path).key_id == first.key_id
    path.chmod(0o644)
    pseudonym.ensure_key(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rotated = pseudonym.rotate_key(tmp_path)
    assert rotated.key_id != first.key_id
    assert rotated.ref(PSN_NO) != first.ref(PSN_NO)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.key_id not in path.read_text()


def _fill(store: ReplicaStore) -> None:
    psn = rows.psn_payload(
        {"psn_no": PSN_NO, "gend": "1", "brdy": datetime(1980, 5, 17).date()},
        {"insutype": "310", "psn_type": "1101", "psn_insu_stas": "1", "insuplc_admdvs": "110100"},
        assistance=False,
    )
    row = setl_row("S1", "100.00", at=datetime(2024, 6, 3, 9)) | {"psn_no": PSN_NO}
    mdtrt = {
        "mdtrt_id": "M1",
        "psn_no": PSN_NO,
        "fixmedins_code": "H1",
        "insutype": "310",
        "med_type": "11",
        "mdtrt_kind": "1",
        "mdtrt_stas": "1",
        "begntime": datetime(2024, 6, 3, 8),
    }
    store.apply(
        batches.build(
            [
                change(1, rows.PSN, PSN_NO, psn),
                change(2, rows.MDTRT, "M1", rows.mdtrt_payload(mdtrt)),
                setl_change(3, row),
            ]
        )
    )
    store.bulk_append(
        rows.SETL,
        batches.from_payloads(
            rows.SETL,
            [
                rows.setl_payload(
                    setl_row("S2", "50.00", at=datetime(2024, 6, 4, 9)) | {"psn_no": PSN_NO},
                    admdvs="110101",
                    gend="1",
                )
            ],
        ),
    )
    store.refresh_rollups()


def test_the_replica_file_holds_pseudonyms_not_person_numbers(tmp_path: Path) -> None:
    store = ReplicaStore(tmp_path / "replica.duckdb")
    try:
        _fill(store)
        ref = store.pseudonyms.ref(PSN_NO)
        for table in ("psn_dim", "mdtrt_fact", "setl_fact", "agg_year_psn"):
            _seq, names, found = store.query(f"SELECT DISTINCT psn_ref FROM {table}")
            assert "psn_no" not in names and found == [(ref,)], table
        _seq, _n, counted = store.query("SELECT count(DISTINCT psn_key) FROM setl_fact")
        assert counted == [(1,)]
        store.checkpoint()
    finally:
        store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("replica.duckdb*"))
    assert PSN_NO.encode() not in raw
    assert (tmp_path / "pseudonym.key").exists()


def test_a_replica_made_with_another_key_is_not_current(tmp_path: Path) -> None:
    path = tmp_path / "replica.duckdb"
    store = ReplicaStore(path)
    assert store.schema_current()
    store.close()
    reopened = ReplicaStore(path)
    assert reopened.schema_current()
    reopened.close()
    pseudonym.rotate_key(tmp_path)
    rotated = ReplicaStore(path)
    try:
        assert not rotated.schema_current()
    finally:
        rotated.close()
