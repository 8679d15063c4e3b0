"""The /admin dashboard in headless Chromium (Debian's, driven by playwright).

Its screenshot goes to a temporary folder; `make screenshots` (BFF_UPDATE_SCREENSHOTS=1)
writes it to docs/screenshots/ instead: no test run rewrites a tracked file."""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from tests.monitor.helpers import custom_stack
from tests.support import CHROMIUM, CHROMIUM_ARGS, GraphQLClient, registered, require_chromium

DOCS_SHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"


DASH_TOKEN = "dash-token-789-Lw4Qz8Rn2Vx6Kp0Ty3Hb"


async def test_dashboard_shows_the_erp_state_and_a_latency_chart(tmp_path: Path) -> None:
    require_chromium()
    shot = DOCS_SHOT if os.environ.get("BFF_UPDATE_SCREENSHOTS") == "1" else tmp_path / "dashboard.png"
    from playwright.async_api import async_playwright
    from pydantic import SecretStr

    async with custom_stack(erp_probe_interval_s=3600, admin_token=SecretStr(DASH_TOKEN)) as stack:
        async with httpx.AsyncClient(base_url=stack.url, timeout=15) as http:
            gql = GraphQLClient(http, stack.token)
            for _ in range(5):
                await gql(registered("Home"), {"pageSize": 5})
                await gql(registered("Orders"), {"keyword": "SO", "page": 1, "pageSize": 3})
            await gql('query MissingOrder { order(id: "no-such-order") { id } }')  # a recent error
        for _ in range(4):
            await stack.services.monitor.probe_once()
        await stack.services.call_log.flush()
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1000, "height": 1100})
                login = await page.goto(f"{stack.url}/admin")  # no token in any URL: a login form
                assert login is not None and login.status == 401
                await page.fill("input[name=token]", DASH_TOKEN)
                async with page.expect_navigation():
                    await page.click("button[type=submit]")
                assert page.url == f"{stack.url}/admin", await page.content()
                assert await page.inner_text("#erp-state") == "UP"
                assert await page.locator("#latency-chart rect").count() >= 6  # 2+ operations x p50/p95/p99
                assert await page.locator("#probe-chart circle").count() >= 4
                assert "Home" in await page.inner_text("#operations")
                assert "NOT_FOUND" in await page.inner_text("#errors")
                assert (await page.inner_text("#outbox")).strip() == "0 / 0"
                await page.screenshot(path=str(shot), full_page=True)
                cookie = next(c for c in await page.context.cookies() if c["name"] == "bff_admin")
                assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
                await page.context.clear_cookies()
                denied = await page.goto(f"{stack.url}/admin?token={DASH_TOKEN}")  # a URL token opens nothing
                assert denied is not None and denied.status == 401
            finally:
                await browser.close()
    assert shot.stat().st_size > 10_000
