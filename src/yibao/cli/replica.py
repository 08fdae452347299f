"""`yibao replica status|rebuild|verify` — the columnar replica.

While `yibao serve` runs it owns the DuckDB file (it holds `<data_dir>/replica.lock`); the
commands then go through its HTTP API (`/api/v1/replica/…`, authorised by the token in the
lock file). On a stopped data directory they open the files themselves. On TiDB the replica
is TiFlash: `status` shows its progress and `rebuild` (re)issues the replica DDL.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.config import Settings
from yibao.feed.publisher import published_position, redact
from yibao.replica import pseudonym, tiflash
from yibao.replica import rebuild as rebuild_mod
from yibao.replica.lock import TOKEN_HEADER, Owner, OwnerLock, running_owner
from yibao.replica.service import Replica, source_engine
from yibao.replica.verify import verify as verify_replica
from yibao.storage import changelog
from yibao.storage.changelog import latest_seq
from yibao.storage.engine import detect_backend, make_engine, make_null_engine
from yibao.storage.tables import an_state, change_log
from yibao.storage.uow import run_transaction

app = typer.Typer(
    help=(
        "列存副本 columnar replica (DuckDB; TiFlash on TiDB): status, rebuild, verify, "
        "trim-log, rotate-pseudonym-key."
    ),
    no_args_is_help=True,
)

PHASES = {
    "start": "准备 preparing",
    "log": "重放变更日志 replaying the change log",
    "fixmedins": "定点机构 institutions",
    "psn": "参保人 persons",
    "mdtrt": "就诊 visits",
    "setl": "结算 settlements",
    "rollups": "汇总表 rollups",
}


def _is_tidb(cfg: Settings) -> bool:
    if cfg.is_sqlite:
        return False
    engine = make_null_engine(cfg.db_url)
    try:
        return detect_backend(engine).is_tidb
    finally:
        engine.dispose()


def _call(owner: Owner, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    if not owner.url:
        fail(
            f"服务进程 pid {owner.pid} 持有副本但未公布地址 (the server holds the replica but "
            "published no address yet; retry in a moment)"
        )
    try:
        response = httpx.request(
            method,
            owner.url + path,
            headers={TOKEN_HEADER: owner.token},
            timeout=600,
            **kwargs,
        )
    except httpx.HTTPError as exc:
        fail(
            f"无法连接服务进程 pid {owner.pid} at {owner.url} ({exc}); is YIBAO_HOST/YIBAO_PORT "
            "what the server listens on?"
        )
    body: dict[str, Any] = response.json()
    if response.status_code >= 400:
        fail(f"{body.get('message', body)}")
    return body


def _print_status(status: dict[str, Any], *, via: str) -> None:
    table = Table(show_header=False, box=None)
    table.add_row("引擎 engine", str(status.get("engine")))
    table.add_row("已应用 applied seq", str(status.get("applied_seq")))
    table.add_row("行存储最新 latest seq", str(status.get("latest_seq")))
    table.add_row("延迟 lag", f"{status.get('lag_rows')} 条 rows / {status.get('lag_ms')} ms")
    if "source" in status:
        table.add_row("来源 filled from", str(status.get("source")))
    if "applier" in status:
        applier = status["applier"]
        table.add_row(
            "应用线程 applier",
            f"{'运行中 running' if applier['running'] else '未运行 stopped'}; "
            f"{applier['batches']} batches, last {applier['last_batch_rows']} rows in "
            f"{applier['last_batch_ms']} ms; errors {applier['errors']}",
        )
    for t in status.get("tables", []):
        table.add_row(
            f"TiFlash {t['table']}",
            f"replicas {t['replica_count']}, available {t['available']}, progress {t['progress']:.0%}",
        )
    table.add_row("经由 via", via)
    console.print(table)


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Applied seq, the row store's latest seq, and the lag in rows and milliseconds."""
    cfg = settings()
    with friendly_errors():
        if _is_tidb(cfg):
            replica = tiflash.TiFlashReplica(cfg)
            try:
                info, via = replica.status(), "TiDB information_schema.tiflash_replica"
            finally:
                replica.close()
        elif (owner := running_owner(cfg.data_dir)) is not None:
            info, via = _call(owner, "GET", "/api/v1/replica/status"), f"server pid {owner.pid}"
        else:
            info, via = _offline_status(cfg), "data directory (no server running)"
    if as_json:
        console.print_json(json.dumps(info))
    else:
        _print_status(info, via=via)


def _offline_status(cfg: Settings) -> dict[str, Any]:
    if not cfg.replica_path.exists():
        engine = source_engine(cfg)
        try:
            with engine.connect() as conn:
                latest = latest_seq(conn)
        finally:
            engine.dispose()
        return {
            "engine": "duckdb",
            "applied_seq": 0,
            "latest_seq": latest,
            "lag_rows": latest,
            "lag_ms": 0,
            "source": "(no replica file yet)",
        }
    replica = _open_offline(cfg)
    try:
        return replica.status()
    finally:
        replica.close()


