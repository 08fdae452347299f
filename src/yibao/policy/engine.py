"""The settlement calculator: fee lines + person + visit + accumulators → the split.

Pure: no I/O, no clock, no state. Trial (2206/2303/2101) and real settlement (2207/2304/2102)
call the same :func:`settle`; the caller stores the result and adds ``accumulator_delta``.

Order of computation (reference/domain.md §1.3, docs/policy.md):

1. each line → 丙类 / self-pay / 超限价 / 先行自付 / in scope (:func:`split_line`);
2. bill totals = sums of the rounded lines;
3. deductible (annual cumulative, or per admission: first vs later admission of the year);
4. pooled fund: banded ratios on the cumulative in-scope axis, capped by the annual cap;
5. employee top-up (hifob) on the expense the cap left unpaid;
6. residents' 大病 (hifmi) on the annual cumulative in-scope self-pay above its deductible;
7. civil-servant subsidy (cvlserv);
8. medical assistance (maf) on the in-scope self-pay left;
9. personal account (own balance, then family sharing), the rest in cash.

Rounding: every line amount to 0.01 ROUND_HALF_UP; bill amounts are sums of rounded lines;
each fund share is computed exactly and rounded once with ``round_fen``, then clamped so no
later amount can turn negative.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from types import MappingProxyType

from yibao.codes.dicts import (
    ChrgitmLv,
    FundPayType,
    HospApprFlag,
    HospLv,
    Insutype,
    MedChrgitmType,
)
from yibao.kit.money import round_fen
from yibao.policy.book import (
    DEFAULT_COUNTER,
    Band,
    LineRules,
    PolicyBook,
    Resolved,
)
from yibao.policy.model import (
    ZERO,
    AccKey,
    Accumulators,
    FeeLineIn,
    FundDetail,
    LineSplit,
    PersonTerms,
    PolicyRefusal,
    SettlementSplit,
    VisitTerms,
)

ONE = Decimal(1)
ZERO_RATIO = Decimal(0)
_PREC = 40


def _neg(value: Decimal) -> Decimal:
    """Negation without a "-0.00"."""
    return ZERO - value if value else value.copy_abs()


def _pct(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}%"


def _fmt(amount: Decimal) -> str:
    return f"{round_fen(amount):f}"


# --------------------------------------------------------------------------- lines


def split_line(line: FeeLineIn, rules: LineRules) -> LineSplit:
    """The 2204/2301 split of one fee line. A refund line (negative amount) is split as the
    positive line and negated, so refunds net exactly against the lines they refund."""
    amount = line.det_item_fee_sumamt
    if not amount.is_finite() or amount != round_fen(amount):
        raise PolicyRefusal(
            f"明细 {line.feedetl_sn}: 金额 {amount} 须为两位小数 (det_item_fee_sumamt must be "
            "a whole number of fen)",
            feedetl_sn=line.feedetl_sn,
            field="det_item_fee_sumamt",
        )
    if (amount < 0 < line.cnt) or (line.cnt < 0 < amount):
        raise PolicyRefusal(
            f"明细 {line.feedetl_sn}: 金额与数量符号不一致 (det_item_fee_sumamt and cnt must "
            "have the same sign; a refund has both negative)",
            feedetl_sn=line.feedetl_sn,
            field="cnt",
        )
    if amount < 0 or (amount == 0 and line.cnt < 0):
        positive = dataclasses.replace(line, det_item_fee_sumamt=-amount, cnt=-line.cnt)
        return _negate_line(_split_positive(positive, rules))
    return _split_positive(line, rules)


def _split_positive(line: FeeLineIn, rules: LineRules) -> LineSplit:
    terms = line.terms
    amount = line.det_item_fee_sumamt
    if terms is None:
        code = line.med_list_codg or "?"
        if rules.unknown_code == "refuse":
            raise PolicyRefusal(
                f"明细 {line.feedetl_sn}: 医保目录编码 {code} 不在目录中, 本区拒绝结算 "
                f"(code {code} unknown to the catalog; this region refuses such lines)",
                feedetl_sn=line.feedetl_sn,
                field="med_list_codg",
            )
        return LineSplit(
            feedetl_sn=line.feedetl_sn,
            det_item_fee_sumamt=amount,
            cnt=line.cnt,
            pric=line.pric,
            pric_uplmt_amt=None,
            selfpay_prop=ONE,
            fulamt_ownpay_amt=amount,
            overlmt_amt=ZERO,
            preselfpay_amt=ZERO,
            inscp_scp_amt=ZERO,
            chrgitm_lv=ChrgitmLv.CLASS_C,
            med_chrgitm_type=MedChrgitmType.OTHER,
            list_type=None,
            lmt_used_flag=False,
            bas_medn_flag=False,
            hi_nego_drug_flag=False,
            chld_medc_flag=False,
            list_sp_item_flag=False,
            drt_reim_flag=False,
            memo=f"目录外项目 {code}, 全额自费 (code unknown to the catalog: fully self-paid)",
        )
    if not (0 <= terms.selfpay_prop <= 1):
        raise PolicyRefusal(
            f"明细 {line.feedetl_sn}: 自付比例 {terms.selfpay_prop} 超出0到1 "
            "(selfpay_prop must lie in [0, 1])",
            feedetl_sn=line.feedetl_sn,
            field="selfpay_prop",
        )
    cap = terms.pric_uplmt_amt
    if cap is not None and cap < 0:
        raise PolicyRefusal(
            f"明细 {line.feedetl_sn}: 限价 {cap} 为负 (pric_uplmt_amt must not be negative)",
            feedetl_sn=line.feedetl_sn,
            field="pric_uplmt_amt",
        )
    # Wholly self-paid lines, then 超限价, 先行自付, in scope.
    memo: str | None = None
    fulamt = overlmt = preselfpay = ZERO
    prop = ONE
    if line.selfpay_reason:
        fulamt, memo = amount, line.selfpay_reason
    elif terms.chrgitm_lv is ChrgitmLv.CLASS_C:
        fulamt = amount
    elif terms.lmt_used_flag and line.hosp_appr_flag is not HospApprFlag.APPROVED:
        fulamt = amount
        memo = (
            "限制使用项目未经医院审批通过, 全额自费 "
            "(restricted-use item without hospital approval: fully self-paid)"
        )
    elif not terms.lmt_used_flag and line.hosp_appr_flag is HospApprFlag.REJECTED:
        fulamt = amount
        memo = "医院审批标志为自费, 全额自费 (hospital marked the line self-pay)"
    else:
        if cap is not None and cap > 0:
            overlmt = max(ZERO, amount - round_fen(cap * line.cnt))
            if overlmt:
                memo = f"超限价自费 {overlmt:f} (above the price cap {cap:f} × {line.cnt:f})"
        prop = terms.selfpay_prop if terms.chrgitm_lv is ChrgitmLv.CLASS_B else Decimal("0")
        preselfpay = round_fen((amount - overlmt) * prop)
    return LineSplit(
        feedetl_sn=line.feedetl_sn,
        det_item_fee_sumamt=amount,
        cnt=line.cnt,
        pric=line.pric,
        pric_uplmt_amt=cap,
        selfpay_prop=prop,
        fulamt_ownpay_amt=fulamt,
        overlmt_amt=overlmt,
        preselfpay_amt=preselfpay,
        inscp_scp_amt=amount - fulamt - overlmt - preselfpay,
        chrgitm_lv=terms.chrgitm_lv,
        med_chrgitm_type=terms.med_chrgitm_type,
        list_type=terms.list_type,
        lmt_used_flag=terms.lmt_used_flag,
        bas_medn_flag=terms.bas_medn_flag,
        hi_nego_drug_flag=terms.hi_nego_drug_flag,
        chld_medc_flag=terms.chld_medc_flag,
        list_sp_item_flag=terms.list_sp_item_flag,
        drt_reim_flag=terms.drt_reim_flag,
        memo=memo,
        hilist_code=terms.hilist_code,
        hilist_name=terms.hilist_name,
    )


def _negate_line(row: LineSplit) -> LineSplit:
    return dataclasses.replace(
        row,
        det_item_fee_sumamt=_neg(row.det_item_fee_sumamt),
        cnt=_neg(row.cnt),
        fulamt_ownpay_amt=_neg(row.fulamt_ownpay_amt),
        overlmt_amt=_neg(row.overlmt_amt),
        preselfpay_amt=_neg(row.preselfpay_amt),
        inscp_scp_amt=_neg(row.inscp_scp_amt),
    )


# --------------------------------------------------------------------------- bands


def _walk(
    start: Decimal,
    end: Decimal,
    bands: Sequence[Band],
    lv: HospLv,
    room: Decimal | None,
    *,
    offset: Decimal = ZERO,
    bonus: Decimal = ZERO,
) -> tuple[Decimal, Decimal, Decimal | None, list[str]]:
    """Pay the segment [start, end) of an axis through the bands (shifted by ``offset``),
    within ``room`` (None = no cap). Returns (exact pay, expense left unpaid because the cap
    was reached, the first band's ratio, process notes)."""
    pay = Decimal(0)
    overflow = Decimal(0)
    first: Decimal | None = None
    notes: list[str] = []
    lower = offset
    for band in bands:
        upper = None if band.upto is None else offset + band.upto
        lo = max(start, lower)
        hi = end if upper is None else min(end, upper)
        if upper is not None:
            lower = upper
        if hi <= lo:
            continue
        ratio = max(ZERO_RATIO, min(ONE, band.ratio.at(lv) + bonus))
        if first is None:
            first = ratio
        piece = hi - lo
        due = ratio * piece
        if room is not None and due > room - pay:
            left = room - pay
            covered = left / ratio if ratio else piece
            overflow += piece - covered
            due = left
        pay += due
        notes.append(f"[{_fmt(lo)},{_fmt(hi)})×{_pct(ratio)}")
    return pay, overflow, first, notes


# --------------------------------------------------------------------------- settle


def _get(acc: Accumulators, key: str) -> Decimal:
    return acc.get(key, ZERO)


def settle(
    lines: Sequence[FeeLineIn],
    person: PersonTerms,
    visit: VisitTerms,
    accumulators: Accumulators,
    book: PolicyBook,
) -> SettlementSplit:
    """Split one bill. Same function for trial and real settlement; no side effects."""
    # the rules first, so that a bill no rule covers is refused as such before its lines
    resolved = book.resolve(person, visit)
    line_rules = LineRules(unknown_code=resolved.version.unknown_code)
    rows = tuple(split_line(line, line_rules) for line in lines)
    return _settle_exact(rows, person, visit, accumulators, resolved)


def settle_lines(
    rows: Sequence[LineSplit],
    person: PersonTerms,
    visit: VisitTerms,
    accumulators: Accumulators,
    book: PolicyBook,
) -> SettlementSplit:
    """Steps 2–9 for lines already split by :func:`split_line` under
    ``book.line_rules(visit.admdvs, visit.setl_date)``: ``settle`` is exactly ``split_line``
    per line and then this. A caller that splits many equal lines (the simulator's bulk load)
    may reuse one line's split for an equal line instead of splitting it again."""
    return _settle_exact(tuple(rows), person, visit, accumulators, book.resolve(person, visit))


def _settle_exact(
    rows: tuple[LineSplit, ...],
    person: PersonTerms,
    visit: VisitTerms,
    accumulators: Accumulators,
    resolved: Resolved,
) -> SettlementSplit:
    """`_settle` at the engine's working precision (each share is rounded once, at the end)."""
    with localcontext() as ctx:
        ctx.prec = _PREC
        return _settle(rows, person, visit, accumulators, resolved)


def _settle(
    rows: tuple[LineSplit, ...],
    person: PersonTerms,
    visit: VisitTerms,
    acc: Accumulators,
    rz: Resolved,
) -> SettlementSplit:
    lv = visit.hosp_lv
    vclass = rz.visit_class
    default_counter = DEFAULT_COUNTER[vclass]
    medfee = sum((r.det_item_fee_sumamt for r in rows), ZERO)
    fulamt = sum((r.fulamt_ownpay_amt for r in rows), ZERO)
    overlmt = sum((r.overlmt_amt for r in rows), ZERO)
    preself = sum((r.preselfpay_amt for r in rows), ZERO)
    inscp = sum((r.inscp_scp_amt for r in rows), ZERO)
    for name, value in (
        ("medfee_sumamt", medfee),
        ("fulamt_ownpay_amt", fulamt),
        ("overlmt_selfpay", overlmt),
        ("preselfpay_amt", preself),
        ("inscp_scp_amt", inscp),
    ):
        if value < 0:
            raise PolicyRefusal(
                f"结算单 {name} 合计为负 {value:f}: 退费明细多于原明细 "
                f"(bill total {name} is negative: refunds exceed the lines they refund)",
                field=name,
            )
    delta: dict[str, Decimal] = {}
    details: list[FundDetail] = []

    def add(key: str, value: Decimal) -> None:
        if value:
            delta[key] = delta.get(key, ZERO) + value

    basic = rz.basic
    inpatient = vclass == "inpatient"
    new_admission = inpatient and not visit.same_admission_settled

    # 3. deductible
    dedc_rule = basic.dedc
    dedc = ZERO
    dedc_note = ""
    if dedc_rule.mode == "annual":
        key = AccKey.dedc_used(dedc_rule.counter.at(lv) or default_counter)
        amount = dedc_rule.amount.at(lv)
        dedc = min(inscp, max(ZERO, amount - _get(acc, key)))
        add(key, dedc)
        dedc_note = f"年度起付线 {amount:f}, 已用 {_get(acc, key):f}"
    elif dedc_rule.mode == "admission" and not visit.same_admission_settled:
        later = _get(acc, AccKey.IPT_ADMISSIONS) > 0
        amount = (dedc_rule.later if later else dedc_rule.amount).at(lv)
        dedc = min(inscp, amount)
        dedc_note = f"{'再次' if later else '首次'}住院起付线 {amount:f}"
    if new_admission:
        add(AccKey.IPT_ADMISSIONS, Decimal(1))

    # 4. pooled fund
    hifp = ZERO
    ratio_shown = Decimal("0")
    overflow = Decimal(0)
    pool = basic.pool
    if pool is not None:
        band_key = AccKey.inscp(pool.band_counter.at(lv) or default_counter)
        cap_key = AccKey.pool_paid(pool.cap_counter or default_counter)
        before = _get(acc, band_key) if pool.band_scope == "annual" else ZERO
        room = None if pool.cap is None else max(ZERO, pool.cap - _get(acc, cap_key))
        raw, overflow, first, notes = _walk(
            before + dedc, before + inscp, pool.bands, lv, room, bonus=-visit.ratio_cut
        )
        hifp = round_fen(raw)
        ratio_shown = first if first is not None and hifp else Decimal("0")
        add(band_key, inscp)
        add(cap_key, hifp)
        if visit.ratio_cut:
            notes.append(f"异地未备案 比例降低 {_pct(visit.ratio_cut)}")
        if hifp:
            info = "; ".join([dedc_note, *notes]) if dedc_note else "; ".join(notes)
            kind = pool.fund_type or (
                FundPayType.EMPLOYEE_POOL
                if person.insutype is Insutype.EMPLOYEE
                else FundPayType.RESIDENT_POOL
            )
            details.append(FundDetail(kind, inscp, room, hifp, info))
    remaining = inscp - hifp  # in-scope self-pay left (deductible included)

    # 5. employee top-up above the pool cap
    hifob = ZERO
    topup = rz.topup
    if topup is not None and overflow > 0:
        room = None if topup.cap is None else max(ZERO, topup.cap - _get(acc, AccKey.HIFOB_PAID))
        ratio = topup.ratio.at(lv)
        hifob = _clamp(round_fen(ratio * overflow), room, remaining)
        add(AccKey.HIFOB_PAID, hifob)
        if hifob:
            info = f"封顶线以上 {_fmt(overflow)}×{_pct(ratio)}"
            details.append(FundDetail(FundPayType.EMPLOYEE_LARGE, inscp, room, hifob, info))
    remaining -= hifob

    # 6. residents' 大病保险
    hifmi = ZERO
    crit = rz.critical
    if crit is not None:
        poor = crit.poor is not None and any(
            i.value in crit.poor.identities for i in person.assistance
        )
        factor = crit.poor.dedc_factor if crit.poor is not None and poor else ONE
        bonus = crit.poor.ratio_bonus if crit.poor is not None and poor else ZERO
        no_cap = crit.poor is not None and poor and crit.poor.no_cap
        room = (
            None
            if crit.cap is None or no_cap
            else max(ZERO, crit.cap - _get(acc, AccKey.HIFMI_PAID))
        )
        dedc_mi = round_fen(crit.dedc * factor)
        before = _get(acc, AccKey.HIFMI_BASE)
        raw, _, _, notes = _walk(
            before, before + remaining, crit.bands, lv, room, offset=dedc_mi, bonus=bonus
        )
        hifmi = _clamp(round_fen(raw), room, remaining)
        add(AccKey.HIFMI_BASE, remaining)
        add(AccKey.HIFMI_PAID, hifmi)
        if hifmi:
            info = "; ".join([f"大病起付线 {dedc_mi:f}{' (倾斜)' if poor else ''}", *notes])
            details.append(FundDetail(FundPayType.RESIDENT_CRITICAL, remaining, room, hifmi, info))
    remaining -= hifmi

    # 7. civil-servant subsidy
    cvlserv = ZERO
    cv = rz.cvlserv
    if cv is not None and person.cvlserv_flag:
        room = None if cv.cap is None else max(ZERO, cv.cap - _get(acc, AccKey.CVLSERV_PAID))
        ratio = cv.ratio.at(lv)
        cvlserv = _clamp(round_fen(ratio * remaining), room, remaining)
        add(AccKey.CVLSERV_PAID, cvlserv)
        if cvlserv:
            info = f"{_fmt(remaining)}×{_pct(ratio)}"
            details.append(FundDetail(FundPayType.CIVIL_SERVANT, remaining, room, cvlserv, info))
    remaining -= cvlserv

    # 8. medical assistance
    maf = ZERO
    tier = rz.assistance.tier_for(person.assistance) if rz.assistance is not None else None
    if tier is not None:
        room = None if tier.limit is None else max(ZERO, tier.limit - _get(acc, AccKey.MAF_PAID))
        before = _get(acc, AccKey.MAF_BASE)
        eligible = max(ZERO, before + remaining - max(before, tier.dedc))
        maf = _clamp(round_fen(tier.ratio * eligible), room, remaining)
        add(AccKey.MAF_BASE, remaining)
        add(AccKey.MAF_PAID, maf)
        if maf:
            info = f"救助起付线 {tier.dedc:f}; {_fmt(eligible)}×{_pct(tier.ratio)}"
            details.append(FundDetail(FundPayType.ASSISTANCE, remaining, room, maf, info))
    remaining -= maf

    hifes = oth = hifdm = hosp_part = ZERO
    fund_sum = hifp + cvlserv + hifes + hifmi + hifob + maf + oth + hifdm
    psn_part = medfee - fund_sum - hosp_part

    # 9. personal account, own balance first, then family sharing
    scope = basic.acct.scope
    payable = {
        "none": ZERO,
        "inscp": remaining,
        "inscp_pre": remaining + preself,
        "all": psn_part,
    }[scope]
    payable = min(payable, psn_part)
    own = fam = ZERO
    balc = max(ZERO, person.balc)
    fbalc = max(ZERO, person.family_balc)
    if visit.acct_used_flag and payable > 0:
        own = min(payable, balc)
        if basic.acct.family_share:
            fam = min(payable - own, fbalc)
    acct = own + fam
    if acct:
        info = f"个人账户 {own:f}" + (f"; 家庭共济 {fam:f}" if fam else "")
        details.append(FundDetail(FundPayType.EMPLOYEE_ACCOUNT, inscp, balc + fbalc, acct, info))

    return SettlementSplit(
        medfee_sumamt=medfee,
        fulamt_ownpay_amt=fulamt,
        overlmt_selfpay=overlmt,
        preselfpay_amt=preself,
        inscp_scp_amt=inscp,
        act_pay_dedc=dedc,
        hifp_pay=hifp,
        pool_prop_selfpay=ratio_shown,
        cvlserv_pay=cvlserv,
        hifes_pay=hifes,
        hifmi_pay=hifmi,
        hifob_pay=hifob,
        maf_pay=maf,
        oth_pay=oth,
        hifdm_pay=hifdm,
        fund_pay_sumamt=fund_sum,
        psn_part_amt=psn_part,
        acct_pay=acct,
        psn_cash_pay=psn_part - acct,
        hosp_part_amt=hosp_part,
        acct_mulaid_pay=fam,
        balc=person.balc - own,
        family_balc=person.family_balc - fam,
        setldetail=tuple(details),
        lines=rows,
        accumulator_delta=MappingProxyType(delta),
        policy_version=rz.policy_version,
        visit_class=vclass,
    )


def _clamp(value: Decimal, room: Decimal | None, remaining: Decimal) -> Decimal:
    """A fund share never above its cap room nor above the self-pay it works on."""
    limit = remaining if room is None else min(room, remaining)
    return max(ZERO, min(value, limit))


# --------------------------------------------------------------------------- reversal


def negate(
    split: SettlementSplit,
    *,
    balc: Decimal | None = None,
    family_balc: Decimal | None = None,
) -> SettlementSplit:
    """The reversal record (2208/2305/2103): every amount negated, ratios kept, the
    accumulator delta negated (adding it undoes the settlement). ``balc``/``family_balc`` are
    the balances after the money is given back; by default the balances the settlement started
    from — pass the actual balances when other movements happened since."""
    own = split.acct_pay - split.acct_mulaid_pay
    return dataclasses.replace(
        split,
        medfee_sumamt=_neg(split.medfee_sumamt),
        fulamt_ownpay_amt=_neg(split.fulamt_ownpay_amt),
        overlmt_selfpay=_neg(split.overlmt_selfpay),
        preselfpay_amt=_neg(split.preselfpay_amt),
        inscp_scp_amt=_neg(split.inscp_scp_amt),
        act_pay_dedc=_neg(split.act_pay_dedc),
        hifp_pay=_neg(split.hifp_pay),
        cvlserv_pay=_neg(split.cvlserv_pay),
        hifes_pay=_neg(split.hifes_pay),
        hifmi_pay=_neg(split.hifmi_pay),
        hifob_pay=_neg(split.hifob_pay),
        maf_pay=_neg(split.maf_pay),
        oth_pay=_neg(split.oth_pay),
        hifdm_pay=_neg(split.hifdm_pay),
        fund_pay_sumamt=_neg(split.fund_pay_sumamt),
        psn_part_amt=_neg(split.psn_part_amt),
        acct_pay=_neg(split.acct_pay),
        psn_cash_pay=_neg(split.psn_cash_pay),
        hosp_part_amt=_neg(split.hosp_part_amt),
        acct_mulaid_pay=_neg(split.acct_mulaid_pay),
        balc=split.balc + own if balc is None else balc,
        family_balc=(
            split.family_balc + split.acct_mulaid_pay if family_balc is None else family_balc
        ),
        setldetail=tuple(
            dataclasses.replace(
                d, inscp_scp_amt=_neg(d.inscp_scp_amt), fund_payamt=_neg(d.fund_payamt)
            )
            for d in split.setldetail
        ),
        lines=tuple(_negate_line(r) for r in split.lines),
        accumulator_delta=_negate_map(split.accumulator_delta),
    )


def _negate_map(values: Mapping[str, Decimal]) -> Mapping[str, Decimal]:
    return MappingProxyType({k: _neg(v) for k, v in values.items()})
