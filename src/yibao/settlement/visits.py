"""A new visit's row (`mdtrt`): what 2201 挂号, 2401 入院 and 2102 药店结算 open."""

from __future__ import annotations

from typing import Any

from yibao.settlement.context import Caller


def new_visit(
    caller: Caller,
    *,
    psn_no: str,
    insutype: str,
    med_type: str,
    kind: str,
    stas: str,
    cert_type: str,
    cert_no: str | None,
    begntime: Any,
    **values: Any,
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mdtrt_id": caller.ids.next_str(),
        "fixmedins_code": caller.fixmedins_code,
        "psn_no": psn_no,
        "insutype": insutype,
        "med_type": med_type,
        "mdtrt_kind": kind,
        "mdtrt_cert_type": cert_type,
        "mdtrt_cert_no": cert_no,
        "ipt_otp_no": None,
        "begntime": begntime,
        "endtime": None,
        "atddr_no": None,
        "dr_name": None,
        "dept_code": None,
        "dept_name": None,
        "caty": None,
        "adm_bed": None,
        "main_cond_dscr": None,
        "dise_codg": None,
        "dise_name": None,
        "maindiag_code": None,
        "maindiag_name": None,
        "dscg_way": None,
        "mdtrt_stas": stas,
        "vali_flag": "1",
        "msgid": caller.msgid,
        "extra": None,
        "created_at": caller.now,
        "updated_at": caller.now,
    }
    base.update(values)
    return base
