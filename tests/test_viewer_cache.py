"""The viewer kept a few seconds per session (bff/auth/viewers.py): a burst of one purchaser's
requests reads the session once, and every change to a viewer shows on the very next request,
on this instance and on another one sharing MariaDB + Redis; while Redis fails, the database answers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiocache import SimpleMemoryCache
from aiocache.serializers import JsonSerializer
from sqlalchemy import event, update

from bff.auth.viewers import EPOCH, ViewerCache
from bff.cache.caches import create_cache
from bff.core.domain import Binding, Company, Role, Viewer
from bff.demo import DemoStack
from bff.erp import CUSTOMERS
from bff.services import Services
from bff.store.db import Database
from bff.store.tables import UserSession
from tests.monitor.helpers import admin_token, custom_stack
from tests.private_redis import PrivateRedis
from tests.support import GraphQLClient, app_client, error_code, free_port, unique_user

# On MariaDB + Redis too: the versions live in Redis there, shared by all instances.
pytestmark = pytest.mark.backend

ME = "{ me { openid nickname session { expiresAt } binding { company { name } } } }"
ORDERS = "query Q { orders(pageSize: 1) { total } }"
BIND = "mutation B($c: String!) { bindCompany(input: {inviteCode: $c}) { bindStatus } }"
PROFILE = "mutation P($n: String!) { updateProfile(profile: {nickname: $n}) { nickname } }"


@contextmanager
def session_reads(db: Database) -> Iterator[list[str]]:
    """The statements reading ``user_sessions`` on this instance's engine meanwhile."""
    reads: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM user_sessions" in statement:
            reads.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield reads
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def kept(db: Database, client: GraphQLClient) -> None:
    """Asks twice; the second answer must come from the kept viewer (no session read)."""
    assert error_code(await client(ME)) is None
    with session_reads(db) as reads:
        assert error_code(await client(ME)) is None
    assert reads == [], "the viewer was not kept"


