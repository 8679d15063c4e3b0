"""Every bad input is a 4xx JSON answer: the findings of issue 10 as a regression table,
and the trusted-header mode that accepts nothing forged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bff.demo import DemoStack
from tests.monitor.helpers import custom_stack

JSON = {"content-type": "application/json"}
DEEP = b"[" * 20_000 + b"]" * 20_000

# (method, path, request keyword arguments, needs the bearer token)
TABLE: list[tuple[str, str, dict[str, Any], bool]] = [
    ("POST", "/graphql", {"content": b"42", "headers": JSON}, False),
    ("POST", "/graphql", {"content": b'{"query": "\xff\xfe"}', "headers": JSON}, False),
    ("POST", "/graphql", {"content": DEEP, "headers": JSON}, False),
    ("POST", "/graphql", {"content": b'{"query": "{ me { openid } }"', "headers": JSON}, False),
    ("POST", "/graphql", {"content": b"x", "headers": {"content-type": "text/plain"}}, False),
    ("POST", "/graphql", {"json": [{"query": "{ __typename }"}]}, False),
    ("GET", "/graphql?query=%7B__typename%7D&variables=5", {}, False),
    ("POST", "/graphql", {"json": {"query": "query Q($p: Int!) { orders(page: $p) { total } }", "variables": {"p": "x"}}}, False),
    ("POST", "/graphql", {"json": {"query": "query Q($id: ID!) { order(id: $id) { id } }", "variables": {"id": {"a": 1}}}}, True),
    ("POST", "/graphql", {"json": {"query": "query Q($p: Int!) { orders(page: $p) { total } }", "variables": {"p": 99999999999}}}, True),
    ("POST", "/api/auth/wx-login", {"json": {"code": "abc", "userInfo": {"nickName": 5}}}, False),
    ("POST", "/api/auth/erp-bind", {"content": b"42", "headers": JSON}, True),
    ("POST", "/api/auth/erp-bind", {"content": DEEP, "headers": JSON}, True),
    ("POST", "/api/auth/erp-bind", {"content": b'{"inviteCode": "\xff"}', "headers": JSON}, True),
    ("GET", "/api/orders/search?page=99999999999", {}, True),
    ("GET", "/api/orders/search?page=%C2%B2", {}, True),
    ("GET", "/api/metrics/performance?window=%00", {}, True),
]


@pytest.mark.parametrize("method,path,kwargs,auth", TABLE, ids=[f"{m} {p[:40]} #{i}" for i, (m, p, _, _) in enumerate(TABLE)])
async def test_malformed_input_is_a_4xx_json_answer(
    http: httpx.AsyncClient, stack: DemoStack, method: str, path: str, kwargs: dict[str, Any], auth: bool
) -> None:
    headers = dict(kwargs.pop("headers", {}) if "headers" in kwargs else {})
    if auth:
        headers["Authorization"] = f"Bearer {stack.token}"
    answer = await http.request(method, path, headers=headers, **kwargs)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    code = body["error"]["code"] if "error" in body else body["errors"][0]["extensions"]["code"]
    assert code in ("BAD_USER_INPUT", "FORBIDDEN", "UNAUTHENTICATED")
    assert "Traceback" not in answer.text


TRUSTED_ME = "{ me { openid } }"


async def test_trusted_headers_need_the_platforms_source_and_our_appid() -> None:
    async with custom_stack(wx_trust_headers=True) as stack:
        appid = stack.settings.wx_appid
        async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
            async def me(**headers: str) -> dict[str, Any]:
                return (await http.post("/graphql", json={"query": TRUSTED_ME}, headers=headers)).json()

            forged = await me(**{"X-WX-OPENID": "victim-openid"})
            other_app = await me(**{"X-WX-OPENID": "victim-openid", "X-WX-SOURCE": "wx", "X-WX-APPID": "wx-other"})
            platform = await me(**{"X-WX-OPENID": "cloudrun-user", "X-WX-SOURCE": "wx", "X-WX-APPID": appid})
    assert forged["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert other_app["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert platform["data"]["me"]["openid"] == "cloudrun-user"


async def test_trusted_headers_only_from_the_allowed_sources() -> None:
    async with (
        custom_stack(wx_trust_headers=True, trusted_header_sources="10.0.0.0/8") as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=10) as http,
    ):
        answer = await http.post(
            "/graphql", json={"query": TRUSTED_ME},
            headers={"X-WX-OPENID": "u", "X-WX-SOURCE": "wx", "X-WX-APPID": stack.settings.wx_appid},
        )
    assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"  # 127.0.0.1 is not 10/8
