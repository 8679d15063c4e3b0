"""The ERP's HTTP client: httpx's API over aiohttp's connection pool (httpx-aiohttp).

httpx's own pool (httpcore on anyio) cost about 0.6 M instructions per ERP call more, a fifth
of an order page's instructions (issue 11, docs/benchmarks.md). The calls, their timeouts and
the answers stay httpx's: only the sockets are aiohttp's.

httpx-aiohttp maps every aiohttp connection error to ``httpx.ConnectTimeout``; a refused
connection or a server hanging up mid-answer would then read as the BFF's own slowness, which
never counts against the ERP (``transport.erp_at_fault``). Failures are mapped again here, by
the aiohttp error behind them, into the httpx exception that says what happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

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
