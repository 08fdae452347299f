"""`yibao export parquet` — the columnar replica as Parquet files for a data platform.

While `yibao serve` runs it owns the replica: the command asks it (through the token in the
replica's lock file) to write the files; on a stopped data directory it opens the replica
itself. Either way the files are pseudonymous, like the replica (docs/feed.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.cli.replica import _call, _is_tidb, _open_offline
from yibao.replica.export import EXPORTABLE, FACT_DAYS, check_request
from yibao.replica.lock import running_owner

app = typer.Typer(
    help="导出 export: the columnar replica as Parquet for a data platform's lake.",
    no_args_is_help=True,
)


@app.command()
def parquet(
    table: str = typer.Option(None, "--table", help="A replica table (see --list)."),
    since: str = typer.Option(None, help="First day, YYYY-MM-DD (fact tables only)."),
    until: str = typer.Option(None, help="Last day, YYYY-MM-DD (fact tables only)."),
    out: Path = typer.Option(None, "--out", help="Directory to write DIR/<table>/… into."),
    list_tables: bool = typer.Option(False, "--list", help="List the tables and exit."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Write one replica table to Parquet: fact tables partitioned by day
    (DIR/setl_fact/setl_date=YYYY-MM-DD/…), the others one file (DIR/<table>/<table>.parquet).

    Example: yibao export parquet --table setl_fact --since 2026-11-01 --until 2026-11-30
    --out /data/lake
    """
    if list_tables:
        listing = Table("table", "partitioned by", "takes --since/--until")
        for name in EXPORTABLE:
            day = FACT_DAYS.get(name)
            listing.add_row(name, day or "—", "yes" if day else "no")
        console.print(listing)
        return
    if not table or out is None:
        fail("需要 --table 和 --out (give --table T and --out DIR; --list shows the tables)")
    cfg = settings()
    with friendly_errors():
        check_request(table, since, until)
        if _is_tidb(cfg):
            fail(
                "TiDB 上请用 TiDB 的导出工具 (on TiDB export with Dumpling/TiCDC to Parquet; "
                "docs/feed.md)"
            )
        target = out.resolve()
        if (owner := running_owner(cfg.data_dir)) is not None:
            params = {"table": table, "out": str(target)}
            params.update({k: v for k, v in (("since", since), ("until", until)) if v})
            report = _call(owner, "POST", "/api/v1/replica/export", params=params)
        else:
            replica = _open_offline(cfg)
            try:
                report = replica.export_parquet(
                    table=table, out_dir=target, since=since, until=until
                ).as_dict()
            finally:
                replica.close()
    if as_json:
        console.print_json(json.dumps(report))
        return
    console.print(
        f"[green]完成 done[/]: {report['rows']} 行 rows → {report['files']} 个文件 files in "
        f"{report['out']} (副本位置 replica at seq {report['applied_seq']})"
    )
