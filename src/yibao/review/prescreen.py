"""3101 明细审核事前 / 3102 明细审核事中: the HIS sends the patient's encounters and orders
(`patient_dtos` … `fsi_order_dtos`, reference nhsa-interface.md §2 3101/3102) and gets back
the hits of the `pre` (3101) or `mid` (3102) rules in the reference's `result[]` shape. Nothing
is stored; a clean bill answers `result: []`.

The person's history and date of death come from the row store when `patn_id` is a known
psn_no; the institution is the caller (its level unless the encounter names `medins_lv`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from yibao.catalog.cache import CatalogCache
from yibao.kit.clock import age_on
from yibao.kit.money import round_fen
from yibao.review.service import Reviewer, bill_of, line_of
from yibao.risk import Hit, Institution, Person
from yibao.risk.engine import review
from yibao.risk.model import EMPTY_HISTORY, Scene, Stage, is_inpatient_med_type
from yibao.storage.tables import psn


@dataclass(frozen=True, slots=True)
class Order:
    """One fsi_order_dtos row."""

    rx_id: str
    hilist_code: str
    hilist_name: str | None
    cnt: Decimal
    pric: Decimal
    sumamt: Decimal
    begn: datetime | None
    #: days of supply when the HIS sends drord_begn_date and drord_stop_date
    days: Decimal | None


@dataclass(frozen=True, slots=True)
class Encounter:
    mdtrt_id: str
    med_type: str
    medins_lv: str | None
    adm_date: datetime | None
    dscg_date: datetime | None
    diag_codes: tuple[str, ...]
    main_diag: str | None
    orders: tuple[Order, ...]


@dataclass(frozen=True, slots=True)
class Patient:
    patn_id: str
    gend: str | None
    brdy: date | None
    curr_mdtrt_id: str | None
    encounters: tuple[Encounter, ...]


@dataclass(frozen=True, slots=True)
class Prescreen:
    """3101 (stage pre) / 3102 (stage mid)."""

    stage: Stage
    patients: tuple[Patient, ...]
    rule_ids: frozenset[str]
    trig_scen: str | None


def _scene(med_type: str) -> Scene:
    if is_inpatient_med_type(med_type):
        return "inpatient"
    return "pharmacy" if med_type == "41" else "outpatient"


#: 严重程度 of a hit's result type (the reference names the field, not its codes)
SEV_DEG = {"violation": "1", "suspicious": "2"}


def _result(hit: Hit, patient: Patient, enc: Encounter, seq: int) -> dict[str, Any]:
    amount = round_fen(hit.amount)
    return {
        "jr_id": f"{enc.mdtrt_id}-{seq}",
        "rule_id": hit.rule_id,
        "rule_name": hit.name,
        "vola_cont": hit.reason,
        "patn_id": patient.patn_id,
        "mdtrt_id": enc.mdtrt_id,
        "judge_result_detail_dtos": [
            {
                "jrd_id": f"{enc.mdtrt_id}-{seq}-{i}",
                "patn_id": patient.patn_id,
                "mdtrt_id": enc.mdtrt_id,
                "rx_id": rx_id,
                "vola_item_type": "1",
                "vola_amt": amount if len(hit.line_ids) == 1 else None,
            }
            for i, rx_id in enumerate(hit.line_ids, start=1)
        ],
        "vola_amt": amount,
        "vola_amt_stas": "1" if amount else "0",
        "sev_deg": SEV_DEG[hit.result_type],
        "vola_evid": f"{hit.threshold} / {hit.value}".strip(" /") or None,
        "vola_bhvr_type": hit.category,
        "task_id": None,
        # beyond the reference's fields: what the rule base says of the hit
        "category": hit.category,
        "result_type": hit.result_type,
        "action": hit.action,
        "rule_version": hit.rule_version,
    }


def _death(conn: Connection, psn_no: str) -> tuple[bool, date | None, str | None, date | None]:
    """Whether the patient is a known person; their death date, sex and birth date."""
    row = conn.execute(select(psn).where(psn.c.psn_no == psn_no)).mappings().first()
    if row is None:
        return False, None, None, None
    death = row.get("death_date")
    return True, death if isinstance(death, date) else None, row["gend"], row["brdy"]


def prescreen(
    conn: Connection,
    command: Prescreen,
    *,
    reviewer: Reviewer,
    catalog: CatalogCache,
    fixmedins_code: str,
    hosp_lv: str,
    admdvs: str,
    now: datetime,
) -> dict[str, Any]:
    """The `result[]` of 3101/3102 (every rule of the stage, whether or not real-time review
    is switched on in settlement: the HIS asks for it)."""
    results: list[dict[str, Any]] = []
    kb = reviewer.kb(conn)
    for patient in command.patients:
        known, death, gend, brdy = _death(conn, patient.patn_id)
        gend = patient.gend or gend
        brdy = patient.brdy or brdy
        for enc in patient.encounters:
            when = enc.adm_date or now
            lines = []
            for o in enc.orders:
                at = o.begn or when
                item = catalog.terms_at(conn, [o.hilist_code], at).get(o.hilist_code)
                lines.append(
                    line_of(
                        line_id=o.rx_id,
                        code=o.hilist_code,
                        cnt=o.cnt,
                        pric=o.pric,
                        amount=o.sumamt,
                        when=at,
                        item=item,
                        name=o.hilist_name,
                        prd_days=o.days,
                    )
                )
            bill = bill_of(
                mdtrt_id=enc.mdtrt_id,
                scene=_scene(enc.med_type),
                med_type=enc.med_type,
                begntime=when,
                endtime=enc.dscg_date,
                diag_codes=enc.diag_codes,
                main_diag=enc.main_diag,
                person=Person(
                    psn_no=patient.patn_id,
                    gend=gend,
                    age=age_on(brdy, when.date()) if brdy is not None else None,
                    death_date=death,
                ),
                institution=Institution(
                    fixmedins_code=fixmedins_code,
                    hosp_lv=enc.medins_lv or hosp_lv,
                    admdvs=admdvs,
                    pharmacy=_scene(enc.med_type) == "pharmacy",
                ),
                lines=lines,
            )
            history = reviewer.history(conn, bill, stock=True) if known else None
            hits = review(
                command.stage,
                bill,
                history if history is not None else EMPTY_HISTORY,
                kb,
                reviewer.ruleset,
            )
            if command.rule_ids:
                hits = [h for h in hits if h.rule_id in command.rule_ids]
            for hit in hits:
                results.append(_result(hit, patient, enc, len(results) + 1))
    return {"result": results}


def order_days(begn: datetime | None, stop: datetime | None) -> Decimal | None:
    if begn is None or stop is None or stop < begn:
        return None
    return Decimal((stop.date() - begn.date()).days + 1)


def ids_of(value: object) -> frozenset[str]:
    """rule_ids as a list or a comma-separated string."""
    if value is None:
        return frozenset()
    items: Sequence[object] = value if isinstance(value, list) else str(value).split(",")
    return frozenset(str(x).strip() for x in items if str(x).strip())
