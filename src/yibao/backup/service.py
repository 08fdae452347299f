"""`yibao backup DIR` and `yibao restore DIR`.

A backup is a directory: the row store, the columnar replica, the settings and keys of the data
directory, and `manifest.json` naming every file with its size and sha256.

- **SQLite** (online: a running server keeps settling): the SQLite backup API copies the row
  store as of one moment; the replica is copied *before* it, so the replica in a backup is
  never ahead of the row store, and a restored replica only has changes to catch up on.
- **MariaDB/MySQL**: the row store is dumped with `mariadb-dump --single-transaction` (a
  consistent snapshot without locking writers) when the client tools are installed;
  otherwise the command to run is printed and written into the backup's `README.txt`. On
  TiDB, BR is the tool (docs/operations.md); it is documented, not run.
- **Settings and keys**: `yibao.toml`, the `*.key` files (gateway token sealing, print tokens,
  pseudonyms — a row store restored without them cannot open what it sealed) and the
  parameter folders (`policy/`, `risk/`). The backup directory is created owner-only (0700),
  its files 0600: it holds the platform's secrets.

`restore` refuses a data directory that already holds a row store (unless `--force`), checks
every file against the manifest before copying anything, then opens the replica, which
catches up from the restored change log.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from yibao.config import Settings
from yibao.errors import ConfigError, InvalidInput

MANIFEST = "manifest.json"
ROWSTORE_FILE = "yibao.db"
REPLICA_FILE = "replica.duckdb"
MYSQL_DUMP_FILE = "rowstore.sql"
#: data-directory folders of parameter files (policy, risk rules) that a backup carries
CONFIG_DIRS = ("policy", "risk")
FORMAT = 1

#: (what to copy the replica with) — the running server's copy, or None offline
ReplicaCopier = Callable[[Path], int]


class BackupError(ConfigError):
    code = "backup_failed"


@dataclass
class BackupReport:
    directory: str
    backend: str
    files: list[dict[str, Any]] = field(default_factory=list)
    replica_applied_seq: int | None = None
    rowstore_latest_seq: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "directory": self.directory,
            "backend": self.backend,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "files": self.files,
            "replica_applied_seq": self.replica_applied_seq,
            "rowstore_latest_seq": self.rowstore_latest_seq,
            "seconds": round(self.seconds, 3),
            "notes": self.notes,
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _entry(root: Path, path: Path) -> dict[str, Any]:
    os.chmod(path, 0o600)
    return {
        "path": str(path.relative_to(root)),
        "bytes": path.stat().st_size,
        "sha256": _sha256(path),
    }


def _settings_files(data_dir: Path) -> Iterable[Path]:
    for name in ("yibao.toml",):
        if (data_dir / name).is_file():
            yield data_dir / name
    yield from sorted(p for p in data_dir.glob("*.key") if p.is_file())
    for folder in CONFIG_DIRS:
        base = data_dir / folder
        if base.is_dir():
            yield from sorted(p for p in base.rglob("*") if p.is_file())


def _prepare_target(target: Path) -> None:
    if target.exists() and any(target.iterdir()):
        raise InvalidInput(
            f"DIR: 备份目录非空 (the backup directory {target} is not empty; give a new one)"
        )
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o700)


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.db_url).database
    if not database:
        raise BackupError("行存储为内存数据库 (an in-memory row store cannot be backed up)")
    return Path(database)


def _latest_seq_sqlite(path: Path) -> int:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT max(seq) FROM change_log").fetchone()
        return int(row[0] or 0) if row else 0
    finally:
        con.close()


def _mysql_dump_command(settings: Settings, out: Path) -> list[str]:
    url = make_url(settings.db_url)
    tool = shutil.which("mariadb-dump") or shutil.which("mysqldump") or "mariadb-dump"
    command = [
        tool,
        "--single-transaction",
        "--quick",
        "--skip-lock-tables",
        "--hex-blob",
        f"--host={url.host or '127.0.0.1'}",
        f"--port={url.port or 3306}",
        f"--user={url.username or 'root'}",
        f"--result-file={out}",
    ]
    command.append(str(url.database))
    return command


def backup(
    settings: Settings,
    target: Path,
    *,
    replica_copier: ReplicaCopier | None,
    progress: Callable[[str], None] = lambda _step: None,
) -> BackupReport:
    """Write a backup of the data directory of `settings` into `target` (new or empty).

    `replica_copier` copies the replica file consistently (the running server's, through
    its API) and returns the seq it holds; None copies the file itself, which is only
    consistent while no server runs — the caller decides (`cli/backup.py`)."""
    started = time.monotonic()
    target = target.resolve()
    _prepare_target(target)
    data_dir = settings.data_dir.resolve()
    report = BackupReport(
        directory=str(target), backend="sqlite" if settings.is_sqlite else "mysql"
    )

    # 1. the replica first: it must not be ahead of the row store it will be restored with
    replica_path = settings.replica_path.resolve()
    if settings.replica_enabled and (replica_copier is not None or replica_path.exists()):
        progress("副本 replica")
        out = target / REPLICA_FILE
        if replica_copier is not None:
            report.replica_applied_seq = replica_copier(out)
        else:
            shutil.copyfile(replica_path, out)
        report.files.append(_entry(target, out))

    # 2. the row store
    progress("行存储 row store")
    if settings.is_sqlite:
        source_path = _sqlite_path(settings)
        out = target / ROWSTORE_FILE
        source = sqlite3.connect(str(source_path), timeout=30)
        dest = sqlite3.connect(out)
        try:
            source.backup(dest)  # one consistent snapshot, writers keep going
        finally:
            dest.close()
            source.close()
        report.rowstore_latest_seq = _latest_seq_sqlite(out)
        report.files.append(_entry(target, out))
    else:
        out = target / MYSQL_DUMP_FILE
        command = _mysql_dump_command(settings, out)
        if shutil.which(command[0]) is None:
            note = "未安装 mariadb-dump (client tools missing): run " + " ".join(command)
            report.notes.append(note)
            (target / "README.txt").write_text(note + "\n", encoding="utf-8")
        else:
            env = dict(os.environ)
            password = make_url(settings.db_url).password
            if password:
                env["MYSQL_PWD"] = str(password)  # never on the command line
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise BackupError(f"mariadb-dump 失败 (failed): {done.stderr.strip()[:300]}")
            report.files.append(_entry(target, out))

    # 3. settings, keys and parameter files
    progress("设置与密钥 settings and keys")
    for path in _settings_files(data_dir):
        out = target / "settings" / path.relative_to(data_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        report.files.append(_entry(target, out))

    report.seconds = time.monotonic() - started
    manifest = target / MANIFEST
    manifest.write_text(
        json.dumps(report.as_dict(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    os.chmod(manifest, 0o600)
    return report


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.is_file():
        raise InvalidInput(f"DIR: 不是备份目录 (no {MANIFEST} in {source})")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInput(f"DIR: {MANIFEST} 无法读取 (unreadable: {exc})") from None
    if manifest.get("format") != FORMAT:
        raise InvalidInput(
            f"DIR: 备份格式 {manifest.get('format')} 不受支持 (format {FORMAT} only)"
        )
    return manifest


def check_files(source: Path, manifest: dict[str, Any]) -> None:
    """Every file of the manifest present with its size and sha256; nothing is copied before."""
    for entry in manifest.get("files", []):
        path = (source / entry["path"]).resolve()
        if source.resolve() not in path.parents:
            raise InvalidInput(f"manifest: 路径越界 (path outside the backup: {entry['path']})")
        if not path.is_file():
            raise InvalidInput(f"DIR: 缺少文件 (missing file {entry['path']})")
        if path.stat().st_size != entry["bytes"] or _sha256(path) != entry["sha256"]:
            raise InvalidInput(
                f"DIR: 文件已损坏或被改动 (file changed or damaged: {entry['path']})"
            )


def restore(settings: Settings, source: Path, *, force: bool = False) -> dict[str, Any]:
    """Copy a backup into the data directory of `settings` (no server may be running)."""
    source = source.resolve()
    manifest = read_manifest(source)
    check_files(source, manifest)
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    names = {entry["path"] for entry in manifest["files"]}
    if manifest["backend"] == "sqlite":
        if not settings.is_sqlite:
            raise InvalidInput(
                "DIR: 备份来自 SQLite，目标为 MySQL (a SQLite backup restores into a SQLite data "
                "directory; unset YIBAO_DATABASE_URL)"
            )
        rowstore = _sqlite_path(settings)
        if rowstore.exists() and not force:
            raise InvalidInput(
                f"数据目录已有行存储 (the data directory already holds {rowstore}; restore into a "
                "new directory, or pass --force to replace it)"
            )
        for stale in (rowstore, Path(str(rowstore) + "-wal"), Path(str(rowstore) + "-shm")):
            stale.unlink(missing_ok=True)
        shutil.copyfile(source / ROWSTORE_FILE, rowstore)
        os.chmod(rowstore, 0o600)
    elif MYSQL_DUMP_FILE in names:
        url = make_url(settings.db_url)
        tool = shutil.which("mariadb") or shutil.which("mysql")
        if tool is None:
            raise BackupError(
                f"未安装 mariadb 客户端 (client missing): load {source / MYSQL_DUMP_FILE} with "
                f"`mariadb {url.database} < rowstore.sql`"
            )
        env = dict(os.environ)
        if url.password:
            env["MYSQL_PWD"] = str(url.password)
        with (source / MYSQL_DUMP_FILE).open("rb") as dump:
            done = subprocess.run(
                [tool, f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 3306}",
                 f"--user={url.username or 'root'}", str(url.database)],
                stdin=dump, env=env, capture_output=True, check=False,
            )  # fmt: skip
        if done.returncode != 0:
            raise BackupError(f"mariadb 导入失败 (load failed): {done.stderr[:300]!r}")
    replica_target = settings.replica_path.resolve()
    for stale in (replica_target, Path(str(replica_target) + ".wal")):
        stale.unlink(missing_ok=True)
    if REPLICA_FILE in names:
        shutil.copyfile(source / REPLICA_FILE, replica_target)
        os.chmod(replica_target, 0o600)
    restored = 0
    for entry in manifest["files"]:
        path = Path(entry["path"])
        if path.parts[0] != "settings":
            continue
        out = data_dir / Path(*path.parts[1:])
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / path, out)
        os.chmod(out, 0o600)
        restored += 1
    return {
        "data_dir": str(data_dir),
        "backend": manifest["backend"],
        "replica_applied_seq": manifest.get("replica_applied_seq"),
        "rowstore_latest_seq": manifest.get("rowstore_latest_seq"),
        "settings_files": restored,
    }
