"""Binding by invite code or ERP account; failure limits; no password stored."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from bff.demo import DemoStack
from tests.support import GraphQLClient, error_code, unique_user

# On MariaDB + Redis too: bindings are rows; bind attempts are counted per user and IP in the cache.
pytestmark = pytest.mark.backend

BIND = """mutation($input: BindCompanyInput!) {
  bindCompany(input: $input) { bindStatus permissions companyInfo { id name } binding { role method } }
}"""
ME = "{ me { bound permissions binding { role company { id name } } } }"


async def _client(http: httpx.AsyncClient, stack: DemoStack) -> GraphQLClient:
    return GraphQLClient(http, await stack.login(unique_user()))


async def test_right_invite_code_binds_to_exactly_that_customer(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = await _client(http, stack)
    other = stack.demo["other_customer"]
    answer = await client(BIND, {"input": {"inviteCode": other["invite_code"].lower()}})
    bound = answer["data"]["bindCompany"]
    assert bound["bindStatus"] is True
    assert bound["companyInfo"] == {"id": str(other["id"]), "name": other["name"]}
    assert bound["binding"] == {"role": "PURCHASER", "method": "invite"}
    me = (await client(ME))["data"]["me"]
    assert me["binding"]["company"]["id"] == str(other["id"])


async def test_sixth_wrong_invite_code_is_rate_limited(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = await _client(http, stack)
    codes = []
    for attempt in range(6):
        answer = await client(BIND, {"input": {"inviteCode": f"WRONG{attempt:03d}"}})
        codes.append(error_code(answer))
    assert codes[:5] == ["BIND_FAILED"] * 5
    assert codes[5] == "RATE_LIMITED"
    limited = await client(BIND, {"input": {"inviteCode": stack.demo["customer"]["invite_code"]}})
    assert error_code(limited) == "RATE_LIMITED"  # even the right code waits: no probing
    extensions = limited["errors"][0]["extensions"]
    assert extensions["retryAt"] and "分钟" in limited["errors"][0]["message"]
    assert (await client(ME))["data"]["me"]["bound"] is False


async def test_rate_limit_is_per_user(http: httpx.AsyncClient, stack: DemoStack) -> None:
    noisy = await _client(http, stack)
    for attempt in range(6):
        await noisy(BIND, {"input": {"inviteCode": f"NOISY{attempt:03d}"}})
    calm = await _client(http, stack)
    answer = await calm(BIND, {"input": {"inviteCode": stack.demo["customer"]["invite_code"]}})
    assert answer["data"]["bindCompany"]["bindStatus"] is True


async def test_erp_account_binding_and_wrong_password(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = await _client(http, stack)
    customer = stack.demo["customer"]
    wrong = await http.post(
        "/api/auth/erp-bind",
        json={"erpUsername": customer["account"], "erpPassword": "not-the-password"},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "BIND_FAILED"
    assert "密码" in wrong.json()["error"]["message"]
    right = await http.post(
        "/api/auth/erp-bind",
        json={"erpUsername": customer["account"], "erpPassword": customer["password"]},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert right.status_code == 200, right.text
    body = right.json()
    assert body["bindStatus"] is True and body["companyInfo"]["id"] == str(customer["id"])
    assert body["permissions"] == ["ORDERS_READ", "MESSAGES_READ"]


async def test_admin_account_binds_as_administrator(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = await _client(http, stack)
    admin = stack.demo["admin"]
    answer = await client(BIND, {"input": {"erpAccount": {"username": admin["account"], "password": admin["password"]}}})
    bound = answer["data"]["bindCompany"]
    assert bound["binding"]["role"] == "ADMIN"
    assert "MONITORING_READ" in bound["permissions"] and "ORDERS_READ" not in bound["permissions"]
    assert bound["companyInfo"]["name"] == stack.settings.wholesaler_name


async def test_no_erp_password_is_stored_anywhere(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = await _client(http, stack)
    customer = stack.demo["customer"]
    await client(BIND, {"input": {"erpAccount": {"username": customer["account"], "password": customer["password"]}}})
    await client(BIND, {"input": {"erpAccount": {"username": customer["account"], "password": "Wrong-Pass-42"}}})
    import hashlib

    needles = [customer["password"], "Wrong-Pass-42", hashlib.sha1(customer["password"].encode()).hexdigest()]
    async with stack.services.db.engine.connect() as conn:
        for table in ("wx_users", "user_sessions", "erp_bindings", "api_call_logs", "message_logs"):
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).fetchall()
            dump = repr(rows)
            for needle in needles:
                assert needle not in dump, f"{table} holds an ERP password"


async def test_unbind_then_orders_need_binding_again(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user(), stack.demo["customer"]["invite_code"])
    client = GraphQLClient(http, token)
    assert (await client(ME))["data"]["me"]["bound"] is True
    unbound = await http.post("/api/auth/erp-unbind", headers={"Authorization": f"Bearer {token}"})
    assert unbound.json()["unbound"] is True
    assert (await client(ME))["data"]["me"]["bound"] is False


async def test_bind_input_must_be_exactly_one_way(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = await _client(http, stack)
    both = await client(
        BIND, {"input": {"inviteCode": "ABCD1234", "erpAccount": {"username": "1", "password": "2"}}}
    )
    assert error_code(both) == "BAD_USER_INPUT"
    empty = await http.post("/api/auth/erp-bind", json={}, headers={"Authorization": f"Bearer {client.token}"})
    assert empty.status_code == 400 and empty.json()["error"]["code"] == "BAD_USER_INPUT"


async def test_binding_needs_login(http: httpx.AsyncClient, stack: DemoStack) -> None:
    answer = await http.post("/api/auth/erp-bind", json={"inviteCode": stack.demo["customer"]["invite_code"]})
    assert answer.status_code == 401
