"""Revocation: a disabled customer, a changed invite code, administrators ending access,
the absolute session lifetime, and a session whose user is gone."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, update

from bff.demo import DemoStack
from bff.erp import CUSTOMERS
from bff.store.tables import UserSession, WxUser
from tests.monitor.helpers import admin_token, custom_stack
from tests.support import GraphQLClient, error_code, unique_user

# On MariaDB + Redis too: sessions, bindings and company rechecks are rows and cached company state.
pytestmark = pytest.mark.backend

ORDERS = "query Q { orders(pageSize: 3) { total } }"


async def _refused_within(client: GraphQLClient, seconds: float) -> dict[str, object]:
    """Poll until the purchaser is refused; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        answer = await client(ORDERS)
        if error_code(answer) is not None or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.1)


async def test_disabled_customer_loses_access_within_the_recheck_time() -> None:
    async with custom_stack(company_recheck_s=1) as stack, httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        client = GraphQLClient(http, stack.token)
        assert error_code(await client(ORDERS)) is None
        customer = stack.erp_sim.forms[CUSTOMERS][str(stack.demo["customer"]["id"])]
        customer["disable"] = True
        started = time.monotonic()
        refused = await _refused_within(client, 3.0)
        elapsed = time.monotonic() - started
        customer["disable"] = False
    assert error_code(refused) == "NOT_BOUND" and "停用" in refused["errors"][0]["message"]  # type: ignore[index]
    assert elapsed <= 1.0 + 1.0  # the configured recheck time, plus one poll's slack


async def test_changed_invite_code_ends_bindings_made_with_the_old_one() -> None:
    async with (
        custom_stack(company_recheck_s=1, invite_code_rotation_ends_bindings=True) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=10) as http,
    ):
        client = GraphQLClient(http, stack.token)
        assert error_code(await client(ORDERS)) is None
        customer = stack.erp_sim.forms[CUSTOMERS][str(stack.demo["customer"]["id"])]
        customer["微信邀请码"] = "ROTATED2026"
        refused = await _refused_within(client, 3.0)
        rebound = await client(
            "mutation B($c: String!) { bindCompany(input: {inviteCode: $c}) { bindStatus } }", {"c": "ROTATED2026"}
        )
        after = await client(ORDERS)
    assert error_code(refused) == "NOT_BOUND" and "邀请码" in refused["errors"][0]["message"]  # type: ignore[index]
    assert rebound["data"]["bindCompany"]["bindStatus"] is True and error_code(after) is None


async def test_administrator_lists_a_company_and_revokes(http: httpx.AsyncClient, stack: DemoStack) -> None:
    admin = GraphQLClient(http, await admin_token(stack))
    victim = GraphQLClient(http, await stack.login(unique_user("victim"), stack.demo["other_customer"]["invite_code"]))
    company = str(stack.demo["other_customer"]["id"])
    users = (await admin("query U($c: ID!) { companyUsers(companyId: $c) { bindingId openid activeSessions } }", {"c": company}))
    mine = (await victim("{ me { openid } }"))["data"]["me"]["openid"]
    row = next(u for u in users["data"]["companyUsers"] if u["openid"] == mine)
    assert row["activeSessions"] >= 1
    purchaser = await victim("query U($c: ID!) { companyUsers(companyId: $c) { openid } }", {"c": company})
    assert error_code(purchaser) == "FORBIDDEN"

    ended = await admin("mutation R($b: ID!) { revokeBinding(bindingId: $b) }", {"b": row["bindingId"]})
    assert ended["data"]["revokeBinding"] is True
    assert error_code(await victim(ORDERS)) == "NOT_BOUND"
    sessions = await admin("mutation S($o: String!) { revokeUserSessions(openid: $o) }", {"o": mine})
    assert sessions["data"]["revokeUserSessions"] >= 1
    assert error_code(await victim("{ me { openid } }")) == "UNAUTHENTICATED"


async def test_session_has_an_absolute_lifetime(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user("old"))
    client = GraphQLClient(http, token)
    assert error_code(await client("{ me { openid } }")) is None
    sessions = stack.services.sessions
    max_age = timedelta(hours=stack.settings.session_max_hours)
    async with stack.services.db.session() as s:  # created long ago, yet renewed a minute ago
        row = await s.get(UserSession, sessions.session_id_for(token))
        assert row is not None
        await s.exec(
            update(UserSession).where(UserSession.session_id == row.session_id)  # type: ignore[arg-type]
            .values(created_at=row.created_at - max_age, expires_at=row.expires_at + timedelta(days=1))
        )
    await sessions.viewers.changed(row.openid)  # a row edited by hand: say so, as the BFF's own writes do
    assert error_code(await client("{ me { openid } }")) == "UNAUTHENTICATED"


async def test_session_ends_with_its_user_row(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user("gone"))
    client = GraphQLClient(http, token)
    openid = (await client("{ me { openid } }"))["data"]["me"]["openid"]
    async with stack.services.db.session() as s:
        await s.exec(delete(WxUser).where(WxUser.openid == openid))  # type: ignore[arg-type]
    await stack.services.sessions.viewers.changed(openid)  # a row deleted by hand: say so, as the BFF's own writes do
    assert error_code(await client("{ me { openid } }")) == "UNAUTHENTICATED"
