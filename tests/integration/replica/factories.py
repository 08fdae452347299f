"""Row-store rows + their change-log payloads, as the writers produce them (for replica tests).

Each function writes on a connection inside the caller's transaction (use it in a writer job
or `engine.begin()`), appends the change-log rows of `yibao.replica.rows` and returns the
row it wrote. Amounts are `Decimal` yuan that add up the way the settlement engine's do.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from yibao.kit.money import round_fen
from yibao.replica import rows
from yibao.storage import changelog
from yibao.storage.tables import fixmedins, mdtrt, psn, psn_insu, setl

_ids = itertools.count(1)
ZERO = Decimal("0.00")


def _next(prefix: str) -> str:
    return f"{prefix}{next(_ids):012d}"


def institution(
    conn: Connection,
    code: str = "H11010100001",
    *,
    name: str = "北京示例医院",
    hosp_lv: str = "3",
    admdvs: str = "110101",
    kind: str = "hospital",
) -> dict[str, Any]:
    now = datetime(2024, 1, 1)
    row = {
        "fixmedins_code": code,
        "fixmedins_name": name,
        "kind": kind,
        "hosp_lv": hosp_lv,
        "admdvs": admdvs,
        "parent_code": None,
        "vali_flag": "1",
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(insert(fixmedins).values(**row))
    changelog.append(conn, rows.FIXMEDINS, code, rows.fixmedins_payload(row))
    return row


def person(
    conn: Connection,
    psn_no: str | None = None,
    *,
    gend: str = "1",
    brdy: date = date(1980, 5, 17),
    insutype: str = "310",
    psn_type: str = "1101",
) -> dict[str, Any]:
    psn_no = psn_no or _next("P")
    now = datetime(2024, 1, 1)
    row = {
        "psn_no": psn_no,
        "psn_cert_type": "01",
        "certno": f"11010119800517{next(_ids) % 10000:04d}",
        "psn_name": "张三",
        "gend": gend,
        "naty": "01",
        "brdy": brdy,
        "tel": "13800000000",
        "created_at": now,
        "updated_at": now,
    }
    insu = {
        "psn_no": psn_no,
        "insutype": insutype,
        "psn_type": psn_type,
        "psn_insu_stas": "1",
        "psn_insu_date": date(2010, 1, 1),
        "cvlserv_flag": "0",
        "insuplc_admdvs": "110100",
        "balc": ZERO,
        "created_at": now,
        "updated_at": now,
    }
    conn.execute(insert(psn).values(**row))
    conn.execute(insert(psn_insu).values(**insu))
    changelog.append(conn, rows.PSN, psn_no, rows.psn_payload(row, insu, assistance=False))
    return {**row, **insu}


def settlement(
    conn: Connection,
    *,
    fixmedins_code: str,
    psn_no: str,
    medfee: Decimal = Decimal("100.00"),
    setl_time: datetime | None = None,
    med_type: str = "11",
    insutype: str = "310",
    psn_type: str = "1101",
    hosp_lv: str = "3",
    admdvs: str = "110101",
    maindiag_code: str | None = "J06.900",
    days: int = 0,
) -> dict[str, Any]:
    """A visit and its settlement (inpatient when `days` > 0), with both payloads."""
    at = setl_time or datetime(2024, 6, 3, 10, 30)
    mdtrt_id = _next("M")
    setl_id = _next("S")
    inpatient = med_type.startswith("2")
    begin = at - timedelta(days=days) if inpatient else at
    visit = {
        "mdtrt_id": mdtrt_id,
        "fixmedins_code": fixmedins_code,
        "psn_no": psn_no,
        "insutype": insutype,
        "med_type": med_type,
        "mdtrt_kind": "inpatient" if inpatient else "outpatient",
        "mdtrt_cert_type": "02",
        "begntime": begin,
        "endtime": at if inpatient else None,
        "maindiag_code": maindiag_code,
        "mdtrt_stas": "settled",
        "vali_flag": "1",
        "created_at": at,
        "updated_at": at,
    }
    conn.execute(insert(mdtrt).values(**visit))
    ownpay = round_fen(medfee * Decimal("0.05"))
    overlmt = round_fen(medfee * Decimal("0.02"))
    preself = round_fen(medfee * Decimal("0.03"))
    inscp = medfee - ownpay - overlmt - preself
    hifp = round_fen(inscp * Decimal("0.7"))
    maf = round_fen(inscp * Decimal("0.01"))
    fund = hifp + maf
    part = medfee - fund
    acct = round_fen(part * Decimal("0.5"))
    row: dict[str, Any] = {
        "setl_id": setl_id,
        "mdtrt_id": mdtrt_id,
        "psn_no": psn_no,
        "fixmedins_code": fixmedins_code,
        "insutype": insutype,
        "psn_type": psn_type,
        "med_type": med_type,
        "clr_type": "21" if inpatient else "11",
        "clr_way": "1",
        "clr_optins": "110100",
        "hosp_lv": hosp_lv,
        "insuplc_admdvs": "110100",
        "setl_time": at,
        "year": at.year,
        "age": 44,
        "maindiag_code": maindiag_code,
        "begndate": begin if inpatient else None,
        "enddate": at if inpatient else None,
        "medfee_sumamt": medfee,
        "fulamt_ownpay_amt": ownpay,
        "overlmt_selfpay": overlmt,
        "preselfpay_amt": preself,
        "inscp_scp_amt": inscp,
        "act_pay_dedc": ZERO,
        "hifp_pay": hifp,
        "cvlserv_pay": ZERO,
        "hifes_pay": ZERO,
        "hifmi_pay": ZERO,
        "hifob_pay": ZERO,
        "maf_pay": maf,
        "oth_pay": ZERO,
        "hifdm_pay": ZERO,
        "fund_pay_sumamt": fund,
        "psn_part_amt": part,
        "acct_pay": acct,
        "psn_cash_pay": part - acct,
        "hosp_part_amt": ZERO,
        "acct_mulaid_pay": ZERO,
        "drug_sumamt": round_fen(medfee * Decimal("0.4")),
        "mcs_sumamt": round_fen(medfee * Decimal("0.1")),
        "exam_sumamt": round_fen(medfee * Decimal("0.2")),
        "fee_line_cnt": 3,
        "medins_setl_id": _next("MSG"),
        "refd_setl_flag": "0",
        "init_setl_id": None,
        "vali_flag": "1",
        "created_at": at,
        "updated_at": at,
    }
    conn.execute(insert(setl).values(**row))
    changelog.append_many(
        conn,
        [
            (rows.MDTRT, mdtrt_id, rows.mdtrt_payload(visit), "insert"),
            (rows.SETL, setl_id, rows.setl_payload(row, admdvs=admdvs, gend="1"), "insert"),
        ],
    )
    return row


def reverse(
    conn: Connection, setl_id: str, *, at: datetime, admdvs: str = "110101"
) -> dict[str, Any]:
    """A reversal record (amounts negated) and the original re-sent with vali_flag "0"."""
    original = dict(conn.execute(select(setl).where(setl.c.setl_id == setl_id)).mappings().one())
    conn.execute(update(setl).where(setl.c.setl_id == setl_id).values(vali_flag="0"))
    original["vali_flag"] = "0"
    record = dict(original)
    record.update(
        setl_id=_next("S"),
        setl_time=at,
        year=at.year,
        refd_setl_flag="1",
        init_setl_id=setl_id,
        vali_flag="1",
        medins_setl_id=_next("MSG"),
        created_at=at,
        updated_at=at,
    )
    for name in rows.SETL_AMOUNTS:
        record[name] = -record[name]
    conn.execute(insert(setl).values(**record))
    changelog.append_many(
        conn,
        [
            (rows.SETL, setl_id, rows.setl_payload(original, admdvs=admdvs, gend="1"), "upsert"),
            (
                rows.SETL,
                record["setl_id"],
                rows.setl_payload(record, admdvs=admdvs, gend="1"),
                "insert",
            ),
        ],
    )
    return record
