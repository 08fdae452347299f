"""The settlement record builder (`settlement.records`), the one definition of what a
settlement writes for live settlement and the bulk loader alike: every row it builds adds
up, its reversal nets to zero, and its `extra` JSON reads back to what it was built from."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest

from yibao.codes.dicts import (
    ChrgitmLv,
    HospApprFlag,
    HospLv,
    Insutype,
    ListType,
    MedChrgitmType,
    MedType,
    PsnType,
)
from yibao.policy import (
    CatalogTerms,
    FeeLineIn,
    LineRules,
    PersonTerms,
    SettlementSplit,
    VisitTerms,
    load_book,
    settle,
    split_line,
)
from yibao.settlement import records
from yibao.storage.tables import fee_detail, setl, setl_fund

D = Decimal
AT = datetime(2024, 3, 9, 10, 1, 2, 345000)
#: 个人账户 (the personal account's fund row is not a fund payment: fund_pay_sumamt leaves it out)
ACCOUNT = "310200"


def _terms(lv: ChrgitmLv, prop: str, kind: MedChrgitmType, cap: str | None = None) -> CatalogTerms:
    return CatalogTerms(
        hilist_code=f"X{kind.value}{lv.value}",
        hilist_name="测试项目",
        list_type=ListType.DRUG if kind.value in ("09", "10", "11") else ListType.SERVICE_ITEM,
        chrgitm_lv=lv,
        med_chrgitm_type=kind,
        selfpay_prop=D(prop),
        pric_uplmt_amt=None if cap is None else D(cap),
        lmt_used_flag=lv is ChrgitmLv.CLASS_B,
    )


def _lines() -> list[FeeLineIn]:
    specs = [
        ("1", "120.00", _terms(ChrgitmLv.CLASS_A, "0", MedChrgitmType.WESTERN_DRUG), None),
        ("2", "300.50", _terms(ChrgitmLv.CLASS_B, "0.1", MedChrgitmType.MATERIAL, "250"), None),
        ("3", "88.00", _terms(ChrgitmLv.CLASS_A, "0", MedChrgitmType.LABORATORY), None),
        ("4", "40.00", _terms(ChrgitmLv.CLASS_A, "0", MedChrgitmType.EXAMINATION), "限定适应症"),
        ("5", "15.00", None, None),  # a code the catalog does not know
    ]
    return [
        FeeLineIn(
            feedetl_sn=sn,
            det_item_fee_sumamt=D(amount),
            cnt=D(1),
            pric=D(amount),
            terms=terms,
            hosp_appr_flag=HospApprFlag.NOT_REQUIRED,
            selfpay_reason=reason,
            med_list_codg=terms.hilist_code if terms else "ZZ999",
        )
        for sn, amount, terms, reason in specs
    ]


CASES = [
    (PsnType.EMPLOYEE_IN_SERVICE, Insutype.EMPLOYEE, MedType.GENERAL_OUTPATIENT, "500.00"),
    (PsnType.EMPLOYEE_RETIRED, Insutype.EMPLOYEE, MedType.GENERAL_INPATIENT, "20.00"),
    (PsnType.ADULT_RESIDENT, Insutype.RESIDENT, MedType.GENERAL_INPATIENT, "0.00"),
]


def _split(psn_type: PsnType, insutype: Insutype, med_type: MedType, balc: str) -> SettlementSplit:
    person = PersonTerms(
        psn_no="P0001",
        insutype=insutype,
        psn_type=psn_type,
        age=61,
        assistance=(),
        balc=D(balc),
        family_balc=D("0.00"),
        cvlserv_flag=False,
    )
    visit = VisitTerms(
        med_type=med_type,
        hosp_lv=HospLv.LEVEL_3,
        admdvs="110105",
        setl_date=AT.date(),
        acct_used_flag=True,
    )
    return settle(_lines(), person, visit, {}, load_book())


def _row(split: SettlementSplit, **overrides: object) -> dict[str, object]:
    lines = [records.line_values(s, forced=False) for s in split.lines]
    structure = records.fee_structure(
        (v["med_chrgitm_type"], v["det_item_fee_sumamt"]) for v in lines
    )
    args: dict[str, object] = dict(
        setl_id="S1", psn_no="P0001", insutype="310", psn_type="1101", insuplc_admdvs="110105",
        age=61, fixmedins_code="H1", clr_optins="110105", hosp_lv="3", med_type="11",
        clr_type="11", mdtrt_cert_type="02", setl_time=AT, medins_setl_id="M1",
        extra=records.settlement_extra(split, family_psn_no=None, feedetl_sns=["1", "2"]),
        written_at=AT,
    )  # fmt: skip
    args.update(overrides)
    visit = {"mdtrt_id": "V1", "begntime": datetime(2024, 3, 2, 9, 0), "maindiag_code": "I10"}
    return records.settlement_row(split, visit, structure, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].name}-{c[2].name}")
def test_a_settlement_row_holds_every_column_and_adds_up(
    case: tuple[PsnType, Insutype, MedType, str],
) -> None:
    split = _split(*case)
    row = _row(split)
    assert set(row) == {c.name for c in setl.columns}
    assert row["medfee_sumamt"] == sum(ln.det_item_fee_sumamt for ln in _lines())
    assert row["medfee_sumamt"] == (
        row["fulamt_ownpay_amt"] + row["overlmt_selfpay"] + row["preselfpay_amt"]  # type: ignore[operator]
        + row["inscp_scp_amt"]
    )  # fmt: skip
    assert row["medfee_sumamt"] == (
        row["fund_pay_sumamt"] + row["psn_part_amt"] + row["hosp_part_amt"]  # type: ignore[operator]
    )
    assert row["psn_part_amt"] == row["acct_pay"] + row["psn_cash_pay"]  # type: ignore[operator]
    # the fee structure: 药 120.00, 耗 300.50, 检查检验 88.00 + 40.00 of the five lines
    assert (row["drug_sumamt"], row["mcs_sumamt"], row["exam_sumamt"]) == (
        D("120.00"), D("300.50"), D("128.00"),
    )  # fmt: skip
    assert row["fee_line_cnt"] == 5
    funds = records.fund_rows("S1", split)
    assert {f["fund_pay_type"] for f in funds} == {d.fund_pay_type.value for d in split.setldetail}
    assert all(set(f) == {c.name for c in setl_fund.columns} for f in funds)
    assert (
        sum((f["fund_payamt"] for f in funds if f["fund_pay_type"] != ACCOUNT), D("0.00"))
        == row["fund_pay_sumamt"]
    )
    # an outpatient settlement ends when it settles; an inpatient one before discharge has no end
    assert row["enddate"] == AT
    assert _row(split, clr_type="21")["enddate"] is None


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].name}-{c[2].name}")
def test_a_reversal_nets_every_amount_to_zero(
    case: tuple[PsnType, Insutype, MedType, str],
) -> None:
    split = _split(*case)
    original = _row(split, opter_id="", opter_name="")
    assert original["opter_id"] is None and original["opter_name"] is None
    delta = records.negated(split.accumulator_delta)
    reversal = records.reversal_row(
        original, (c.name for c in setl.columns), setl_id="S2", setl_time=AT,
        medins_setl_id="M2", revs_infno="2208", balc=D("1.00"),
        extra=records.reversal_extra(delta, family_psn_no=None), written_at=AT,
    )  # fmt: skip
    assert set(reversal) == {c.name for c in setl.columns}
    for name in records.REVERSED_AMOUNTS:
        assert original[name] + reversal[name] == 0, name  # type: ignore[operator]
    assert reversal["fee_line_cnt"] == -5
    assert (reversal["refd_setl_flag"], reversal["init_setl_id"], reversal["vali_flag"]) == (
        "1", "S1", "1",
    )  # fmt: skip
    assert reversal["pool_prop_selfpay"] == original["pool_prop_selfpay"]  # a ratio, kept
    funds = records.fund_rows("S1", split)
    back = records.reversal_funds(funds, "S2")
    for a, b in zip(funds, back, strict=True):
        assert b["setl_id"] == "S2" and b["fund_pay_type"] == a["fund_pay_type"]
        assert a["fund_payamt"] + b["fund_payamt"] == 0
        assert a["inscp_scp_amt"] + b["inscp_scp_amt"] == 0
    # the reversal's accumulator delta undoes the settlement's
    undo = records.accumulator_delta(records.extra_of(reversal), negate=False)
    for key, amount in split.accumulator_delta.items():
        assert amount + undo[key] == 0


@pytest.mark.parametrize(
    ("delta", "policy_version", "visit_class"),
    [
        ({}, "", "outpatient"),
        (
            {"dedc_used:otp": D("12.30"), "inscp:otp": D("-0.01"), "zero:otp": D("0.00")},
            "110199@2024-01-01",
            "inpatient",
        ),
        ({"pool_paid:ipt": D("1E+2")}, '北京 "试行" 版\\2024', "门诊\n慢特病"),
    ],
)
def test_extra_round_trips(
    delta: dict[str, Decimal], policy_version: str, visit_class: str
) -> None:
    split = _split(*CASES[0])
    split = type(split)(
        **{
            **{f: getattr(split, f) for f in split.__dataclass_fields__},
            "accumulator_delta": delta,
            "policy_version": policy_version,
            "visit_class": visit_class,
        }
    )
    live = records.settlement_extra(split, family_psn_no="P0002", feedetl_sns=["a", "b"])
    read = records.extra_of({"extra": live})
    assert read == {
        "acc": {k: str(v) for k, v in delta.items()},
        "family_psn_no": "P0002",
        "policy_version": policy_version,
        "visit_class": visit_class,
        "feedetl_sns": ["a", "b"],
    }
    assert records.accumulator_delta(read, negate=False) == delta
    assert records.accumulator_delta(read, negate=True) == records.negated(delta)
    # a bulk-loaded settlement names no lines and says it is simulated
    simulated = json.loads(records.settlement_extra(split, family_psn_no=None, simulated=True))
    assert list(simulated) == ["acc", "family_psn_no", "policy_version", "visit_class",
                               "simulated"]  # fmt: skip
    assert simulated["simulated"] is True
    assert records.extra_of({"extra": None}) == {} and records.extra_of({"extra": "[1]"}) == {}
    back = records.extra_of({"extra": records.reversal_extra(delta, family_psn_no=None)})
    assert records.accumulator_delta(back, negate=False) == delta


def test_a_lines_settled_values_add_up_and_carry_its_flags() -> None:
    rules = LineRules(unknown_code="self_pay")
    for ln in _lines():
        split = split_line(ln, rules)
        for forced in (False, True):
            values = records.line_values(split, forced)
            assert set(values) <= {c.name for c in fee_detail.columns}
            assert values["det_item_fee_sumamt"] == (
                values["fulamt_ownpay_amt"] + values["overlmt_amt"]
                + values["preselfpay_amt"] + values["inscp_scp_amt"]
            )  # fmt: skip
            flags = values["flags"]
            assert len(flags) == 7 and flags[records.FORCED_SELFPAY] == ("1" if forced else "0")
            assert flags[0] == ("1" if split.lmt_used_flag else "0")
    assert records.fee_structure([]) == {
        "drug_sumamt": D("0.00"), "mcs_sumamt": D("0.00"), "exam_sumamt": D("0.00"),
        "fee_line_cnt": 0,
    }  # fmt: skip


def test_a_zero_stays_the_zero_it_is() -> None:
    assert str(records.neg(D("0.00"))) == "0.00"
    assert str(records.neg(D("0"))) == "0"
    assert records.neg(D("1.50")) == D("-1.50")
