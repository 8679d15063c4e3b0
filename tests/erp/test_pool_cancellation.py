"""The ERP connection pool survives cancelled requests (httpcore lost slots so: encode/httpcore#1093).

A loopback HTTP server that closes every connection makes each request open a new pooled
connection: the window in which a pool, unguarded, loses a slot to a cancelled waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from bff.erp.client import ErpClientConfig, make_http
from bff.erp.transport import Deadline, PoolBusy, Transport
from tests.support import read_request_head

POOL = 20


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        if b"\r\n\r\n" not in await read_request_head(reader):
            return  # the client went away
        await asyncio.sleep(0.01)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        await writer.drain()
    writer.close()


@pytest_asyncio.fixture
async def server_url() -> AsyncIterator[str]:
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/"
    server.close()


@pytest_asyncio.fixture
async def transport() -> AsyncIterator[Transport]:
    config = ErpClientConfig("", "", "", "", "", "", pool_size=POOL)
    http = make_http(config)  # the very client the ErpClient builds
    yield Transport(http, timeout_s=2.0, pool_size=POOL, pool_wait_s=1.0)
    await http.aclose()


async def _read(transport: Transport, url: str) -> int:
    return await transport.call(
        "GET", url, lambda r: r.status_code, endpoint="test", form_id=None, attempt=1, deadline=Deadline(5.0)
    )


def _orphans(http: httpx.AsyncClient) -> list[str]:
    """Connections the pool still counts as taken once no request is under way: leaked.
    (aiohttp's connector has no public count of them.)"""
    session = http._transport.client  # type: ignore[attr-defined]
    return [repr(c) for c in session.connector._acquired]


async def test_hundreds_of_cancelled_waiters_leave_the_pool_whole(transport: Transport, server_url: str) -> None:
    async def cancelled_soon() -> None:
        with contextlib.suppress(TimeoutError, Exception):
            async with asyncio.timeout(random.uniform(0.0, 0.02)):  # mid-wait, mid-connect, mid-read
                await _read(transport, server_url)

    for _ in range(5):
        await asyncio.gather(*(cancelled_soon() for _ in range(300)))

    async with asyncio.timeout(10):  # abandoned requests finish under their own timeouts
        while transport.slots.in_use:
            await asyncio.sleep(0.01)
    assert transport.slots.stats().waiting == 0
    assert _orphans(transport._http) == []
    async with asyncio.timeout(5):
        statuses = await asyncio.gather(*(_read(transport, server_url) for _ in range(POOL)))
    assert statuses == [200] * POOL


async def test_hundreds_of_cancelled_streamed_reads_leave_the_pool_whole(transport: Transport, server_url: str) -> None:
    """Downloads (``Transport.open``): cancelled while waiting, while the head is read, or while
    the body is; every answer is closed and every slot comes back."""
    async def head(response: httpx.Response) -> bytes:
        return await response.aread()

    async def opened_then_read() -> None:
        with contextlib.suppress(TimeoutError, Exception):
            async with asyncio.timeout(random.uniform(0.0, 0.02)):
                _, close = await transport.open(server_url, head, endpoint="test", attempt=1, deadline=Deadline(5.0))
                try:
                    await asyncio.sleep(random.uniform(0.0, 0.01))  # the body relayed to a client
                finally:
                    await close()

    for _ in range(3):
        await asyncio.gather(*(opened_then_read() for _ in range(300)))

    async with asyncio.timeout(10):
        while transport.slots.in_use:
            await asyncio.sleep(0.01)
    assert transport.slots.stats().waiting == 0
    assert _orphans(transport._http) == []
    async with asyncio.timeout(5):
        statuses = await asyncio.gather(*(_read(transport, server_url) for _ in range(POOL)))
    assert statuses == [200] * POOL


async def test_waiting_for_a_connection_is_bounded_and_not_the_erps_fault(transport: Transport, server_url: str) -> None:
    for _ in range(POOL):  # every slot held, as by requests stuck upstream
        await transport.slots.acquire(1.0)
    try:
        with pytest.raises(PoolBusy) as caught:
            await transport.call(
                "GET", server_url, lambda r: r.status_code, endpoint="test", form_id=None, attempt=1,
                deadline=Deadline(0.2),
            )
        assert caught.value.erp_fault is False
        assert transport.slots.stats().waiting == 0
        assert not await transport.reaches(server_url, 0.2)
    finally:
        for _ in range(POOL):
            transport.slots.release()
    assert await transport.reaches(server_url, 2.0)
