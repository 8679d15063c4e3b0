"""deleteMyAccount over HTTP: everything the BFF keeps of the user goes (docs/privacy.md), their
session ends at once, their call logs are anonymised, and another user of the same company keeps
all of theirs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import col, func, select

from bff.auth.deletion import BY_OPENID
from bff.demo import DemoStack
from bff.store.tables import ApiCallLog, MessageLog, UserSession
from tests.support import GraphQLClient, error_code, logged_rows, unique_user
from tests.test_profile_media import picture, upload

SETUP = """mutation Setup($order: ID!, $t: String!) {
  updateProfile(profile: {nickname: "待删除的采购"}) { nickname }
  updateNotificationSettings(input: {dndStart: "22:00", dndEnd: "08:00", followAll: false}) { dndStart }
  recordSubscriptions(results: [{templateId: $t, accepted: true}]) { remaining }
  followOrder(id: $order, follow: true)
}"""
DELETE = "mutation { deleteMyAccount }"
ME = "{ me { openid nickname bound avatarUrl } }"


async def make_user(stack: DemoStack, http: httpx.AsyncClient, name: str, order_id: str) -> dict[str, Any]:
    """A purchaser with something in every table the BFF keeps of a user."""
    token = await stack.login(unique_user(name), stack.demo["customer"]["invite_code"])
    gql = GraphQLClient(http, token)
    answer = await gql(SETUP, {"order": order_id, "t": stack.settings.tpl_order_status})
    assert "errors" not in answer, answer
    avatar = await upload(http, token, picture())
    assert avatar.status_code == 200, avatar.text
    me = (await gql(ME))["data"]["me"]
    async with stack.services.db.session() as s:  # a message in their message centre (the outbox's row)
        s.add(MessageLog(msg_id=unique_user("m"), openid=me["openid"], template_id="t", msg_status="sent", kind="order_status",
                         title="订单状态变化", order_id=order_id, created_at=datetime.now(UTC)))
    return {"token": token, "gql": gql, "openid": me["openid"], "avatar": avatar.json()["avatarUrl"]}


async def rows_of(stack: DemoStack, openid: str) -> dict[str, int]:
    async with stack.services.db.session() as s:
        return {t.__tablename__: (await s.exec(select(func.count()).select_from(t).where(col(t.openid) == openid))).one()
                for t in BY_OPENID}


async def session_ids(stack: DemoStack, openid: str) -> list[str]:
    async with stack.services.db.session() as s:
        return list((await s.exec(select(UserSession.session_id).where(col(UserSession.openid) == openid))).all())


@pytest.mark.backend  # every table is a row store: SQLite and MariaDB
async def test_delete_my_account_removes_everything_of_the_user_and_nothing_of_others(
    http: httpx.AsyncClient, stack: DemoStack, gql: GraphQLClient
) -> None:
    order_id = (await gql("{ orders(pageSize: 1) { items { id } } }"))["data"]["orders"]["items"][0]["id"]
    leaving = await make_user(stack, http, "leaving", order_id)
    staying = await make_user(stack, http, "staying", order_id)
    before = await rows_of(stack, leaving["openid"])
    assert all(before.values()), before  # the test would prove nothing with an empty table
    kept_before = await rows_of(stack, staying["openid"])
    leaving_sessions = await session_ids(stack, leaving["openid"])
    staying_sessions = await session_ids(stack, staying["openid"])
    logs = select(ApiCallLog.session_id).where(col(ApiCallLog.session_id).in_(leaving_sessions + staying_sessions))
    logged = await logged_rows(stack, logs, lambda rows: {*leaving_sessions, *staying_sessions} <= set(rows))
    assert {*leaving_sessions, *staying_sessions} <= set(logged)

    answer = await leaving["gql"](DELETE)
    assert answer["data"] == {"deleteMyAccount": True}, answer

    assert await rows_of(stack, leaving["openid"]) == dict.fromkeys(before, 0)
    assert await rows_of(stack, staying["openid"]) == kept_before
    left = await logged_rows(stack, logs)
    assert not set(left) & set(leaving_sessions)  # anonymised: no session id left to link them
    assert set(staying_sessions) <= set(left)
    # The session ended at once; the avatar is no longer served; the other user's is.
    assert error_code(await leaving["gql"](ME)) == "UNAUTHENTICATED"
    assert (await http.get(httpx.URL(leaving["avatar"]).path)).status_code == 404
    assert (await http.get(httpx.URL(staying["avatar"]).path)).status_code == 200
    assert (await staying["gql"](ME))["data"]["me"]["nickname"] == "待删除的采购"
    # Deleting again needs a session: there is none.
    assert error_code(await leaving["gql"](DELETE)) == "UNAUTHENTICATED"


async def test_delete_my_account_needs_a_session(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    assert error_code(await GraphQLClient(http, None)(DELETE)) == "UNAUTHENTICATED"


async def test_a_deleted_user_who_returns_starts_afresh(http: httpx.AsyncClient, stack: DemoStack) -> None:
    user = unique_user("returns")
    token = await stack.login(user, stack.demo["customer"]["invite_code"], nickname="老用户")
    assert (await GraphQLClient(http, token)(DELETE))["data"]["deleteMyAccount"] is True
    again = GraphQLClient(http, await stack.login(user))
    me = (await again(ME))["data"]["me"]
    assert me["bound"] is False and me["nickname"] is None and me["avatarUrl"] is None
