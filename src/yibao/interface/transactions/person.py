"""1101 人员信息获取: the insured person a 就诊凭证 names, with their insurances and identities
(see `yibao.settlement.insured`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import MdtrtCertType, PsnCertType
from yibao.codes.validators import certno_check_digit
from yibao.errors import InvalidInput
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.settlement import insured
from yibao.settlement.commands import FindPerson


def check_id_card_digit(value: str | None, where: str) -> None:
    """An 18-character 居民身份证 number must carry its GB 11643 校验位 (ISO 7064 MOD 11-2):
    a mistyped number is refused as such instead of answering 未查询到参保人员. Only the check
    character is judged here; a value whose first 17 characters are not digits is no
    居民身份证 number of this form and is left to the lookup."""
    if value is None or len(value) != 18:
        return
    body, check = value[:17], value[17]
    if not (body.isascii() and body.isdigit()):
        return
    expected = certno_check_digit(body)
    if check.upper() != expected:
        raise InvalidInput(
            f"{where}: 居民身份证号码校验位错误, 应为 '{expected}', 实为 '{check}' "
            f"(wrong check digit of the ID card number: expected '{expected}', got '{check}')"
        )


def read_find_person(d: dict[str, Any], node: str = "data") -> FindPerson:
    cert_type = f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=node)
    cert_no = f.req_str(d, "mdtrt_cert_no", node_name=node, max_len=64)
    if cert_type is MdtrtCertType.ID_CARD:
        check_id_card_digit(cert_no, f"{node}.mdtrt_cert_no")
    if f.opt_str(d, "psn_cert_type", node_name=node, max_len=6) == PsnCertType.ID_CARD.value:
        check_id_card_digit(f.opt_str(d, "certno", node_name=node, max_len=50), f"{node}.certno")
    card_sn = None
    if cert_type is MdtrtCertType.SSC:
        card_sn = f.opt_str(d, "card_sn", node_name=node, max_len=50)
    return FindPerson(
        mdtrt_cert_type=cert_type,
        mdtrt_cert_no=cert_no,
        card_sn=card_sn,
        psn_name=f.opt_str(d, "psn_name", node_name=node, max_len=50),
    )


@transaction("1101", "人员信息获取", writes=False, short_read=True)
def person_info(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    command = read_find_person(f.node(input, "data"))
    row = insured.find_person(conn, command)
    return insured.person_info(conn, row, ctx.now.date())
