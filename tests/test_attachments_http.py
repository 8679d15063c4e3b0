"""Attachments through the real BFF: the evidenced ``"<path>#size=…&name=…"`` read, the download
named for every client (Content-Disposition with filename*) and typed by its bytes, whatever
the ERP's file store declares (it keeps files without an extension)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote

import httpx
import pytest_asyncio

from bff.demo import DemoStack
from bff.sim.erp.data import attachment_parts, file_payload, served_type
from tests.support import GraphQLClient, Sim

SHIPMENTS = """query Files($id: ID!) { order(id: $id) { shipments { id code attachments { name url size } } } }"""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest_asyncio.fixture
async def attachments_in_list(sim: Sim) -> AsyncIterator[None]:
    """List rows carry attachments: the BFF reads them there until its read path takes the detail."""
    await sim.dialect(attachments_in_list="yes")
    try:
        yield
    finally:
        await sim.reset_dialect()


def held(stack: DemoStack, want: Any) -> tuple[dict[str, Any], int, str, str, int]:
    """The demo customer's newest attachment that ``want(name, real type, declared type)``:
    (delivery, index, name, real type, size), from the simulator's own records. Newest: an
    order's page shows its recent deliveries."""
    data = stack.erp_sim.data
    customer = stack.erp_sim.demo_customer.id
    for delivery in reversed(data.deliveries):
        if delivery["customerOrSupplierId"] != customer:
            continue
        for index, entry in enumerate(delivery["attachments"]):
            path, name, size = attachment_parts(entry)
            real = file_payload(path, data.files[path])[1]
            if want(name, real, served_type(path, real)):
                return delivery, index, name, real, size
    raise AssertionError("the seeded data has no such attachment")


async def attachment_of(gql: GraphQLClient, delivery: dict[str, Any], index: int) -> dict[str, Any]:
    order_id = delivery["salesOrderIds"].split(",")[0]
    payload = await gql(SHIPMENTS, {"id": order_id})
    assert "errors" not in payload, payload
    shipment = next(s for s in payload["data"]["order"]["shipments"] if s["id"] == delivery["id"])
    attachment: dict[str, Any] = shipment["attachments"][index]
    return attachment


def disposition(header: str) -> tuple[str, str]:
    """(filename, decoded filename*) of an ``attachment`` Content-Disposition."""
    found = re.fullmatch(r"""attachment; filename="([ -~]*)"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)""", header)
    assert found, header
    return found.group(1), unquote(found.group(2), errors="strict")


async def test_download_is_named_and_typed_by_its_bytes(
    http: httpx.AsyncClient, stack: DemoStack, gql: GraphQLClient, attachments_in_list: None,
) -> None:
    delivery, index, name, _, size = held(
        stack, lambda name, real, declared: "&" in name and real == "application/pdf" and declared == "application/octet-stream")
    path = attachment_parts(delivery["attachments"][index])[0]
    _, declared = await stack.services.erp.fetch_file(path)  # what the ERP itself says
    assert declared.split(";")[0] == "application/octet-stream"

    attachment = await attachment_of(gql, delivery, index)
    assert attachment["name"] == name and attachment["size"] == size  # decoded, "&" and all
    answer = await http.get(attachment["url"], headers={"Authorization": f"Bearer {stack.token}"})
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF-") and len(answer.content) == size
    assert answer.headers["content-type"] == "application/pdf"  # sniffed: the ERP's was generic
    assert answer.headers["x-content-type-options"] == "nosniff"
    fallback, full = disposition(answer.headers["content-disposition"])
    assert full == name and fallback.isascii() and fallback.endswith(".pdf") and '"' not in fallback


async def test_office_file_declared_generic_is_sent_as_its_type(
    http: httpx.AsyncClient, stack: DemoStack, gql: GraphQLClient, attachments_in_list: None,
) -> None:
    delivery, index, name, _, _ = held(stack, lambda name, real, declared: real == XLSX and declared == "application/octet-stream")
    attachment = await attachment_of(gql, delivery, index)
    answer = await http.get(attachment["url"], headers={"Authorization": f"Bearer {stack.token}"})
    assert answer.status_code == 200 and answer.content.startswith(b"PK\x03\x04")
    assert answer.headers["content-type"] == XLSX
    assert disposition(answer.headers["content-disposition"])[1] == name


async def test_unnamed_attachment_is_named_by_its_bytes(
    http: httpx.AsyncClient, stack: DemoStack, gql: GraphQLClient, attachments_in_list: None,
) -> None:
    """``"<path>#size=<bytes>"``: 附件<n> in GraphQL, and the download adds the type its bytes show."""
    delivery, index, _, real, size = held(stack, lambda name, real, declared: not name)
    attachment = await attachment_of(gql, delivery, index)
    assert attachment["name"] == f"附件{index + 1}" and attachment["size"] == size
    answer = await http.get(attachment["url"], headers={"Authorization": f"Bearer {stack.token}"})
    assert answer.status_code == 200 and answer.headers["content-type"] == real == "application/pdf"
    fallback, full = disposition(answer.headers["content-disposition"])
    assert full == f"附件{index + 1}.pdf" and fallback.endswith(".pdf")
    assert (await http.get(attachment["url"])).status_code == 401
