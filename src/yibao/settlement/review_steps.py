"""The review inside the settlement calls (事中, docs/review.md): the bill each call shows the
rules, built from what the call already holds, and the stored hits.

- fee upload (2204/2301): the uploaded lines, beside the visit's earlier lines — line rules;
- (pre-)settlement (2206/2207, 2303/2304): the visit and its lines — visit and history rules;
- pharmacy (2101/2102): one call is the whole bill — every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection

from yibao.catalog.model import CatalogItem
from yibao.review import service as review
from yibao.review.service import NOTHING, Outcome, Where
from yibao.risk import Bill, Institution, Line
from yibao.risk.engine import Part
from yibao.risk.model import Scene
from yibao.settlement import repo
from yibao.settlement.commands import FeeLine
from yibao.settlement.context import Caller, Pricing


def reviewing(pricing: Pricing) -> bool:
    """Whether the calls review their bills: they then read the visit's other lines for the
    rules along with their own (one read serves both)."""
    return pricing.review is not None and pricing.review.enabled


def _institution(caller: Caller, kind: str) -> Institution:
    return Institution(
        fixmedins_code=caller.fixmedins_code,
        hosp_lv=caller.hosp_lv,
        admdvs=caller.admdvs,
        pharmacy=kind == repo.PHARMACY,
        fixmedins_type=caller.kind or None,
    )


def _new_lines(lines: Sequence[FeeLine], items: Mapping[int, CatalogItem | None]) -> list[Line]:
    """The call's lines as the rules see them; `items`: each line's catalog term
    (`fees.terms_by_line`, which the split reads too)."""
    return [
        review.line_of(
            line_id=ln.feedetl_sn,
            code=ln.med_list_codg,
            cnt=ln.cnt,
            pric=ln.pric,
            amount=ln.det_item_fee_sumamt,
            when=ln.fee_ocur_time,
            item=items[ln.index],
            prd_days=ln.values.get("prd_days"),
            hosp_appr_flag=ln.hosp_appr_flag.value,
        )
        for ln in lines
    ]


def _stored(row: Mapping[str, Any]) -> Line:
    return review.line_of(
        line_id=row["feedetl_sn"],
        code=row["med_list_codg"],
        cnt=row["cnt"],
        pric=row["pric"],
        amount=row["det_item_fee_sumamt"],
        when=row["fee_ocur_time"],
        item=None,
        name=row.get("hilist_name"),
        prd_days=row.get("prd_days"),
        hosp_appr_flag=row.get("hosp_appr_flag"),
        list_type=row.get("list_type"),
    )


#: a stored line's values the rules read, as one tuple (every row the settlement or the
#: review reads carries these columns)
_REVIEW_VALUES = itemgetter(*repo.REVIEW_LINE_COLUMNS)


def _settlement_print(
    caller: Caller,
    visit: Mapping[str, Any],
    person: Mapping[str, Any],
    kind: str,
    med_type: str,
    rows: Sequence[Mapping[str, Any]],
) -> tuple[object, ...]:
    """Everything of a (pre-)settlement the visit rules see, as plain values: the visit, the
    person, the institution and the stored lines to settle (the columns `_stored` reads). A 2207 equal to its 2206 in this
    takes the 2206's review over without building the bill again."""
    return (
        kind,
        med_type,
        visit["begntime"],
        visit.get("endtime"),
        visit.get("maindiag_code"),
        person["psn_no"],
        person.get("gend"),
        person.get("brdy"),
        person.get("death_date"),
        caller.fixmedins_code,
        caller.hosp_lv,
        caller.admdvs,
        caller.kind,
        tuple(map(_REVIEW_VALUES, rows)),
    )


def where(caller: Caller, psn_no: str, mdtrt_id: str | None, infno: str) -> Where:
    return Where(
        infno=infno,
        msgid=caller.msgid,
        fixmedins_code=caller.fixmedins_code,
        psn_no=psn_no,
        mdtrt_id=mdtrt_id,
        now=caller.now,
        ids=caller.ids,
    )


def at_upload(
    conn: Connection,
    caller: Caller,
    pricing: Pricing,
    *,
    visit: Mapping[str, Any],
    person: Mapping[str, Any],
    lines: Sequence[FeeLine],
    kind: str,
    diag_loader: Callable[[], Sequence[str]],
    infno: str,
    terms: Mapping[int, CatalogItem | None],
    visit_rows: Sequence[Mapping[str, Any]],
) -> Outcome:
    """The line rules on uploaded lines (refuses with ReviewRefused on a `refuse` hit);
    `terms`: each line's catalog term (`fees.terms_by_line`); `visit_rows`: every line of
    the visit as the upload read them when `reviewing` (`repo.every_line_of_visit`)."""
    reviewer = pricing.review
    if reviewer is None or not reviewer.enabled:
        return NOTHING
    sent = {ln.feedetl_sn for ln in lines}
    earlier = [
        _stored(r) for r in visit_rows if r["vali_flag"] == "1" and r["feedetl_sn"] not in sent
    ]
    new = _new_lines(lines, terms)
    bill = review.bill_of(
        mdtrt_id=visit["mdtrt_id"],
        scene=review.scene_of(kind),
        med_type=visit["med_type"],
        begntime=visit["begntime"],
        endtime=visit.get("endtime"),
        # only the indication rule reads the diagnoses, and only for an item restricted to
        # indications: read them when the upload holds one
        diag_codes=diag_loader() if any(ln.limits.diag_codes for ln in new) else (),
        main_diag=visit.get("maindiag_code"),
        person=review.person_of(person, lines[0].fee_ocur_time.date()),
        institution=_institution(caller, kind),
        lines=new,
        visit_lines=earlier,
    )
    hits = reviewer.review(conn, "mid", bill, part="upload")
    return review.act(hits, where(caller, visit["psn_no"], visit["mdtrt_id"], infno))


