"""The auditor's page in headless Chromium against a real server: sign in, the records and the
chain's state render with no console error and no request leaving 127.0.0.1, and a filter
narrows the table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from seed import Server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = pytest.mark.browser


def test_audit_page_lists_records_and_the_chain_state(server: Server) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {CHROMIUM} missing")
        pytest.skip(f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "/audit")
            page.wait_for_url("**/login?next=%2Faudit")
            # the auditor, and only the auditor, reads the trail (三权分立); `yibao init`
            # wrote its generated password owner-only into the data directory
            auditor = (server.data_dir / "auditor-password.txt").read_text().strip()
            page.fill("#username", "auditor")
            page.fill("#password", auditor)
            page.click("button[type=submit]")
            page.wait_for_url("**/audit")
            page.click("#verify")
            page.wait_for_function(
                "() => document.getElementById('chain').textContent.startsWith('审计链完整')",
                timeout=30_000,
            )
            page.wait_for_function("() => document.querySelectorAll('#rows tr').length > 0")
            actions = page.eval_on_selector_all(
                "#rows tr td:nth-child(7)", "t => t.map(x => x.textContent)"
            )
            assert "auth.login" in actions
            page.fill("input[name=action]", "auth.login")
            page.click("#filters button[type=submit]")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#rows tr td:nth-child(7)')]"
                ".every(td => td.textContent === 'auth.login')"
            )
            page.fill("input[name=since]", "not a date")
            page.click("#filters button[type=submit]")
            page.wait_for_selector("#error:not([hidden])")
            assert page.text_content("#error").startswith("since:")
        finally:
            browser.close()
    assert not errors or all("400" in e for e in errors), errors
    assert all(u.startswith(server.url) for u in requests), requests
