"""Portraits in headless Chromium, as a reviewer reads them: the person's portrait of a fixture
person draws its charts, shows the certno masked (no unmasking asked), and its drill-down links
resolve — a month to its settlements, an institution to the institution's portrait, whose
charts draw too. No console error, no request leaving the server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from seed import INSTITUTION, REVIEWER, REVIEWER_PASSWORD, Server

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = pytest.mark.browser


def _need_chromium() -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} missing: apt-get install -y chromium fonts-wqy-microhei"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


def _charts_drawn(page) -> set[str]:  # type: ignore[no-untyped-def]
    sizes = page.eval_on_selector_all(
        ".chart canvas",
        "els => els.map(c => [c.parentElement.parentElement.id, c.width, c.height])",
    )
    return {chart_id for chart_id, w, h in sizes if w > 0 and h > 0}


def test_person_and_institution_portraits(server: Server, tmp_path: Path) -> None:
    _need_chromium()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    shots = Path(os.environ.get("E2E_SCREENSHOT_DIR") or tmp_path)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1500}, locale="zh-CN")
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            target = f"/portraits/persons/{server.psn_no}"
            page.goto(server.url + target)
            page.wait_for_url("**/login?next=*")
            page.fill("#username", REVIEWER)
            page.fill("#password", REVIEWER_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**" + target)
            page.wait_for_function("() => document.querySelectorAll('#facts dd').length > 5",
                                   timeout=30_000)  # fmt: skip
            facts = page.text_content("#facts") or ""
            certno = page.text_content("#facts dd:nth-of-type(3)") or ""
            assert "*" in certno, facts  # masked: the reviewer asked for no unmasking
            assert {"chart-trend", "chart-left", "chart-right"} <= _charts_drawn(page)
            # a month drills down to its settlements
            page.wait_for_selector("#drill tbody tr")
            assert page.locator("#drill tbody tr").count() >= 1
            page.wait_for_timeout(1500)  # let the charts' entry animation finish for the picture
            page.screenshot(path=str(shots / "portrait-person.png"), full_page=True)

            # an institution visited links to its portrait
            page.click(f"#list a:has-text('{INSTITUTION}')")
            page.wait_for_url(f"**/portraits/institutions/{INSTITUTION}")
            page.wait_for_function("() => document.querySelectorAll('#list tbody tr').length >= 10",
                                   timeout=30_000)  # fmt: skip
            assert "次均费用" in (page.text_content("#list") or "")
            assert {"chart-trend", "chart-left", "chart-right"} <= _charts_drawn(page)
            page.wait_for_selector("#drill tbody tr")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "portrait-institution.png"), full_page=True)
        finally:
            browser.close()

    assert not errors, errors
    outside = [
        u for u in requests if not u.startswith(server.url + "/") and not u.startswith("data:")
    ]
    assert not outside, outside
