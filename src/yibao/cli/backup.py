"""`yibao backup DIR` and `yibao restore DIR` (docs/operations.md, "Backup and restore")."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from yibao.backup import service
from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.cli.replica import _call, _open_offline
from yibao.replica.lock import OwnerLock, running_owner


def register(app: typer.Typer) -> None:
    @app.command()
    def backup(
        directory: Path = typer.Argument(..., help="A new (or empty) directory for the backup."),
        as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON."),
    ) -> None:
        """Back up the data directory online: row store, columnar replica, settings and keys.

        A running server keeps settling meanwhile (SQLite's backup API takes one consistent
        snapshot; the replica is copied first, so it is never ahead of the row store). On
        MariaDB/MySQL the row store is dumped with mariadb-dump --single-transaction. The
        backup holds the platform's keys: keep it as safe as the data directory (it is 0700).
        Restore with `yibao restore DIR` into a stopped data directory.
        """
        cfg = settings()
        with friendly_errors():
            owner = running_owner(cfg.data_dir)
            copier: service.ReplicaCopier | None = None
            lock: OwnerLock | None = None
            if owner is not None:

                def copier(out: Path) -> int:
                    answer = _call(
                        owner, "POST", "/api/v1/replica/backup", params={"out": str(out)}
                    )
                    return int(answer["applied_seq"])

            else:
                lock = OwnerLock(cfg.data_dir)  # no server may start while the file is copied
                if not lock.acquire():
                    fail("副本正被另一进程使用 (another process holds the replica; retry)")
            try:
                report = service.backup(
                    cfg,
                    directory,
                    replica_copier=copier,
                    progress=lambda step: console.print(f"· {step}"),
                )
            finally:
                if lock is not None:
                    lock.release()
        if as_json:
            console.print_json(json.dumps(report.as_dict()))
            return
        for note in report.notes:
            console.print(f"[yellow]注意 note[/]: {note}")
        console.print(
            f"[green]完成 done[/]: {len(report.files)} 个文件 files in {report.directory} "
            f"({report.seconds:.1f}s; 行存储 row store seq {report.rowstore_latest_seq}, "
            f"副本 replica seq {report.replica_applied_seq})"
        )

    @app.command()
    def restore(
        directory: Path = typer.Argument(..., help="A directory written by `yibao backup`."),
        force: bool = typer.Option(False, "--force", help="Replace an existing row store."),
    ) -> None:
        """Restore a backup into the data directory (YIBAO_DATA_DIR); stop `yibao serve` first.

        Every file is checked against the backup's manifest (size and sha256) before anything
        is copied; then the replica catches up from the restored change log. Check the result
        with `yibao replica verify`.
        """
        cfg = settings()
        with friendly_errors():
            if running_owner(cfg.data_dir) is not None:
                fail("服务正在运行 (a server is running on this data directory: stop it first)")
            result = service.restore(cfg, directory, force=force)
            if cfg.replica_enabled:
                replica = _open_offline(cfg)
                try:
                    result["replica_caught_up_to"] = replica.applier.catch_up()
                finally:
                    replica.close()
        console.print(
            f"[green]已恢复 restored[/] into {result['data_dir']} ({result['backend']}, "
            f"{result['settings_files']} 个设置文件 settings files). Next: `yibao replica verify`, "
            "then `yibao serve`."
        )
