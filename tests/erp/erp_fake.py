"""A stateful fake ERP for respx: the three-step login, session checks, business routes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import respx

LOGIN_URL = "https://login.erp.test"
BASE_URL = "http://erp.test"
APP_ID = "82886"
APP_NAME = "SnowInventory-82886"
ACCOUNT = "13900000000"
PASSWORD = "plain-Secret-42"

Handler = Callable[[dict[str, Any]], httpx.Response]


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


def page(rows: list[dict[str, Any]], count: int | None = None) -> httpx.Response:
    return ok({"_count": len(rows) if count is None else count, "_sum": {}, "_dataList": rows})


def order_row(id: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": id, "code": f"SO{id:04d}", "customerId": 36, "status": 2, "date": 1765756800000, **extra}


class FakeErp:
    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.logins = 0
        self.login_bodies: list[dict[str, Any]] = []
        self.open_app_cookies: list[str] = []
        self.business_cookies: list[str] = []
        self.valid: set[str] = set()
        self.refuse_login = False
        self.refusal = httpx.Response(200, json={"success": False, "message": "账号或密码错误"})
        self.login_body: dict[str, Any] = {"json": {"success": True, "data": {"userId": 7}}}
        self.delay_s = 0.0  # lets concurrent callers all be in flight before any answer
        self.expired_response: Callable[[], httpx.Response] = lambda: httpx.Response(
            401, json={"success": False, "errorCode": "SESSION_EXPIRED", "message": "会话已过期"}
        )
        self.handlers: dict[str, Handler] = {"getBusinessPageList": lambda body: page([order_row()])}
        router.post(f"{LOGIN_URL}/apps/service/login").mock(side_effect=self._login)
        router.get(f"{BASE_URL}/apps/user/open-app/{APP_ID}").mock(side_effect=self._open_app)
        router.get(f"{BASE_URL}/apps/app/{APP_ID}/index").mock(side_effect=self._index)
        self.business = {
            name: router.post(f"{BASE_URL}/business/{name}").mock(side_effect=self._business(name))
            for name in ("getBusinessPageList", "getBusiness", "updateBusiness", "getDatasource")
        }

    def _login(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.login_bodies.append(body)
        if self.refuse_login:
            return self.refusal
        self.logins += 1
        n = self.logins
        return httpx.Response(
            200, **self.login_body,  # type: ignore[arg-type]
            headers=[("set-cookie", f"JSESSIONID=plat-{n}; Path=/; HttpOnly"), ("set-cookie", f"sid=sid-{n}; Path=/")],
        )

    def _open_app(self, request: httpx.Request) -> httpx.Response:
        self.open_app_cookies.append(request.headers.get("cookie", ""))
        return httpx.Response(302, headers={"location": f"/apps/app/{APP_ID}/index"})

    def _index(self, request: httpx.Request) -> httpx.Response:
        cookie = request.headers.get("cookie", "")
        sid = cookie.split("sid=")[1].split(";")[0]
        app = f"app-{sid}"
        self.valid.add(app)
        return httpx.Response(200, text="<html/>", headers={"set-cookie": f"JSESSIONID={app}; Path=/"})

    def _business(self, name: str) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
        async def handle(request: httpx.Request) -> httpx.Response:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            cookie = request.headers.get("cookie", "")
            self.business_cookies.append(cookie)
            session = cookie.split("JSESSIONID=")[1].split(";")[0] if "JSESSIONID=" in cookie else ""
            if session not in self.valid:
                return self.expired_response()
            return self.handlers.get(name, lambda body: ok({}))(json.loads(request.content))

        return handle

    def expire(self) -> None:
        self.valid.clear()


