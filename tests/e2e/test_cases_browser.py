"""A review case in headless Chromium, as its users work it: a reviewer opens a case from two
rule hits and takes it through 初审, 复审 and 告知; the hospital's administrator sees it, appeals
with reasons and a file; the reviewer reviews the appeal and decides a deduction. Every page
renders without console errors and without a request leaving the server."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from seed import INSTITUTION, YIBAO, Server
from sqlalchemy import insert

from yibao.kit.clock import local_naive_now
from yibao.storage.engine import make_engine
from yibao.storage.tables import rule_hit

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PASSWORD = "Case-Work-2026!"

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} missing: apt-get install -y chromium fonts-wqy-microhei"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def _users(server: Server) -> None:
    for args in (
        ["users", "add", "rev1", "--role", "reviewer", "--name", "李稽核"],
        ["users", "add", "hadmin", "--role", "inst_admin", "--tenant", INSTITUTION,
         "--name", "医院医保办"],
    ):  # fmt: skip
        done = subprocess.run([str(YIBAO), *args, "--password", PASSWORD], env=server.env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def _hits(server: Server) -> None:
    engine = make_engine(server.db_url)
    now = local_naive_now()
    try:
        with engine.begin() as conn:
            for n, (category, amount) in enumerate(
                (("duplicate_charge", "36.00"), ("over_price", "18.50")), 1
            ):
                conn.execute(insert(rule_hit).values(
                    hit_id=f"RHE2E{n:04d}", rule_id=f"R-E2E-{n}", rule_version="2025.1",
                    category=category, stage="mid", result_type="violation", action="warn",
                    infno="2207", msgid=None, psn_no=server.psn_no, fixmedins_code=INSTITUTION,
                    mdtrt_id=None, setl_id=f"SETLE2E{n}", line_ids="1,2", threshold="1",
                    value_found="2", amount=amount, reason="同一项目同日重复收费",
                    evidence='{"lines": ["1", "2"]}', detected_at=now - timedelta(hours=n),
                ))  # fmt: skip
    finally:
        engine.dispose()


def test_a_case_from_hits_to_a_deduction_with_an_appeal(server: Server, tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    _users(server)
    _hits(server)
    requests: list[str] = []
    errors: list[str] = []
    shots = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:

            def session(username: str):  # type: ignore[no-untyped-def]
                context = browser.new_context(
                    viewport={"width": 1400, "height": 1100}, locale="zh-CN"
                )
                page = context.new_page()
                page.on("request", lambda r: requests.append(r.url))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(server.url + "/cases")
                page.wait_for_url("**/login?next=%2Fcases")
                page.fill("#username", username)
                page.fill("#password", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url("**/cases")
                return context, page

            def step(page, to: str, **fields: str) -> None:  # type: ignore[no-untyped-def]
                page.select_option("#transition select[name=to]", to)
                for name, value in fields.items():
                    if name == "decision":
                        page.select_option("#transition select[name=decision]", value)
                    else:
                        page.fill(f"#transition input[name={name}]", value)
                page.click("#transition button[type=submit]")
                page.wait_for_function(
                    "(to) => [...document.querySelectorAll('#steps li')].some("
                    "li => li.textContent.includes(to))", arg={"first_review": "初审",
                    "second_review": "复审", "notified": "已告知机构", "appeal_review": "申诉复核",
                    "decided": "已处理"}[to],
                )  # fmt: skip

            # the reviewer opens a case from the two hits and reviews it
            context, page = session("rev1")
            page.wait_for_selector("#hit-table tbody tr >> nth=1")
            page.check("#hit-table input[value=RHE2E0001]")
            page.check("#hit-table input[value=RHE2E0002]")
            page.fill("#open-case input[name=title]", "示例三级医院 重复收费与超标准收费")
            page.click("#open-case button[type=submit]")
            page.wait_for_url("**/cases/CASE*")
            case_url = page.url
            assert page.locator("#evidence-table tbody tr").count() == 2
            assert "54.50 元" in (page.text_content("#case-facts") or "")
            step(page, "first_review", assignee="rev1", comment="初审：两条疑点属实")
            step(page, "second_review", comment="复审同意")
            step(page, "notified", comment="告知医院，15 日内可申诉")
            page.screenshot(path=str(shots / "case-notified.png"), full_page=True)
            context.close()

            # the hospital sees its case, appeals with reasons and a file
            context, page = session("hadmin")
            page.wait_for_selector("#case-table tbody tr")
            assert page.locator("#case-table tbody tr").count() == 1
            assert page.is_hidden("#hits")
            page.click("#case-table tbody tr a")
            page.wait_for_selector("#appeal:not([hidden])")
            page.fill("#appeal-form input[name=reasons]", "第二次收费为另一部位的检查，附检查报告")
            page.click("#appeal-form button[type=submit]")
            page.wait_for_function(
                "() => document.getElementById('notice').textContent.includes('申诉已提交')"
            )
            report = tmp_path / "检查报告.txt"
            report.write_text("左膝、右膝各一次 X 线检查\n", encoding="utf-8")
            page.set_input_files("#appeal-attach input[name=file]", str(report))
            page.click("#appeal-attach button[type=submit]")
            page.wait_for_selector("#files a:has-text('检查报告.txt')")
            page.screenshot(path=str(shots / "case-appealed.png"), full_page=True)
            context.close()

            # the reviewer reviews the appeal and decides a deduction of part of the amount
            context, page = session("rev1")
            page.goto(case_url)
            page.wait_for_selector("#actions:not([hidden])")
            step(page, "appeal_review", comment="申诉部分成立")
            step(
                page, "decided", decision="deduct", amount="36.00", comment="超标准收费部分不予扣款"
            )
            facts = page.text_content("#case-facts") or ""
            assert "已处理" in facts and "扣款 36.00 元" in facts
            assert page.is_hidden("#actions")
            page.screenshot(path=str(shots / "case-decided.png"), full_page=True)
            page.goto(server.url + "/cases")
            page.wait_for_selector("#case-table tbody tr")
            assert "扣款 36.00" in (page.text_content("#case-table") or "")
            context.close()
        finally:
            browser.close()

    assert not errors, errors
    outside = [
        u for u in requests if not u.startswith(server.url + "/") and not u.startswith("data:")
    ]
    assert not outside, outside
