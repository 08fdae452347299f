"""Pharmacy transactions: 2101 药店预结算, 2102 药店结算, 2103 药店结算撤销 (see
`yibao.settlement.pharmacy`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.codes.dicts import Flag, MdtrtCertType
from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.interface.transactions.callers import caller, pricing
from yibao.interface.transactions.readers import read_fee_lines, read_reverse
from yibao.settlement import pharmacy
from yibao.settlement.commands import SettlePharmacy


def _read(input: dict[str, Any]) -> SettlePharmacy:
    n = "druginfo"
    d = f.node(input, n)
    return SettlePharmacy(
        psn_no=f.req_str(d, "psn_no", node_name=n, max_len=30),
        mdtrt_cert_type=f.req_code(d, "mdtrt_cert_type", MdtrtCertType, node_name=n),
        mdtrt_cert_no=f.opt_str(d, "mdtrt_cert_no", node_name=n, max_len=50),
        medfee_sumamt=f.req_amount(d, "medfee_sumamt", node_name=n),
        insutype=f.req_str(d, "insutype", node_name=n, max_len=6),
        acct_used_flag=f.req_code(d, "acct_used_flag", Flag, node_name=n) is Flag.YES,
        med_type=f.opt_str(d, "med_type", node_name=n, max_len=6) or pharmacy.PHARMACY_MED_TYPE,
        begntime=f.opt_datetime(d, "begntime", node_name=n),
        invono=f.opt_str(d, "invono", node_name=n, max_len=20),
        dise_codg=f.opt_str(d, "dise_codg", node_name=n, max_len=30),
        dise_name=f.opt_str(d, "dise_name", node_name=n, max_len=500),
        drugdetail=read_fee_lines(
            f.node_list(input, "drugdetail"), "drugdetail", require_visit=False
        ),
    )


@transaction("2101", "药店预结算", writes=False, short_read=True)
def pre_settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return pharmacy.settle(conn, caller(ctx), pricing(ctx), _read(input), final=False)


@transaction("2102", "药店结算", writes=True)
def settle(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return pharmacy.settle(conn, caller(ctx), pricing(ctx), _read(input), final=True)


@transaction("2103", "药店结算撤销", writes=True)
def reverse(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return pharmacy.reverse(conn, caller(ctx), read_reverse(input))
