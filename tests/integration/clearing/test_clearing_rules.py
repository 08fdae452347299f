"""Clearing's rules on the row store (SQLite and MariaDB): worked orders, refusals that write
nothing, a month cleared once, adjustments of a cleared month, payment and the deposit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))

from reconcile_factories import add_setl, seed_base

from yibao.clearing import payments, service
from yibao.clearing.commands import ApplyClearing, WithdrawClearing
from yibao.errors import Conflict, InvalidInput, NotFound
from yibao.kit.ids import default_ids
from yibao.policy.params_io import load_book
from yibao.storage.tables import audit_log, clr_appy, clr_event, clr_order, setl, setl_fund

H1, H2 = "H11010200001", "H11010200002"
APRIL_2 = datetime(2024, 4, 2, 10, 0)
MAY_3 = datetime(2024, 5, 3, 10, 0)


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as c:
        seed_base(c)
        yield c


def _funds(conn: Connection, setl_id: str, **amounts: str) -> None:
    for fund, amount in amounts.items():
        conn.execute(
            insert(setl_fund).values(
                setl_id=setl_id,
                fund_pay_type=fund.removeprefix("f"),
                inscp_scp_amt=D(amount),
                fund_payamt=D(amount),
            )
        )


def _claim(setlym: str, **over: Any) -> ApplyClearing:
    first = date(int(setlym[:4]), int(setlym[4:]), 1)
    values: dict[str, Any] = {
        "setlym": setlym,
        "psntime": 2,
        "medfee_sumamt": D("300.00"),
        "med_sumfee": D("300.00"),
        "fund_appy_sum": D("210.00"),
        "cash_payamt": D("60.00"),
        "acct_pay": D("30.00"),
        "begndate": first,
        "enddate": first.replace(day=28),
        "clr_type": "11",
        "clr_way": "1",
    }
    values.update(over)
    return ApplyClearing(**values)


def _submit(conn: Connection, cmd: ApplyClearing, code: str = H1, now: datetime = APRIL_2) -> str:
    out = service.submit(
        conn, cmd, ids=default_ids, fixmedins_code=code, admdvs="110199",
        msgid=f"{code}{now:%Y%m%d%H%M%S}0001", now=now, opter="0001", opter_name="收费员",
    )  # fmt: skip
    return str(out["clr_appy_evt_id"])


def _count(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_month_worked_by_hand_then_adjusted_next_month(conn: Connection) -> None:
    book = load_book()
    # March 2024: s1 100.00 = 统筹 60.00 + 账户 30.00 + 现金 10.00; s2 200.00 = 统筹 150.00 + 现金 50.00
    add_setl(conn, "S0001", medfee="100.00", fund="60.00", acct="30.00")
    _funds(conn, "S0001", f310100="60.00", f310200="30.00")
    add_setl(conn, "S0002", medfee="200.00", fund="150.00", acct="0.00")
    _funds(conn, "S0002", f310100="150.00")
    assert service.open_application(conn, fixmedins_code=H1) is None
    evt = _submit(conn, _claim("202403"))
    opened = service.open_application(conn, fixmedins_code=H1, clr_type="11")
    assert opened is not None and opened["clr_appy_evt_id"] == evt

    # a month is applied for once; the refusal writes nothing
    before = (_count(conn, clr_appy), _count(conn, clr_event))
    with pytest.raises(Conflict, match="setlym"):
        _submit(conn, _claim("202403"))
    with pytest.raises(InvalidInput, match="setlym"):
        _submit(conn, _claim("202404"))  # April has not ended on 2 April
    with pytest.raises(InvalidInput, match="begndate"):
        _submit(conn, _claim("202402", begndate=date(2024, 3, 1)))
    assert (_count(conn, clr_appy), _count(conn, clr_event)) == before

    # approving a submitted application is refused, naming both states
    with pytest.raises(Conflict, match=r"submitted.*approved"):
        service.approve(conn, evt, ids=default_ids, book=book, actor="a", now=APRIL_2)
    review = service.review(conn, evt)
    assert review["differences"] == []
    assert {f["fund_pay_type"]: f["setl_amt"] for f in review["funds"]} == {
        "310100": D("210.00"),
        "310200": D("30.00"),
    }
    with pytest.raises(InvalidInput, match="fund_pay_type"):
        service.add_deduction(
            conn, evt, ids=default_ids, fund_pay_type="390100", amount=D("1.00"),
            reason="x", actor="a", now=APRIL_2,
        )  # fmt: skip
    with pytest.raises(InvalidInput, match="reason"):
        service.add_deduction(
            conn, evt, ids=default_ids, fund_pay_type="310100", amount=D("1.00"),
            reason=" ", actor="a", now=APRIL_2,
        )  # fmt: skip
    service.add_deduction(
        conn, evt, ids=default_ids, fund_pay_type="310100", amount=D("10.00"),
        reason="超标准收费", actor="auditor1", now=APRIL_2, source="case", case_id="C-7",
    )  # fmt: skip
    service.accept(conn, evt, ids=default_ids, actor="clerk", now=APRIL_2)
    done = service.approve(conn, evt, ids=default_ids, book=book, actor="chief", now=APRIL_2)
    orders = {o["fund_pay_type"]: o for o in done["orders"]}
    # 统筹: 210.00 − 10.00 = 200.00; 5 % deposit 10.00; due 190.00. 账户: 30.00, no deposit.
    assert (orders["310100"]["deposit_amt"], orders["310100"]["payable_amt"]) == (
        D("10.00"),
        D("190.00"),
    )
    assert (orders["310200"]["deposit_amt"], orders["310200"]["payable_amt"]) == (
        D("0.00"),
        D("30.00"),
    )
    assert [e["action"] for e in done["events"]] == [
        "submit", "deduct", "accept", "issue", "issue", "approve",
    ]  # fmt: skip
    with pytest.raises(Conflict, match=r"approved.*withdrawn"):
        service.withdraw(
            conn, WithdrawClearing(evt), ids=default_ids, fixmedins_code=H1, msgid="m",
            now=APRIL_2, opter=None,
        )  # fmt: skip

    # April: s1 is reversed (a record on 5 April), s2 is erased without a record (as if its
    # validity changed after clearing), and s3 is a new settlement
    add_setl(
        conn, "R0001", medfee="-100.00", fund="-60.00", acct="-30.00",
        when=datetime(2024, 4, 5, 9), refd_setl_flag="1", init_setl_id="S0001",
    )  # fmt: skip
    _funds(conn, "R0001", f310100="-60.00", f310200="-30.00")
    april_5 = datetime(2024, 4, 5, 9)
    for setl_id in ("S0001", "S0002"):
        conn.execute(
            update(setl).where(setl.c.setl_id == setl_id).values(vali_flag="0", updated_at=april_5)
        )
    add_setl(conn, "S0003", medfee="50.00", fund="40.00", acct="0.00", when=datetime(2024, 4, 9))
    _funds(conn, "S0003", f310100="40.00")
    paid_march = conn.execute(select(clr_order).where(clr_order.c.setlym == "202403")).all()
    april = _submit(
        conn,
        _claim("202404", psntime=2, medfee_sumamt=D("-50.00"), fund_appy_sum=D("-20.00"),
               acct_pay=D("-30.00"), cash_payamt=D("0.00")),
        now=MAY_3,
    )  # fmt: skip
    service.accept(conn, april, ids=default_ids, actor="clerk", now=MAY_3)
    done = service.approve(conn, april, ids=default_ids, book=book, actor="chief", now=MAY_3)
    orders = {o["fund_pay_type"]: o for o in done["orders"]}
    # 统筹: April's own 40.00; adjustments −60.00 (s1's reversal) −150.00 (s2 erased) = −210.00
    assert (orders["310100"]["setl_amt"], orders["310100"]["adjust_amt"]) == (
        D("40.00"),
        D("-210.00"),
    )
    # a fund that owes money back withholds no deposit
    assert (orders["310100"]["deposit_amt"], orders["310100"]["payable_amt"]) == (
        D("0.00"),
        D("-170.00"),
    )
    assert (orders["310200"]["adjust_amt"], orders["310200"]["payable_amt"]) == (
        D("-30.00"),
        D("-30.00"),
    )
    assert done["rvw_adjust_amt"] == D("-240.00")
    # the cleared month was not rewritten
    assert conn.execute(select(clr_order).where(clr_order.c.setlym == "202403")).all() == paid_march

    # May's review of the same history finds nothing more to adjust
    june = datetime(2024, 6, 2)
    may = _submit(conn, _claim("202405"), now=june)
    assert service.review(conn, may)["figures"]["rvw_adjust_amt"] == D("0.00")

    # payment, once; the deposit at the annual assessment, audited
    march_pool = next(o for o in paid_march if o.fund_pay_type == "310100").clr_order_id
    payments.mark_paid(conn, march_pool, ids=default_ids, pay_ref="GK-1", actor="t", now=APRIL_2)
    with pytest.raises(Conflict, match="paid"):
        payments.mark_paid(
            conn, march_pool, ids=default_ids, pay_ref="GK-2", actor="t", now=APRIL_2
        )
    released = payments.settle_deposits(
        conn, ids=default_ids, fixmedins_code=H1, year=2024, action="release",
        reason="2024 年度考核合格", actor="chief", now=june,
    )  # fmt: skip
    assert [(r["clr_order_id"], r["deposit_stas"]) for r in released] == [(march_pool, "released")]
    assert (
        conn.execute(
            select(func.count()).where(audit_log.c.action == "clearing.deposit.release")
        ).scalar_one()
        == 1
    )
    with pytest.raises(NotFound):
        payments.settle_deposits(
            conn, ids=default_ids, fixmedins_code=H1, year=2024, action="forfeit",
            reason="again", actor="chief", now=june,
        )  # fmt: skip

    # the dashboard's monthly figures
    months = {m["setlym"]: m for m in payments.monthly(conn, since="202403", until="202405")}
    assert months["202403"] == {
        "setlym": "202403",
        "claimed": D("240.00"),  # fund_appy_sum 210.00 + acct_pay 30.00
        "approved": D("240.00"),
        "deducted": D("10.00"),
        "withheld": D("10.00"),
        "paid": D("190.00"),
        "due": D("30.00"),
    }
    assert months["202404"]["approved"] == D("-200.00")  # 40.00 − 240.00 of adjustments
    assert months["202405"]["claimed"] == D("240.00") and months["202405"]["paid"] == 0


def test_withdrawn_or_rejected_months_can_be_applied_for_again(conn: Connection) -> None:
    add_setl(conn, "S0101", medfee="10.00", fund="5.00", acct="0.00", fixmedins_code=H2)
    evt = _submit(conn, _claim("202403"), code=H2)
    with pytest.raises(NotFound, match="clr_appy_evt_id"):
        service.withdraw(
            conn, WithdrawClearing(evt), ids=default_ids, fixmedins_code=H1, msgid="m",
            now=APRIL_2, opter=None,
        )  # fmt: skip
    service.withdraw(
        conn, WithdrawClearing(evt), ids=default_ids, fixmedins_code=H2, msgid="m",
        now=APRIL_2, opter=None,
    )  # fmt: skip
    again = _submit(conn, _claim("202403"), code=H2)
    review = service.accept(conn, again, ids=default_ids, actor="clerk", now=APRIL_2)
    assert {d["field"] for d in review["differences"]} >= {"fund_appy_sum", "psntime"}
    with pytest.raises(InvalidInput, match="reason"):
        service.reject(conn, again, ids=default_ids, actor="clerk", now=APRIL_2, reason="")
    service.reject(conn, again, ids=default_ids, actor="clerk", now=APRIL_2, reason="申报不符")
    third = _submit(conn, _claim("202403"), code=H2)
    total, rows = service.list_applications(conn, fixmedins_code=H2)
    assert total == 3 and {r["stas"] for r in rows} == {"withdrawn", "rejected", "submitted"}
    assert third in {r["clr_appy_evt_id"] for r in rows}
