"""`yibao regions …` — the pooling regions yibao hosts and the monthly 异地就医 inter-region
clearing; `yibao enrol remote-registration …` — 异地就医备案 (register, list, show, revoke).
Every change is audited with the actor `cli:<os user>`. docs/policy.md, "Regions and 异地就医".
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy import Connection

from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.enrolment import remote
from yibao.kit.clock import local_naive_now, parse_date
from yibao.kit.jsonx import dumps
from yibao.runtime import Platform, open_platform
from yibao.settlement import inter_region

T = TypeVar("T")

app = typer.Typer(
    help="统筹区 the pooling regions yibao hosts and their 异地就医 clearing.",
    no_args_is_help=True,
)
remote_app = typer.Typer(
    help=(
        "异地就医备案: register a person for care outside the insured region (long-term "
        "residence or temporary travel). Non-emergency 异地 care needs one valid on the day."
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


def _write(fn: Callable[[Platform, Connection], T]) -> T:
    with _platform() as platform, friendly_errors():
        return platform.db.writer.run_sync(lambda conn: fn(platform, conn))


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        fail(f"--{name}: 日期格式应为 yyyy-MM-dd (expected yyyy-MM-dd): '{value}'")


def _show(row: dict[str, Any]) -> None:
    for key, value in row.items():
        console.print(f"{key}: {'' if value is None else value}", highlight=False)


# -- regions ------------------------------------------------------------------------------------


@app.command("list")
def regions_list(
    on: str | None = typer.Option(None, "--on", help="valid on this day (default today)"),
) -> None:
    """The hosted pooling regions: admdvs, name, the district prefixes each covers, version."""
    day = _date(on, "on") or local_naive_now().date()
    with _platform() as platform:
        table = Table("admdvs", "name", "covers", "version", "[remote] 未备案")
        seen: set[str] = set()
        for v in platform.book.versions:
            if v.admdvs in seen or not v.valid_on(day):
                continue
            seen.add(v.admdvs)
            rule = v.remote
            unreg = (
                f"reduce −{rule.unregistered_ratio_cut * 100:f}%"
                if rule.unregistered == "reduce"
                else "refuse"
            )
            table.add_row(v.admdvs, v.name, ",".join(v.covers), v.version, unreg)
        console.print(table)


@app.command("clearing")
def regions_clearing(
    month: str = typer.Option(..., "--month", help="YYYY-MM, e.g. 2024-05"),
    as_json: bool = typer.Option(False, "--json", help="the whole report as JSON"),
) -> None:
    """异地就医 monthly clearing: what each insured region owes each region of treatment
    (settlements − reversals of the month, by fund, personal account 310200 included), and
    each region's receivable, liability and net. Same figures as GET
    /api/v1/clearing/inter-region."""
    with _platform() as platform, friendly_errors(), platform.db.read() as conn:
        report = inter_region.report(conn, platform.book, month=month)
    if as_json:
        console.print(dumps(report).decode(), highlight=False, soft_wrap=True)
        return
    pairs = Table(
        "就医地 treatment", "参保地 insured", "结算", "冲销", "医疗费总额", "应付 owed", "by fund"
    )
    for item in report["receivables"]:
        funds = "; ".join(f"{f['fund_pay_type']} {f['net']}" for f in item["funds"])
        pairs.add_row(
            item["treatment_admdvs"],
            item["insured_admdvs"],
            str(item["setl_cnt"]),
            str(item["revs_cnt"]),
            str(item["medfee_sumamt"]),
            str(item["owed"]),
            funds,
        )
    console.print(f"异地就医清算 {report['month']}", highlight=False)
    console.print(pairs)
    books = Table("统筹区 region", "name", "应收 receivable", "应付 liability", "net")
    for g in report["regions"]:
        books.add_row(
            g["admdvs"], g["name"], str(g["receivable"]), str(g["liability"]), str(g["net"])
        )
    console.print(books)
    if not report["balanced"]:
        fail("按基金合计与结算合计不一致 (by-fund and bill totals disagree): report this")


# -- 异地就医备案 ---------------------------------------------------------------------------------


@remote_app.command("add")
def remote_add(
    psn_no: str = typer.Argument(..., help="人员编号"),
    area: str = typer.Option(
        ..., "--area", help="就医地医保区划 mdtrt_area_admdvs: the region (or a district of it)"
    ),
    reg_type: str = typer.Option(
        ..., "--type", help="long_term 异地长期居住 | temporary 临时外出就医 (needs --until)"
    ),
    since: str = typer.Option(..., "--from", help="begndate yyyy-MM-dd"),
    until: str | None = typer.Option(None, "--until", help="enddate yyyy-MM-dd (inclusive)"),
    insutype: str | None = typer.Option(None, "--insutype", help="default: every insurance"),
    tel: str | None = typer.Option(None, "--tel"),
    addr: str | None = typer.Option(None, "--addr", help="address at the place of treatment"),
    memo: str | None = typer.Option(None, "--memo"),
) -> None:
    """Register a person for 异地就医; prints the registration (remote_reg_id)."""
    begndate = _date(since, "from")
    assert begndate is not None
    row = _write(
        lambda p, conn: remote.register(
            conn,
            ids=p.ids,
            actor=_actor(),
            psn_no=psn_no,
            mdtrt_area_admdvs=area,
            reg_type=reg_type,
            begndate=begndate,
            enddate=_date(until, "until"),
            insutype=insutype,
            tel=tel,
            addr=addr,
            memo=memo,
        )
    )
    _show(row)


@remote_app.command("list")
def remote_list(
    psn_no: str | None = typer.Option(None, "--psn-no"),
    area: str | None = typer.Option(None, "--area", help="mdtrt_area_admdvs"),
    insured: str | None = typer.Option(None, "--insured", help="insuplc_admdvs"),
    on: str | None = typer.Option(None, "--on", help="valid on this day"),
    revoked: bool = typer.Option(False, "--revoked", help="include revoked registrations"),
    limit: int = typer.Option(100, "--limit", min=1, max=1000),
) -> None:
    """List registrations (newest first)."""
    with _platform() as platform, friendly_errors(), platform.db.read() as conn:
        total, rows = remote.find(
            conn,
            psn_no=psn_no,
            mdtrt_area_admdvs=area,
            insuplc_admdvs=insured,
            active_on=_date(on, "on"),
            include_revoked=revoked,
            limit=limit,
        )
    table = Table("remote_reg_id", "psn_no", "参保地", "就医地", "type", "from", "until", "valid")
    for r in rows:
        table.add_row(
            r["remote_reg_id"],
            r["psn_no"],
            r["insuplc_admdvs"],
            r["mdtrt_area_admdvs"],
            r["reg_type_name"],
            str(r["begndate"]),
            str(r["enddate"] or ""),
            "1" if r["valid"] else "0",
        )
    console.print(table)
    console.print(f"共 {total} 条 (total {total})", highlight=False)


@remote_app.command("show")
def remote_show(remote_reg_id: str = typer.Argument(...)) -> None:
    """Show one registration."""
    with _platform() as platform, friendly_errors(), platform.db.read() as conn:
        row = remote.get(conn, remote_reg_id)
    _show(row)


@remote_app.command("revoke")
def remote_revoke(
    remote_reg_id: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="why (kept with the registration)"),
) -> None:
    """Revoke (撤销) a registration; it stays on record with who, when and why."""
    row = _write(
        lambda p, conn: remote.revoke(
            conn, ids=p.ids, actor=_actor(), remote_reg_id=remote_reg_id, reason=reason
        )
    )
    _show(row)