def at_settlement(
    conn: Connection,
    caller: Caller,
    pricing: Pricing,
    *,
    visit: Mapping[str, Any],
    person: Mapping[str, Any],
    med_type: str,
    kind: str,
    final: bool,
    infno: str,
    to_settle: Sequence[Mapping[str, Any]],
    visit_lines: Sequence[Mapping[str, Any]],
) -> Outcome:
    """The visit and history rules at (pre-)settlement; a refusal of 2207/2304 carries its
    hit rows (stored apart), of 2206/2303 none (they persist nothing). The bill is the visit's
    unsettled lines beside its settled ones; `visit_lines`: every valid line of the visit as
    the settlement read them when `reviewing` (`repo.visit_lines_to_settle`).

    2207 applies the same review as its 2206: when the 2206 of the same visit was reviewed on
    the same bill (`to_settle`, the lines this settlement takes) and nothing was written for
    the person since (`Reviewer.recall`), its hits are the 2207's without reading the history
    again."""
    reviewer = pricing.review
    if reviewer is None or not reviewer.enabled:
        return NOTHING
    psn_no = visit["psn_no"]
    here = where(caller, psn_no, visit["mdtrt_id"], infno)
    key = (visit["mdtrt_id"], kind, med_type)

    def bill_with(new: list[Line], earlier: list[Line]) -> Bill:
        return review.bill_of(
            mdtrt_id=visit["mdtrt_id"],
            scene=review.scene_of(kind),
            med_type=med_type,
            begntime=visit["begntime"],
            endtime=visit.get("endtime"),
            diag_codes=[c for c in [visit.get("maindiag_code")] if c],
            main_diag=visit.get("maindiag_code"),
            person=review.person_of(person, visit["begntime"].date()),
            institution=_institution(caller, kind),
            lines=new,
            visit_lines=earlier,
        )

    epoch = reviewer.epoch(psn_no)  # before anything of the history is read
    if final and to_settle:
        seen = _settlement_print(caller, visit, person, kind, med_type, to_settle)
        again = reviewer.recall(key, seen, epoch)
        if again is not None:
            return review.act(again, here)
    unsettled = [r for r in visit_lines if r["setl_id"] is None]
    settled = [r for r in visit_lines if r["setl_id"] is not None]
    bill = bill_with([_stored(r) for r in unsettled], [_stored(r) for r in settled])
    keep = (
        None
        if final
        else (key, epoch, _settlement_print(caller, visit, person, kind, med_type, unsettled))
    )
    hits = reviewer.review(conn, "mid", bill, part="settlement", keep=keep)
    return review.act(hits, here if final else None)


def at_pharmacy(
    conn: Connection,
    caller: Caller,
    pricing: Pricing,
    *,
    person: Mapping[str, Any],
    psn_no: str,
    mdtrt_id: str | None,
    med_type: str,
    begntime: datetime,
    dise_codg: str | None,
    lines: Sequence[FeeLine],
    final: bool,
    infno: str,
    terms: Mapping[int, CatalogItem | None],
    part: Part = "all",
    scene: Scene = "pharmacy",
) -> Outcome:
    """Every rule on a pharmacy sale (2101/2102: one call is the whole bill). A 2102 takes
    its 2101's review over like a 2207 its 2206's (`at_settlement`), where the store declares
    no stock (a declared stock moves with other persons' sales)."""
    reviewer = pricing.review
    if reviewer is None or not reviewer.enabled:
        return NOTHING
    key = (caller.fixmedins_code, psn_no, scene, med_type, dise_codg or "")
    epoch = reviewer.epoch(psn_no)  # before anything of the history is read
    bill = review.bill_of(
        mdtrt_id=mdtrt_id or "",
        scene=scene,
        med_type=med_type,
        begntime=begntime,
        diag_codes=[dise_codg] if dise_codg else [],
        person=review.person_of(person, begntime.date()),
        institution=_institution(caller, repo.PHARMACY),
        lines=_new_lines(lines, terms),
    )
    here = where(caller, psn_no, mdtrt_id, infno)
    # a sale gets its visit id at 2102, after its 2101 was reviewed: compare without it
    seen = (replace(bill.visit, mdtrt_id=""), bill.person, bill.institution, bill.lines)
    if final:
        again = reviewer.recall(key, seen, epoch)
        if again is not None:
            return review.act(again, here)
    hits = reviewer.review(conn, "mid", bill, part=part, keep=None if final else (key, epoch, seen))
    return review.act(hits, here if final else None)


def store(
    conn: Connection,
    caller: Caller,
    outcome: Outcome,
    *,
    psn_no: str,
    mdtrt_id: str | None,
    infno: str,
    setl_id: str | None = None,
) -> None:
    """Store the hits a writing call acted on, in its transaction."""
    if outcome.hits:
        review.store(
            conn, review.hit_rows(outcome.hits, where(caller, psn_no, mdtrt_id, infno), setl_id)
        )
