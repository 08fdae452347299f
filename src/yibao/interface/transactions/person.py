"""1101 人员信息获取: the insured person a 就诊凭证 names, with their insurances and identities
(see `yibao.settlement.insured`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MdtrtCertType
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import insured
from yibao.settlement.commands import FindPerson


def read_find_person(d: dict[str, Any], node: str = "data") -> FindPerson:
    cert_type = f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=node)
    cert_no = f.req_str(d, "mdtrt_cert_no", node_name=node, max_len=64)
    card_sn = None
    if cert_type is MdtrtCertType.SSC:
        card_sn = f.opt_str(d, "card_sn", node_name=node, max_len=50)
    return FindPerson(
        mdtrt_cert_type=cert_type,
        mdtrt_cert_no=cert_no,
        card_sn=card_sn,
        psn_name=f.opt_str(d, "psn_name", node_name=node, max_len=50),
    )


@transaction("1101", "人员信息获取", writes=False, inline_read=True)
def person_info(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = read_find_person(f.node(input, "data"))
    row = insured.find_person(conn, command)
    return insured.person_info(conn, row, ctx.now.date())
