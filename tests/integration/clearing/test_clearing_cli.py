"""`yibao clearing …`: a month reviewed, accepted, approved, paid and exported from the shell."""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reconcile"))

from reconcile_factories import NOW, add_setl, seed_base

from yibao.clearing import service
from yibao.clearing.commands import ApplyClearing
from yibao.cli.main import app
from yibao.config import load_settings
from yibao.kit.ids import default_ids
from yibao.storage.engine import make_engine
from yibao.storage.tables import clr_order, setl_fund

runner = CliRunner()


def test_a_month_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "var"
    monkeypatch.setenv("YIBAO_DATA_DIR", str(data))
    assert runner.invoke(app, ["init"]).exit_code == 0
    engine = make_engine(load_settings().db_url)
    with engine.begin() as conn:
        seed_base(conn)
        add_setl(conn, "S0001", medfee="1000.00", fund="333.33", acct="100.00")
        for fund, amount in (("310100", "333.33"), ("310200", "100.00")):
            conn.execute(
                insert(setl_fund).values(
                    setl_id="S0001", fund_pay_type=fund, inscp_scp_amt=D(amount),
                    fund_payamt=D(amount),
                )
            )  # fmt: skip
        evt = service.submit(
            conn,
            ApplyClearing(
                setlym="202403", psntime=1, medfee_sumamt=D("1000.00"), med_sumfee=D("1000.00"),
                fund_appy_sum=D("333.33"), cash_payamt=D("566.67"), acct_pay=D("100.00"),
                begndate=date(2024, 3, 1), enddate=date(2024, 3, 31), clr_type="11", clr_way="1",
            ),
            ids=default_ids, fixmedins_code="H11010200001", admdvs="110199", msgid="M1",
            now=NOW, opter=None, opter_name=None,
        )["clr_appy_evt_id"]  # fmt: skip
    listed = runner.invoke(app, ["clearing", "applications", "--month", "202403"])
    assert listed.exit_code == 0 and "1 条" in listed.output, listed.output
    bad = runner.invoke(app, ["clearing", "applications", "--month", "2024-3"])
    assert bad.exit_code == 1 and "yyyyMM" in bad.output
    early = runner.invoke(app, ["clearing", "approve", evt])
    assert early.exit_code == 1 and "submitted" in early.output
    shown = runner.invoke(app, ["clearing", "review", evt])
    assert shown.exit_code == 0 and "一致" in shown.output, shown.output
    assert runner.invoke(app, ["clearing", "review", evt, "--accept"]).exit_code == 0
    approved = runner.invoke(app, ["clearing", "approve", evt])
    assert approved.exit_code == 0, approved.output
    with engine.connect() as conn:
        orders = {r.fund_pay_type: r for r in conn.execute(select(clr_order))}
    # 333.33 × 5 % = 16.6665 → 16.67 withheld; 316.66 due. The account pays 100.00 in full.
    assert (orders["310100"].deposit_amt, orders["310100"].payable_amt) == (
        D("16.67"),
        D("316.66"),
    )
    assert orders["310200"].payable_amt == D("100.00")
    pool = orders["310100"].clr_order_id
    assert runner.invoke(app, ["clearing", "mark-paid", pool, "--ref", "GK-1"]).exit_code == 0
    again = runner.invoke(app, ["clearing", "mark-paid", pool, "--ref", "GK-2"])
    assert again.exit_code == 1 and "paid" in again.output
    out = tmp_path / "orders.csv"
    exported = runner.invoke(
        app, ["clearing", "export", "orders", "--month", "202403", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    text = out.read_text(encoding="utf-8-sig")
    assert "316.66" in text and "GK-1" in text and len(text.strip().splitlines()) == 3
    engine.dispose()
