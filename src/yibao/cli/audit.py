"""`yibao audit …` — the tamper-evident audit trail (docs/audit.md): verify the hash chain,
export a period, take an anchor of the chain head, purge what is past the retention."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import typer

from yibao.cli.common import console, err_console, fail, friendly_errors, settings
from yibao.enrolment import audit
from yibao.interface.console.audit import render
from yibao.kit.clock import fmt_datetime, parse_datetime
from yibao.kit.files import write_private
from yibao.runtime import Platform, open_platform

app = typer.Typer(
    help=(
        "审计日志 the tamper-evident audit trail: `verify` the hash chain (exit 0 intact, 1 "
        "naming the first changed, removed or reordered record), `export` a period as CSV or "
        "JSON, `anchor` the chain head to a file kept elsewhere, `purge` records past the "
        "retention (YIBAO_AUDIT_RETENTION_DAYS, 180 days by default). See docs/audit.md."
    ),
    no_args_is_help=True,
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


@contextmanager
def _platform() -> Iterator[Platform]:
    cfg = settings()
    with friendly_errors():
        platform = open_platform(cfg)
        try:
            yield platform
        finally:
            platform.close()


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        fail(
            f"--{name}: 时间格式应为 yyyy-MM-dd 或 yyyy-MM-dd HH:mm:ss "
            f"(expected a date or a datetime): '{value}'"
        )


def _anchors(path: Path) -> list[dict[str, Any]]:
    """The anchors exported by `yibao audit anchor` (one JSON object a line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        fail(f"--anchors: 无法读取 '{path}' (cannot read the anchors file): {exc.strerror}")
    found = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
            found.append({"chain_seq": int(item["chain_seq"]), "row_hash": str(item["row_hash"])})
        except (ValueError, KeyError, TypeError):
            fail(f"--anchors: 第 {n} 行不是锚点 (line {n} is not an anchor written by `yibao audit anchor`)")  # fmt: skip
    return found


@app.command("verify")
def verify(
    anchors: Path | None = typer.Option(
        None,
        "--anchors",
        help="also check the anchors exported earlier by `yibao audit anchor --out FILE`: a "
        "chain rewritten consistently (hashes recomputed) shows only against them",
    ),
) -> None:
    """Walk the hash chain from the last purge anchor to the head.

    Exit 0 when intact; exit 1 naming the first record that was changed, removed or reordered
    (its position #n and audit_id), or an exported anchor the chain no longer matches.
    """
    wanted = _anchors(anchors) if anchors is not None else []
    with _platform() as platform, friendly_errors(), platform.db.read() as conn:
        report = audit.verify(conn)
        problems = [p for p in (audit.check_anchor(conn, a) for a in wanted) if p]
    if not report.ok:
        err_console.print(f"[bold red]审计链被篡改 audit chain broken[/] {report.message}",
                          highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)
    if problems:
        for problem in problems:
            err_console.print(f"[bold red]锚点不符 anchor mismatch[/] {problem}", highlight=False)
        raise typer.Exit(1)
    console.print(f"[green]✓[/] {report.message}", highlight=False)
    if wanted:
        console.print(f"[green]✓[/] {len(wanted)} 个锚点一致 (anchors agree)", highlight=False)


@app.command("export")
def export(
    since: str = typer.Option(..., "--since", help="from this time (inclusive): yyyy-MM-dd[ HH:mm:ss]"),
    until: str = typer.Option(..., "--until", help="to this time (exclusive): yyyy-MM-dd[ HH:mm:ss]"),
    fmt: str = typer.Option("csv", "--format", help="csv | json"),
    out: Path | None = typer.Option(None, "--out", help="write to this file (owner-only) instead of standard output"),
) -> None:  # fmt: skip
    """Export the records of [since, until) in chain order, with their hashes (so a reader can
    re-check the chain outside yibao). The export is itself audited (`audit.export`)."""
    start, end = _moment(since, "since"), _moment(until, "until")
    if fmt not in ("csv", "json"):
        fail(f"--format: 应为 csv 或 json '{fmt}' (expected csv or json)")
    if start is not None and end is not None and start >= end:
        fail("--until: 应晚于 --since (until must be after since)")
    with _platform() as platform, friendly_errors():
        with platform.db.read() as conn:
            rows = list(audit.export_entries(conn, since=start, until=end))
        platform.db.writer.run_sync(
            lambda conn: audit.record(
                conn,
                ids=platform.ids,
                actor=_actor(),
                action="audit.export",
                target=None,
                detail={"since": start, "until": end, "format": fmt},
                address="cli",
                records=len(rows),
            )
        )
    text = render(rows, fmt)
    if out is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_private(out, text)
        err_console.print(f"{len(rows)} 条 records → {out}", highlight=False)


@app.command("anchor")
def anchor(
    out: Path | None = typer.Option(
        None,
        "--out",
        help="append the anchor (one JSON line) to this file — keep it off this machine "
        "(another host, write-once storage); `audit verify --anchors FILE` checks them",
    ),
) -> None:
    """Record the chain head (position and hash) as an anchor and print it. Run it
    periodically (cron, e.g. hourly) and keep the output elsewhere."""
    with _platform() as platform, friendly_errors():
        taken = platform.db.writer.run_sync(lambda conn: audit.anchor(conn, ids=platform.ids))
    line = orjson.dumps(taken).decode()
    if out is not None:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)
    console.print(line, highlight=False, soft_wrap=True)


@app.command("purge")
def purge(
    before: str | None = typer.Option(
        None,
        "--before",
        help="remove records before this time (default: now − YIBAO_AUDIT_RETENTION_DAYS); "
        "never later than the retention allows",
    ),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
) -> None:
    """Remove the records older than the retention as one prefix of the chain, leaving a purge
    anchor (position and hash of the last removed record) so that `audit verify` still passes.
    Refused when the chain does not verify. The purge itself is audited (`audit.purge`)."""
    cutoff = _moment(before, "before")
    cfg = settings()
    if not yes and not typer.confirm(
        f"清理 {cfg.audit_retention_days} 天前的审计记录? (purge audit records past the retention?)"
    ):
        raise typer.Exit(1)
    with _platform() as platform, friendly_errors():
        done = platform.db.writer.run_sync(
            lambda conn: audit.purge(
                conn,
                ids=platform.ids,
                actor=_actor(),
                retention_days=platform.settings.audit_retention_days,
                before=cutoff,
            )
        )
        # the anchor is committed: delete the purged rows in small transactions
        while platform.db.writer.run_sync(lambda conn: audit.delete_purged(conn)):
            pass
    console.print(
        f"[green]已清理 purged[/] {done['purged']} 条 records before {fmt_datetime(done['cutoff'])}"
        + (f"; 清理锚点 purge anchor at #{done['upto_seq']}" if done["upto_seq"] else ""),
        highlight=False,
    )
