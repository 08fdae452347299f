"""1101 人员信息获取 (9001 签到 / 9002 签退 are `interface.transactions.sign_in`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, select

from yibao.codes.dicts import MdtrtCertType
from yibao.errors import InvalidInput, NotFound
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import repo
from yibao.settlement.output import age_of, date_text, datetime_text
from yibao.storage.prepared import Prepared
from yibao.storage.tables import psn

_BY_EC_TOKEN = Prepared(select(psn).where(psn.c.ec_token == bindparam("cert_no")).limit(2))
_BY_CERTNO = Prepared(select(psn).where(psn.c.certno == bindparam("cert_no")).limit(2))
_BY_CARD = Prepared(select(psn).where(psn.c.card_no == bindparam("cert_no")).limit(2))


def find_person(conn: Connection, d: dict[str, Any], node: str = "data") -> Any:
    """The person a 就诊凭证 names: 01 e-voucher token, 02 ID number, 03 card (+ card_sn)."""
    cert_type = f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=node)
    cert_no = f.req_str(d, "mdtrt_cert_no", node_name=node, max_len=64)
    if cert_type is MdtrtCertType.EC_TOKEN:
        query = _BY_EC_TOKEN
    elif cert_type is MdtrtCertType.ID_CARD:
        query = _BY_CERTNO
    else:
        query = _BY_CARD
    rows = query.all(conn, {"cert_no": cert_no})
    if not rows:
        raise NotFound(
            f"{node}.mdtrt_cert_no: 未查询到参保人员 (no insured person for this {cert_type.label})"
        )
    row = rows[0]
    if cert_type is MdtrtCertType.SSC:
        card_sn = f.opt_str(d, "card_sn", node_name=node, max_len=50)
        if row["card_sn"] and card_sn != row["card_sn"]:
            raise InvalidInput(
                f"{node}.card_sn: 社会保障卡识别码不符 (card_sn required and must match the card)"
            )
    psn_name = f.opt_str(d, "psn_name", node_name=node, max_len=50)
    if psn_name and psn_name != row["psn_name"]:
        raise InvalidInput(f"{node}.psn_name: 姓名与证件不符 (name does not match)")
    return row


@transaction("1101", "人员信息获取", writes=False, inline_read=True)
def person_info(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    d = f.node(input, "data")
    row = find_person(conn, d)
    day = ctx.now.date()
    insuinfo = [
        {
            "balc": i["balc"],
            "insutype": i["insutype"],
            "psn_type": i["psn_type"],
            "psn_insu_stas": i["psn_insu_stas"],
            "psn_insu_date": date_text(i["psn_insu_date"]),
            "paus_insu_date": date_text(i["paus_insu_date"]),
            "cvlserv_flag": i["cvlserv_flag"],
            "insuplc_admdvs": i["insuplc_admdvs"],
            "emp_name": i["emp_name"],
        }
        for i in repo.insurances(conn, row["psn_no"])
    ]
    idetinfo = [
        {
            "psn_idet_type": i["psn_idet_type"],
            "psn_type_lv": i["psn_type_lv"],
            "memo": i["memo"],
            "begntime": datetime_text(i["begntime"]),
            "endtime": datetime_text(i["endtime"]),
        }
        for i in repo.identities(conn, row["psn_no"])
    ]
    return {
        "baseinfo": {
            "psn_no": row["psn_no"],
            "psn_cert_type": row["psn_cert_type"],
            "certno": row["certno"],
            "psn_name": row["psn_name"],
            "gend": row["gend"],
            "naty": row["naty"],
            "brdy": date_text(row["brdy"]),
            "age": age_of(row["brdy"], day),
            "exp_content": None,
        },
        "insuinfo": insuinfo,
        "idetinfo": idetinfo,
    }
