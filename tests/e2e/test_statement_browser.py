"""The printable settlement statement in headless Chromium against a real server: opened with
a 5265-style signed link (no login) and by a signed-in agency user; it renders in Chinese with
the person masked, loads nothing from outside 127.0.0.1, logs no errors, and prints to PDF."""

from __future__ import annotations

import os
import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from seed import INSTITUTION, REVIEWER, REVIEWER_PASSWORD, Server
from sqlalchemy import insert, select
from test_dashboard_browser import ARGS, CHROMIUM, _need_chromium

from yibao.kit.clock import local_naive_now
from yibao.settlement import print_token
from yibao.storage.engine import make_engine
from yibao.storage.tables import fee_detail, psn, setl

pytestmark = pytest.mark.browser

#: the seeded 356.80 settlement's lines: (category, list code, name, amount, full self-pay)
LINES = (
    ("02", "001102000010000", "门诊诊察费", "36.80", "0.00"),
    ("04", "002501010150200", "血常规", "120.00", "0.00"),
    ("09", "XA01ABD075A002010100483", "地喹氯铵含片", "180.00", "0.00"),
    ("08", "C01010101010101010101", "自费耗材", "20.00", "20.00"),
)


def _settlement_with_lines(db_url: str) -> tuple[str, str, str]:
    """The seeded settlement of INSTITUTION, given fee lines that add up to its total; returns
    (setl_id, the person's name, certno)."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            row: Any = conn.execute(
                select(setl).where(setl.c.fixmedins_code == INSTITUTION)
            ).first()
            person: Any = conn.execute(select(psn).where(psn.c.psn_no == row.psn_no)).first()
            now = local_naive_now()
            values = []
            for sn, (kind, code, name, amount, own) in enumerate(LINES, start=1):
                total, own_d = Decimal(amount), Decimal(own)
                values.append(
                    {
                        "mdtrt_id": row.mdtrt_id,
                        "feedetl_sn": str(sn),
                        "psn_no": row.psn_no,
                        "fixmedins_code": INSTITUTION,
                        "fee_ocur_time": now,
                        "med_list_codg": code,
                        "hilist_name": name,
                        "det_item_fee_sumamt": total,
                        "cnt": Decimal(1),
                        "pric": total,
                        "fulamt_ownpay_amt": own_d,
                        "overlmt_amt": Decimal("0.00"),
                        "preselfpay_amt": Decimal("0.00"),
                        "inscp_scp_amt": total - own_d,
                        "med_chrgitm_type": kind,
                        "setl_id": row.setl_id,
                        "vali_flag": "1",
                        "created_at": now,
                    }
                )
            assert sum(Decimal(v[3]) for v in LINES) == row.medfee_sumamt
            conn.execute(insert(fee_detail), values)
    finally:
        engine.dispose()
    return str(row.setl_id), str(person.psn_name), str(person.certno)


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_statement_page_prints_cleanly(server: Server, tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    setl_id, name, certno = _settlement_with_lines(server.db_url)
    token = print_token.issue(
        server.data_dir,
        setl_id=setl_id,
        fixmedins_code=INSTITUTION,
        now_unix=int(time.time()),
    )
    requests: list[str] = []
    errors: list[str] = []
    shots = os.environ.get("E2E_SCREENSHOT_DIR")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400}, locale="zh-CN")
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "response",
                lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
            )

            # the institution: the signed link of its 5265 answer, no login
            page.goto(f"{server.url}/print/settlements/{setl_id}?token={token}")
            assert page.text_content("h1") == "北京示例三级医院"
            assert "医疗保障基金结算单" in (page.text_content(".doc-title") or "")
            text = page.text_content("main") or ""
            assert name not in text and certno not in text
            assert name[0] + "*" in text
            assert "356.80" in text and "化验费" in text and "西药费" in text
            # the stylesheet applied (served locally): a bordered sheet, tables full width
            border = page.eval_on_selector("header", "e => getComputedStyle(e).borderBottomStyle")
            assert border == "solid"
            page.screenshot(path=str(tmp_path / "statement.png"), full_page=True)
            if shots:
                page.screenshot(path=str(Path(shots) / "statement.png"), full_page=True)
            # print media hides the toolbar; the page prints to one A4 sheet
            page.emulate_media(media="print")
            assert page.is_hidden(".toolbar")
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            assert pdf.startswith(b"%PDF") and _pages(pdf) == 1
            (tmp_path / "statement-a4.pdf").write_bytes(pdf)
            # A5 landscape, as many counters print statements: still one sheet
            page.goto(f"{server.url}/print/settlements/{setl_id}?token={token}&paper=a5")
            if shots:
                page.set_viewport_size({"width": 794, "height": 560})
                page.screenshot(path=str(Path(shots) / "statement-a5.png"), full_page=True)
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            (tmp_path / "statement-a5.pdf").write_bytes(pdf)
            if shots:
                (Path(shots) / "statement-a5.pdf").write_bytes(pdf)
            assert _pages(pdf) == 1, _pages(pdf)
            page.emulate_media(media="screen")

            # an agency user who reads settlements, signed in, opens it without a token
            page.goto(f"{server.url}/print/settlements/{setl_id}")
            page.wait_for_url("**/login?next=*")
            page.fill("#username", REVIEWER)
            page.fill("#password", REVIEWER_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"**/print/settlements/{setl_id}")
            assert page.text_content("h1") == "北京示例三级医院"
        finally:
            browser.close()

    assert not errors, errors
    outside = [
        u for u in requests if not u.startswith(server.url + "/") and not u.startswith("data:")
    ]
    assert not outside, outside
    assert any(u.endswith("/static/statement.css") for u in requests)
