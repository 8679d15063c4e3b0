"""The plan's estimate (resolvers/cost.py, from the read model) is never below the ERP calls an
operation makes: every registered document, and every Order, Material and Shipment field alone,
from a cold start (nothing cached, every guess unknown) and warm, in the evidenced dialect and in
the most convenient one. Calls are counted by the simulator itself."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.demo import DemoStack
from bff.web import documents
from tests.support import GraphQLClient, Sim, erp_calls, unique_user

CONVENIENT = {"product_ids": "honoured", "code_filter": "honoured", "line_order_filter": "honoured",
              "attachments_in_list": "yes", "logistics_in_list": "yes"}
PICK = """{ orders(page: 1, pageSize: 20) { items { id code shipments { id } materials { id name progress { shipped } } } } }"""

# Variables of each registered document, from ids of the demo company's data. A new document
# without an entry here fails the test: its estimate must be checked too.
VARIABLES: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
    "Home": lambda ids: {"pageSize": 20},
    "Orders": lambda ids: {"keyword": ids["material_name"], "page": 1, "pageSize": 20},
    "RestOrderSearch": lambda ids: {"keyword": ids["code"], "page": 1, "pageSize": 20},
    "OrderDetail": lambda ids: {"id": ids["order"]},
    "RestOrderStatus": lambda ids: {"code": ids["code"]},
    "RestOrderMaterials": lambda ids: {"id": ids["order"]},
    "MaterialProgress": lambda ids: {"id": ids["material"]},
    "RestMaterialProgress": lambda ids: {"id": ids["material"]},
    "ShipmentLines": lambda ids: {"id": ids["shipment"]},
    "FollowOrder": lambda ids: {"id": ids["order"], "follow": True},
    "BindCompany": lambda ids: {"input": {"inviteCode": ids["invite_code"]}},
    "RestBind": lambda ids: {"input": {"inviteCode": ids["invite_code"]}},
    "Messages": lambda ids: {"page": 1, "pageSize": 20},
    "MarkMessageRead": lambda ids: {"id": "1"},
    "RecordSubscriptions": lambda ids: {"results": []},
    "UpdateNotificationSettings": lambda ids: {"input": {"followAll": False}},
    "UpdateProfile": lambda ids: {"profile": {"nickName": "估算"}},
    "RestPerformance": lambda ids: {"window": "HOUR"},
    "RestSendTemplateMessage": lambda ids: {"openid": "x", "templateId": "t", "data": {}, "wait": False},
    "WxLogin": lambda ids: {"code": "not-a-code"},
    "RestWxLogin": lambda ids: {"code": "not-a-code"},
    "RestLogout": lambda ids: {"all": False},
}
ENDS_SESSION = {"Logout", "RestLogout", "UnbindCompany", "RestUnbind"}  # run as a user of their own
# The list documents again with the 未发货 / 已逾期 filter (alone, with a status, with a keyword).
FILTERED = {"Home", "Orders", "RestOrderSearch"}
SHIPPING: list[dict[str, Any]] = [{"shipping": "NOT_SHIPPED"}, {"shipping": "OVERDUE", "status": "IN_PROGRESS"},
                                  {"shipping": "OVERDUE", "keyword": "螺钉"}]


def registered_documents() -> dict[str, str]:
    texts = json.loads(documents.MANIFEST.read_text(encoding="utf-8")).values()
    return {documents.operation_name(text): text for text in texts}


@pytest_asyncio.fixture(params=[{}, CONVENIENT], ids=["evidence", "convenient"])
async def dialect(stack: DemoStack, sim: Sim, request: pytest.FixtureRequest) -> Any:
    await sim.reset_dialect()
    await sim.dialect(**request.param)
    yield request.param
    await sim.reset_dialect()


async def cold(stack: DemoStack) -> None:
    """Nothing cached, nothing learnt: the first request after a start."""
    stack.services.delivery_lines.list_usable = None
    stack.services.guesses.forget()
    await stack.services.cache.clear()


async def demo_ids(stack: DemoStack, gql: GraphQLClient) -> dict[str, str]:
    answer = await gql(PICK)
    assert "errors" not in answer, answer["errors"]
    items = answer["data"]["orders"]["items"]
    order = max(items, key=lambda o: len(o["shipments"]))
    material = next(m for m in order["materials"] if m["progress"]["shipped"] > 0)
    return {"order": order["id"], "code": order["code"], "material": material["id"], "material_name": material["name"],
            "shipment": order["shipments"][0]["id"], "invite_code": stack.demo["customer"]["invite_code"]}


async def estimate_and_calls(
    stack: DemoStack, sim: Sim, client: GraphQLClient, document: str, variables: dict[str, Any],
) -> tuple[int, int, dict[str, Any]]:
    calls, payload = await erp_calls(stack, sim, lambda: client(document, variables))
    erp = payload.get("extensions", {}).get("erp")
    assert erp is not None, payload  # every operation that ran reports its plan
    return int(erp["estimate"]), calls, payload


async def test_every_registered_document_is_estimated_at_least_at_its_calls(
    stack: DemoStack, http: httpx.AsyncClient, gql: GraphQLClient, sim: Sim, dialect: dict[str, str],
) -> None:
    ids = await demo_ids(stack, gql)
    checked = []
    runs = [(name, text, {}) for name, text in sorted(registered_documents().items())]
    runs += [(name, text, extra) for name, text in sorted(registered_documents().items()) if name in FILTERED
             for extra in SHIPPING]
    for name, text, extra in runs:
        for warm in (False, True):
            if not warm:
                await cold(stack)
            # each its own bound purchaser: a bind, an unbind or a logout changes nothing for the next
            client = GraphQLClient(http, await stack.login(
                unique_user("estimate"), None if name in ("BindCompany", "RestBind") else ids["invite_code"]))
            variables = {**VARIABLES[name](ids), **extra} if "$" in text else {}
            estimate, calls, payload = await estimate_and_calls(stack, sim, client, text, variables)
            assert estimate >= calls, (name, extra, warm, estimate, calls, payload.get("errors"))
            if extra:
                assert "errors" not in payload, (name, extra, payload["errors"])  # the filter ran, within its budget
            checked.append((name + (f" {extra}" if extra else ""), calls))
    assert {name for name, calls in checked if calls} >= {"Home", "OrderDetail", "MaterialProgress", "ShipmentLines", "Orders",
                                                          "Home {'shipping': 'NOT_SHIPPED'}"}


async def fields_of(gql: GraphQLClient, type_name: str) -> list[str]:
    """Each field of the type as a selection of its own (an object field with its first leaf)."""
    answer = await gql("""query($t: String!) { __type(name: $t) { fields { name type { ...T ofType { ...T ofType { ...T
      ofType { ...T } } } } } } } fragment T on __Type { kind name }""", {"t": type_name})
    selections = []
    for field in answer["data"]["__type"]["fields"]:
        named = field["type"]
        while named.get("ofType"):
            named = named["ofType"]
        if named["kind"] == "OBJECT":
            inner = await gql("query($t: String!) { __type(name: $t) { fields { name type { kind ofType { kind } } } } }",
                              {"t": named["name"]})
            leaf = next(f["name"] for f in inner["data"]["__type"]["fields"]
                        if "OBJECT" not in (f["type"]["kind"], (f["type"]["ofType"] or {}).get("kind")))
            selections.append(f"{field['name']} {{ {leaf} }}")
        else:
            selections.append(field["name"])
    return selections


async def test_every_order_material_and_shipment_field_alone_is_estimated_at_least_at_its_calls(
    stack: DemoStack, gql: GraphQLClient, sim: Sim, dialect: dict[str, str],
) -> None:
    ids = await demo_ids(stack, gql)
    paths = {
        "Order": [("query($id: ID!) { order(id: $id) { %s } }", {"id": ids["order"]}),
                  ("query($code: String!) { order(code: $code) { %s } }", {"code": ids["code"]}),
                  ("{ orders(page: 1, pageSize: 20) { items { %s } } }", {})],
        "Material": [("query($id: ID!) { material(id: $id) { %s } }", {"id": ids["material"]}),
                     ("query($id: ID!) { order(id: $id) { materials { %s } } }", {"id": ids["order"]})],
        "Shipment": [("query($id: ID!) { shipment(id: $id) { %s } }", {"id": ids["shipment"]}),
                     ("query($id: ID!) { order(id: $id) { shipments { %s } } }", {"id": ids["order"]}),
                     ("query($id: ID!) { material(id: $id) { shipments { %s } } }", {"id": ids["material"]})],
    }
    made_calls = 0
    for type_name, shapes in paths.items():
        for selection in await fields_of(gql, type_name):
            for shape, variables in shapes:
                await cold(stack)
                estimate, calls, payload = await estimate_and_calls(stack, sim, gql, shape % selection, variables)
                assert "errors" not in payload, (type_name, selection, payload["errors"])
                assert estimate >= calls, (shape % selection, estimate, calls)
                made_calls += calls
    assert made_calls > 0
