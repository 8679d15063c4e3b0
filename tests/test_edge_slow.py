"""Issue 19, slow clients: slow headers and slow bodies beside a purchaser who is served; issue
20, a client that hangs up frees its admission place at once. Raw sockets against the real BFF
(its uvicorn protocol and middleware as `bff serve` runs them)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TypeVar

import httpx
import pytest

from bff.demo import DemoStack
from bff.web.admission import Admission
from tests.edge_support import admission_of
from tests.monitor.helpers import custom_stack
from tests.support import error_code, eventually

HOME = "{ orders(pageSize: 20) { total stale items { id code status } } }"
SLOW_HEADERS = 500
SLOW_BODIES = 50
T = TypeVar("T")


def _split(url: str) -> tuple[str, int]:
    host, port = url.split("//")[1].split(":")
    return host, int(port)


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(*_split(url))


def _graphql_head(token: str, length: int) -> bytes:
    return (
        "POST /graphql HTTP/1.1\r\nHost: bff\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


async def _purchaser(stack: DemoStack, requests: int) -> list[int]:
    """A purchaser's home screens, one after another: their HTTP statuses (and 0 for a clean
    200 that is not live: stale or an error)."""
    statuses = []
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:
        for _ in range(requests):
            answer = await http.post("/graphql", json={"query": HOME}, headers={"Authorization": f"Bearer {stack.token}"})
            clean = answer.status_code == 200 and "errors" not in answer.json() and not answer.json()["data"]["orders"]["stale"]
            statuses.append(answer.status_code if clean or answer.status_code != 200 else 0)
    return statuses


@pytest.mark.early
async def test_slow_headers_and_slow_bodies_leave_a_purchaser_served() -> None:
    """50 slow-body and 500 slow-header connections (one byte at a time) on an instance of 4
    places: each used to hold a place (or a socket) for as long as it liked."""
    async with custom_stack(
        max_inflight=4, max_queued=4, max_inflight_per_ip=4, header_timeout_s=2, body_timeout_s=2,
    ) as stack:
        stack.erp_sim.set_faults(latency_ms=20)
        headers = [await _open(stack.url) for _ in range(SLOW_HEADERS)]
        for _, writer in headers:
            writer.write(b"POST /graphql HTTP/1.1\r\nHost: bff\r\nX-Slow: ")  # and never the end of the headers
        bodies = [await _open(stack.url) for _ in range(SLOW_BODIES)]
        for _, writer in bodies:
            writer.write(_graphql_head(stack.token, 1000) + b'{"query": "')

        async def trickle(writer: asyncio.StreamWriter) -> None:
            """The attack: one byte every 0.2 s, until the server hangs up."""
            while not writer.is_closing():
                await asyncio.sleep(0.2)
                try:
                    writer.write(b"a")  # a header value's or a JSON body's next byte
                    await writer.drain()
                except ConnectionError:
                    return

        tricklers = [asyncio.create_task(trickle(w)) for _, w in headers + bodies]
        listeners = [asyncio.create_task(_answer(reader)) for reader, _ in headers + bodies]
        served = await _purchaser(stack, 30)
        # Every slow connection is answered and closed by the server (the read ends at its close).
        answers = await asyncio.wait_for(asyncio.gather(*listeners), 60)
        for task in tricklers:
            task.cancel()
        for _, writer in headers + bodies:
            writer.close()
        rejected = admission_of(stack).rejected
    assert served == [200] * 30, served  # no OVERLOADED, no stale answer
    assert rejected == 0  # no slow client ever took a place
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers[:SLOW_HEADERS]), {a[:30] for a in answers[:SLOW_HEADERS]}
    slow_bodies = [json.loads(a.split(b"\r\n\r\n", 1)[1]) for a in answers[SLOW_HEADERS:]]
    assert all(a.startswith(b"HTTP/1.1 408") for a in answers[SLOW_HEADERS:])
    assert {error_code(b) for b in slow_bodies} == {"REQUEST_TIMEOUT"}  # /graphql: the GraphQL shape
    assert "网络" in slow_bodies[0]["errors"][0]["message"]


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """What the server sends until it closes the connection (read as it comes: a reset caused by
    our next byte after its close then loses nothing)."""
    received = b""
    try:
        while chunk := await reader.read(65536):
            received += chunk
    except ConnectionError:
        pass
    return received


async def _send_headers(url: str, filler_lines: int) -> bytes:
    """A GET with ``filler_lines`` headers of 1 KB; what the server answers before it closes
    (nothing when it reset the connection while the rest was still coming)."""
    reader, writer = await _open(url)
    try:
        writer.write(b"GET /api/openapi.json HTTP/1.1\r\nHost: bff\r\n")
        for i in range(filler_lines):
            writer.write(f"X-Filler-{i}: {'a' * 1000}\r\n".encode())
        writer.write(b"\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 30)
    except ConnectionError:
        return b""  # reset: refused while we were still sending
    finally:
        writer.close()


async def test_oversized_headers_are_refused() -> None:
    async with custom_stack(max_header_bytes=16384) as stack:
        over = await _send_headers(stack.url, 20)  # 20 KB: in the socket buffers at once
        huge = await _send_headers(stack.url, 1024)  # 1 MB, as the issue sent
        under = await _send_headers(stack.url, 12)
    assert over.startswith(b"HTTP/1.1 431"), over[:100]
    assert huge == b"" or huge.startswith(b"HTTP/1.1 431"), huge[:100]
    assert under.startswith(b"HTTP/1.1 200")  # an ordinary request with large-ish headers still passes


async def test_a_client_that_hangs_up_frees_its_place_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """One place; a purchaser's request waits on an ERP that does not answer (its budget is a
    minute here); the purchaser hangs up. The place is free again before the ERP answers, the
    request's work is cancelled, and another purchaser is served."""
    async with custom_stack(
        max_inflight=1, max_queued=0, erp_request_budget_s=60, erp_deadline_s=60, erp_timeout_s=60,
    ) as stack:
        admission = admission_of(stack)
        body = json.dumps({"query": HOME}).encode()
        stack.erp_sim.set_faults(hold=True)
        _, writer = await _open(stack.url)
        writer.write(_graphql_head(stack.token, len(body)) + body)
        await writer.drain()
        held = await eventually(lambda: _value(stack.erp_sim.answers_held), lambda n: n >= 1, 20)
        assert held >= 1 and admission.in_flight == 1
        assert list(admission.held()[1].values()) == [1]  # its viewer resolved: counted against its company
        with caplog.at_level(logging.INFO, logger="bff.edge"):
            writer.close()
            freed = await eventually(lambda: _value((admission.in_flight, admission.held())), lambda n: n[0] == 0, 20)
        stack.erp_sim.set_faults(hold=False)
        served = await _purchaser(stack, 1)
    assert freed == (0, ({}, {}))  # before the ERP answered (it was still holding); nobody's share still counts it
    assert served == [200]
    assert [r.message for r in caplog.records if r.name == "bff.edge"] == ["client hung up before its answer: request cancelled"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_client_gone_while_sending_its_body_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    async with custom_stack() as stack:
        with caplog.at_level(logging.INFO):
            _, writer = await _open(stack.url)
            writer.write(_graphql_head(stack.token, 500) + b'{"query": ')
            await writer.drain()
            writer.close()
            lines = await eventually(
                lambda: _value([r for r in caplog.records if r.name == "bff.edge"]), bool, 20,
            )
            async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
                assert (await http.get("/api/openapi.json")).status_code == 200
    assert [r.getMessage() for r in lines] == ["client went away while sending its body"]
    assert lines[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def _value(value: T) -> T:
    return value



async def test_a_request_cancelled_while_waiting_for_a_place_leaves_nothing_counted() -> None:
    admission = Admission(max_inflight=1, max_queued=1, queue_wait_s=30)
    first = await admission.enter("u:first")
    assert first is not None
    first.seen("company-a")
    waiting = asyncio.ensure_future(admission.enter("u:second"))
    await eventually(lambda: _value(admission.queued), lambda n: n == 1, 5)
    waiting.cancel()
    await asyncio.wait((waiting,))
    admission.leave(first)
    first.seen("company-a")  # told late (after it left): counts nothing
    assert waiting.cancelled()
    assert (admission.in_flight, admission.queued, admission.held()) == (0, 0, ({}, {}))
    again = await admission.enter("u:first")  # the place was given back
    assert again is not None and again.company == "company-a"  # and the actor's company remembered
