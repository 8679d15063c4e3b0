"""Issue 19, the client address: whose X-Forwarded-For is believed (BFF_TRUSTED_PROXIES), and
what trusted-header mode and the per-address limits judge. Each attack of the issue performed
straight at the port and through a real reverse proxy on loopback (tests/edge_support.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.edge_support import PROXY_ADDRESS, client_from, reverse_proxy
from tests.monitor.helpers import custom_stack
from tests.support import free_port, wait_until_serving

ME = "{ me { openid } }"
PLATFORM = "127.0.0.3"  # WeChat's gateway in these tests (BFF_TRUSTED_HEADER_SOURCES)
ATTACKER = "127.0.0.4"


def platform_headers(appid: str, openid: str, forwarded_for: str | None = None) -> dict[str, str]:
    headers = {"X-WX-OPENID": openid, "X-WX-SOURCE": "wx_callcontainer", "X-WX-APPID": appid}
    if forwarded_for is not None:
        headers["X-Forwarded-For"] = forwarded_for
    return headers


async def me(http: httpx.AsyncClient, headers: dict[str, str]) -> Any:
    answer = await http.post("/graphql", json={"query": ME}, headers=headers)
    body = answer.json()
    return body["data"]["me"]["openid"] if body.get("data") else body["errors"][0]["extensions"]["code"]


async def test_trusted_header_mode_believes_only_the_trusted_proxys_hop() -> None:
    """The critical finding: a caller sent X-Forwarded-For naming an allowed source, and was
    signed in as anyone. Now the allow-list judges the first untrusted hop from the right."""
    async with custom_stack(
        wx_trust_headers=True, trusted_header_sources=f"10.8.0.0/16, {PLATFORM}", trusted_proxies=PROXY_ADDRESS,
    ) as stack, reverse_proxy(stack.url) as proxy:
        appid = stack.settings.wx_appid
        async with client_from(ATTACKER, stack.url) as direct, client_from(ATTACKER, proxy.url) as via_proxy, \
                client_from(PLATFORM, proxy.url) as platform, client_from(PLATFORM, stack.url) as platform_direct:
            forged_direct = await me(direct, platform_headers(appid, "victim", "10.8.200.7"))
            forged_chain = await me(via_proxy, platform_headers(appid, "victim", "10.8.200.7"))
            forged_platform = await me(via_proxy, platform_headers(appid, "victim", PLATFORM))
            from_platform = await me(platform, platform_headers(appid, "cloudrun-user"))
            from_platform_direct = await me(platform_direct, platform_headers(appid, "cloudrun-user-2", "1.2.3.4"))
    assert forged_direct == "UNAUTHENTICATED"  # an untrusted peer's X-Forwarded-For is not read at all
    assert forged_chain == "UNAUTHENTICATED"  # "10.8.200.7, 127.0.0.4": the proxy's hop is the attacker
    assert forged_platform == "UNAUTHENTICATED"  # naming the platform's own address does not help
    assert from_platform == "cloudrun-user"  # the platform through the trusted proxy
    assert from_platform_direct == "cloudrun-user-2"  # and straight at the port (its forwarded value ignored)


async def test_per_address_limits_count_the_real_client_behind_a_proxy() -> None:
    """Behind a proxy every purchaser shared the proxy's bucket; with the proxy trusted each
    client has its own, and a forged X-Forwarded-For buys no fresh one."""
    async with (
        custom_stack(rate_limit_ip="5/minute", trusted_proxies=PROXY_ADDRESS) as stack,
        reverse_proxy(stack.url) as proxy,
        client_from(ATTACKER, proxy.url) as attacker,
        client_from(PLATFORM, proxy.url) as neighbour,
        client_from(ATTACKER, stack.url) as direct,
    ):
        spent = [(await attacker.get("/api/openapi.json")).status_code for _ in range(6)]
        forged = [
            (await attacker.get("/api/openapi.json", headers={"X-Forwarded-For": f"10.0.0.{i}"})).status_code
            for i in range(3)
        ]
        forged_direct = (await direct.get("/api/openapi.json", headers={"X-Forwarded-For": "10.0.0.9"})).status_code
        other = (await neighbour.get("/api/openapi.json")).status_code
    assert spent[:5] == [200] * 5 and spent[5] == 429
    assert forged == [429] * 3 and forged_direct == 429
    assert other == 200  # another purchaser behind the same proxy is not refused


async def test_forwarded_proto_only_from_a_trusted_proxy() -> None:
    """X-Forwarded-Proto https (TLS ended at the proxy) makes the admin cookie Secure; the same
    header from anyone else changes nothing."""
    token = "a-real-admin-token-0123456789abcdef"
    async with (
        custom_stack(admin_token=token, trusted_proxies=PROXY_ADDRESS) as stack,
        reverse_proxy(stack.url) as proxy,
        client_from(PLATFORM, proxy.url) as via_proxy,
        client_from(ATTACKER, stack.url) as direct,
    ):
        behind_tls = await via_proxy.post(
            "/admin/login", data={"token": token}, headers={"Origin": "https://" + proxy.url.split("//")[1]}
        )
        forged = await direct.post(
            "/admin/login", data={"token": token},
            headers={"Origin": stack.url, "X-Forwarded-Proto": "https"},
        )
    assert behind_tls.status_code in (200, 303), behind_tls.text
    assert "secure" in behind_tls.headers["set-cookie"].lower()
    assert forged.status_code in (200, 303), forged.text
    assert "secure" not in forged.headers["set-cookie"].lower()  # plain http, as the peer really spoke


@pytest.mark.early
def test_bff_serve_in_trusted_header_mode_ignores_a_forged_forwarded_for(tmp_path: Path) -> None:
    """The finding as it was found: `bff serve` in trusted-header mode with an allow-list, a
    caller that is no trusted proxy naming an allowed address in X-Forwarded-For."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")}
    env.update(BFF_ENV="test", BFF_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/serve.sqlite3", BFF_REDIS_URL="",
               BFF_TRUST_WX_HEADERS="true", BFF_TRUSTED_HEADER_SOURCES=f"10.8.0.0/16, {PLATFORM}",
               BFF_NOTIFY_ENABLED="false", BFF_ERP_PROBE_INTERVAL_S="3600")
    subprocess.run([sys.executable, "-m", "bff.cli", "migrate"], env=env, check=True, capture_output=True, timeout=60)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "bff.cli", "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(url, process)
        appid = "wx-demo-appid"

        def ask(source: str, headers: dict[str, str]) -> Any:
            with httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=10) as http:
                body = http.post(url + "/graphql", json={"query": ME}, headers=headers).json()
            return body["data"]["me"]["openid"] if body.get("data") else body["errors"][0]["extensions"]["code"]

        forged = ask(ATTACKER, platform_headers(appid, "victim", "10.8.200.7"))
        loopback_forged = ask("127.0.0.1", platform_headers(appid, "victim", ATTACKER))  # a local proxy's hop: judged
        platform = ask(PLATFORM, platform_headers(appid, "cloudrun-user"))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert forged == "UNAUTHENTICATED"
    assert loopback_forged == "UNAUTHENTICATED"
    assert platform == "cloudrun-user"
