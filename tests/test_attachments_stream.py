"""Attachments streamed through the real BFF from the ERP simulator's large files (made as they
are sent): byte-identical within BFF_ATTACHMENT_MAX_BYTES, with or without a declared length; a
file declared larger refused before its body is read; one that passes the limit without a
declared length cut off (never a short file that looks complete); a client that hangs up has
the ERP's answer closed and its connection given back.

The memory side (eight parallel 50 MB downloads against `bff serve`) is
tests/test_attachments_memory.py."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.demo import DemoStack
from bff.erp.client import ErpClient
from bff.sim.erp.data import large_file_chunks
from tests.monitor.helpers import custom_stack
from tests.support import GraphQLClient, eventually

LIMIT = 4 * 1024 * 1024
MiB = 1024 * 1024
SHIPMENTS = """query Files($id: ID!) { order(id: $id) { shipments { id attachments { name url size } } } }"""

# name -> (size, Content-Length sent, pause before each 64 KiB chunk in ms, size listed in the delivery)
FILES: dict[str, tuple[int, bool, int, bool]] = {
    "fits-declared": (3 * MiB + 123, True, 0, True),
    "fits-undeclared": (3 * MiB + 321, False, 0, False),
    # Far larger than what loopback buffers hold: "nothing read" shows as most of it never sent.
    "over-declared": (256 * MiB, True, 0, False),
    "over-undeclared": (256 * MiB, False, 0, False),
    "over-listed": (256 * MiB, False, 0, True),  # no Content-Length, but the delivery says how large
    "slow": (3 * MiB, True, 40, True),  # 48 chunks over ~2 s: a client can hang up mid-way
}


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack() -> AsyncIterator[DemoStack]:
    async with custom_stack(attachment_max_bytes=LIMIT) as demo:
        yield demo


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def files(stack: DemoStack) -> dict[str, dict[str, Any]]:
    """The large attachments, added before the BFF first reads their delivery; each with its url."""
    placed = {}
    async with httpx.AsyncClient(base_url=stack.erp.url, timeout=10) as sim:
        for name, (size, length, pace_ms, listed) in FILES.items():
            answer = await sim.post("/__sim/files/large", json={"size": size, "length": length, "pace_ms": pace_ms,
                                                                 "listed": listed, "name": f"{name}.pdf"})
            assert answer.status_code == 200, answer.text
            placed[name] = answer.json()
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        gql = GraphQLClient(http, stack.token)
        order = await gql(SHIPMENTS, {"id": next(iter(placed.values()))["order"]})
    assert "errors" not in order, order
    for placed_file in placed.values():
        shipment = next(s for s in order["data"]["order"]["shipments"] if s["id"] == placed_file["delivery"])
        attachment = shipment["attachments"][placed_file["index"]]
        listed = FILES[placed_file["name"].removesuffix(".pdf")][3]
        assert attachment["name"] == placed_file["name"]
        assert attachment["size"] == (placed_file["size"] if listed else None)
        placed_file["url"] = attachment["url"]
    return placed


@pytest_asyncio.fixture
async def http(stack: DemoStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=30, headers={"Authorization": f"Bearer {stack.token}"}) as client:
        yield client


def erp_client(stack: DemoStack) -> ErpClient:
    client: ErpClient = stack.services.erp.primary  # type: ignore[attr-defined]
    return client


def pooled_connections(client: ErpClient) -> int:
    """Connections aiohttp's pool counts as taken (in use by a request): none once all are done."""
    session = client._http._transport.client  # type: ignore[attr-defined]
    return len(session.connector._acquired)


async def transfer(stack: DemoStack, path: str, ended: bool = True) -> dict[str, Any]:
    """The simulator's record of the (last) download of ``path``, once it has ended."""
    async def read() -> list[dict[str, Any]]:
        return [t for t in stack.erp_sim.transfers if t["path"] == path]

    found = await eventually(read, lambda ts: bool(ts) and (not ended or ts[-1]["outcome"] is not None), 10)
    assert found, f"no download of {path}"
    return found[-1]


async def pool_settles(client: ErpClient) -> None:
    async def read() -> tuple[int, int, int]:
        return client.pool_stats().in_use, pooled_connections(client), client._downloads.in_use

    assert await eventually(read, lambda counts: counts == (0, 0, 0), 10) == (0, 0, 0)


def digest(path: str, size: int) -> str:
    h = hashlib.sha256()
    for chunk in large_file_chunks(path, size):
        h.update(chunk)
    return h.hexdigest()


