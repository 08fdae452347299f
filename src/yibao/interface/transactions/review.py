"""3101 明细审核事前 / 3102 明细审核事中 (reference nhsa-interface.md §2): the input read into
`review.prescreen` commands; the answer is `result[]` (empty for a clean bill)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from yibao.interface import fields as f
from yibao.interface.context import CallContext
from yibao.interface.registry import transaction
from yibao.kit.money import round_fen
from yibao.review.prescreen import (
    Encounter,
    Order,
    Patient,
    Prescreen,
    ids_of,
    order_days,
    prescreen,
)
from yibao.risk.model import Stage
from yibao.runtime import Platform


def _orders(enc: dict[str, Any], where: str) -> tuple[Order, ...]:
    out = []
    for j, o in enumerate(f.node_list(enc, "fsi_order_dtos", required=False)):
        n = f"{where}.fsi_order_dtos[{j}]"
        cnt = f.req_decimal(o, "cnt", node_name=n, places=4)
        pric = f.req_decimal(o, "pric", node_name=n, places=6)
        sumamt = f.opt_amount(o, "sumamt", node_name=n)
        begn = f.opt_datetime(o, "drord_begn_date", node_name=n)
        stop = f.opt_datetime(o, "drord_stop_date", node_name=n)
        out.append(
            Order(
                rx_id=f.opt_str(o, "rx_id", node_name=n, max_len=50) or str(j + 1),
                hilist_code=f.req_str(o, "hilist_code", node_name=n, max_len=50),
                hilist_name=f.opt_str(o, "hilist_name", node_name=n, max_len=200),
                cnt=cnt,
                pric=pric,
                sumamt=sumamt if sumamt is not None else round_fen(cnt * pric),
                begn=begn,
                days=order_days(begn, stop),
            )
        )
    return tuple(out)


def _encounters(patient: dict[str, Any], where: str) -> tuple[Encounter, ...]:
    out = []
    for i, enc in enumerate(f.node_list(patient, "fsi_encounter_dtos")):
        n = f"{where}.fsi_encounter_dtos[{i}]"
        diags = []
        main = f.opt_str(enc, "dscg_main_dise_codg", node_name=n, max_len=30)
        for k, d in enumerate(f.node_list(enc, "fsi_diagnose_dtos", required=False)):
            code = f.opt_str(d, "dise_codg", node_name=f"{n}.fsi_diagnose_dtos[{k}]", max_len=30)
            if code:
                diags.append(code)
                if main is None and str(d.get("maindise_flag") or "") == "1":
                    main = code
        if main and main not in diags:
            diags.insert(0, main)
        out.append(
            Encounter(
                mdtrt_id=f.req_str(enc, "mdtrt_id", node_name=n, max_len=30),
                med_type=f.req_str(enc, "med_type", node_name=n, max_len=6),
                medins_lv=f.opt_str(enc, "medins_lv", node_name=n, max_len=3),
                adm_date=f.opt_datetime(enc, "adm_date", node_name=n),
                dscg_date=f.opt_datetime(enc, "dscg_date", node_name=n),
                diag_codes=tuple(diags),
                main_diag=main or (diags[0] if diags else None),
                orders=_orders(enc, n),
            )
        )
    return tuple(out)


def _read(input: dict[str, Any], stage: Stage) -> Prescreen:
    d = f.node(input, "data")
    patients = []
    for i, p in enumerate(f.node_list(d, "patient_dtos", max_items=100)):
        n = f"data.patient_dtos[{i}]"
        patients.append(
            Patient(
                patn_id=f.req_str(p, "patn_id", node_name=n, max_len=30),
                gend=f.opt_str(p, "gend", node_name=n, max_len=1),
                brdy=f.opt_date(p, "brdy", node_name=n),
                curr_mdtrt_id=f.opt_str(p, "curr_mdtrt_id", node_name=n, max_len=30),
                encounters=_encounters(p, n),
            )
        )
    return Prescreen(
        stage=stage,
        patients=tuple(patients),
        rule_ids=ids_of(d.get("rule_ids")),
        trig_scen=f.opt_str(d, "trig_scen", node_name="data", max_len=10),
    )


def _answer(conn: Connection, ctx: CallContext, command: Prescreen) -> dict[str, Any]:
    platform: Platform = ctx.platform
    institution = ctx.institution
    return prescreen(
        conn,
        command,
        reviewer=platform.reviewer,
        catalog=platform.catalog,
        fixmedins_code=institution.fixmedins_code,
        hosp_lv=institution.hosp_lv,
        admdvs=institution.admdvs,
        now=ctx.now,
    )


@transaction("3101", "明细审核事前分析", writes=False)
def before(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return _answer(conn, ctx, _read(input, "pre"))


@transaction("3102", "明细审核事中分析", writes=False)
def during(conn: Connection, ctx: CallContext, input: dict[str, Any]) -> dict[str, Any]:
    return _answer(conn, ctx, _read(input, "mid"))
