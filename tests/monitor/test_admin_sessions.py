"""/admin logins are sessions on the server (issue 19): the cookie holds a random id, never the
token; logout, expiry, revocation from the list and the administrator losing the role end them.
Through the real BFF over HTTP."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from bff.core.clock import utc_now
from bff.demo import DemoStack
from bff.store.tables import AdminSession
from tests.monitor.helpers import BIND, admin_token, custom_stack
from tests.support import GraphQLClient, unique_user

# On MariaDB + Redis too: admin sessions are rows, and the administrator's session is read through the viewer cache.
pytestmark = pytest.mark.backend

ADMIN_TOKEN = "admin-sessions-token-0123456789abcdefXYZ"


async def _login(http: httpx.AsyncClient, token: str, agent: str = "pytest") -> str:
    """Logs in through the form; returns the cookie's value."""
    answer = await http.post("/admin/login", data={"token": token}, headers={"User-Agent": agent})
    assert answer.status_code == 303, answer.text
    header = answer.headers["set-cookie"]
    name, value = header.split(";")[0].split("=", 1)
    assert name == "bff_admin" and token not in header
    return value


async def _page(http: httpx.AsyncClient, cookie: str) -> httpx.Response:
    return await http.get("/admin", headers={"Cookie": f"bff_admin={cookie}"})


def _opened(answer: httpx.Response) -> bool:
    """The dashboard itself, not the login form."""
    if answer.status_code == 200 and 'id="erp-state"' in answer.text:
        return True
    assert answer.status_code == 401 and 'action="/admin/login"' in answer.text, answer.text[:300]
    return False


async def test_the_cookie_is_no_token_logout_ends_the_session_and_it_expires() -> None:
    """BFF_ADMIN_TOKEN (SQLite stack of its own: the shared stacks have no admin token)."""
    async with custom_stack(admin_token=SecretStr(ADMIN_TOKEN)) as stack, httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        cookie = await _login(http, ADMIN_TOKEN, agent="Mozilla/5.0 <script>x</script>" + "x" * 400)
        assert cookie != ADMIN_TOKEN and ADMIN_TOKEN not in cookie and len(cookie) >= 40
        async with stack.services.db.session() as s:
            rows = (await s.exec(select(AdminSession))).all()
        assert len(rows) == 1
        row = rows[0]
        assert row.id_hash == hashlib.sha256(cookie.encode()).hexdigest()  # only the hash is kept
        stored = " ".join(str(v) for v in row.model_dump().values())
        assert cookie not in stored and ADMIN_TOKEN not in stored
        assert row.kind == "token" and row.principal == "admin token" and row.client_ip == "127.0.0.1"
        assert len(row.user_agent) == 200

        page = await _page(http, cookie)
        assert _opened(page)
        listed = page.text.split('id="admin-sessions-table"')[1].split("</table>")[0]
        assert row.id_hash[:8] in listed and "(当前)" in listed and "管理员令牌" in listed
        assert "<script>x" not in listed and "&lt;script&gt;x" in listed  # escaped
        assert cookie not in page.text and ADMIN_TOKEN not in page.text

        # Bearer header access for API clients is unchanged.
        assert _opened(await http.get("/admin", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))

        # Logout revokes the row: the same cookie, replayed (copied before logout), opens nothing.
        out = await http.post("/admin/logout", headers={"Cookie": f"bff_admin={cookie}"})
        assert out.status_code == 303 and 'bff_admin=""' in out.headers["set-cookie"]
        stolen = await _page(http, cookie)
        assert not _opened(stolen)
        assert "bff_admin" in stolen.headers.get("set-cookie", "")  # the browser is told to drop it
        async with stack.services.db.session() as s:
            assert (await s.get(AdminSession, row.id_hash)).revoked_at is not None  # type: ignore[union-attr]
        forged = await _page(http, row.id_hash)  # the stored hash is no cookie
        assert not _opened(forged)

        # Expiry: BFF_ADMIN_SESSION_HOURS (8) later the session is refused; the next login deletes the row.
        later = await _login(http, ADMIN_TOKEN)
        assert _opened(await _page(http, later))
        sessions = stack.services.admin_sessions
        try:
            sessions.clock = lambda: utc_now() + timedelta(hours=8, seconds=1)
            assert not _opened(await _page(http, later))
            assert await sessions.active() == []
            await _login(http, ADMIN_TOKEN)
            async with stack.services.db.session() as s:
                left = (await s.exec(select(AdminSession))).all()
            assert [r.id_hash for r in left] != [] and hashlib.sha256(later.encode()).hexdigest() not in {
                r.id_hash for r in left}
        finally:
            sessions.clock = utc_now


async def test_sessions_are_listed_and_revoked_from_the_list(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await admin_token(stack)
    openid = (await GraphQLClient(http, token)("{ me { openid } }"))["data"]["me"]["openid"]
    mine = await _login(http, token, agent="desk")
    other = await _login(http, token, agent="laptop")
    page = await _page(http, mine)
    assert _opened(page)
    listed = page.text.split('id="admin-sessions-table"')[1].split("</table>")[0]
    other_hash = hashlib.sha256(other.encode()).hexdigest()
    assert listed.count(openid) >= 2 and other_hash[:8] in listed and "laptop" in listed
    assert mine not in page.text and other not in page.text and token not in page.text

    foreign = await http.post("/admin/revoke", data={"kind": "admin_session", "id": other_hash},
                              headers={"Cookie": f"bff_admin={mine}", "Origin": "https://evil.example"})
    assert foreign.status_code == 403 and _opened(await _page(http, other))
    done = await http.post("/admin/revoke", data={"kind": "admin_session", "id": other_hash},
                           headers={"Cookie": f"bff_admin={mine}", "Origin": str(http.base_url).rstrip("/")})
    assert done.status_code == 303 and done.headers["location"].endswith("#admin-sessions")
    assert not _opened(await _page(http, other))
    assert _opened(await _page(http, mine))
    assert other_hash[:8] not in (await _page(http, mine)).text.split('id="admin-sessions-table"')[1]


async def test_an_administrator_who_loses_the_role_loses_the_admin_session(
    http: httpx.AsyncClient, stack: DemoStack,
) -> None:
    unbound, demoted, logged_out = [await admin_token(stack) for _ in range(3)]
    cookies = {token: await _login(http, token) for token in (unbound, demoted, logged_out)}
    assert all([_opened(await _page(http, cookie)) for cookie in cookies.values()])

    answer = await http.post("/api/auth/erp-unbind", headers={"Authorization": f"Bearer {unbound}"})
    assert answer.json()["unbound"] is True
    rebound = await GraphQLClient(http, demoted)(BIND, {"input": {"inviteCode": stack.demo["customer"]["invite_code"]}})
    assert "MONITORING_READ" not in rebound["data"]["bindCompany"]["permissions"]  # now a purchaser
    assert (await GraphQLClient(http, logged_out)("mutation { logout }"))["data"]["logout"] is True

    for token, cookie in cookies.items():
        assert not _opened(await _page(http, cookie)), token
    # A purchaser's session never opens one.
    purchaser = await stack.login(unique_user("adm-purchaser"), stack.demo["customer"]["invite_code"])
    refused = await http.post("/admin/login", data={"token": purchaser})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