def _open_offline(cfg: Settings) -> Replica:
    lock = OwnerLock(cfg.data_dir)
    if not lock.acquire():
        fail("副本正被另一进程使用 (another process holds the replica; retry)")
    try:
        return Replica.open(cfg, lock=lock)
    except BaseException:
        lock.release()
        raise


def _progress_bar() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


@app.command()
def rebuild(
    source: str = typer.Option(
        "auto", help="log (replay the change log), tables (read the row-store tables) or auto."
    ),
) -> None:
    """Rebuild the replica from scratch (into a new file, swapped in when complete)."""
    if source not in ("auto", "log", "tables"):
        fail("--source: 应为 auto、log 或 tables", 2)
    cfg = settings()
    with friendly_errors():
        if _is_tidb(cfg):
            replica = tiflash.TiFlashReplica(cfg)
            try:
                for stmt in replica.ensure_replicas():
                    console.print(stmt)
                # the pseudonymised facts the analytics read (replica.pseudo_tables)
                replica.pseudo.rebuild()
                applied = replica.pseudo.catch_up()
                console.print(f"[green]完成 done[/]: an_setl rebuilt, applied seq {applied}")
            finally:
                replica.close()
            return
        owner = running_owner(cfg.data_dir)
        if owner is not None:
            _rebuild_online(owner, source)
        else:
            _rebuild_offline(cfg, source)


def _rebuild_online(owner: Owner, source: str) -> None:
    started = _call(owner, "POST", "/api/v1/replica/rebuild", params={"source": source})
    if not started.get("started"):
        fail("副本已在重建中 (a rebuild is already running)")
    with _progress_bar() as bar:
        task = bar.add_task(PHASES["start"], total=None)
        while True:
            time.sleep(0.3)
            state = _call(owner, "GET", "/api/v1/replica/status")["rebuild"]
            bar.update(
                task,
                description=PHASES.get(state["phase"], state["phase"]),
                completed=state["done"],
                total=state["total"] or None,
            )
            if not state["running"]:
                break
    if state.get("error"):
        fail(f"重建失败 (rebuild failed): {state['error']}")
    console.print(
        f"[green]完成 done[/]: 来源 source {state['source']}, applied seq {state['applied_seq']}"
    )


def _rebuild_offline(cfg: Settings, source: str) -> None:
    lock = OwnerLock(cfg.data_dir)
    if not lock.acquire():
        fail("副本正被另一进程使用 (another process holds the replica; retry)")
    engine = source_engine(cfg)
    try:
        with _progress_bar() as bar:
            tasks: dict[str, Any] = {}

            def progress(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total or None)
                bar.update(tasks[phase], completed=done, total=total or None)

            report = rebuild_mod.build_over(
                engine,
                cfg.replica_path,
                source=source,
                threads=cfg.duckdb_threads,
                memory_limit=cfg.duckdb_memory_limit,
                progress=progress,
            )
    finally:
        engine.dispose()
        lock.release()
    rows = ", ".join(f"{k} {v}" for k, v in report.rows.items())
    console.print(
        f"[green]完成 done[/]: 来源 source {report.source}; applied seq {report.applied_seq}; "
        f"{rows}; {report.seconds:.1f}s"
    )


