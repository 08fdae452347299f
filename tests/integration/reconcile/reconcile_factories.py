"""Seeds for the reconciliation tests: institutions, persons, visits and `setl` rows inserted
directly (the settlement services are not needed to reconcile)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, insert

from yibao.interface.context import CallContext, Institution
from yibao.kit.ids import default_ids
from yibao.storage.tables import fixmedins, mdtrt, psn, setl

T0 = datetime(2024, 3, 1, 9, 0, 0)
NOW = datetime(2024, 4, 2, 10, 0, 0)


def seed_base(conn: Connection) -> None:
    rows = [
        ("H11010200001", "示例医院", "hospital", "3"),
        ("H11010200002", "另一医院", "hospital", "2"),
    ]
    for code, name, kind, lv in rows:
        conn.execute(
            insert(fixmedins).values(
                fixmedins_code=code,
                fixmedins_name=name,
                kind=kind,
                hosp_lv=lv,
                admdvs="110199",
                vali_flag="1",
                created_at=T0,
                updated_at=T0,
            )
        )
    conn.execute(
        insert(psn).values(
            psn_no="P1",
            psn_cert_type="01",
            certno="110101199003074514",
            psn_name="张三",
            gend="1",
            naty="01",
            brdy=date(1990, 3, 7),
            created_at=T0,
            updated_at=T0,
        )
    )


def add_setl(
    conn: Connection,
    setl_id: str,
    *,
    medfee: str,
    fund: str,
    acct: str,
    fixmedins_code: str = "H11010200001",
    when: datetime = T0,
    insutype: str = "310",
    clr_type: str = "11",
    clr_optins: str = "110199",
    refd_setl_flag: str = "0",
    init_setl_id: str | None = None,
    vali_flag: str = "1",
) -> None:
    mdtrt_id = f"M{setl_id}" if refd_setl_flag == "0" else f"M{init_setl_id}"
    if refd_setl_flag == "0":
        conn.execute(
            insert(mdtrt).values(
                mdtrt_id=mdtrt_id,
                fixmedins_code=fixmedins_code,
                psn_no="P1",
                insutype=insutype,
                med_type="11",
                mdtrt_kind="outpatient",
                mdtrt_cert_type="02",
                begntime=when,
                mdtrt_stas="settled",
                vali_flag="1",
                created_at=when,
                updated_at=when,
            )
        )
    m, f, a = Decimal(medfee), Decimal(fund), Decimal(acct)
    zero = Decimal("0.00")
    values: dict[str, Any] = {
        "setl_id": setl_id,
        "mdtrt_id": mdtrt_id,
        "psn_no": "P1",
        "fixmedins_code": fixmedins_code,
        "insutype": insutype,
        "psn_type": "1101",
        "med_type": "11",
        "clr_type": clr_type,
        "clr_way": "1",
        "clr_optins": clr_optins,
        "hosp_lv": "3",
        "insuplc_admdvs": "110199",
        "setl_time": when,
        "year": when.year,
        "medfee_sumamt": m,
        "fulamt_ownpay_amt": zero,
        "overlmt_selfpay": zero,
        "preselfpay_amt": zero,
        "inscp_scp_amt": m,
        "act_pay_dedc": zero,
        "hifp_pay": f,
        "cvlserv_pay": zero,
        "hifes_pay": zero,
        "hifmi_pay": zero,
        "hifob_pay": zero,
        "maf_pay": zero,
        "oth_pay": zero,
        "hifdm_pay": zero,
        "fund_pay_sumamt": f,
        "psn_part_amt": m - f,
        "acct_pay": a,
        "psn_cash_pay": m - f - a,
        "hosp_part_amt": zero,
        "acct_mulaid_pay": zero,
        "medins_setl_id": f"H11010200001{when:%Y%m%d%H%M%S}{setl_id[-4:]:0>4}",
        "refd_setl_flag": refd_setl_flag,
        "init_setl_id": init_setl_id,
        "vali_flag": vali_flag,
        "created_at": when,
        "updated_at": when,
    }
    conn.execute(insert(setl).values(**values))


def ctx(infno: str, fixmedins_code: str = "H11010200001", now: datetime = NOW) -> CallContext:
    return CallContext(
        infno=infno,
        msgid=f"{fixmedins_code}{now:%Y%m%d%H%M%S}0001",
        institution=Institution(fixmedins_code, "示例医院", "hospital", "3", "110199", None),
        opter="0001",
        opter_name="对账员",
        opter_type="1",
        inf_time=now,
        now=now,
        mdtrtarea_admvs="110199",
        insuplc_admdvs=None,
        sign_no=None,
        signtype=None,
        # the handlers take only the id generator from the platform
        platform=SimpleNamespace(ids=default_ids),  # type: ignore[arg-type]
    )


def detail_zip(
    rows: list[tuple[str, ...]], *, header: bool = True, name: str = "detail.txt"
) -> bytes:
    lines = []
    if header:
        lines.append(
            "setl_id\tmdtrt_id\tpsn_no\tmedfee_sumamt\tfund_pay_sumamt\tacct_pay\trefd_setl_flag"
        )
    lines += ["\t".join(r) for r in rows]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "\n".join(lines).encode("utf-8"))
    return buffer.getvalue()


def read_result(content: bytes) -> list[dict[str, str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (member,) = archive.namelist()
        text = archive.read(member).decode("utf-8")
    head, *lines = text.splitlines()
    fields = head.split("\t")
    return [dict(zip(fields, line.split("\t"), strict=True)) for line in lines]
