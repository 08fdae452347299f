"""Factories and the identity checker for the policy tests (kept beside them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from yibao.codes.dicts import (
    ChrgitmLv,
    FundPayType,
    HospApprFlag,
    HospLv,
    Insutype,
    ListType,
    MedChrgitmType,
    MedType,
    PsnIdetType,
    PsnType,
)
from yibao.kit.money import round_fen
from yibao.policy import (
    AccKey,
    CatalogTerms,
    FeeLineIn,
    PersonTerms,
    PolicyBook,
    SettlementSplit,
    VisitTerms,
    load_book,
)

D = Decimal
DAY = date(2024, 3, 1)
_BOOK: list[PolicyBook] = []


def demo_book() -> PolicyBook:
    if not _BOOK:
        _BOOK.append(load_book())
    return _BOOK[0]


def terms(
    lv: ChrgitmLv = ChrgitmLv.CLASS_A,
    prop: str = "0",
    cap: str | None = None,
    *,
    lmt: bool = False,
    code: str = "XA01ABD075A002010100483",
) -> CatalogTerms:
    return CatalogTerms(
        hilist_code=code,
        hilist_name="测试项目",
        list_type=ListType.DRUG,
        chrgitm_lv=lv,
        med_chrgitm_type=MedChrgitmType.WESTERN_DRUG,
        selfpay_prop=D(prop),
        pric_uplmt_amt=None if cap is None else D(cap),
        lmt_used_flag=lmt,
    )


def line(
    sn: str,
    amount: str,
    t: CatalogTerms | None = None,
    *,
    cnt: str = "1",
    pric: str | None = None,
    appr: HospApprFlag = HospApprFlag.NOT_REQUIRED,
    reason: str | None = None,
    unknown: bool = False,
) -> FeeLineIn:
    return FeeLineIn(
        feedetl_sn=sn,
        det_item_fee_sumamt=D(amount),
        cnt=D(cnt),
        pric=D(pric) if pric is not None else abs(D(amount) / D(cnt)) if D(cnt) else D(amount),
        terms=None if unknown else (t or terms()),
        hosp_appr_flag=appr,
        selfpay_reason=reason,
        med_list_codg="ZZ999",
    )


def a_line(sn: str, amount: str) -> FeeLineIn:
    """A 甲类 line."""
    return line(sn, amount, terms())


def person(
    psn_type: PsnType = PsnType.EMPLOYEE_IN_SERVICE,
    *,
    age: int = 40,
    balc: str = "0.00",
    family: str = "0.00",
    assistance: tuple[PsnIdetType, ...] = (),
    cvlserv: bool = False,
) -> PersonTerms:
    insutype = Insutype.EMPLOYEE if psn_type.value[:2] in ("11", "12", "13") else Insutype.RESIDENT
    return PersonTerms(
        psn_no="P0001",
        insutype=insutype,
        psn_type=psn_type,
        age=age,
        assistance=assistance,
        balc=D(balc),
        family_balc=D(family),
        cvlserv_flag=cvlserv,
    )


def visit(
    med_type: MedType = MedType.GENERAL_OUTPATIENT,
    lv: HospLv = HospLv.LEVEL_2,
    *,
    admdvs: str = "110105",
    acct: bool = True,
    day: date = DAY,
    same_admission: bool = False,
) -> VisitTerms:
    return VisitTerms(
        med_type=med_type,
        hosp_lv=lv,
        admdvs=admdvs,
        setl_date=day,
        acct_used_flag=acct,
        same_admission_settled=same_admission,
    )


def apply(acc: Mapping[str, Decimal], delta: Mapping[str, Decimal]) -> dict[str, Decimal]:
    out = dict(acc)
    for key, value in delta.items():
        out[key] = out.get(key, D("0")) + value
    return {k: v for k, v in out.items() if v != 0}


AMOUNT_FIELDS = (
    "medfee_sumamt", "fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
    "act_pay_dedc", "hifp_pay", "cvlserv_pay", "hifes_pay", "hifmi_pay", "hifob_pay", "maf_pay",
    "oth_pay", "hifdm_pay", "fund_pay_sumamt", "psn_part_amt", "acct_pay", "psn_cash_pay",
    "hosp_part_amt", "acct_mulaid_pay",
)  # fmt: skip


def check_identities(s: SettlementSplit, p: PersonTerms) -> None:
    """Every identity of the brief, to the fen."""
    for row in s.lines:
        assert row.det_item_fee_sumamt == (
            row.fulamt_ownpay_amt + row.overlmt_amt + row.preselfpay_amt + row.inscp_scp_amt
        ), row
        for amount in (row.fulamt_ownpay_amt, row.overlmt_amt, row.preselfpay_amt,
                       row.inscp_scp_amt):  # fmt: skip
            assert amount == round_fen(amount)
            assert amount * row.det_item_fee_sumamt >= 0 or amount == 0, row
    for name in AMOUNT_FIELDS:
        value = getattr(s, name)
        assert value >= 0, (name, value)
        assert value == round_fen(value) and value.as_tuple().exponent == -2, (name, value)
    assert s.medfee_sumamt == sum((r.det_item_fee_sumamt for r in s.lines), D("0"))
    assert s.medfee_sumamt == (
        s.fulamt_ownpay_amt + s.overlmt_selfpay + s.preselfpay_amt + s.inscp_scp_amt
    )
    assert s.fund_pay_sumamt == (
        s.hifp_pay + s.cvlserv_pay + s.hifes_pay + s.hifmi_pay + s.hifob_pay + s.maf_pay
        + s.oth_pay + s.hifdm_pay
    )  # fmt: skip
    assert s.medfee_sumamt == s.fund_pay_sumamt + s.psn_part_amt + s.hosp_part_amt
    assert s.psn_part_amt == s.acct_pay + s.psn_cash_pay
    assert s.acct_mulaid_pay <= s.acct_pay
    assert s.acct_pay - s.acct_mulaid_pay <= max(p.balc, D("0"))
    assert s.acct_mulaid_pay <= max(p.family_balc, D("0"))
    assert s.balc == p.balc - (s.acct_pay - s.acct_mulaid_pay)
    assert s.family_balc == p.family_balc - s.acct_mulaid_pay
    assert s.act_pay_dedc <= s.inscp_scp_amt
    assert s.fund_pay_sumamt <= s.inscp_scp_amt
    funds = [d for d in s.setldetail if d.fund_pay_type is not FundPayType.EMPLOYEE_ACCOUNT]
    accts = [d for d in s.setldetail if d.fund_pay_type is FundPayType.EMPLOYEE_ACCOUNT]
    assert sum((d.fund_payamt for d in funds), D("0")) == s.fund_pay_sumamt
    assert sum((d.fund_payamt for d in accts), D("0")) == s.acct_pay
    assert len(accts) == (1 if s.acct_pay > 0 else 0)
    for d in s.setldetail:
        assert d.fund_payamt > 0
        if d.crt_payb_lmt_amt is not None and d.fund_pay_type is not FundPayType.EMPLOYEE_ACCOUNT:
            assert d.fund_payamt <= d.crt_payb_lmt_amt
    assert D("0") <= s.pool_prop_selfpay <= 1


def dedc_used(acc: Mapping[str, Decimal], counter: str = "otp") -> Decimal:
    return acc.get(AccKey.dedc_used(counter), D("0"))
