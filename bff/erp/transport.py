"""One upstream HTTP call: the HTTP client (httpx over aiohttp's pool), per-attempt timeout,
failure classification, an ErpCall record for every call, and no ERP cookie left behind in a
shared cookie jar.

The connection pool is guarded twice. A pool may lose a slot when a request is cancelled while
it waits for a connection (httpcore did: encode/httpcore#1093), and an instance whose requests
time out under load then loses its pool for good. So callers queue on our own semaphore
(cancel-safe, bounded by its own wait, never more waiters inside the pool than its size), and the
pooled request itself runs in a shielded task: a cancelled caller leaves it to finish under its
own timeouts, after which its slot comes back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from bff.core import jsoncodec
from bff.erp import protocol
from bff.erp.calls import ErpCall, Outcome, current_erp_stats
from bff.erp.errors import ErpDataInvalid, ErpRefused

# --- The ERP's HTTP client: httpx's API over aiohttp's connection pool (httpx-aiohttp). ---
#
# httpx's own pool (httpcore on anyio) cost about 0.6 M instructions per ERP call more, a fifth
# of an order page's instructions (issue 11, docs/benchmarks.md). The calls, their timeouts and
# the answers stay httpx's: only the sockets are aiohttp's.
#
# httpx-aiohttp maps every aiohttp connection error to ``httpx.ConnectTimeout``; a refused
# connection or a server hanging up mid-answer would then read as the BFF's own slowness, which
# never counts against the ERP (``transport.erp_at_fault``). Failures are mapped again here, by
# the aiohttp error behind them, into the httpx exception that says what happened.

# aiohttp's error -> httpx's; the first that matches wins (subclasses first).
_PRECISE: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (TimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unreachable, no such host
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientError, httpx.NetworkError),
)


def _precise(error: httpx.TransportError) -> httpx.TransportError:
    cause = error.__cause__
    for aiohttp_error, httpx_error in _PRECISE:
        if isinstance(cause, aiohttp_error):
            return httpx_error(str(error) or type(cause).__name__)
    return error


class _PreciseStream(httpx.AsyncByteStream):
    """The answer's body, its read failures mapped as the request's are."""

    def __init__(self, stream: httpx.AsyncByteStream) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except httpx.TransportError as error:
            raise _precise(error) from error.__cause__

    async def aclose(self) -> None:
        await self._stream.aclose()


class ErpHttpTransport(AiohttpTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as error:
            raise _precise(error) from error.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _PreciseStream(response.stream)
        return response


def no_cookie_jar() -> CookieJar:
    """A jar that stores nothing: the session cookies live in the client, sent explicitly."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def make_erp_http(pool_size: int, timeout_s: float) -> httpx.AsyncClient:
    """At most ``pool_size`` connections, kept alive; no cookie jar anywhere (the session
    cookies are sent explicitly, never stored); redirects and decompression left to httpx."""

    def session() -> aiohttp.ClientSession:  # made on first use, inside the event loop
        return aiohttp.ClientSession(
            # Idle connections closed after 5 s, as httpx does: an ERP closing them first is not met mid-reuse.
            connector=aiohttp.TCPConnector(limit=pool_size, limit_per_host=pool_size, keepalive_timeout=5.0),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    return httpx.AsyncClient(
        transport=ErpHttpTransport(client=session),
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0)),
        cookies=no_cookie_jar(),
        follow_redirects=False,
    )


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


