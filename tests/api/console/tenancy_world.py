"""A small multi-tenant world for the tenancy tests (imported by name): two hospitals, a
pharmacy chain with a store, an independent pharmacy; a person, a visit, a settlement (with
fund split and fee lines) and a 3202 result file at each; a credential each; one console user
of every role (institution roles at hospital A, the chain admin at the chain's head).

`IN_SCOPE[tenant]` / `OUT_OF_SCOPE[tenant]` name the records a test uses as the caller's own
and as another tenant's.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert

from yibao.runtime import Platform
from yibao.storage.tables import (
    agency_user,
    fee_detail,
    file_store,
    fixmedins,
    fixmedins_credential,
    mdtrt,
    psn,
    psn_insu,
    review_case,
    review_case_file,
    setl,
    setl_fund,
)

HOSP_A = "H11010200001"
HOSP_B = "H11010200002"
CHAIN = "P11010200001"
STORE = "P11010200002"
LONE = "P11010200003"
CODES = (HOSP_A, HOSP_B, CHAIN, STORE, LONE)

#: username → (role, tenant_code)
TENANCY_USERS: dict[str, tuple[str, str | None]] = {
    "t-sys": ("sysadmin", None),
    "t-sec": ("secadmin", None),
    "t-aud": ("auditor", None),
    "t-oper": ("operator", None),
    "t-rev": ("reviewer", None),
    "t-ana": ("analyst", None),
    "t-iadm": ("inst_admin", HOSP_A),
    "t-cash": ("cashier", HOSP_A),
    "t-view": ("inst_viewer", HOSP_A),
    "t-chain": ("chain_admin", CHAIN),
}


#: a cashier at each of these institutions (the `username` a path names)
CASHIERS = {HOSP_A: "t-cash", HOSP_B: "t-bcash", STORE: "t-store", CHAIN: "t-chain", LONE: "t-lone"}
_EXTRA_USERS = {"t-bcash": HOSP_B, "t-store": STORE, "t-lone": LONE}


def record_ids(code: str) -> dict[str, str]:
    """The ids of the records the world keeps at institution `code`."""
    n = code[-1] + code[0]
    return {
        "fixmedins_code": code,
        "psn_no": f"PSN{n}",
        "mdtrt_id": f"MDT{n}",
        "setl_id": f"SETL{n}",
        "paasid": f"paas-{code.lower()}",
        "file_qury_no": f"FILE{n}",
        "insutype": "310",
        "case_id": f"CASE{n}",
        "file_id": f"CF{n}",
    }


#: per user: the institution whose records are its own (agency: any) and another's
IN_SCOPE: dict[str, str] = {
    u: (STORE if role == "chain_admin" else HOSP_A) for u, (role, _t) in TENANCY_USERS.items()
}
OUT_OF_SCOPE: dict[str, str | None] = {
    u: (None if tenant is None else HOSP_B) for u, (_r, tenant) in TENANCY_USERS.items()
}

_AMOUNTS = [
    "fulamt_ownpay_amt",
    "overlmt_selfpay",
    "preselfpay_amt",
    "act_pay_dedc",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "oth_pay",
    "hifdm_pay",
    "acct_pay",
    "hosp_part_amt",
    "acct_mulaid_pay",
]


def build(platform: Platform, password_hash: str) -> None:
    now = datetime(2026, 12, 1, 9, 30)

    def job(conn: Connection) -> None:
        stamps = {"created_at": now, "updated_at": now}
        for code in CODES:
            kind = "hospital" if code.startswith("H") else "pharmacy"
            conn.execute(
                insert(fixmedins).values(
                    fixmedins_code=code,
                    fixmedins_name=f"机构{code[-2:]}",
                    kind=kind,
                    hosp_lv="3" if kind == "hospital" else "0",
                    admdvs="110102",
                    parent_code=CHAIN if code == STORE else None,
                    vali_flag="1",
                    **stamps,
                )
            )
        for i, code in enumerate(CODES):
            ids = record_ids(code)
            conn.execute(
                insert(psn).values(
                    psn_no=ids["psn_no"],
                    psn_cert_type="99",
                    certno=f"CERT{i}",
                    psn_name=f"张{i}",
                    gend="1",
                    naty="01",
                    brdy=date(1980, 1, 1),
                    **stamps,
                )
            )
            conn.execute(
                insert(psn_insu).values(
                    psn_no=ids["psn_no"],
                    insutype="310",
                    psn_type="1101",
                    psn_insu_stas="1",
                    psn_insu_date=date(2020, 1, 1),
                    cvlserv_flag="0",
                    insuplc_admdvs="110199",
                    balc=Decimal("100.00"),
                    **stamps,
                )
            )
            conn.execute(
                insert(mdtrt).values(
                    mdtrt_id=ids["mdtrt_id"],
                    fixmedins_code=code,
                    psn_no=ids["psn_no"],
                    insutype="310",
                    med_type="11",
                    mdtrt_kind="outpatient",
                    mdtrt_cert_type="02",
                    begntime=now,
                    mdtrt_stas="settled",
                    vali_flag="1",
                    **stamps,
                )
            )
            conn.execute(
                insert(setl).values(
                    setl_id=ids["setl_id"],
                    mdtrt_id=ids["mdtrt_id"],
                    psn_no=ids["psn_no"],
                    fixmedins_code=code,
                    insutype="310",
                    psn_type="1101",
                    med_type="11",
                    clr_type="11",
                    clr_way="1",
                    clr_optins="110199",
                    hosp_lv="3",
                    insuplc_admdvs="110199",
                    setl_time=now.replace(hour=10 + i),
                    year=2026,
                    medfee_sumamt=Decimal("100.00"),
                    inscp_scp_amt=Decimal("100.00"),
                    hifp_pay=Decimal("70.00"),
                    fund_pay_sumamt=Decimal("70.00"),
                    psn_part_amt=Decimal("30.00"),
                    psn_cash_pay=Decimal("30.00"),
                    medins_setl_id=f"MSG{i}",
                    refd_setl_flag="0",
                    vali_flag="1",
                    **dict.fromkeys(_AMOUNTS, Decimal("0.00")),
                    **stamps,
                )
            )
            conn.execute(
                insert(setl_fund).values(
                    setl_id=ids["setl_id"],
                    fund_pay_type="310100",
                    inscp_scp_amt=Decimal("100.00"),
                    fund_payamt=Decimal("70.00"),
                )
            )
            conn.execute(
                insert(fee_detail).values(
                    mdtrt_id=ids["mdtrt_id"],
                    feedetl_sn="1",
                    psn_no=ids["psn_no"],
                    fixmedins_code=code,
                    fee_ocur_time=now,
                    med_list_codg="XA01",
                    det_item_fee_sumamt=Decimal("100.00"),
                    cnt=Decimal("1"),
                    pric=Decimal("100.00"),
                    fulamt_ownpay_amt=Decimal("0.00"),
                    overlmt_amt=Decimal("0.00"),
                    preselfpay_amt=Decimal("0.00"),
                    inscp_scp_amt=Decimal("100.00"),
                    setl_id=ids["setl_id"],
                    vali_flag="1",
                    created_at=now,
                )
            )
            conn.execute(
                insert(file_store).values(
                    file_qury_no=ids["file_qury_no"],
                    fixmedins_code=code,
                    filename=f"stmt_detail_{i}.zip",
                    direction="download",
                    content=b"PK\x05\x06" + bytes(18),
                    created_at=now,
                    expires_at=datetime(2099, 1, 1),
                )
            )
            conn.execute(
                insert(fixmedins_credential).values(
                    paasid=ids["paasid"],
                    fixmedins_code=code,
                    auth_mode="static",
                    secret_sha256="0" * 64,
                    vali_flag="1",
                    created_at=now,
                )
            )
        conn.execute(
            insert(agency_user),
            [
                {
                    "username": name,
                    "password_hash": password_hash,
                    "display_name": name,
                    "role": role,
                    "tenant_code": tenant,
                    "vali_flag": "1",
                    "created_at": now,
                }
                for name, (role, tenant) in TENANCY_USERS.items()
            ]
            + [
                {
                    "username": name,
                    "password_hash": password_hash,
                    "display_name": name,
                    "role": "cashier",
                    "tenant_code": tenant,
                    "vali_flag": "1",
                    "created_at": now,
                }
                for name, tenant in _EXTRA_USERS.items()
            ],
        )

    platform.db.writer.run_sync(job)
    platform.db.writer.run_sync(_cases)


def _cases(conn: Connection) -> None:
    """A notified review case with one attached file at each institution (its users see it)."""
    now = datetime(2026, 12, 1, 9, 30)
    for code in CODES:
        ids = record_ids(code)
        conn.execute(insert(review_case).values(
            case_id=ids["case_id"], fixmedins_code=code, title=f"{code} 重复收费",
            categories="duplicate_charge", period_begin=now.date(), period_end=now.date(),
            state="notified", assignee="t-rev", deadline=now + timedelta(days=15),
            notified_at=now, amount_at_stake=Decimal("50.00"), decision=None,
            decision_amount=None, decided_at=None, opened_by="t-rev", opened_at=now,
            updated_at=now, version=1,
        ))  # fmt: skip
        conn.execute(insert(review_case_file).values(
            file_id=ids["file_id"], case_id=ids["case_id"], filename="告知书.txt",
            content_type="text/plain", size=2, sha256="0" * 64, content=b"ok",
            uploaded_by="t-rev", uploaded_at=now,
        ))  # fmt: skip


def path_values(code: str) -> dict[str, Any]:
    """Values for every path parameter, pointing at the records of institution `code`."""
    values: dict[str, Any] = dict(record_ids(code))
    values["username"] = CASHIERS[code]
    values["name"] = "fund_overview"
    values["action"] = "suspend"
    # records the world does not hold (the agency's own: another tenant cannot reach them)
    values["clr_appy_evt_id"] = "CLRNONE"
    values["clr_order_id"] = "ORDNONE"
    values["remote_reg_id"] = "RRNONE"
    values["alert_id"] = "ALNONE"
    return values
