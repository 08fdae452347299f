"""The insured person at the counter: found by the 就诊凭证 a client presents (1101 人员信息获取)
and checked as insured before a visit is opened or settled."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MdtrtCertType
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.settlement import repo
from yibao.settlement.commands import FindPerson
from yibao.settlement.output import age_of, date_text, datetime_text


def check_insured(
    insu: Mapping[str, Any], insuplc_admdvs: str | None, *, node: str = "data"
) -> None:
    """Insurance status normal, and the envelope's insuplc_admdvs (when given) is the
    person's insured region."""
    if insu["psn_insu_stas"] != "1":
        raise Conflict(
            f"{node}.insutype: 参保状态异常 ({insu['psn_insu_stas']}), 不能享受待遇 "
            "(insurance not active)"
        )
    if insuplc_admdvs and insuplc_admdvs != insu["insuplc_admdvs"]:
        raise InvalidInput(
            f"insuplc_admdvs: 参保地医保区划 {insuplc_admdvs} 与人员参保地 "
            f"{insu['insuplc_admdvs']} 不一致 (not the person's insured region)"
        )


def find_person(conn: Connection, command: FindPerson, node: str = "data") -> repo.Row:
    """The person a 就诊凭证 names: 01 e-voucher token, 02 ID number, 03 card (+ card_sn)."""
    cert_type = command.mdtrt_cert_type
    if cert_type is MdtrtCertType.EC_TOKEN:
        rows = repo.persons_by_ec_token(conn, command.mdtrt_cert_no)
    elif cert_type is MdtrtCertType.ID_CARD:
        rows = repo.persons_by_certno(conn, command.mdtrt_cert_no)
    else:
        rows = repo.persons_by_card(conn, command.mdtrt_cert_no)
    if not rows:
        raise NotFound(
            f"{node}.mdtrt_cert_no: 未查询到参保人员 (no insured person for this {cert_type.label})"
        )
    row = rows[0]
    if cert_type is MdtrtCertType.SSC and row["card_sn"] and command.card_sn != row["card_sn"]:
        raise InvalidInput(
            f"{node}.card_sn: 社会保障卡识别码不符 (card_sn required and must match the card)"
        )
    if command.psn_name and command.psn_name != row["psn_name"]:
        raise InvalidInput(f"{node}.psn_name: 姓名与证件不符 (name does not match)")
    return row


def person_info(conn: Connection, row: Mapping[str, Any], day: date) -> dict[str, Any]:
    """1101's answer for the person `row`: baseinfo, insuinfo, idetinfo."""
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
