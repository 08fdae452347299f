"""The `rules` detector of `yibao risk evaluate`: the real-time rule base (issue 18's `risk/`)
replayed over the settled city, through the same code as in settlement.

Every settled visit (one whose settlement was reversed later too: the review ran when it was
settled) becomes the bill the rules would have seen at its settlement — its fee lines in the
order they were uploaded, with their catalog terms on the fee day, every diagnosis of the
visit (as a fee upload reads them), the person on that day, the institution — and the
person's history **as it stood then** (the visits and lines before the bill; the row store
holds the later ones too, which the live call could not have seen). The rules run with
stage `mid` over the whole bill (`part="all"`: the line rules of the uploads and the visit and
history rules of the settlement at once), with the knowledge base of the demo city
(`simulate/risk_kb_demo.json`, the values the generator's anomalies cross), and each hit is
scored on its category's unit: a fee line (`line_ids`) or the visit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, select

from yibao.bench.risk_eval import Hit
from yibao.catalog.cache import CatalogCache
from yibao.config import Settings
from yibao.review import service as review
from yibao.review.demo_kb import rows_from_document
from yibao.review.kb_rows import knowledge_base_from_rows
from yibao.risk import Institution
from yibao.risk.engine import review as run_rules
from yibao.risk.kb import KnowledgeBase
from yibao.risk.model import History
from yibao.risk.params_io import load_ruleset
from yibao.risk.registry import CATEGORIES
from yibao.simulate.kb import KB_FILE
from yibao.storage.tables import diag, fee_detail, fixmedins, mdtrt, psn, setl


def demo_knowledge() -> KnowledgeBase:
    """The demo knowledge base, in memory (nothing is written to the store)."""
    return knowledge_base_from_rows(
        rows_from_document(json.loads(KB_FILE.read_text(encoding="utf-8")))
    )


def upload_order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """A stored fee line's place in the visit's uploads: by upload time, then by its serial
    number (feedetl_sn, 费用明细流水号) taken as a number where it is one — "8" before "12",
    as the HIS numbered and sent them (the store's text order would put "12" first)."""
    sn = str(row["feedetl_sn"])
    return (row["created_at"], 0, int(sn), "") if sn.isdigit() else (row["created_at"], 1, 0, sn)


def settled_visits(conn: Connection) -> list[dict[str, Any]]:
    """The visits the replay reviews, in time order: those with an original settlement,
    valid or reversed since (the reversal's own record is not one)."""
    return [
        dict(r)
        for r in conn.execute(
            select(
                mdtrt.c.mdtrt_id,
                mdtrt.c.psn_no,
                mdtrt.c.fixmedins_code,
                mdtrt.c.med_type,
                mdtrt.c.mdtrt_kind,
                mdtrt.c.begntime,
                mdtrt.c.endtime,
                mdtrt.c.maindiag_code,
            )
            .where(
                mdtrt.c.mdtrt_id.in_(select(setl.c.mdtrt_id).where(setl.c.refd_setl_flag != "1"))
            )
            .order_by(mdtrt.c.begntime, mdtrt.c.mdtrt_id)
        ).mappings()
    ]


def diagnoses(conn: Connection, v: Mapping[str, Any]) -> list[str]:
    """The visit's valid diagnoses, the main one first, each once (what a fee upload's
    indication check reads)."""
    codes = conn.execute(
        select(diag.c.diag_code)
        .where(diag.c.mdtrt_id == v["mdtrt_id"], diag.c.vali_flag == "1")
        .order_by(diag.c.stage, diag.c.diag_srt_no)
    ).scalars()
    return list(dict.fromkeys(c for c in (v["maindiag_code"], *codes) if c))


def _before(history: History, bill_time: Any, mdtrt_id: str) -> History:
    """The history as the live call saw it: what happened before the bill."""
    return History(
        visits=tuple(
            v for v in history.visits if v.begntime < bill_time and v.mdtrt_id != mdtrt_id
        ),
        lines=tuple(
            ln for ln in history.lines if ln.fee_ocur_time < bill_time and ln.mdtrt_id != mdtrt_id
        ),
        stock=history.stock,
    )


class RulesReplay:
    """The `rules` detector (see the module's docstring)."""

    name = "rules"

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.engine = engine
        self.ruleset = load_ruleset([settings.data_dir])
        self.reviewer = review.Reviewer(self.ruleset)
        self.kb = demo_knowledge()
        self.catalog = CatalogCache()

    def __call__(self) -> Iterator[Hit]:
        with self.engine.connect() as conn:
            institutions = {
                r.fixmedins_code: r
                for r in conn.execute(
                    select(
                        fixmedins.c.fixmedins_code,
                        fixmedins.c.hosp_lv,
                        fixmedins.c.admdvs,
                        fixmedins.c.kind,
                    )
                )
            }
            visits = settled_visits(conn)
            persons: dict[str, Mapping[str, Any]] = {}
            for v in visits:
                yield from self._visit(conn, v, institutions, persons)

    def _visit(
        self,
        conn: Any,
        v: dict[str, Any],
        institutions: Mapping[str, Any],
        persons: dict[str, Mapping[str, Any]],
    ) -> Iterator[Hit]:
        rows = sorted(
            conn.execute(
                select(fee_detail).where(
                    fee_detail.c.mdtrt_id == v["mdtrt_id"], fee_detail.c.vali_flag == "1"
                )
            ).mappings(),
            key=upload_order,
        )
        if not rows:
            return
        inst = institutions.get(v["fixmedins_code"])
        if inst is None:
            return
        person = persons.get(v["psn_no"])
        if person is None:
            person = dict(
                conn.execute(select(psn).where(psn.c.psn_no == v["psn_no"])).mappings().one()
            )
            persons[v["psn_no"]] = person
        by_day: dict[date, set[str]] = {}
        for r in rows:
            by_day.setdefault(r["fee_ocur_time"].date(), set()).add(r["med_list_codg"])
        terms = {day: self.catalog.terms_at(conn, codes, day) for day, codes in by_day.items()}
        lines = [
            review.line_of(
                line_id=r["feedetl_sn"], code=r["med_list_codg"], cnt=r["cnt"], pric=r["pric"],
                amount=r["det_item_fee_sumamt"], when=r["fee_ocur_time"],
                item=terms[r["fee_ocur_time"].date()].get(r["med_list_codg"]),
                name=r.get("hilist_name"), prd_days=r.get("prd_days"),
                hosp_appr_flag=r.get("hosp_appr_flag"), list_type=r.get("list_type"),
            )
            for r in rows
        ]  # fmt: skip
        bill = review.bill_of(
            mdtrt_id=v["mdtrt_id"],
            scene=review.scene_of(v["mdtrt_kind"]),
            med_type=v["med_type"],
            begntime=v["begntime"],
            endtime=v["endtime"],
            diag_codes=diagnoses(conn, v),
            main_diag=v["maindiag_code"],
            person=review.person_of(person, v["begntime"].date()),
            institution=Institution(
                fixmedins_code=inst.fixmedins_code,
                hosp_lv=inst.hosp_lv,
                admdvs=inst.admdvs,
                pharmacy=inst.kind == "pharmacy",
            ),
            lines=lines,
        )
        history = _before(
            self.reviewer.history(conn, bill, kb=self.kb), v["begntime"], v["mdtrt_id"]
        )
        for h in run_rules("mid", bill, history, self.kb, self.ruleset, part="all"):
            category = CATEGORIES.get(h.category)
            if category is not None and category.unit == "line" and h.line_ids:
                for line_id in h.line_ids:
                    yield Hit(
                        h.category,
                        mdtrt_id=v["mdtrt_id"],
                        feedetl_sn=line_id,
                        psn_no=v["psn_no"],
                        fixmedins_code=v["fixmedins_code"],
                        rule_id=h.rule_id,
                    )
            else:
                yield Hit(
                    h.category,
                    mdtrt_id=v["mdtrt_id"],
                    psn_no=v["psn_no"],
                    fixmedins_code=v["fixmedins_code"],
                    rule_id=h.rule_id,
                )
