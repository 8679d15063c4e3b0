"""GraphiQL works offline: its assets come from bff/web/web_assets (installed by `make install`).

The browser test drives Debian's Chromium against a real demo stack with every request to a
host other than 127.0.0.1 aborted, types the demo token into the headers editor, runs a query
and reads the answer in the result pane.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from strawberry.http.ides import get_graphql_ide_html

from bff.demo import DemoStack
from bff.web.graphiql import CACHE_CONTROL, NODE_MODULES, STATIC_PREFIX, Asset, graphiql_page, local_file, page_assets
from tests.support import CHROMIUM, CHROMIUM_ARGS, missing, require_chromium

WEB_ASSETS = Path(__file__).resolve().parent.parent / "bff" / "web" / "web_assets"
STRAWBERRY_PAGE = get_graphql_ide_html(graphql_ide="graphiql")
# What GraphiQL looks like does not depend on the back end: one run, on SQLite + memory.
SQLITE_ONLY = pytest.mark.parametrize("stack", ["sqlite"], indirect=True)


def require_local_assets() -> None:
    absent = [a.ref for a in page_assets(STRAWBERRY_PAGE) if local_file(a) is None]
    if absent:
        missing(f"GraphiQL assets not installed in {NODE_MODULES} (run `make install`): {absent}")


def integrity_of(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def test_pinned_packages_are_the_ones_strawberrys_page_loads() -> None:
    """A strawberry upgrade that moves GraphiQL's versions trips here, not silently onto the CDN."""
    pinned = json.loads((WEB_ASSETS / "package.json").read_text(encoding="utf-8"))["dependencies"]
    named = {a.package: a.version for a in page_assets(STRAWBERRY_PAGE)}
    assert set(named) >= {"react", "react-dom", "graphiql"}
    assert pinned == named
    locked = json.loads((WEB_ASSETS / "package-lock.json").read_text(encoding="utf-8"))["packages"]
    assert {p: locked[f"node_modules/{p}"]["version"] for p in pinned} == pinned


def test_page_keeps_the_cdn_for_each_asset_not_installed_at_its_version(tmp_path: Path) -> None:
    assert graphiql_page(tmp_path) == STRAWBERRY_PAGE  # nothing installed: the CDN for all
    react = Asset("react", "18.2.0", "umd/react.production.min.js")
    (tmp_path / "react" / "umd").mkdir(parents=True)
    (tmp_path / "react" / "umd" / "react.production.min.js").write_text("/* react */")
    (tmp_path / "react" / "package.json").write_text('{"version": "18.3.1"}')
    assert graphiql_page(tmp_path) == STRAWBERRY_PAGE  # another version is not this asset
    (tmp_path / "react" / "package.json").write_text('{"version": "18.2.0"}')
    page = graphiql_page(tmp_path)
    assert f'src="{STATIC_PREFIX}{react.ref}"' in page
    assert "https://unpkg.com/react@" not in page
    assert "https://unpkg.com/react-dom@18.2.0/" in page and "https://unpkg.com/graphiql@3.8.3/" in page


@SQLITE_ONLY
async def test_served_page_names_no_other_host_and_its_assets_are_the_cdns_bytes(http: httpx.AsyncClient) -> None:
    require_local_assets()
    page = (await http.get("/graphql", headers={"Accept": "text/html"})).text
    tags = re.findall(r'(?:src|href)="([^"]+)"\s+integrity="([^"]+)"', page)
    assert len(tags) == len(page_assets(STRAWBERRY_PAGE)) >= 5
    assert "unpkg.com" not in page
    for url, integrity in tags:
        assert url.startswith(STATIC_PREFIX), url
        answer = await http.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"] == CACHE_CONTROL
        assert answer.headers["content-type"].startswith("text/css" if url.endswith(".css") else "text/javascript")
        assert integrity_of(answer.content) == integrity, url  # what the browser checks too


@SQLITE_ONLY
@pytest.mark.parametrize(
    "path",
    ["react@18.2.0/package.json", "react@18.2.0/umd/react.development.js", "react@18.3.1/umd/react.production.min.js",
     "react@18.2.0/../../../pyproject.toml", "..%2F..%2Fgraphiql.py"],
)
async def test_static_route_serves_only_the_pages_assets(http: httpx.AsyncClient, path: str) -> None:
    answer = await http.get(STATIC_PREFIX + path)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "NOT_FOUND"


@SQLITE_ONLY
async def test_graphiql_runs_a_query_with_the_network_blocked(stack: DemoStack) -> None:
    require_chromium()
    require_local_assets()
    from playwright.async_api import Route, async_playwright, expect

    blocked: list[str] = []

    async def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    company = stack.demo["customer"]["name"]
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1200, "height": 800})
            await context.route("**/*", loopback_only)
            page = await context.new_page()
            page.set_default_timeout(15_000)  # a blank page (assets missing) fails in 15 s, not 30
            await page.goto(f"{stack.url}/graphql")
            await expect(page.locator(".graphiql-execute-button")).to_be_visible()  # React rendered GraphiQL
            await page.get_by_role("button", name="Headers").click()
            await page.locator(".graphiql-editor-tool .CodeMirror").last.click()
            await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {stack.token}"}))
            await page.locator(".graphiql-query-editor .CodeMirror").click()
            await page.keyboard.press("Control+A")
            await page.keyboard.insert_text("{ me { nickname binding { company { name } } } }")
            await page.locator(".graphiql-execute-button").click()
            result = page.locator(".result-window")
            await expect(result).to_contain_text(company, timeout=15_000)  # polls until then
            await expect(result).to_contain_text("演示采购员")
        finally:
            await browser.close()
    assert blocked == []  # the page asked no host but the BFF
