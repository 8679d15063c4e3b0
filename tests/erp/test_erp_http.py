"""The ERP's HTTP client (bff/erp/transport.py) against real loopback sockets: each way a call can
fail reads as what happened (never as the BFF's own slowness), and no cookie is kept."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from bff.erp.errors import Transient
from bff.erp.transport import Deadline, Transport, erp_at_fault, make_erp_http
from tests.support import read_request_head

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def serving(handler: Handler) -> AsyncIterator[str]:
    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    finally:
        server.close()


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request_head(reader)  # then close: no answer at all


async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request_head(reader)
    await asyncio.sleep(10)


async def stall_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"success\"")
    await writer.drain()
    await asyncio.sleep(10)


async def cut_mid_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await read_request_head(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"success\"")
    await writer.drain()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    client = make_erp_http(pool_size=4, timeout_s=0.3)
    yield client
    await client.aclose()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"  # nobody listens once it is closed


async def test_a_refused_connection_is_a_connect_error(http: httpx.AsyncClient) -> None:
    with pytest.raises(httpx.ConnectError):
        await http.get(closed_port())


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (hang_up, httpx.RemoteProtocolError),  # not a timeout: the ERP hung up
        (never_answer, httpx.ReadTimeout),
        (stall_mid_body, httpx.ReadTimeout),
        (cut_mid_body, httpx.ReadError),
    ],
)
async def test_each_failure_reads_as_what_happened(
    http: httpx.AsyncClient, handler: Handler, expected: type[Exception]
) -> None:
    async with serving(handler) as url:
        with pytest.raises(expected):
            await http.get(url)


async def test_a_refused_or_cut_call_counts_against_the_erp_at_once() -> None:
    """Through the Transport: a failure that takes no time is still the ERP's (the breaker counts it)."""
    http = make_erp_http(pool_size=4, timeout_s=2.0)
    transport = Transport(http, 2.0, pool_size=4)
    try:
        with pytest.raises(Transient) as refused:
            await transport.call("GET", closed_port(), lambda r: r, endpoint="t", form_id=None, attempt=1, deadline=Deadline(2.0))
        assert refused.value.timeout is False and erp_at_fault(refused.value)
        async with serving(hang_up) as url:
            with pytest.raises(Transient) as cut:
                await transport.call("GET", url, lambda r: r, endpoint="t", form_id=None, attempt=1, deadline=Deadline(2.0))
            assert cut.value.timeout is False and erp_at_fault(cut.value)
    finally:
        await http.aclose()


async def test_answers_come_whole_and_no_cookie_is_kept(http: httpx.AsyncClient) -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while head := await read_request_head(reader):
            seen.append(head)
            body = b'{"success": true, "data": "' + "熔芯".encode() * 4000 + b'"}'
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nSet-Cookie: JSESSIONID=abc; Path=/\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            await writer.drain()

    async with serving(answer) as url:
        first = await http.get(url)
        second = await http.get(url, headers={"Cookie": "sid=explicit"})
    assert first.json()["data"] == "熔芯" * 4000 and second.status_code == 200
    assert b"abc" not in seen[1] and b"sid=explicit" in seen[1]  # sent as given, nothing stored
    assert len(seen) == 2
