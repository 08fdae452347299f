"""One simulated visit → the rows live settlement would have written for it.

Runs in the bulk loader's worker processes. Goes through the same policy calculator
(`yibao.policy.settle`), the same catalog terms and restriction check as the interface
(`yibao.catalog.restrictions`), the same accumulator keys (`<insutype>:<key>`, per settlement
year). What a settlement writes — the `setl` row, its `setl_fund` rows, its `extra`, the fee
lines' settled values, the reversal record — comes from the builder live settlement uses
(`yibao.settlement.records`); the visit's `mdtrt` / `diag` rows and the replica payloads
(`yibao.replica.rows`) are built here.

Rows leave as tuples of at-rest values in the shapes of `yibao.simulate.row_shapes`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.catalog import restrictions
from yibao.catalog.model import CatalogItem
from yibao.codes.dicts import (
    ChrgitmLv,
    HospApprFlag,
    HospLv,
    Insutype,
    ListType,
    MedChrgitmType,
    MedType,
    PsnIdetType,
    PsnType,
)
from yibao.kit.clock import age_on
from yibao.policy import (
    CatalogTerms,
    FeeLineIn,
    LineRules,
    PersonTerms,
    PolicyBook,
    SettlementSplit,
    VisitTerms,
    negate,
    settle_lines,
    split_line,
)
from yibao.policy.model import LineSplit, PolicyRefusal
from yibao.policy.remote import remote_verdict
from yibao.replica import rows as replica_rows
from yibao.settlement import records
from yibao.simulate.chunk_rows import ChunkRows
from yibao.simulate.model import Institution, Line, Person, Visit
from yibao.simulate.names import POOLING_REGION
from yibao.simulate.row_shapes import (
    FEE_DETAIL_COLUMNS,
    constants_for,
    converter,
    ipt_days,
    iso_dt,
    payload_builder,
    picker,
    scaled2,
)
from yibao.storage.schema.care import forced_selfpay
from yibao.storage.tables import diag, fee_detail, mdtrt, setl, setl_fund

ZERO = Decimal("0.00")
CLR_TYPE = {"outpatient": "11", "inpatient": "21", "pharmacy": "41"}
REVS_INFNO = {"outpatient": "2208", "inpatient": "2305", "pharmacy": "2103"}
#: the simulated city's visits are all registered on the ID card (mdtrt_cert_type 02)
MDTRT_CERT_TYPE = "02"


def _reverse5(value: int) -> int:
    out = 0
    for _ in range(5):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


#: the shard bits of each low-5-bit value, already shifted into place (three ids a visit)
_SHARD = tuple(_reverse5(n) << 58 for n in range(32))


def sim_id(n: int) -> str:
    """A sharded id for a simulated record: 5 bit-reversed shard bits over the number (as
    `kit.ids` spreads ids over TiDB Regions); small numbers, so never equal to a live id."""
    return str(_SHARD[n & 31] | n)


def visit_ids(visit_no: int) -> tuple[str, str, str]:
    """(mdtrt_id, setl_id, reversal setl_id) of a simulated visit."""
    return sim_id(visit_no * 4), sim_id(visit_no * 4 + 1), sim_id(visit_no * 4 + 2)


def terms_of(item: CatalogItem, psn_type: str) -> CatalogTerms:
    """As `yibao.settlement.fees` builds them from a catalog term."""
    return CatalogTerms(
        hilist_code=item.hilist_code,
        hilist_name=item.hilist_name,
        list_type=ListType(item.list_type),
        chrgitm_lv=ChrgitmLv(item.chrgitm_lv),
        med_chrgitm_type=MedChrgitmType(item.med_chrgitm_type or MedChrgitmType.OTHER),
        selfpay_prop=item.selfpay_prop_for(psn_type),
        pric_uplmt_amt=item.hilist_pric_uplmt_amt,
        lmt_used_flag=item.lmt_used_flag == "1",
        bas_medn_flag=item.bas_medn_flag == "1",
        hi_nego_drug_flag=item.hi_nego_drug_flag == "1",
        chld_medc_flag=item.chld_medc_flag == "1",
        list_sp_item_flag=item.list_sp_item_flag == "1",
        drt_reim_flag=item.drt_reim_flag == "1",
    )


@dataclass
class PersonState:
    """One person's running balance and accumulators per year, keyed as the engine keys them
    (a simulated person has one insutype; `Settler.run` prefixes it, `<insutype>:<key>`, as
    the row store keeps them)."""

    balc: Decimal
    acc: dict[int, dict[str, Decimal]] = field(default_factory=dict)


if [f.name for f in fields(LineRules)] != ["unknown_code"]:  # pragma: no cover
    raise RuntimeError("LineRules changed: key Settler._line's memo on its new fields too")

#: distinct lines a worker remembers before it starts again (bounds memory, not results)
LINE_MEMO_LIMIT = 200_000
#: the setl columns, in table order (a reversal record copies its original's)
_SETL_COLUMNS = tuple(c.name for c in setl.columns)
#: the at-rest fee_detail columns a line memo holds (FEE_DETAIL_COLUMNS: med_list_codg …
#: hosp_appr_flag, and used_frqu_dscr … memo)
_TERMS_PART = picker(fee_detail, FEE_DETAIL_COLUMNS[5:22])
_LINE_PART = picker(fee_detail, FEE_DETAIL_COLUMNS[26:29])
#: where a memo's parts hold the `fee` payload's line values (at rest: fen, 1/10,000)
_FEE_TERMS = tuple(
    FEE_DETAIL_COLUMNS[5:22].index(c)
    for c in ("med_list_codg", "list_type", "med_chrgitm_type", "cnt", "det_item_fee_sumamt")
)
_FEE_DAYS = FEE_DETAIL_COLUMNS[26:29].index("prd_days")
_FEE_APPROVAL = tuple(FEE_DETAIL_COLUMNS[5:22].index(c) for c in ("pric", "hosp_appr_flag"))
_FEE_FLAGS = FEE_DETAIL_COLUMNS[5:22].index("flags")


@dataclass(frozen=True, slots=True)
class _LineMemo:
    """One distinct line's split and the parts of its fee_detail row that follow from it
    (FEE_DETAIL_COLUMNS: `terms_part` is med_list_codg … hosp_appr_flag, `line_part` is
    used_frqu_dscr … memo); the rest of the row comes from the visit."""

    split: LineSplit
    terms_part: tuple[Any, ...]
    line_part: tuple[Any, ...]
    #: (med_chrgitm_type, det_item_fee_sumamt): what the line adds to the fee structure
    #: (`records.fee_structure`)
    kind_amount: tuple[str, Decimal]
    #: the spool's fee_shape row: (shape number, *terms_part, *line_part); the number is
    #: unique for the worker's life (a compact fee line names its shape by it)
    shape: tuple[Any, ...]
    #: the line's values in the replica's `fee` payload (`replica.rows.FEE_LINE_FIELDS`
    #: but the line's number and time): hilist_code, list_type, med_chrgitm_type, cnt,
    #: det_item_fee_sumamt, prd_days, pric, hosp_appr_flag, forced_selfpay — at rest, as the
    #: payload carries them
    fee_part: tuple[Any, ...]

    @staticmethod
    def of(ln: Line, row: LineSplit, *, forced: bool, no: int, appr: HospApprFlag) -> _LineMemo:
        values = {
            "med_list_codg": ln.hilist_code,
            "medins_list_codg": ln.hilist_code,
            **records.line_values(row, forced),
            "hosp_appr_flag": appr.value,
            "used_frqu_dscr": ln.used_frqu_dscr,
            "prd_days": ln.prd_days,
        }
        terms_part = _TERMS_PART(values)
        line_part = _LINE_PART(values)
        return _LineMemo(
            split=row,
            terms_part=terms_part,
            line_part=line_part,
            kind_amount=(values["med_chrgitm_type"], row.det_item_fee_sumamt),
            shape=(no, *terms_part, *line_part),
            fee_part=(
                *(terms_part[i] for i in _FEE_TERMS),
                line_part[_FEE_DAYS],
                *(terms_part[i] for i in _FEE_APPROVAL),
                "1" if forced_selfpay(terms_part[_FEE_FLAGS]) else "0",
            ),
        )


class Settler:
    """Settles the visits of a chunk in order, person by person."""

    def __init__(
        self,
        book: PolicyBook,
        catalog: Mapping[str, CatalogItem],
        institutions: Mapping[str, Institution],
        *,
        now: datetime,
        until: datetime | None = None,
        compact: bool = False,
    ) -> None:
        self.book = book
        #: fee lines as compact rows and shapes (for a spool) instead of full rows
        self.compact = compact
        #: the last line memo's number (never reused, though the memo may be cleared)
        self._memo_no = 0
        #: visits that would settle after this stay unsettled (and are not written)
        self.until = until
        self.catalog = catalog
        self.inst = institutions
        self.now = now
        self.cv = {t.name: converter(t, constants_for(t, now)) for t in (mdtrt, diag)}
        # the settlement's rows come whole from `yibao.settlement.records`
        self.cv.update(
            {t.name: converter(t, constants_for(t, now), complete=True) for t in (setl, setl_fund)}
        )
        self.pl = {
            replica_rows.SETL: payload_builder(replica_rows.SETL, setl, constants_for(setl, now)),
            replica_rows.MDTRT: payload_builder(
                replica_rows.MDTRT, mdtrt, constants_for(mdtrt, now)
            ),
        }
        #: LineRules by unknown-code rule (all a LineRules holds)
        self._rules: dict[str, LineRules] = {}
        #: catalog term of each code billed, and whether it has restrictions to check
        self._codes: dict[str, tuple[CatalogItem | None, bool]] = {}
        #: CatalogTerms by (code, psn_type): pure of the item and the person type
        self._terms: dict[tuple[str, str], CatalogTerms] = {}
        #: memo of line splits and their fee_detail pieces (`_LineMemo`)
        self._lines: dict[tuple[Any, ...], _LineMemo] = {}
        #: memos of the immutable terms the engine reads (`_person_terms`, `_visit_terms`)
        self._persons: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self._visits: dict[tuple[str, str, str, date, Decimal], VisitTerms] = {}
        #: the setl row of the visit settled last (`_reversal` negates it)
        self._last: dict[str, Any] = {}

    def run(self, persons: Sequence[Person], visits: Sequence[Visit]) -> ChunkRows:
        out = ChunkRows(compact=self.compact)
        by_no = {p.psn_no: p for p in persons}
        states = {p.psn_no: PersonState(p.balc) for p in persons}
        until = self.until
        for v in visits:
            if until is not None and (v.endtime or v.begntime) > until:
                out.unsettled += 1
                out.unsettled_visits.add(v.visit_no)
                continue
            self.visit(out, by_no[v.psn_no], states[v.psn_no], v)
        for p in persons:
            st = states[p.psn_no]
            prefix = f"{p.insutype}:"
            flat = {
                (year, prefix + key): amount
                for year, keys in st.acc.items()
                for key, amount in keys.items()
                if amount
            }
            if self.compact:  # a chunk's persons are its own: their final rows go with it
                out.psn_balc.append((p.psn_no, p.insutype, scaled2(st.balc)))
                out.psn_accum.extend(
                    (p.psn_no, year, key, scaled2(amount)) for (year, key), amount in flat.items()
                )
            else:
                out.persons[p.psn_no] = (st.balc, flat)
        out.seal()
        return out

    @staticmethod
    def _payload(out: ChunkRows, entity: str, payload: tuple[Any, ...]) -> None:
        out.payloads.setdefault(entity, []).append(payload)

    def visit(self, out: ChunkRows, p: Person, st: PersonState, v: Visit) -> None:
        inst = self.inst[v.fixmedins_code]
        setl_time = v.endtime or v.begntime
        day = setl_time.date()
        age = age_on(p.brdy, day)
        mdtrt_id, setl_id, revs_id = visit_ids(v.visit_no)
        diag_codes = [c for c, _n in v.diagnoses]
        year_acc = st.acc.setdefault(day.year, {})
        try:
            insutype, psn_type, assistance, cvlserv = self._person_terms(p)
            person = PersonTerms(
                psn_no=p.psn_no,
                insutype=insutype,
                psn_type=psn_type,
                age=age,
                assistance=assistance,
                balc=st.balc,
                family_balc=ZERO,
                cvlserv_flag=cvlserv,
            )
            cut = ZERO if p.insuplc_admdvs == POOLING_REGION else self._remote_cut(p, inst, v, day)
            visit = self._visit_terms(v.med_type, inst.hosp_lv, p.insuplc_admdvs, day, cut)
            # as `settle` does: the rules first, then each line, then the bill
            resolved = self.book.resolve(person, visit)
            rules = self._rules.get(resolved.version.unknown_code)
            if rules is None:
                unknown = resolved.version.unknown_code
                rules = self._rules[unknown] = LineRules(unknown_code=unknown)
            memos = [self._line(ln, p, inst, v, diag_codes, rules) for ln in v.lines]
            # the engine reads the accumulators and returns a delta; it never writes them
            split = settle_lines([m.split for m in memos], person, visit, year_acc, self.book)
        except (PolicyRefusal, ValueError) as exc:
            out.refused += 1
            if len(out.refusals) < 5:
                out.refusals.append(f"visit {v.visit_no}: {exc}")
            return
        self._add(year_acc, split.accumulator_delta)
        st.balc = split.balc
        self._rows(out, p, inst, v, split, memos, mdtrt_id, setl_id, setl_time, age)
        if v.reversed:
            rev = negate(split, balc=st.balc + (split.acct_pay - split.acct_mulaid_pay))
            st.balc = rev.balc
            self._add(year_acc, rev.accumulator_delta)
            self._reversal(out, p, inst, v, split, setl_id, revs_id, setl_time, st.balc)

    def _line(
        self,
        ln: Line,
        p: Person,
        inst: Institution,
        v: Visit,
        diag_codes: list[str],
        rules: LineRules,
    ) -> _LineMemo:
        """The line's split (`yibao.policy.split_line`) and its fee_detail pieces. A city bills
        the same item at the same quantity and price over and over: equal inputs (but the
        line's number) give an equal split, so each distinct line is split once and its
        pieces reused."""
        code = ln.hilist_code
        known = self._codes.get(code)
        if known is None:
            found = self.catalog.get(code)
            known = self._codes[code] = (found, found is not None and not found.restrictions.empty)
        item, restricted = known
        day = ln.fee_ocur_time.date()
        if item is not None and not item.valid_on(day):
            item = None
        terms = None
        if item is not None:
            tkey = (code, p.psn_type)
            terms = self._terms.get(tkey)
            if terms is None:
                terms = self._terms[tkey] = terms_of(item, p.psn_type)
        reason = None
        if item is not None and restricted:
            reasons = restrictions.check(
                item,
                gend=p.gend,
                age=age_on(p.brdy, day),
                hosp_lv=inst.hosp_lv,
                med_type=v.med_type,
                diag_codes=diag_codes,
                cnt=abs(ln.cnt),
                prd_days=ln.prd_days,
            )
            reason = restrictions.selfpay_reason(reasons)
        # everything split_line and the pieces read but the line number; the terms by
        # identity (memoised above, one object per (code, psn_type) for the worker's life).
        # The number only labels the split (and a refusal's message: refusals are not
        # memoised); nothing settle_lines or the rows take from a split depends on it — a
        # fee row takes its line's own number — so a stay's 150 lines share the splits of
        # the city's other stays (docs/simulate.md). A memoised split keeps the number of the
        # first line it was made for.
        key = (
            ln.hilist_code, id(terms), ln.det_item_fee_sumamt, ln.cnt, ln.pric, ln.prd_days,
            ln.used_frqu_dscr, reason, rules.unknown_code,
        )  # fmt: skip
        memo = self._lines.get(key)
        if memo is None:
            # the HIS marks a 限制使用 item approved (the doctor's declaration that the use
            # qualifies, on which the fund pays); any other item needs no approval
            appr = (
                HospApprFlag.APPROVED
                if terms is not None and terms.lmt_used_flag
                else HospApprFlag.NOT_REQUIRED
            )
            split = split_line(
                FeeLineIn(
                    feedetl_sn=ln.feedetl_sn,
                    det_item_fee_sumamt=ln.det_item_fee_sumamt,
                    cnt=ln.cnt,
                    pric=ln.pric,
                    terms=terms,
                    hosp_appr_flag=appr,
                    selfpay_reason=reason,
                    med_list_codg=ln.hilist_code,
                ),
                rules,
            )
            self._memo_no += 1
            memo = _LineMemo.of(ln, split, forced=reason is not None, no=self._memo_no, appr=appr)
            if len(self._lines) >= LINE_MEMO_LIMIT:
                self._lines.clear()
            self._lines[key] = memo
        return memo

    @staticmethod
    def _add(acc: dict[str, Decimal], delta: Mapping[str, Decimal]) -> None:
        for key, value in delta.items():
            if value:
                acc[key] = acc.get(key, ZERO) + value

    def _person_terms(self, p: Person) -> tuple[Insutype, PsnType, tuple[PsnIdetType, ...], bool]:
        """The enum-typed parts of a person's PersonTerms that never change in a load."""
        key = (p.insutype, p.psn_type, p.idets, p.cvlserv_flag)
        found = self._persons.get(key)
        if found is None:
            found = self._persons[key] = (
                Insutype(p.insutype),
                PsnType(p.psn_type),
                tuple(PsnIdetType(t) for t in p.idets if PsnIdetType.has(t)),
                p.cvlserv_flag == "1",
            )
        return found

    def _remote_cut(self, p: Person, inst: Institution, v: Visit, day: date) -> Decimal:
        """异地就医 as the live path decides it (`settlement.remote`): the pool-ratio cut of a
        person insured elsewhere without a registration; PolicyRefusal where the insured
        region refuses such a visit."""
        insured = self.book.version_for(p.insuplc_admdvs, day)
        verdict = remote_verdict(
            insured=insured,
            treatment=self.book.treatment_region(inst.admdvs, day),
            med_type=MedType(v.med_type),
            registered=p.remote_registered and day >= p.psn_insu_date,
        )
        return verdict.ratio_cut

    def _visit_terms(
        self, med_type: str, hosp_lv: str, admdvs: str, day: date, cut: Decimal = ZERO
    ) -> VisitTerms:
        """VisitTerms of a bulk visit (equal inputs, one immutable object)."""
        key = (med_type, hosp_lv, admdvs, day, cut)
        found = self._visits.get(key)
        if found is None:
            if len(self._visits) >= LINE_MEMO_LIMIT:
                self._visits.clear()
            found = self._visits[key] = VisitTerms(
                med_type=MedType(med_type),
                hosp_lv=HospLv(hosp_lv),
                admdvs=admdvs,
                setl_date=day,
                acct_used_flag=True,
                ratio_cut=cut,
            )
        return found

    def _rows(
        self,
        out: ChunkRows,
        p: Person,
        inst: Institution,
        v: Visit,
        split: SettlementSplit,
        memos: list[_LineMemo],
        mdtrt_id: str,
        setl_id: str,
        setl_time: datetime,
        age: int,
    ) -> None:
        now = self.now
        main = v.diagnoses[0] if v.diagnoses else (None, None)
        kind = v.kind
        visit_row = {
            "mdtrt_id": mdtrt_id, "fixmedins_code": v.fixmedins_code, "psn_no": p.psn_no,
            "insutype": p.insutype, "med_type": v.med_type, "mdtrt_kind": kind,
            "mdtrt_cert_type": MDTRT_CERT_TYPE, "mdtrt_cert_no": None, "ipt_otp_no": v.ipt_otp_no,
            "begntime": v.begntime, "endtime": v.endtime, "atddr_no": v.dr_code,
            "dr_name": v.dr_name, "dept_code": v.dept_code, "dept_name": v.dept_name,
            "caty": v.caty, "adm_bed": None, "main_cond_dscr": None, "dise_codg": None,
            "dise_name": None, "maindiag_code": main[0], "maindiag_name": main[1],
            "diag_codes": ",".join(dict.fromkeys(c for c, _n in v.diagnoses if c)) or None,
            "dscg_way": "1" if kind == "inpatient" else None,
            "mdtrt_stas": "settled" if not v.reversed else ("discharged" if kind == "inpatient" else "registered"),
            "vali_flag": "1", "msgid": None, "extra": None, "created_at": now, "updated_at": now,
        }  # fmt: skip
        out.mdtrt.append(self.cv["mdtrt"](visit_row))
        stage = {"outpatient": "otp", "inpatient": "dscg", "pharmacy": "otp"}[kind]
        for i, (code, name) in enumerate(v.diagnoses, start=1):
            out.diag.append(self.cv["diag"]({
                "mdtrt_id": mdtrt_id, "stage": stage, "diag_srt_no": i, "diag_type": "1",
                "maindiag_flag": "1" if i == 1 else "0", "diag_code": code, "diag_name": name,
                "diag_dept": v.dept_name, "dise_dor_no": v.dr_code, "dise_dor_name": v.dr_name,
                "diag_time": v.begntime, "vali_flag": "1",
            }))  # fmt: skip
        line_setl = None if v.reversed else setl_id
        times: dict[datetime, str | None] = {}
        fee_rows = out.fee_detail
        staff = (v.dept_code, v.dept_name, v.dr_code, v.dr_name)
        compact = self.compact
        mdtrt_rowid = len(out.mdtrt)  # the visit's rowid in the spool's mdtrt table
        seen, shapes = out.shapes_seen, out.fee_shape
        for ln, m in zip(v.lines, memos, strict=True):
            at = times.get(ln.fee_ocur_time)
            if at is None:
                at = times[ln.fee_ocur_time] = iso_dt(ln.fee_ocur_time)
            if compact:
                shape_no = m.shape[0]
                if shape_no not in seen:
                    seen.add(shape_no)
                    shapes.append(m.shape)
                fee_rows.append((mdtrt_rowid, ln.feedetl_sn, at, shape_no, line_setl))
            else:
                fee_rows.append(
                    (mdtrt_id, ln.feedetl_sn, p.psn_no, v.fixmedins_code, at, *m.terms_part,
                     *staff, *m.line_part, line_setl)
                )  # fmt: skip
        out.lines += len(v.lines)
        if line_setl is not None:  # a reversed visit's lines are unsettled: no fee payload
            parts = [list(c) for c in zip(*(m.fee_part for m in memos), strict=True)]
            stamps = {t: iso[:19] for t, iso in times.items() if iso is not None}
            self._payload(
                out,
                replica_rows.FEE,
                (setl_id, mdtrt_id, p.psn_no, v.fixmedins_code, v.med_type,
                 setl_time.date().isoformat(), v.dept_code, v.caty, v.dr_code,
                 [ln.feedetl_sn for ln in v.lines], [stamps[ln.fee_ocur_time] for ln in v.lines],
                 *parts),
            )  # fmt: skip
        row = records.settlement_row(
            split,
            visit_row,
            records.fee_structure([m.kind_amount for m in memos]),
            setl_id=setl_id,
            psn_no=p.psn_no,
            insutype=p.insutype,
            psn_type=p.psn_type,
            insuplc_admdvs=p.insuplc_admdvs,
            age=age,
            fixmedins_code=v.fixmedins_code,
            clr_optins=inst.admdvs,
            hosp_lv=inst.hosp_lv,
            med_type=v.med_type,
            clr_type=CLR_TYPE[kind],
            mdtrt_cert_type=MDTRT_CERT_TYPE,
            setl_time=setl_time,
            medins_setl_id=f"SIM{v.visit_no:027d}",
            extra=records.settlement_extra(split, family_psn_no=None, simulated=True),
            written_at=now,
            chrg_bchno="1",
            # a reversed original is written with vali_flag "0" already: its final state
            vali_flag="0" if v.reversed else "1",
        )
        setl_row = self.cv["setl"](row)
        out.setl.append(setl_row)
        for fund in records.fund_rows(setl_id, split):
            out.setl_fund.append(self.cv["setl_fund"](fund))
        out.settlements += 1
        self._payload(out, replica_rows.MDTRT, self.pl[replica_rows.MDTRT](out.mdtrt[-1]))
        self._last = row
        days = ipt_days(row)
        self._payload(
            out,
            replica_rows.SETL,
            self.pl[replica_rows.SETL](
                setl_row,
                admdvs=inst.admdvs,
                gend=p.gend,
                ipt_days=days,
                dept_code=v.dept_code,
                caty=v.caty,
                dr_code=v.dr_code,
            ),
        )

    def _reversal(
        self,
        out: ChunkRows,
        p: Person,
        inst: Institution,
        v: Visit,
        split: SettlementSplit,
        setl_id: str,
        revs_id: str,
        setl_time: datetime,
        balc: Decimal,
    ) -> None:
        row = records.reversal_row(
            self._last,
            _SETL_COLUMNS,
            setl_id=revs_id,
            setl_time=setl_time.replace(microsecond=0),
            medins_setl_id=f"SIR{v.visit_no:027d}",
            revs_infno=REVS_INFNO[v.kind],
            balc=balc,
            extra=records.reversal_extra(
                records.negated(split.accumulator_delta), family_psn_no=None
            ),
            written_at=self.now,
        )
        setl_row = self.cv["setl"](row)
        out.setl.append(setl_row)
        funds = records.reversal_funds(records.fund_rows(setl_id, split), revs_id)
        for fund in funds:
            out.setl_fund.append(self.cv["setl_fund"](fund))
        out.reversals += 1
        self._payload(
            out,
            replica_rows.SETL,
            self.pl[replica_rows.SETL](
                setl_row,
                admdvs=inst.admdvs,
                gend=p.gend,
                ipt_days=ipt_days(row),
                dept_code=v.dept_code,
                caty=v.caty,
                dr_code=v.dr_code,
            ),
        )
