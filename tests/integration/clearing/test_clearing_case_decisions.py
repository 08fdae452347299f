"""A decided deduct/recover case feeds clearing (docs/cases.md, docs/clearing.md): deducted once,
in the institution's open application, or in its next 3203 when none is open; a dismissal never."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))

from reconcile_factories import add_setl, seed_base

from yibao.cases import service as cases
from yibao.cases.service import AGENCY, Actor, HitRecord
from yibao.clearing import service
from yibao.clearing.commands import ApplyClearing
from yibao.kit.ids import default_ids
from yibao.storage.tables import clr_deduction, setl_fund

H1 = "H11010200001"
APRIL_2 = datetime(2024, 4, 2, 10, 0)
REVIEWER = Actor("li", "reviewer", AGENCY, None)


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as c:
        seed_base(c)
        add_setl(c, "S0001", medfee="100.00", fund="60.00", acct="30.00")
        c.execute(insert(setl_fund), [
            {"setl_id": "S0001", "fund_pay_type": "310100", "inscp_scp_amt": D("60.00"), "fund_payamt": D("60.00")},
            {"setl_id": "S0001", "fund_pay_type": "310200", "inscp_scp_amt": D("30.00"), "fund_payamt": D("30.00")},
        ])  # fmt: skip
        yield c


def _decided_case(conn: Connection, n: int, decision: str, amount: str | None) -> str:
    hit = HitRecord(hit_id=f"RHCL{n:04d}", rule_id="R-1", category="over_price", stage="mid",
                    result_type="violation", fixmedins_code=H1, setl_id="S0001", mdtrt_id=None,
                    amount=D("20.00"), detected_at=APRIL_2 - timedelta(days=20), evidence="{}")  # fmt: skip
    case_id = cases.open_case(conn, default_ids, REVIEWER, [hit], title=None, now=APRIL_2)
    steps = ["first_review", "second_review"] + (["notified"] if decision != "dismiss" else [])
    for to in steps:
        cases.transition(conn, REVIEWER, case_id, to=to, comment=None, decision=None,
                         amount=None, assignee=None, now=APRIL_2)  # fmt: skip
    cases.transition(conn, REVIEWER, case_id, to="decided", comment=None, decision=decision,
                     amount=None if amount is None else D(amount), assignee=None, now=APRIL_2)  # fmt: skip
    return case_id


def _submit(conn: Connection) -> str:
    cmd = ApplyClearing(setlym="202403", psntime=1, medfee_sumamt=D("100.00"),
                        med_sumfee=D("100.00"), fund_appy_sum=D("60.00"), cash_payamt=D("10.00"),
                        acct_pay=D("30.00"), begndate=datetime(2024, 3, 1).date(),
                        enddate=datetime(2024, 3, 31).date(), clr_type="11", clr_way="1")  # fmt: skip
    out = service.submit(conn, cmd, ids=default_ids, fixmedins_code=H1, admdvs="110199",
                         msgid=f"{H1}202404021000000001", now=APRIL_2, opter="1",
                         opter_name="收费员")  # fmt: skip
    return str(out["clr_appy_evt_id"])


def _deductions(conn: Connection) -> list[tuple[str, str, D, str | None]]:
    rows = conn.execute(select(clr_deduction.c.kind, clr_deduction.c.fund_pay_type,
                               clr_deduction.c.amount, clr_deduction.c.case_id)).all()  # fmt: skip
    return sorted((str(r[0]), str(r[1]), D(r[2]), r[3]) for r in rows)


def test_a_decision_before_the_application_is_taken_by_the_next_3203(conn: Connection) -> None:
    deduct = _decided_case(conn, 1, "deduct", "12.50")
    _decided_case(conn, 2, "dismiss", None)
    evt = _submit(conn)
    assert _deductions(conn) == [("deduct", "310100", D("12.50"), deduct)]
    assert cases.repo.get_case(conn, deduct)["clr_appy_evt_id"] == evt  # type: ignore[index]
    # taken once: asking again changes nothing
    assert service.take_case_decisions(conn, evt, ids=default_ids, actor="x", now=APRIL_2) == []
    assert len(_deductions(conn)) == 1


def test_a_decision_while_an_application_is_open_goes_into_it(conn: Connection) -> None:
    evt = _submit(conn)
    recover = _decided_case(conn, 3, "recover", "20.00")
    made = service.take_case_decisions(conn, evt, ids=default_ids, actor="li", now=APRIL_2)
    assert [(m["kind"], m["amount"], m["case_id"]) for m in made] == [
        ("recover", D("20.00"), recover)
    ]
    assert _deductions(conn) == [("recover", "310100", D("20.00"), recover)]