class PoolBusy(protocol.Transient):
    """No pooled ERP connection came free in time: the BFF's own congestion, not the ERP's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, timeout=True, erp_fault=False)


def erp_at_fault(error: BaseException) -> bool:
    """Does this failure say the ERP is unhealthy? Time the BFF spent queueing (a pool wait,
    an attempt cut short by the request's budget, a stalled event loop) says nothing about it."""
    return isinstance(error, protocol.Transient) and error.erp_fault


@dataclass(frozen=True)
class PoolStats:
    size: int
    in_use: int
    waiting: int


class ConnectionSlots:
    """At most ``size`` ERP requests in flight; the others wait here, never inside httpcore."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._free = asyncio.Semaphore(size)
        self.in_use = 0
        self.waiting = 0

    async def acquire(self, wait_s: float) -> None:
        self.waiting += 1
        try:
            async with asyncio.timeout(max(0.0, wait_s)):
                await self._free.acquire()
        except TimeoutError:
            raise PoolBusy("no pooled connection free") from None
        finally:
            self.waiting -= 1
        self.in_use += 1

    def release(self) -> None:
        self.in_use -= 1
        self._free.release()

    def stats(self) -> PoolStats:
        return PoolStats(self.size, self.in_use, self.waiting)


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


async def answers_directly(url: str, timeout_s: float) -> bool:
    """Does a GET of ``url`` on a fresh connection, outside every pool, get any HTTP answer?"""
    async with httpx.AsyncClient(timeout=timeout_s, cookies=no_cookie_jar()) as fresh:
        try:
            await fresh.get(url)
        except httpx.HTTPError:
            return False
    return True


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
    def __init__(
        self, http: httpx.AsyncClient, timeout_s: float, *, pool_size: int = 100, pool_wait_s: float = 1.0
    ) -> None:
        self._http = http
        self._timeout_s = timeout_s
        # A timeout is the ERP's fault only when it had this long to answer (not a sliver of a budget).
        self._fair_s = timeout_s / 2
        self._pool_wait_s = pool_wait_s
        self.slots = ConnectionSlots(pool_size)
        self._listeners: list[Listener] = []
        self.last_answer = float("-inf")  # monotonic time of the pool's last HTTP answer (health reads it)
        self._closing: set[asyncio.Task[None]] = set()  # abandoned streamed answers being closed

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
        content = None
        if json is not None:  # encoded here: httpx's own encoder costs several times orjson's
            content = jsoncodec.dumps(json)
            headers = {**(headers or {}), "Content-Type": "application/json"}
        try:
            await self.slots.acquire(min(self._pool_wait_s, deadline.remaining()))
            on_wire = time.monotonic()
            try:
                with self._failures(on_wire):
                    response = await self._shielded(self._http.request(
                        method, url, headers=headers, content=content, timeout=deadline.http_timeout(self._timeout_s)
                    ))
            finally:
                latency_ms = (time.monotonic() - t0) * 1000
            self.last_answer = time.monotonic()
            _forget_cookies(self._http.cookies, response)
            return interpret(response)
        except BaseException as error:
            outcome = _outcome(error)
            raise
        finally:
            if latency_ms is None:
                latency_ms = (time.monotonic() - t0) * 1000
            self._emit(ErpCall(endpoint, form_id, started_at, latency_ms, outcome, attempt))

    async def open(
        self,
        url: str,
        interpret: Callable[[httpx.Response], Awaitable[T]],
        *,
        endpoint: str,
        attempt: int,
        deadline: Deadline,
        headers: dict[str, str] | None = None,
    ) -> tuple[T, Callable[[], Awaitable[None]]]:
        """A GET whose body is streamed: ``interpret`` gets the answer once its head is in (it
        may read some of the body), within the deadline. Returns what it made and the closer the
        caller must await when done with the body: it closes the answer (an unread rest closes
        the connection rather than going back to the pool) and gives back the pool slot.

        Each read of the body waits at most the ERP timeout, not the deadline: the deadline bounds
        getting the answer, a file may take longer to arrive. A caller that leaves while the head
        is awaited leaves the request to finish under its own timeouts (as :meth:`call`); its
        answer is then closed unread."""
        started_at = datetime.now(UTC)
        t0 = time.monotonic()
        outcome: Outcome = "ok"
        response: httpx.Response | None = None
        try:
            await self.slots.acquire(min(self._pool_wait_s, deadline.remaining()))
            on_wire = time.monotonic()
            timeout = httpx.Timeout(self._timeout_s, connect=max(0.001, min(self._timeout_s, 1.0, deadline.remaining())))
            request = self._http.build_request("GET", url, headers=headers, timeout=timeout)
            sent = asyncio.ensure_future(self._http.send(request, stream=True))
            with self._failures(on_wire):
                try:
                    async with asyncio.timeout(max(0.001, deadline.remaining())):
                        response = await asyncio.shield(sent)
                except BaseException:
                    self._abandon(sent)
                    raise
            self.last_answer = time.monotonic()
            _forget_cookies(self._http.cookies, response)
            with self._failures(on_wire):  # reading the head of the body
                made = await interpret(response)
        except BaseException as error:
            outcome = _outcome(error)
            if response is not None:
                await self._close(response)
            raise
        finally:
            self._emit(ErpCall(endpoint, None, started_at, (time.monotonic() - t0) * 1000, outcome, attempt))
        assert response is not None  # interpreted above
        taken = response
        return made, lambda: self._close(taken)

    @contextmanager
    def _failures(self, on_wire: float) -> Iterator[None]:
        """httpx's failures (and a deadline's TimeoutError) as the ERP client's. A timeout is the
        ERP's fault only when the request had ``_fair_s`` on the wire: not a sliver of a request's
        budget, not a wait for a pooled connection."""
        try:
            yield
        except (httpx.TimeoutException, TimeoutError) as error:
            erp_fault = not isinstance(error, httpx.PoolTimeout) and time.monotonic() - on_wire >= self._fair_s
            raise protocol.Transient("timeout", timeout=True, erp_fault=erp_fault) from error
        except httpx.DecodingError as error:
            raise ErpDataInvalid("undecodable body") from error
        except httpx.RequestError as error:
            raise protocol.Transient(type(error).__name__) from error

    def _abandon(self, sent: asyncio.Future[httpx.Response]) -> None:
        """A request whose answer its caller did not take (gone, timed out, failed): once it ends,
        its answer (if any) is closed unread and its slot comes back."""

        def settle(done: asyncio.Future[httpx.Response]) -> None:
            if done.cancelled() or done.exception() is not None:
                self.slots.release()
            else:
                closing = asyncio.get_running_loop().create_task(self._close(done.result()))
                self._closing.add(closing)  # held until done (the loop keeps only weak references)
                closing.add_done_callback(self._closing.discard)

        sent.add_done_callback(settle)

    async def _close(self, response: httpx.Response) -> None:
        """Close a streamed answer and give back its slot, once, whatever happens meanwhile."""
        if getattr(response, "_bff_closed", False):
            return
        setattr(response, "_bff_closed", True)  # noqa: B010
        try:
            await asyncio.shield(response.aclose())
        except Exception:
            logger.debug("closing a streamed ERP answer failed", exc_info=True)
        finally:
            self.slots.release()

    async def _shielded(self, request: Awaitable[httpx.Response]) -> httpx.Response:
        """Run the pooled request to its end whatever happens to the caller (see the module doc);
        the slot taken by ``call`` is given back when the request ends, not when the caller leaves."""
        try:
            task = asyncio.ensure_future(request)
        except BaseException:
            self.slots.release()
            raise
        task.add_done_callback(self._settled)
        return await asyncio.shield(task)

    def _settled(self, task: asyncio.Future[httpx.Response]) -> None:
        self.slots.release()
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned request's failure is not "never retrieved"

    async def reaches(self, url: str, timeout_s: float) -> bool:
        """Does a GET of ``url`` through this pool get any HTTP answer within ``timeout_s``?"""
        deadline_at = time.monotonic() + timeout_s
        try:
            await self.slots.acquire(timeout_s)
            await self._shielded(self._http.get(url, timeout=max(0.001, deadline_at - time.monotonic())))
        except (PoolBusy, httpx.HTTPError):
            return False
        return True

    def _emit(self, call: ErpCall) -> None:
        stats = current_erp_stats()
        if stats is not None:
            stats.add(call)
        for listener in self._listeners:
            try:
                listener(call)
            except Exception:  # a broken listener must not break the read
                logger.exception("erp call listener failed")
