"""The T+0 dashboard in headless Chromium against a real server: sign in through /login, the
page renders its charts with no console errors and no request leaving 127.0.0.1, and a
settlement committed during the test shows up on the page."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from seed import ADMIN_PASSWORD, YIBAO, Server, settle_now

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} missing: apt-get install -y chromium fonts-wqy-microhei"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def test_dashboard_signs_in_renders_and_updates_live(server: Server, tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1800}, locale="zh-CN")
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "response",
                lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
            )

            page.goto(server.url + "/dashboard")
            page.wait_for_url("**/login?next=%2Fdashboard")
            page.fill("#username", "admin")
            page.fill("#password", ADMIN_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/dashboard")
            page.wait_for_function(
                "() => document.getElementById('kpi-today-cnt').textContent === '1'", timeout=30_000
            )
            assert page.text_content("#kpi-today-fee") == "¥356.80"
            assert page.text_content("#kpi-month-fund") not in ("—", "¥0.00")

            # every chart draws on a canvas of non-zero size
            sizes = page.eval_on_selector_all(
                ".chart canvas",
                "els => els.map(c => [c.parentElement.parentElement.id, c.width, c.height])",
            )
            charts = {chart_id for chart_id, w, h in sizes if w > 0 and h > 0}
            assert charts >= {
                "chart-trend",
                "chart-funds",
                "chart-months",
                "chart-insutype",
                "chart-visit",
                "chart-hosplv",
                "chart-top",
            }, sizes
            assert page.locator("#drill tbody tr").count() >= 1

            # a settlement committed now reaches the page without reloading it
            settle_now(server.db_url, server.psn_no, Decimal("12345.67"))
            page.wait_for_function(
                "() => document.getElementById('kpi-today-cnt').textContent === '2'", timeout=60_000
            )
            assert page.text_content("#kpi-today-fee") == "¥1.27万"  # 356.80 + 12345.67
            assert "强一致" in (page.text_content("#position") or "")

            # drill down: region → institution → settlements
            page.click("#drill tbody tr.link >> nth=0")
            page.wait_for_selector("#drill thead th:has-text('机构名称')")
            page.click("#drill tbody tr.link >> nth=0")
            page.wait_for_selector("#drill thead th:has-text('结算时间')")

            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            shots = os.environ.get("E2E_SCREENSHOT_DIR")
            if shots:
                page.screenshot(path=str(Path(shots) / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    assert not errors, errors
    outside = [
        u for u in requests if not u.startswith(server.url + "/") and not u.startswith("data:")
    ]
    assert not outside, outside
    assert any(u.endswith("/static/vendor/echarts/echarts.min.js") for u in requests)


def test_replica_commands_talk_to_the_running_server(server: Server) -> None:
    status = subprocess.run(
        [str(YIBAO), "replica", "status", "--json"], env=server.env, capture_output=True, text=True
    )
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert info["engine"] == "duckdb" and info["applier"]["running"] is True
    verify = subprocess.run(
        [str(YIBAO), "replica", "verify"], env=server.env, capture_output=True, text=True
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "一致 consistent" in verify.stdout
    rebuild = subprocess.run(
        [str(YIBAO), "replica", "rebuild", "--source", "tables"],
        env=server.env,
        capture_output=True,
        text=True,
    )
    assert rebuild.returncode == 0, rebuild.stdout + rebuild.stderr
    assert "source tables" in rebuild.stdout
