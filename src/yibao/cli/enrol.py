"""`yibao enrol …` — 经办 from the command line: institutions, credentials, persons, insurance,
identities and account credits. Every change is audited with the actor `cli:<os user>`.
Personal data is printed masked unless `--unmask` (audited).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import typer
from sqlalchemy import Connection

from yibao.cli.common import console, fail, friendly_errors, settings
from yibao.cli.regions import remote_app
from yibao.enrolment import (
    audit,
    credentials,
    institutions,
    insurance,
    personal_accounts,
    persons,
    practitioners,
)
from yibao.enrolment.commands_departments import PracInfo, PracPsnType
from yibao.enrolment.masking import MASKED_FIELDS, mask_person
from yibao.errors import InvalidInput
from yibao.interface.console import unmasking
from yibao.interface.credentials import issue_credential, rotate_credential
from yibao.kit.clock import local_naive_now, parse_date, parse_datetime
from yibao.runtime import Platform, open_platform

T = TypeVar("T")

app = typer.Typer(
    help="经办: register institutions and persons, issue credentials, credit personal_accounts.",
    no_args_is_help=True,
)
institution_app = typer.Typer(help="定点医药机构 institutions.", no_args_is_help=True)
credential_app = typer.Typer(help="机构接口凭证 gateway credentials.", no_args_is_help=True)
person_app = typer.Typer(help="参保人 insured persons.", no_args_is_help=True)
app.add_typer(institution_app, name="institution")
app.add_typer(credential_app, name="credential")
app.add_typer(person_app, name="person")
practitioner_app = typer.Typer(
    help="医执人员 an institution's practitioners (5102 lists them).", no_args_is_help=True
)
app.add_typer(practitioner_app, name="practitioner")
app.add_typer(remote_app, name="remote-registration")


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


def _read(fn: Callable[[Connection], T]) -> T:
    with _platform() as platform, friendly_errors(), platform.db.read() as conn:
        return fn(conn)


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        fail(f"--{name}: 日期格式应为 yyyy-MM-dd (expected yyyy-MM-dd): '{value}'")


def _datetime(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        fail(f"--{name}: 时间格式应为 yyyy-MM-dd HH:mm:ss (expected a datetime): '{value}'")


def _show(row: dict[str, Any], keys: tuple[str, ...] | None = None) -> None:
    for key in keys or tuple(row):
        value = row.get(key)
        if isinstance(value, list):
            console.print(f"{key}:", highlight=False)
            for item in value:
                console.print(f"  - {item}", highlight=False)
        else:
            console.print(f"{key}: {'' if value is None else value}", highlight=False)


# -- institutions -------------------------------------------------------------------------------


@institution_app.command("add")
def institution_add(
    code: str = typer.Argument(..., help="fixmedins_code, e.g. H11010200001"),
    name: str = typer.Option(..., "--name", help="fixmedins_name"),
    kind: str = typer.Option(..., "--kind", help="hospital | clinic | pharmacy"),
    level: str = typer.Option(..., "--level", help="hosp_lv 1/2/3; pharmacy 0"),
    admdvs: str = typer.Option(..., "--admdvs", help="医保区划, 6 digits"),
    parent: str | None = typer.Option(None, "--parent", help="chain / group code"),
) -> None:
    """Register an institution."""
    row = _write(
        lambda p, conn: institutions.register_institution(
            conn,
            ids=p.ids,
            actor=_actor(),
            fixmedins_code=code,
            fixmedins_name=name,
            kind=kind,
            hosp_lv=level,
            admdvs=admdvs,
            parent_code=parent,
        )
    )
    console.print(f"[green]已登记 registered[/] {row['fixmedins_code']} {row['fixmedins_name']}")


@institution_app.command("change")
def institution_change(
    code: str = typer.Argument(...),
    name: str | None = typer.Option(None, "--name"),
    level: str | None = typer.Option(None, "--level"),
    admdvs: str | None = typer.Option(None, "--admdvs"),
    parent: str | None = typer.Option(None, "--parent", help="join a chain / group"),
    detach: bool = typer.Option(False, "--detach", help="leave the chain / group"),
    active: bool | None = typer.Option(None, "--active/--inactive", help="vali_flag 1 / 0"),
) -> None:
    """Change an institution."""
    if detach and parent:
        fail("--parent 与 --detach 不能同时使用 (use one of them)")
    parent_code: Any = None if detach else (parent if parent else institutions.UNSET)
    row = _write(
        lambda p, conn: institutions.change_institution(
            conn,
            ids=p.ids,
            actor=_actor(),
            fixmedins_code=code,
            fixmedins_name=name,
            hosp_lv=level,
            admdvs=admdvs,
            parent_code=parent_code,
            vali_flag=None if active is None else ("1" if active else "0"),
        )
    )
    _show(row)


@institution_app.command("show")
def institution_show(code: str = typer.Argument(...)) -> None:
    """Show one institution."""
    _show(_read(lambda conn: institutions.get_institution(conn, fixmedins_code=code)))


@institution_app.command("list")
def institution_list(
    kind: str | None = typer.Option(None, "--kind"),
    admdvs: str | None = typer.Option(None, "--admdvs"),
    q: str | None = typer.Option(None, "--q", help="code or name contains"),
    limit: int = typer.Option(100, "--limit"),
) -> None:
    """List institutions."""
    total, rows = _read(
        lambda conn: institutions.list_institutions(
            conn, kind=kind, admdvs=admdvs, q=q, limit=limit
        )
    )
    for r in rows:
        console.print(
            f"{r['fixmedins_code']}  {r['kind']:<8} lv{r['hosp_lv']}  {r['admdvs']}  "
            f"{r['vali_flag']}  {r['fixmedins_name']}"
            + (f"  ↑{r['parent_code']}" if r["parent_code"] else ""),
            highlight=False,
        )
    console.print(f"共 {total} 家 (total)")


# -- credentials --------------------------------------------------------------------------------


@credential_app.command("issue")
def credential_issue(
    code: str = typer.Argument(..., help="fixmedins_code"),
    mode: str = typer.Option(
        "signature",
        "--mode",
        help="signature (the client signs each request with its paasToken) | static "
        "(the client sends x-yibao-key)",
    ),
) -> None:
    """Issue a gateway credential; its token (or static secret) is printed once."""
    if mode not in ("signature", "static"):
        fail(f"--mode: 应为 signature 或 static '{mode}' (expected signature or static)")
    issued = _write(
        lambda p, conn: issue_credential(
            conn, platform=p, actor=_actor(), fixmedins_code=code, auth_mode=mode
        )
    )
    console.print(f"x-tif-paasid: {issued['paasid']}", highlight=False)
    if issued["auth_mode"] == "signature":
        console.print(f"paasToken:    {issued['paas_token']}", highlight=False)
        console.print(
            "签名: x-tif-timestamp, x-tif-nonce, x-tif-signature = "
            "sha256hex(timestamp + paasToken + nonce + timestamp)",
            highlight=False,
        )
    else:
        console.print(f"x-yibao-key:  {issued['secret']}", highlight=False)
    console.print("[yellow]密钥仅显示这一次, 请妥善保存 (the secret is shown only once)[/]")


@credential_app.command("revoke")
def credential_revoke(code: str = typer.Argument(...), paasid: str = typer.Argument(...)) -> None:
    """Revoke a credential."""
    _write(
        lambda p, conn: credentials.revoke_credential(
            conn, ids=p.ids, actor=_actor(), fixmedins_code=code, paasid=paasid
        )
    )
    console.print(f"[green]已吊销 revoked[/] {paasid}")


@credential_app.command("rotate")
def credential_rotate(code: str = typer.Argument(...), paasid: str = typer.Argument(...)) -> None:
    """Rotate a credential: issue a successor in the same mode (its token or secret printed
    once); the old one stays valid for YIBAO_CREDENTIAL_OVERLAP_S seconds (default one day),
    then every use of it is refused and counted."""
    issued = _write(
        lambda p, conn: rotate_credential(
            conn, platform=p, actor=_actor(), fixmedins_code=code, paasid=paasid
        )
    )
    console.print(f"x-tif-paasid: {issued['paasid']}", highlight=False)
    if issued["auth_mode"] == "signature":
        console.print(f"paasToken:    {issued['paas_token']}", highlight=False)
    else:
        console.print(f"x-yibao-key:  {issued['secret']}", highlight=False)
    console.print(
        f"旧凭证 {paasid} 有效至 old credential valid until {issued['old_expires_at']}",
        highlight=False,
    )
    console.print("[yellow]密钥仅显示这一次, 请妥善保存 (the secret is shown only once)[/]")


_STATES = {"active": "有效", "overlap": "轮换重叠期", "expired": "已过期", "revoked": "已吊销"}


@credential_app.command("list")
def credential_list(code: str = typer.Argument(...)) -> None:
    """List an institution's credentials (without secrets): state (active, overlap until
    expires_at after a rotation, expired, revoked) and how many calls were refused since it
    ended (refused)."""
    for r in _read(lambda conn: credentials.list_credentials(conn, fixmedins_code=code)):
        until = f"  至 until {r['expires_at']}" if r["expires_at"] is not None else ""
        successor = f"  → {r['rotated_to']}" if r["rotated_to"] else ""
        console.print(
            f"{r['paasid']}  {r['auth_mode']}  {_STATES[r['state']]} {r['state']}  "
            f"{r['created_at']}{until}{successor}  refused={r['refused_count']}",
            highlight=False,
        )


# -- persons ------------------------------------------------------------------------------------


@person_app.command("add")
def person_add(
    certno: str = typer.Option(..., "--certno"),
    name: str = typer.Option(..., "--name"),
    insutype: str | None = typer.Option(None, "--insutype", help="e.g. 310 or 390"),
    psn_type: str | None = typer.Option(None, "--psn-type", help="e.g. 1101"),
    admdvs: str | None = typer.Option(None, "--admdvs", help="insuplc_admdvs"),
    since: str | None = typer.Option(None, "--since", help="psn_insu_date yyyy-MM-dd"),
    emp_name: str | None = typer.Option(None, "--emp-name"),
    psn_no: str | None = typer.Option(None, "--psn-no", help="generated when absent"),
    cert_type: str = typer.Option("01", "--cert-type"),
    gend: str | None = typer.Option(None, "--gend"),
    brdy: str | None = typer.Option(None, "--brdy", help="yyyy-MM-dd"),
    tel: str | None = typer.Option(None, "--tel"),
    card_no: str | None = typer.Option(None, "--card-no"),
    card_sn: str | None = typer.Option(None, "--card-sn"),
    ec_token: str | None = typer.Option(None, "--ec-token"),
    family_id: str | None = typer.Option(None, "--family-id"),
) -> None:
    """Register an insured person (and one insurance with --insutype/--psn-type/--admdvs)."""
    items = []
    if insutype or psn_type or admdvs:
        if not (insutype and psn_type and admdvs):
            fail("--insutype, --psn-type 与 --admdvs 须同时给出 (give all three)")
        items.append(
            persons.Insurance(
                insutype=insutype,
                psn_type=psn_type,
                insuplc_admdvs=admdvs,
                psn_insu_date=_date(since, "since"),
                emp_name=emp_name,
            )
        )
    born = _date(brdy, "brdy")
    row = _write(
        lambda p, conn: persons.register_person(
            conn,
            ids=p.ids,
            actor=_actor(),
            certno=certno,
            psn_name=name,
            psn_no=psn_no,
            psn_cert_type=cert_type,
            gend=gend,
            brdy=born,
            tel=tel,
            card_no=card_no,
            card_sn=card_sn,
            ec_token=ec_token,
            family_id=family_id,
            insurance=items,
        )
    )
    console.print(f"[green]已登记 registered[/] psn_no {row['psn_no']}", highlight=False)


@person_app.command("show")
def person_show(
    psn_no: str = typer.Argument(...),
    unmask: bool = typer.Option(
        False, "--unmask", help="show personal data (needs --purpose; audited)"
    ),
    purpose: str | None = typer.Option(
        None,
        "--purpose",
        help="why you unmask: "
        + ", ".join(f"{k} {v}" for k, v in unmasking.PURPOSES.items())
        + "; optionally ':' and a case or ticket number (e.g. case_review:AJ-2024-0012)",
    ),
) -> None:
    """Show a person with insurance and identities (masked, the birth date to its year,
    unless --unmask with a --purpose; the unmasking is audited with the purpose)."""
    if unmask:
        try:
            stated = unmasking.parse_purpose(purpose)
        except InvalidInput as exc:
            fail(f"--purpose: {exc}", 2)
        _write(
            lambda p, conn: audit.record(
                conn,
                ids=p.ids,
                actor=_actor(),
                action="psn.unmask",
                target=psn_no,
                detail={
                    "fields": sorted(MASKED_FIELDS),
                    "records": 1,
                    "via": "cli",
                    **stated.as_detail(),
                },
            )
        )
    row = _read(lambda conn: persons.get_person(conn, psn_no=psn_no))
    _show(row if unmask else mask_person(row))


def _status(action: str, psn_no: str, insutype: str, on: str | None, reason: str | None) -> None:
    effective = _date(on, "on")
    row = _write(
        lambda p, conn: insurance.set_insurance_status(
            conn,
            ids=p.ids,
            actor=_actor(),
            psn_no=psn_no,
            insutype=insutype,
            action=action,
            on=effective,
            reason=reason,
        )
    )
    for item in row["insurance"]:
        if item["insutype"] == insutype:
            console.print(
                f"{psn_no} {insutype}: psn_insu_stas {item['psn_insu_stas']}", highlight=False
            )


@person_app.command("suspend")
def person_suspend(
    psn_no: str = typer.Argument(...),
    insutype: str = typer.Argument(...),
    on: str | None = typer.Option(None, "--on", help="yyyy-MM-dd, default today"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """暂停参保 (1 → 2)."""
    _status("suspend", psn_no, insutype, on, reason)


@person_app.command("resume")
def person_resume(
    psn_no: str = typer.Argument(...),
    insutype: str = typer.Argument(...),
    on: str | None = typer.Option(None, "--on"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """恢复参保 (2 → 1)."""
    _status("resume", psn_no, insutype, on, reason)


@person_app.command("terminate")
def person_terminate(
    psn_no: str = typer.Argument(...),
    insutype: str = typer.Argument(...),
    on: str | None = typer.Option(None, "--on"),
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """终止参保 (1/2 → 4)."""
    _status("terminate", psn_no, insutype, on, reason)


@person_app.command("identity")
def person_identity(
    psn_no: str = typer.Argument(...),
    idet_type: str = typer.Argument(..., help="psn_idet_type: 21 低保, 22 特困 …"),
    begin: str = typer.Option(..., "--from", help="yyyy-MM-dd[ HH:mm:ss]"),
    end: str | None = typer.Option(None, "--to"),
    memo: str | None = typer.Option(None, "--memo"),
) -> None:
    """Record an assistance identity."""
    start = _datetime(begin, "from")
    stop = _datetime(end, "to")
    assert start is not None
    _write(
        lambda p, conn: insurance.record_identity(
            conn,
            ids=p.ids,
            actor=_actor(),
            psn_no=psn_no,
            psn_idet_type=idet_type,
            begntime=start,
            endtime=stop,
            memo=memo,
        )
    )
    console.print(f"[green]已登记 recorded[/] {psn_no} {idet_type}", highlight=False)


@person_app.command("death")
def person_death(
    psn_no: str = typer.Argument(..., help="the person's psn_no"),
    death_date: str | None = typer.Argument(
        None, metavar="[DATE]", help="死亡日期 yyyy-MM-dd (not before birth, not in the future)"
    ),
    clear: bool = typer.Option(False, "--clear", help="clear a date recorded in error"),
) -> None:
    """登记死亡日期: record or correct a person's date of death (audited as psn.death).

    `yibao enrol person death 110199… 2024-05-01`; `--clear` removes a date recorded in error.
    Visits billed after it are what the risk rules card_misuse and fabricated_service look for.
    """
    if clear == (death_date is not None):
        fail("DATE: 给出日期或 --clear 之一 (give a date, or --clear to remove one)", 2)
    when = _date(death_date, "date")
    row = _write(
        lambda p, conn: persons.record_death(
            conn, ids=p.ids, actor=_actor(), psn_no=psn_no, death_date=when
        )
    )
    shown = row["death_date"].isoformat() if row["death_date"] else "—"
    console.print(f"[green]已登记 recorded[/] {psn_no} death_date {shown}", highlight=False)


@person_app.command("credit")
def person_credit(
    psn_no: str = typer.Argument(...),
    amount: str = typer.Argument(..., help="yuan, > 0, at most two decimals"),
    reason: str = typer.Option(..., "--reason"),
    insutype: str = typer.Option("310", "--insutype"),
) -> None:
    """个人账户划入: credit the personal account."""
    result = _write(
        lambda p, conn: personal_accounts.credit_account(
            conn,
            ids=p.ids,
            actor=_actor(),
            psn_no=psn_no,
            amount=amount,
            reason=reason,
            insutype=insutype,
        )
    )
    console.print(
        f"[green]已划入 credited[/] {result['amount']} → balc {result['balc']}", highlight=False
    )


# -- practitioners ------------------------------------------------------------------------------


@practitioner_app.command("add")
def practitioner_add(
    code: str = typer.Argument(..., help="fixmedins_code"),
    prac_psn_code: str = typer.Argument(..., help="执业人员代码, the national code"),
    name: str = typer.Option(..., "--name", help="prac_psn_name"),
    prac_type: str = typer.Option(
        "1", "--type", help="prac_psn_type: 1 医师, 2 护士, 3 药师, 4 医技人员"
    ),
    hi_dr: bool = typer.Option(False, "--hi-dr", help="医保医师 (hi_dr_flag 1)"),
    dept: str | None = typer.Option(None, "--dept", help="hosp_dept_codg"),
    staff_no: str | None = typer.Option(None, "--staff-no", help="prac_psn_no"),
    cert_type: str | None = typer.Option(None, "--cert-type", help="psn_cert_type"),
    certno: str | None = typer.Option(None, "--certno"),
    qualification: str | None = typer.Option(None, "--qualification", help="prac_psn_cert"),
    licence: str | None = typer.Option(None, "--licence", help="prac_cert_no"),
    since: str | None = typer.Option(None, "--since", help="begntime (default: now)"),
) -> None:
    """Enrol a practitioner of an institution."""
    try:
        kind = PracPsnType.of(prac_type, field="--type")
    except ValueError as exc:
        fail(str(exc))
    if len(prac_psn_code) > 20 or len(name) > 50:
        fail("prac_psn_code ≤ 20, --name ≤ 50 个字符 (too long)")
    begntime = _datetime(since, "since") or local_naive_now().replace(microsecond=0)
    info = PracInfo(
        prac_psn_code=prac_psn_code,
        prac_psn_name=name,
        prac_psn_type=kind,
        begntime=begntime,
        prac_psn_no=staff_no,
        psn_cert_type=cert_type,
        certno=certno,
        prac_psn_cert=qualification,
        prac_cert_no=licence,
        hi_dr_flag="1" if hi_dr else "0",
        hosp_dept_codg=dept,
    )
    _write(
        lambda p, conn: practitioners.add(
            conn,
            info,
            fixmedins_code=code,
            ids=p.ids,
            actor=_actor(),
            now=local_naive_now(),
        )
    )
    console.print(f"[green]已登记 enrolled[/] {code} {prac_psn_code} {name}", highlight=False)


@practitioner_app.command("end")
def practitioner_end(
    code: str = typer.Argument(..., help="fixmedins_code"),
    prac_psn_code: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="chg_rea"),
) -> None:
    """The practitioner leaves the institution (kept, marked invalid)."""
    _write(
        lambda p, conn: practitioners.end(
            conn,
            fixmedins_code=code,
            prac_psn_code=prac_psn_code,
            reason=reason,
            ids=p.ids,
            actor=_actor(),
            now=local_naive_now(),
        )
    )
    console.print(f"[green]已注销 ended[/] {code} {prac_psn_code}", highlight=False)


@practitioner_app.command("list")
def practitioner_list(
    code: str = typer.Argument(..., help="fixmedins_code"),
    all_: bool = typer.Option(False, "--all", help="also those who left"),
) -> None:
    """List an institution's practitioners (without certificate numbers)."""
    rows = _read(
        lambda conn: practitioners.list_all(conn, fixmedins_code=code, only_valid=not all_)
    )
    for r in rows:
        kind = PracPsnType(r["prac_psn_type"]).label if PracPsnType.has(r["prac_psn_type"]) else ""
        console.print(
            f"{r['prac_psn_code']}  {r['prac_psn_name']}  {kind}  "
            f"{'医保医师' if r['hi_dr_flag'] == '1' else ''}  {r['hosp_dept_codg'] or ''}  "
            f"{'有效' if r['vali_flag'] == '1' else '已注销'}",
            highlight=False,
        )
    console.print(f"共 {len(rows)} 人", highlight=False)
