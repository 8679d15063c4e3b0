"""WeChat login, sessions, profile, Cloud Run header mode: over HTTP against the demo stack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bff.demo import DemoStack
from bff.store.tables import UserSession, WxUser
from tests.support import GraphQLClient, error_code, unique_user

# On MariaDB + Redis too: sessions are rows (renewal, expiry, revocation) and login attempts are counted in the cache.
pytestmark = pytest.mark.backend

ME = "{ me { openid nickname bound permissions session { expiresAt } binding { role company { id name mobile } } } }"


async def test_demo_token_names_demo_user_and_company(gql: GraphQLClient, stack: DemoStack) -> None:
    me = (await gql(ME))["data"]["me"]
    customer = stack.demo["customer"]
    assert me["bound"] is True and me["nickname"] == "演示采购员"
    assert me["binding"]["company"]["id"] == str(customer["id"])
    assert me["binding"]["company"]["name"] == customer["name"]
    assert me["permissions"] == ["ORDERS_READ", "MESSAGES_READ"]
    mobile = me["binding"]["company"]["mobile"]
    assert mobile is None or "****" in mobile


async def test_valid_code_logs_in_and_never_returns_session_key(http: httpx.AsyncClient, stack: DemoStack) -> None:
    code = await stack.wx_code(unique_user())
    answer = await http.post("/api/auth/wx-login", json={"code": code, "userInfo": {"nickName": "张工"}})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= {"token", "openid", "unionid", "expiresAt"}
    assert "sessionKey" not in body and "session_key" not in answer.text
    # the WeChat simulator issued a session_key; it must be nowhere in the answer
    async with stack.services.db.session() as s:
        row = (await s.exec(select(UserSession).where(UserSession.openid == body["openid"]))).first()
    assert row is not None and row.session_key
    plain = await stack.services.sessions.session_key(row.session_id)
    assert plain and plain not in answer.text and plain not in row.session_key  # encrypted at rest
    me = await http.get("/api/user/profile", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.json()["user"]["nickname"] == "张工"
    assert me.json()["user"]["bound"] is False
    assert plain not in me.text


async def test_reused_code_and_unknown_code_get_clear_errors(http: httpx.AsyncClient, stack: DemoStack) -> None:
    code = await stack.wx_code(unique_user())
    assert (await http.post("/api/auth/wx-login", json={"code": code})).status_code == 200
    reused = await http.post("/api/auth/wx-login", json={"code": code})
    assert reused.status_code == 400
    error = reused.json()["error"]
    assert error["code"] == "WX_LOGIN_FAILED" and error["requestId"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])  # Chinese for the purchaser
    unknown = await http.post("/api/auth/wx-login", json={"code": "no-such-code"})
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "WX_LOGIN_FAILED"


async def test_wechat_system_busy_is_retried(http: httpx.AsyncClient, stack: DemoStack) -> None:
    code = await stack.wx_code(unique_user())
    async with httpx.AsyncClient(base_url=stack.wechat.url) as wx:
        await wx.post("/__sim/stats/reset")
        await wx.post("/__sim/faults", json={"system_error_next": 1})
        answer = await http.post("/api/auth/wx-login", json={"code": code})
        stats = (await wx.get("/__sim/stats")).json()
        await wx.post("/__sim/faults/reset")
    assert answer.status_code == 200, answer.text
    assert stats["jscode2session"] == 2  # the -1, then the retry


async def test_missing_code_is_bad_input(http: httpx.AsyncClient) -> None:
    answer = await http.post("/api/auth/wx-login", json={"userInfo": {}})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BAD_USER_INPUT"
    not_json = await http.post("/api/auth/wx-login", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "BAD_USER_INPUT"


async def test_no_token_and_bad_token_are_unauthenticated(http: httpx.AsyncClient) -> None:
    none = (await http.get("/api/user/profile")).json()["error"]
    assert none["code"] == "UNAUTHENTICATED" and none["message"] == "尚未登录，请先登录"  # nothing sent: not "expired"
    bad = await http.get("/api/user/profile", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "UNAUTHENTICATED"
    assert bad.json()["error"]["message"] == "登录已失效，请重新登录"
    payload = await GraphQLClient(http, "forged")(ME)
    assert error_code(payload) == "UNAUTHENTICATED" and payload["data"] is None


async def test_logout_and_revoke_all_sessions(http: httpx.AsyncClient, stack: DemoStack) -> None:
    user = unique_user()
    first = await stack.login(user)
    second = await stack.login(user)
    gql_first, gql_second = GraphQLClient(http, first), GraphQLClient(http, second)
    assert (await gql_first("mutation { logout }"))["data"]["logout"] is True
    assert error_code(await gql_first(ME)) == "UNAUTHENTICATED"
    assert (await gql_second(ME))["data"]["me"]["openid"]
    third = await stack.login(user)
    revoke = await http.post("/api/auth/logout", json={"allSessions": True}, headers={"Authorization": f"Bearer {third}"})
    assert revoke.json()["loggedOut"] is True
    assert error_code(await gql_second(ME)) == "UNAUTHENTICATED"


async def test_session_renews_itself_while_used(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user())
    session_id = stack.services.sessions.session_id_for(token)
    soon = datetime.now(UTC) + timedelta(hours=1)
    async with stack.services.db.session() as s:
        row = await s.get(UserSession, session_id)
        assert row is not None
        row.expires_at = soon
        s.add(row)
    me = (await GraphQLClient(http, token)(ME))["data"]["me"]
    renewed = datetime.fromisoformat(me["session"]["expiresAt"])
    assert renewed > soon + timedelta(hours=24)
    async with stack.services.db.session() as s:
        row = await s.get(UserSession, session_id)
        assert row is not None and row.expires_at > soon + timedelta(hours=24)


async def test_expired_session_is_refused(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user())
    async with stack.services.db.session() as s:
        row = await s.get(UserSession, stack.services.sessions.session_id_for(token))
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
        s.add(row)
    assert error_code(await GraphQLClient(http, token)(ME)) == "UNAUTHENTICATED"


async def test_wx_headers_ignored_unless_trusted(http: httpx.AsyncClient, stack: DemoStack) -> None:
    headers = {"X-WX-OPENID": "o-forged-openid"}
    assert stack.settings.wx_trust_headers is False
    answer = await http.get("/api/user/profile", headers=headers)
    assert answer.status_code == 401
    async with stack.services.db.session() as s:
        assert await s.get(WxUser, "o-forged-openid") is None


async def test_wx_headers_authenticate_when_trusted(stack: DemoStack) -> None:
    from bff.web.app import create_app
    from bff.web.serving import start_server

    settings = stack.settings.model_copy(update={"wx_trust_headers": True})
    server = await start_server(create_app(settings, stack.services))
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            platform = {"X-WX-OPENID": "o-cloudrun-user", "X-WX-SOURCE": "wx_callcontainer", "X-WX-APPID": settings.wx_appid}
            answer = await client.get("/api/user/profile", headers=platform)
    finally:
        server.server.should_exit = True
        await server.task
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["openid"] == "o-cloudrun-user"
    assert answer.json()["user"]["session"]["loginSource"] == "wx_header"


async def test_profile_update_validates_input(gql: GraphQLClient, http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user())
    client = GraphQLClient(http, token)
    update = "mutation($p: ProfileInput!) { updateProfile(profile: $p) { nickname avatarUrl } }"
    ok = await client(update, {"p": {"nickname": "李采购", "avatarUrl": "https://example.com/a.png"}})
    assert ok["data"]["updateProfile"] == {"nickname": "李采购", "avatarUrl": "https://example.com/a.png"}
    too_long = await client(update, {"p": {"nickname": "长" * 40}})
    assert error_code(too_long) == "BAD_USER_INPUT"
    assert too_long["errors"][0]["extensions"]["field"] == "profile.nickname"
    not_https = await client(update, {"p": {"avatarUrl": "javascript:alert(1)"}})
    assert error_code(not_https) == "BAD_USER_INPUT"


async def test_session_key_appears_in_no_response(http: httpx.AsyncClient, stack: DemoStack) -> None:
    """Every route, as a freshly logged-in user: the session_key WeChat issued is in none."""
    user = unique_user()
    code = await stack.wx_code(user)
    login = (await http.post("/api/auth/wx-login", json={"code": code})).json()
    token = login["token"]
    key = await stack.services.sessions.session_key(stack.services.sessions.session_id_for(token))
    assert key
    headers = {"Authorization": f"Bearer {token}"}
    bodies = [json.dumps(login)]
    spec = (await http.get("/api/openapi.json")).json()
    # logout last, or it would end the session the other routes use
    for path, methods in sorted(spec["paths"].items(), key=lambda item: "logout" in item[0]):
        for method in methods:
            concrete = path.replace("{id}", "1")
            answer = await http.request(method.upper(), concrete, headers=headers, json={} if method == "post" else None)
            bodies.append(answer.text)
    graphql = await GraphQLClient(http, token)(ME)
    bodies.append(json.dumps(graphql))
    assert all(key not in body for body in bodies)