@app.command("rotate-pseudonym-key")
def rotate_pseudonym_key(
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Replace the key of the persons' pseudonyms (psn_ref) and rebuild the replica with it.

    Every pseudonym changes and the old ones can no longer be linked to anybody (the old key
    is overwritten): saved analyses that quote a psn_ref stop matching. Stop `yibao serve`
    first (it holds the key in memory); the replica is rebuilt here, or by the next start.
    Back the data directory's pseudonym.key up with the rest of the data directory.
    """
    cfg = settings()
    with friendly_errors():
        if running_owner(cfg.data_dir) is not None:
            fail(
                "服务正在运行 (yibao serve holds the replica and the key): stop it, run this "
                "command again, then start the server"
            )
        if not yes and not typer.confirm(
            "轮换假名密钥: 所有 psn_ref 将改变并重建副本 (every psn_ref changes; rebuild). Go on?"
        ):
            fail("已取消 (cancelled)", 1)
        refs = pseudonym.rotate_key(cfg.data_dir)
        console.print(
            f"新密钥 new key written to {pseudonym.key_path(cfg.data_dir)} (0600), "
            f"key id {refs.key_id}"
        )
        if _is_tidb(cfg):
            return
        _rebuild_offline(cfg, "auto")


@app.command()
def verify(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Row counts and amount sums per table equal on both sides (exit 1 otherwise)."""
    cfg = settings()
    with friendly_errors():
        if _is_tidb(cfg):
            console.print("TiDB: TiFlash 由 TiDB 维护一致性 (TiFlash is kept consistent by TiDB)")
            return
        owner = running_owner(cfg.data_dir)
        if owner is not None:
            result = _call(owner, "POST", "/api/v1/replica/verify")
        else:
            replica = _open_offline(cfg)
            try:
                result = verify_replica(
                    replica.store, replica.source, lambda t: replica.applier.catch_up(t)
                ).as_dict()
            finally:
                replica.close()
    if as_json:
        console.print_json(json.dumps(result))
    else:
        table = Table("检查 check", "行存储 row store", "副本 replica", "")
        for check in result["checks"]:
            table.add_row(
                check["name"],
                check["row_store"],
                check["replica"],
                "[green]✓[/]" if check["ok"] else "[red]✗[/]",
            )
        console.print(table)
        console.print(f"seq: replica {result['seq']}, row store {result['row_store_seq']}")
    if not result["ok"]:
        fail("副本与行存储不一致 (the replica differs from the row store)")
    console.print("[green]一致 consistent[/]")


@app.command("trim-log")
def trim_log(
    keep_days: float = typer.Option(
        7.0, help="Keep the changes of the last N days (the replica's recent history)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only say what would be deleted."),
) -> None:
    """Delete old change-log rows that the replica has already applied.

    The change log grows with every settlement (two rows each). Rows older than --keep-days
    and at or below the replica's applied seq are deleted in short transactions, safe while
    `yibao serve` runs. Afterwards `yibao replica rebuild` reads the row-store tables instead
    of replaying the log (it can no longer start from seq 1). On TiDB nothing reads the log,
    so everything older than --keep-days goes.
    """
    if keep_days < 0:
        fail(f"--keep-days: 须 ≥ 0 (at least 0; got {keep_days})", 2)
    cfg = settings()
    with friendly_errors():
        if _is_tidb(cfg):
            # the pseudonymised an_setl is fed from the log (replica.pseudo_tables)
            engine = make_engine(cfg.db_url)
            try:
                with engine.connect() as conn:
                    applied = int(
                        conn.execute(
                            select(func.coalesce(func.max(an_state.c.applied_seq), 0))
                        ).scalar_one()
                    )
                    conn.rollback()
            finally:
                engine.dispose()
            via = "TiDB an_setl (the pseudonymised facts TiFlash serves)"
        elif (owner := running_owner(cfg.data_dir)) is not None:
            status = _call(owner, "GET", "/api/v1/replica/status")
            applied, via = int(status["applied_seq"]), f"server pid {owner.pid}"
        elif cfg.replica_path.exists():
            replica = _open_offline(cfg)
            try:
                applied, via = replica.store.applied_seq, "replica file"
            finally:
                replica.close()
        else:
            fail(
                "还没有副本文件, 日志不能删 (no replica yet: the log is all it has; "
                "start `yibao serve` or run `yibao replica rebuild` first)"
            )
        if cfg.feed_url:
            # the change feed (docs/feed.md) still needs what the stream does not hold yet
            try:
                published = published_position(cfg.feed_url, cfg.feed_stream)
            except Exception as exc:
                fail(
                    f"变更订阅位置未知 (the change feed's position is unknown: {redact(cfg.feed_url)} "
                    f"unreachable, {type(exc).__name__}); trim when NATS is back, or unset "
                    "YIBAO_FEED_URL if the feed is retired"
                )
            applied = published if applied is None else min(applied, published)
            via += f"; 订阅已发布 feed published seq {published}"
        before_ms = int((time.time() - keep_days * 86_400) * 1000)
        engine = make_engine(cfg.db_url, synchronous=cfg.sqlite_synchronous)
        try:
            with engine.connect() as conn:
                latest = latest_seq(conn)
                upto = latest if applied is None else min(applied, latest)
                count = conn.execute(
                    select(func.count())
                    .select_from(change_log)
                    .where(change_log.c.seq <= upto, change_log.c.ts_ms < before_ms)
                ).scalar_one()
                conn.rollback()
            console.print(
                f"副本已应用 applied seq {applied if applied is not None else '-'} ({via}); "
                f"可删 deletable: {count:,} 条 rows older than {keep_days:g} days, up to seq {upto}"
            )
            if dry_run or not count:
                return
            deleted = 0
            with _progress_bar() as bar:
                task = bar.add_task("删除旧变更 deleting old changes", total=count)
                while True:
                    n = run_transaction(
                        engine, lambda c: changelog.trim(c, upto_seq=upto, before_ms=before_ms)
                    )
                    if not n:
                        break
                    deleted += n
                    bar.update(task, completed=min(deleted, count))
        finally:
            engine.dispose()
    console.print(
        f"[green]完成 done[/]: {deleted:,} 条 rows deleted; a rebuild now reads the tables"
    )