@pytest.mark.parametrize("name", ["fits-declared", "fits-undeclared"])
async def test_a_file_within_the_limit_streams_byte_identical(
    http: httpx.AsyncClient, stack: DemoStack, files: dict[str, dict[str, Any]], name: str,
) -> None:
    placed = files[name]
    got = hashlib.sha256()
    count = 0
    async with http.stream("GET", placed["url"]) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"  # from the bytes: the ERP said octet-stream
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert "filename*=UTF-8''" in answer.headers["content-disposition"]
        if FILES[name][1]:
            assert answer.headers["content-length"] == str(placed["size"])  # the ERP's, passed on
        else:
            assert "content-length" not in answer.headers and answer.headers["transfer-encoding"] == "chunked"
        async for chunk in answer.aiter_raw():
            got.update(chunk)
            count += len(chunk)
    assert count == placed["size"] and got.hexdigest() == digest(placed["path"], placed["size"])
    assert (await transfer(stack, placed["path"]))["outcome"] == "complete"
    await pool_settles(erp_client(stack))


async def test_a_file_declared_over_the_limit_is_refused_before_its_body_is_read(
    http: httpx.AsyncClient, stack: DemoStack, files: dict[str, dict[str, Any]],
) -> None:
    placed = files["over-declared"]
    answer = await http.get(placed["url"])
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "ATTACHMENT_TOO_LARGE" and error["message"] == "附件过大，请联系销售获取"
    seen = await transfer(stack, placed["path"])
    # The BFF closed the connection on reading the head: the simulator stopped with what the
    # socket buffers took, a small part of the file.
    assert seen["outcome"] == "client gone" and seen["sent"] < placed["size"] // 4, seen
    await pool_settles(erp_client(stack))


async def test_a_file_its_delivery_lists_over_the_limit_is_refused_without_asking_the_erp(
    http: httpx.AsyncClient, stack: DemoStack, files: dict[str, dict[str, Any]],
) -> None:
    """The ERP would send it with no length (so it could only be cut off mid-way, which a phone
    shows as a network failure); its size in the delivery's entry says it at once, in Chinese."""
    placed = files["over-listed"]
    answer = await http.get(placed["url"])
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "ATTACHMENT_TOO_LARGE" and error["message"] == "附件过大，请联系销售获取"
    assert [t for t in stack.erp_sim.transfers if t["path"] == placed["path"]] == []  # never downloaded


async def test_a_file_passing_the_limit_without_a_declared_length_is_cut_off(
    http: httpx.AsyncClient, stack: DemoStack, files: dict[str, dict[str, Any]],
) -> None:
    placed = files["over-undeclared"]
    received = 0
    async with http.stream("GET", placed["url"]) as answer:
        assert answer.status_code == 200 and "content-length" not in answer.headers  # the status was out
        with pytest.raises(httpx.TransportError):  # the connection is cut, no ending chunk: incomplete
            async for chunk in answer.aiter_raw():
                received += len(chunk)
    assert 0 < received <= LIMIT, received
    seen = await transfer(stack, placed["path"])
    assert seen["outcome"] == "client gone" and seen["sent"] < placed["size"] // 4, seen
    await pool_settles(erp_client(stack))


async def test_a_client_that_hangs_up_mid_download_frees_the_erp_connection(
    http: httpx.AsyncClient, stack: DemoStack, files: dict[str, dict[str, Any]],
) -> None:
    placed = files["slow"]
    client = erp_client(stack)
    async with http.stream("GET", placed["url"]) as answer:
        assert answer.status_code == 200
        first = await anext(answer.aiter_raw())
        assert first.startswith(b"%PDF-")
        assert client.pool_stats().in_use == 1  # held while the file flows
    # Closed with most of the file still to come: the BFF must close the ERP's answer too.
    seen = await transfer(stack, placed["path"])
    assert seen["outcome"] == "client gone" and seen["sent"] < placed["size"], seen
    await pool_settles(client)


async def test_an_expired_session_is_renewed_before_the_download(
    http: httpx.AsyncClient, stack: DemoStack, files: dict[str, dict[str, Any]],
) -> None:
    placed = files["fits-declared"]
    logins = erp_client(stack).login_count
    stack.erp_sim.expire_sessions()
    answer = await http.get(placed["url"])
    assert answer.status_code == 200 and len(answer.content) == placed["size"]
    assert erp_client(stack).login_count == logins + 1
