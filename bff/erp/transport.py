"""One upstream HTTP call: per-attempt timeout, failure classification, an ErpCall record
for every call, and no ERP cookie left behind in a shared cookie jar."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypeVar

import httpx

from bff.erp import protocol
from bff.erp.calls import ErpCall, Outcome, current_erp_stats
from bff.errors import ErpDataInvalid, ErpRefused

logger = logging.getLogger("bff.erp")

T = TypeVar("T")
Listener = Callable[[ErpCall], None]


_request_end: ContextVar[float | None] = ContextVar("erp_request_end", default=None)


@contextmanager
def request_budget(seconds: float) -> Iterator[None]:
    """All ERP reads of one inbound request end by then, however many run one after another."""
    token = _request_end.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _request_end.reset(token)


class Deadline:
    """Time left for one read, all attempts and logins included (and within the request's budget)."""

    def __init__(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        budget = _request_end.get()
        self._end = end if budget is None else min(end, budget)

    def remaining(self) -> float:
        return self._end - time.monotonic()

    def http_timeout(self, timeout_s: float) -> httpx.Timeout:
        return httpx.Timeout(max(0.001, min(timeout_s, self.remaining())))


def no_cookie_jar() -> CookieJar:
    """A jar that stores nothing: the session cookies live in the client, sent explicitly."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _outcome(error: BaseException) -> Outcome:
    if isinstance(error, protocol.SessionExpired):
        return "expired"
    if isinstance(error, (ErpRefused, protocol.LoginRefused)):
        return "refused"
    if isinstance(error, ErpDataInvalid):
        return "invalid"
    if isinstance(error, (asyncio.CancelledError, TimeoutError)) or (
        isinstance(error, protocol.Transient) and error.timeout
    ):
        return "timeout"
    return "transient"


def _forget_cookies(jar: httpx.Cookies, response: httpx.Response) -> None:
    # An injected client's jar would otherwise keep (and resend) ERP session cookies.
    names = set(protocol.set_cookies(response))
    if not names:
        return
    host = response.url.host
    for cookie in list(jar.jar):
        if cookie.name in names and host.endswith(cookie.domain.lstrip(".")):
            jar.jar.clear(cookie.domain, cookie.path, cookie.name)


class Transport:
    def __init__(self, http: httpx.AsyncClient, timeout_s: float) -> None:
        self._http = http
        self._timeout_s = timeout_s
        self._listeners: list[Listener] = []

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def call(
        self,
        method: str,
        url: str,
        interpret: Callable[[httpx.Response], T],
        *,
        endpoint: str,
        form_id: int | None,
        attempt: int,
        deadline: Deadline,
        headers: dict[str, str] | None = None,
        json: Any = None,
    ) -> T:
        """Send, then interpret the answer; both count toward the call's outcome."""
        started_at = datetime.now(UTC)
        t0 = time.monotonic()
        latency_ms: float | None = None
        outcome: Outcome = "ok"
        try:
            try:
                response = await self._http.request(
                    method, url, headers=headers, json=json, timeout=deadline.http_timeout(self._timeout_s)
                )
            except httpx.TimeoutException as error:
                raise protocol.Transient("timeout", timeout=True) from error
            except httpx.DecodingError as error:
                raise ErpDataInvalid("undecodable body") from error
            except httpx.RequestError as error:
                raise protocol.Transient(type(error).__name__) from error
            finally:
                latency_ms = (time.monotonic() - t0) * 1000
            _forget_cookies(self._http.cookies, response)
            return interpret(response)
        except BaseException as error:
            outcome = _outcome(error)
            raise
        finally:
            if latency_ms is None:
                latency_ms = (time.monotonic() - t0) * 1000
            self._emit(ErpCall(endpoint, form_id, started_at, latency_ms, outcome, attempt))

    def _emit(self, call: ErpCall) -> None:
        stats = current_erp_stats()
        if stats is not None:
            stats.add(call)
        for listener in self._listeners:
            try:
                listener(call)
            except Exception:  # a broken listener must not break the read
                logger.exception("erp call listener failed")
