"""`yibao backup` under load and `yibao restore`: the restored data directory is one
consistent moment — its replica verifies against its row store, its settlement sums are the
row store's at that moment — and a damaged backup is refused before anything is copied."""

from __future__ import annotations

import json
import stat
import threading
from decimal import Decimal
from pathlib import Path

import factories
import pytest
from sqlalchemy import Engine, func, select

from yibao.backup import service
from yibao.config import Settings
from yibao.errors import InvalidInput
from yibao.replica.service import Replica
from yibao.replica.verify import verify
from yibao.storage.engine import make_engine
from yibao.storage.tables import setl


def _sums(engine: Engine) -> tuple[int, Decimal]:
    with engine.connect() as conn:
        count, total = conn.execute(select(func.count(), func.sum(setl.c.medfee_sumamt))).one()
    return int(count), Decimal(total or 0)


def _restored_settings(rs_settings: Settings, target: Path) -> Settings:
    update: dict[str, object] = {"data_dir": target}
    if rs_settings.is_sqlite:
        update["database_url"] = None  # the restored row store lives in the new directory
    return rs_settings.model_copy(update=update)


def test_backup_under_load_restores_to_one_consistent_moment(
    rs_settings: Settings, rs_engine: Engine, seeded: dict, tmp_path: Path
) -> None:
    (rs_settings.data_dir / "yibao.toml").write_text('timezone = "Asia/Shanghai"\n')
    (rs_settings.data_dir / "gateway-token.key").write_bytes(b"k" * 32)
    replica = Replica.open(rs_settings)
    replica.start()
    stop = threading.Event()
    written = [0]

    # the load writes through its own engine (a SQLite writer engine pools one connection:
    # shared with the test's reads, back-to-back writes could starve them)
    writer = make_engine(rs_settings.db_url)

    def load() -> None:
        while not stop.is_set():
            with writer.begin() as conn:
                factories.settlement(
                    conn, fixmedins_code="H11010100001", psn_no=seeded["employee"]["psn_no"],
                    medfee=Decimal("12.34"),
                )  # fmt: skip
            written[0] += 1
            stop.wait(0.002)  # a settling city, not a tight loop: let the backup's reads in

    loader = threading.Thread(target=load)
    loader.start()
    try:
        while written[0] < 5:
            threading.Event().wait(0.01)
        before = _sums(rs_engine)
        report = service.backup(
            rs_settings, tmp_path / "backup", replica_copier=replica.store.copy_to
        )
        at_end = written[0]
        while written[0] <= at_end and loader.is_alive():  # one more settlement after it
            threading.Event().wait(0.01)
        after = _sums(rs_engine)
    finally:
        stop.set()
        loader.join()
        writer.dispose()
        replica.close()
    assert after[0] > before[0], "the load kept writing around the backup"

    backup_dir = tmp_path / "backup"
    assert stat.S_IMODE(backup_dir.stat().st_mode) == 0o700
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    paths = {f["path"] for f in manifest["files"]}
    assert {"replica.duckdb", "settings/yibao.toml", "settings/gateway-token.key"} <= paths
    assert manifest["replica_applied_seq"] is not None

    restored = _restored_settings(rs_settings, tmp_path / "restored")
    result = service.restore(restored, backup_dir)
    # the settings and keys, the replica's pseudonym key among them (a restored replica must
    # keep the same pseudonyms)
    assert result["settings_files"] == len([p for p in paths if p.startswith("settings/")])
    assert "settings/pseudonym.key" in paths
    assert (tmp_path / "restored" / "pseudonym.key").read_bytes() == (
        rs_settings.data_dir / "pseudonym.key"
    ).read_bytes()
    assert (tmp_path / "restored" / "gateway-token.key").read_bytes() == b"k" * 32
    engine = make_engine(restored.db_url)
    try:
        count, total = _sums(engine)
        assert before[0] <= count <= after[0]  # one moment taken during the load
        assert total == Decimal("12.34") * (count - 4) + sum(
            (Decimal("123.45"), Decimal("5000.00"), Decimal("88.80"), Decimal("-123.45"))
        )
        again = Replica.open(restored)
        try:
            report_verify = verify(
                again.store, again.source, lambda target: again.applier.catch_up(target)
            )
        finally:
            again.close()
        assert report_verify.ok, report_verify.as_dict()
    finally:
        engine.dispose()
    assert report.files


def test_a_damaged_backup_is_refused_before_anything_is_copied(
    rs_settings: Settings, seeded: dict, tmp_path: Path
) -> None:
    service.backup(rs_settings, tmp_path / "b", replica_copier=None)
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    victim = tmp_path / "b" / manifest["files"][-1]["path"]
    victim.write_bytes(victim.read_bytes() + b"x")
    target = _restored_settings(rs_settings, tmp_path / "r")
    with pytest.raises(InvalidInput, match="changed or damaged"):
        service.restore(target, tmp_path / "b")
    assert not (tmp_path / "r" / "yibao.db").exists()


def test_backup_into_a_non_empty_directory_is_refused(
    rs_settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(InvalidInput, match="not empty"):
        service.backup(rs_settings, tmp_path / "busy", replica_copier=None)