async def test_a_burst_of_one_purchasers_requests_reads_the_session_once(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = GraphQLClient(http, await stack.login(unique_user("burst"), stack.demo["customer"]["invite_code"]))
    with session_reads(stack.services.db) as reads:
        answers = [await client(ME) for _ in range(5)]
        answers += await asyncio.gather(*(client(q) for q in [ME, ORDERS] * 5))
    assert all(error_code(a) is None for a in answers), answers
    assert answers[-2]["data"]["me"]["binding"]["company"]["name"]
    assert len(reads) == 1


async def test_a_sessions_first_requests_at_once_share_one_read(http: httpx.AsyncClient, stack: DemoStack) -> None:
    """A mini program opening sends its first requests together: one session read for all."""
    client = GraphQLClient(http, await stack.login(unique_user("opening"), stack.demo["customer"]["invite_code"]))
    with session_reads(stack.services.db) as reads:
        answers = await asyncio.gather(*(client(q) for q in [ME, ORDERS, ME, ORDERS, ME, ME]))
    assert all(error_code(a) is None for a in answers), answers
    assert answers[0]["data"]["me"]["binding"]["company"]["name"]
    assert len(reads) == 1


async def test_a_request_after_a_revocation_does_not_share_a_read_begun_before_it(
    http: httpx.AsyncClient, stack: DemoStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await stack.login(unique_user("shared-read"))
    sessions, client = stack.services.sessions, GraphQLClient(http, token)
    gate, read_done = asyncio.Event(), asyncio.Event()
    original = sessions._read

    async def read_then_wait(session_id: str) -> Any:
        found = await original(session_id)  # read before the revocation...
        read_done.set()
        await gate.wait()  # ...and still under way after it
        return found

    monkeypatch.setattr(sessions, "_read", read_then_wait)
    before = asyncio.ensure_future(client(ME))
    await asyncio.wait_for(read_done.wait(), 10)
    async with stack.services.db.session() as s:
        row = await s.get(UserSession, sessions.session_id_for(token))
    assert row is not None
    assert await sessions.revoke_all(row.openid) == 1
    after = asyncio.ensure_future(client(ME))
    await asyncio.sleep(0.2)
    gate.set()
    assert error_code(await after) == "UNAUTHENTICATED"  # not the viewer read before the revocation
    assert error_code(await before) is None  # sent before it: may be answered either way


async def test_kept_for_no_time_when_set_to_zero() -> None:
    async with custom_stack(viewer_cache_s=0) as stack, httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        client = GraphQLClient(http, stack.token)
        with session_reads(stack.services.db) as reads:
            for _ in range(3):
                assert error_code(await client(ME)) is None
    assert len(reads) == 3


async def test_logout_and_revoked_sessions_end_a_kept_viewer_at_once(http: httpx.AsyncClient, stack: DemoStack) -> None:
    user = unique_user("out")
    first, second, third = [GraphQLClient(http, await stack.login(user)) for _ in range(3)]
    await kept(stack.services.db, first)
    await kept(stack.services.db, second)
    assert (await first("mutation { logout }"))["data"]["logout"] is True
    assert error_code(await first(ME)) == "UNAUTHENTICATED"
    await kept(stack.services.db, second)  # the user's other session stands
    assert (await third("mutation { logout(allSessions: true) }"))["data"]["logout"] is True
    assert error_code(await second(ME)) == "UNAUTHENTICATED"


async def test_unbind_rebind_and_profiles_show_on_the_next_request(http: httpx.AsyncClient, stack: DemoStack) -> None:
    invite, user = stack.demo["customer"]["invite_code"], unique_user("bind")
    client = GraphQLClient(http, await stack.login(user, invite))
    other = GraphQLClient(http, await stack.login(user))  # the same user on a second device
    await kept(stack.services.db, client)
    assert (await other("mutation { unbindCompany }"))["data"]["unbindCompany"] is True
    assert error_code(await client(ORDERS)) == "NOT_BOUND"
    await kept(stack.services.db, client)
    assert (await other(BIND, {"c": invite}))["data"]["bindCompany"]["bindStatus"] is True
    assert error_code(await client(ORDERS)) is None
    await kept(stack.services.db, client)
    assert (await other(PROFILE, {"n": "新昵称"}))["data"]["updateProfile"]["nickname"] == "新昵称"
    assert (await client(ME))["data"]["me"]["nickname"] == "新昵称"
    await kept(stack.services.db, client)
    await stack.login(user, nickname="登录时的昵称")  # a login with a profile changes it too
    assert (await client(ME))["data"]["me"]["nickname"] == "登录时的昵称"


async def test_administrators_revocations_end_a_kept_viewer_at_once(http: httpx.AsyncClient, stack: DemoStack) -> None:
    admin = GraphQLClient(http, await admin_token(stack))
    victim = GraphQLClient(http, await stack.login(unique_user("victim"), stack.demo["customer"]["invite_code"]))
    openid = (await victim(ME))["data"]["me"]["openid"]
    users = await admin("query U($c: ID!) { companyUsers(companyId: $c) { bindingId openid } }",
                        {"c": str(stack.demo["customer"]["id"])})
    binding_id = next(u["bindingId"] for u in users["data"]["companyUsers"] if u["openid"] == openid)
    await kept(stack.services.db, victim)
    assert (await admin("mutation R($b: ID!) { revokeBinding(bindingId: $b) }", {"b": binding_id}))["data"]["revokeBinding"]
    assert error_code(await victim(ORDERS)) == "NOT_BOUND"
    await kept(stack.services.db, victim)
    assert (await admin("mutation S($o: String!) { revokeUserSessions(openid: $o) }", {"o": openid}))["data"]["revokeUserSessions"] == 1
    assert error_code(await victim(ME)) == "UNAUTHENTICATED"


async def test_a_binding_ended_by_its_customers_standing_is_not_served_again() -> None:
    async with custom_stack(company_recheck_s=1) as stack, httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        client = GraphQLClient(http, stack.token)
        await kept(stack.services.db, client)
        customer = stack.erp_sim.forms[CUSTOMERS][str(stack.demo["customer"]["id"])]
        customer["disable"] = True
        try:
            deadline = time.monotonic() + 5
            while error_code(await client(ORDERS)) != "NOT_BOUND":  # ends the binding (bff/auth/binding.py)
                assert time.monotonic() < deadline, "the disabled customer's binding never ended"
                await asyncio.sleep(0.1)
            with session_reads(stack.services.db) as reads:
                me = await client(ME)
        finally:
            customer["disable"] = False
    assert me["data"]["me"]["binding"] is None
    assert len(reads) == 1  # the viewer kept with its binding was dropped when the binding ended


async def test_a_kept_viewer_does_not_put_off_the_sessions_renewal(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user("renew"))
    sessions, client = stack.services.sessions, GraphQLClient(http, token)
    openid = (await client(ME))["data"]["me"]["openid"]
    ttl = timedelta(hours=stack.settings.session_ttl_hours)
    due = datetime.now(UTC) + ttl / 2 + timedelta(seconds=1)  # its renewal is due in a second
    async with stack.services.db.session() as s:
        await s.exec(update(UserSession).where(UserSession.session_id == sessions.session_id_for(token))  # type: ignore[arg-type]
                     .values(expires_at=due))
    await sessions.viewers.changed(openid)  # a row edited by hand: say so
    assert stack.settings.viewer_cache_s > 10
    deadline = time.monotonic() + 10
    while datetime.fromisoformat((await client(ME))["data"]["me"]["session"]["expiresAt"]) < due + timedelta(hours=1):
        assert time.monotonic() < deadline, "a kept viewer put off the renewal"
        await asyncio.sleep(0.1)


async def test_a_renewal_leaves_the_users_other_kept_sessions_kept(http: httpx.AsyncClient, stack: DemoStack) -> None:
    """At 9:00 many sessions renew: a renewal must not drop the kept viewers of anyone else."""
    user, sessions = unique_user("renew-other"), stack.services.sessions
    kept_one = GraphQLClient(http, await stack.login(user))
    renewing = GraphQLClient(http, await stack.login(user))
    ttl = timedelta(hours=stack.settings.session_ttl_hours)
    due = datetime.now(UTC) + ttl / 2 - timedelta(minutes=1)  # its renewal is due now
    async with stack.services.db.session() as s:  # never read since its login: nothing kept to tell
        await s.exec(update(UserSession).where(UserSession.session_id == sessions.session_id_for(renewing.token))  # type: ignore[arg-type]
                     .values(expires_at=due))
    await kept(stack.services.db, kept_one)
    renewed = (await renewing(ME))["data"]["me"]["session"]["expiresAt"]
    assert datetime.fromisoformat(renewed) > due + timedelta(hours=1)
    with session_reads(stack.services.db) as reads:
        assert error_code(await kept_one(ME)) is None
    assert reads == [], "the other session's renewal dropped this kept viewer"


@pytest.mark.parametrize("stack", ["mariadb"], indirect=True)
async def test_a_change_on_one_instance_shows_on_another_at_once(stack: DemoStack) -> None:
    settings = stack.settings.model_copy(update={"notify_enabled": False})
    other = Services.create(settings)  # a second BFF instance on the same MariaDB + Redis
    invite, user = stack.demo["customer"]["invite_code"], unique_user("two")
    try:
        async with app_client(settings, other) as http_b, httpx.AsyncClient(base_url=stack.url, timeout=10) as http_a:
            token = await stack.login(user, invite)
            on_a, on_b = GraphQLClient(http_a, token), GraphQLClient(http_b, token)
            await kept(other.db, on_b)
            assert (await on_a("mutation { unbindCompany }"))["data"]["unbindCompany"] is True
            assert error_code(await on_b(ORDERS)) == "NOT_BOUND"
            await kept(other.db, on_b)
            assert (await on_a(BIND, {"c": invite}))["data"]["bindCompany"]["bindStatus"] is True
            assert error_code(await on_b(ORDERS)) is None
            await kept(other.db, on_b)
            assert (await on_a(PROFILE, {"n": "另一台"}))["data"]["updateProfile"]["nickname"] == "另一台"
            assert (await on_b(ME))["data"]["me"]["nickname"] == "另一台"
            await kept(other.db, on_b)
            assert (await on_a("mutation { logout }"))["data"]["logout"] is True
            assert error_code(await on_b(ME)) == "UNAUTHENTICATED"
    finally:
        await other.aclose()


async def test_while_redis_fails_viewers_come_from_the_database(redis_server: PrivateRedis) -> None:
    async with (
        custom_stack(redis_url=redis_server.url, redis_retry_s=0.2) as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=10) as http,
    ):
        db, client = stack.services.db, GraphQLClient(http, stack.token)
        other = GraphQLClient(http, await stack.login("redis-down-user"))
        await kept(db, client)
        await kept(db, other)
        redis_server.kill()
        with session_reads(db) as reads:
            answers = [await client(ME) for _ in range(3)]
        assert all(error_code(a) is None and a["data"]["me"]["binding"] for a in answers), answers
        assert len(reads) == 3  # nothing kept is trusted while changes may go unseen
        assert (await other("mutation { logout }"))["data"]["logout"] is True
        assert error_code(await other(ME)) == "UNAUTHENTICATED"

        redis_server.start()
        deadline = time.monotonic() + 10
        while (await http.get("/api/health/check")).json()["cache"] != "redis":
            assert time.monotonic() < deadline, "Redis never came back"
            await client(ME)
            await asyncio.sleep(0.1)
        await kept(db, client)


# The cache itself, without a stack.

def _viewer(openid: str = "o-1") -> Viewer:
    company = Company(id="c-1", name="客户")
    binding = Binding("b-1", company, Role.PURCHASER, "invite", datetime.now(UTC))
    return Viewer(openid=openid, session_id="s-" + openid, unionid=None, expires_at=datetime.now(UTC), binding=binding)


def _memory() -> SimpleMemoryCache:
    return SimpleMemoryCache(serializer=JsonSerializer(), namespace="t")


async def test_each_request_gets_its_own_copy() -> None:
    viewers = ViewerCache(_memory(), max_age_s=60)
    viewer = _viewer()
    await viewers.keep("s", viewer, await viewers.epoch(), 60)
    viewer.binding = None  # the request that read it carries on with it
    first = await viewers.get("s")
    assert first is not None and first.binding is not None
    first.binding, first.binding_ended = None, "company_disabled"  # as _load_viewer does
    again = await viewers.get("s")
    assert again is not None and again.binding is not None and again.binding_ended is None


async def test_kept_within_its_age_its_deadline_and_its_size() -> None:
    now = [0.0]
    viewers = ViewerCache(_memory(), max_age_s=5, max_entries=2, clock=lambda: now[0])
    for sid, keep_s in (("a", 60), ("b", 1), ("c", 60)):
        await viewers.keep(sid, _viewer(sid), await viewers.epoch(), keep_s)
    assert await viewers.get("a") is None  # the least recently used of three, with room for two
    assert await viewers.get("b") is not None and await viewers.get("c") is not None
    now[0] = 1.0
    assert await viewers.get("b") is None  # its renewal is due
    assert await viewers.get("c") is not None
    now[0] = 5.0
    assert await viewers.get("c") is None  # BFF_VIEWER_CACHE_S


async def test_a_change_during_the_read_is_not_kept() -> None:
    cache = _memory()
    viewers = ViewerCache(cache, max_age_s=60)
    epoch = await viewers.epoch()
    await viewers.changed("o-1")  # committed after the database read began
    await viewers.keep("s", _viewer("o-1"), epoch, 60)
    assert await viewers.get("s") is None
    await viewers.keep("s", _viewer("o-1"), await viewers.epoch(), 60)
    assert await viewers.get("s") is not None
    await viewers.changed("o-2")  # another user's change leaves this viewer kept
    assert await viewers.get("s") is not None
    assert await cache.get(EPOCH) is not None


async def test_nothing_is_kept_or_served_while_redis_fails() -> None:
    down = create_cache(f"redis://127.0.0.1:{free_port()}/0", retry_s=60)  # nothing listens there
    viewers = ViewerCache(down, max_age_s=60)
    try:
        await viewers.keep("s", _viewer(), await viewers.epoch(), 60)
        assert await viewers.get("s") is None
    finally:
        await down.close()


async def test_a_trusted_header_users_burst_writes_the_user_once_and_sees_a_bind_at_once() -> None:
    """WeChat Cloud Run mode: the viewer is kept like a session's (it was one user upsert and
    one binding read per request), and a bind still shows on the next request."""
    async with custom_stack(wx_trust_headers=True, viewer_cache_s=60) as stack:
        platform = {"X-WX-OPENID": unique_user("cloudrun"), "X-WX-SOURCE": "wx", "X-WX-APPID": stack.settings.wx_appid}
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if "wx_users" in statement or "erp_bindings" in statement:
                statements.append(statement.split()[0].upper())

        async with httpx.AsyncClient(base_url=stack.url, timeout=10, headers=platform) as http:
            client = GraphQLClient(http)
            event.listen(stack.services.db.engine.sync_engine, "before_cursor_execute", record)
            try:
                answers = [await client(ME) for _ in range(10)]
            finally:
                event.remove(stack.services.db.engine.sync_engine, "before_cursor_execute", record)
            assert all(a["data"]["me"]["binding"] is None for a in answers), answers
            assert statements.count("SELECT") <= 2 and statements.count("UPDATE") + statements.count("INSERT") == 1, statements
            bound = await client(BIND, {"c": stack.demo["customer"]["invite_code"]})
            assert error_code(bound) is None, bound
            assert (await client(ME))["data"]["me"]["binding"]["company"]["name"]
