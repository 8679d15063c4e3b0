"""Keyword search (issue 10 point 2): every ERP read it makes is scoped to the caller's customer
in the ERP request itself (orders by customerId, lines only of the customer's orders), one
keyword search per request, and a keyword of at least 2 characters or 1 CJK character."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from bff.demo import DemoStack
from bff.erp import queries
from bff.erp.client import ErpClient
from bff.erp.guesses import GuessState
from tests.support import GraphQLClient, Sim, erp_calls, error_code

# On MariaDB + Redis too: keyword reads are cached per customer; the cache must not widen the scope.
pytestmark = pytest.mark.backend

KEYWORD = "query($k: String) { orders(keyword: $k) { total items { id code } } }"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[queries.ListRead[Any]]]:
    """Every list read the BFF sends to the ERP during the test."""
    seen: list[queries.ListRead[Any]] = []
    fetch = ErpClient.fetch

    async def spy(self: ErpClient, read: queries.ListRead[Any]) -> Any:
        seen.append(read)
        return await fetch(self, read)

    monkeypatch.setattr(ErpClient, "fetch", spy)
    yield seen


async def test_every_keyword_read_is_scoped_to_the_callers_customer(
    gql: GraphQLClient, stack: DemoStack, reads: list[queries.ListRead[Any]]
) -> None:
    mine = (await gql("{ orders(pageSize: 5) { items { id code } } }"))["data"]["orders"]["items"]
    customer = stack.demo["customer"]["id"]
    my_ids = {str(o["id"]) for o in stack.erp_sim.data.orders if str(o["customerId"]) == customer}
    reads.clear()
    found = await gql(KEYWORD, {"k": mine[0]["code"]})
    assert mine[0]["code"] in {o["code"] for o in found["data"]["orders"]["items"]}
    assert {str(o["id"]) for o in found["data"]["orders"]["items"]} <= my_ids
    assert reads, "the search read the ERP"
    for read in reads:
        if read.form_id == queries.SALES_ORDERS:
            assert read.filters["customerId"] == customer, read
        elif read.form_id == queries.ORDER_LINES and "salesOrderId" in read.filters:  # the guessed list
            assert set(read.filters["salesOrderId"]) <= my_ids, read  # lines of the customer's orders only
        elif read.form_id == queries.ORDER_LINES:
            # The evidenced line search has no customer to filter by (100185 has no customer field):
            # it asks only the ids that tie a line to its order, and only the customer's orders count.
            assert read.filters == {"systemFulltext": mine[0]["code"]}, read
            assert set(read.columns) == {"id", "salesOrderId"}, read
        else:
            assert read.filters.get("customerOrSupplierId") == customer, read


async def test_one_keyword_search_per_request_and_a_minimum_keyword(
    gql: GraphQLClient, stack: DemoStack, sim: Sim
) -> None:
    two = 'query { a: orders(keyword: "轴承") { total } b: orders(keyword: "螺栓") { total } }'
    payload = await gql(two)  # within the cost budget: refused by the one-search rule
    assert error_code(payload) == "BAD_USER_INPUT" and "一次关键词搜索" in payload["errors"][0]["message"], payload

    calls, short = await erp_calls(stack, sim, lambda: gql(KEYWORD, {"k": "x"}))
    assert error_code(short) == "BAD_USER_INPUT" and calls == 0
    cjk = await gql(KEYWORD, {"k": "轴"})  # one CJK character is a meaningful keyword
    assert "errors" not in cjk, cjk


def orders_with_material(stack: DemoStack, customer: str, name: str) -> set[str]:
    """Ids of the customer's orders with a line of this product name (the simulator's own data)."""
    theirs = {str(o["id"]) for o in stack.erp_sim.data.orders if str(o["customerId"]) == customer}
    return {str(line["salesOrderId"]) for line in stack.erp_sim.data.order_lines
            if line.get("productName") == name and str(line["salesOrderId"]) in theirs}


@pytest.mark.parametrize("cut_short", [False, True])
async def test_a_material_both_companies_buy_finds_only_the_callers_orders(
    gql: GraphQLClient, stack: DemoStack, sim: Sim, monkeypatch: pytest.MonkeyPatch, cut_short: bool
) -> None:
    """The evidenced line search reads every customer's matching lines; the page read that follows
    is filtered by the customer, so the other company's orders never show, and the total counts the
    caller's orders only. Cut short (more matching lines than a read holds), the customer's latest
    orders' lines are searched by the guessed salesOrderId list (the simulator keeps to it here)."""
    mine_id, other_id = stack.demo["customer"]["id"], stack.demo["other_customer"]["id"]
    names = {str(line.get("productName")) for line in stack.erp_sim.data.order_lines}
    name = next(n for n in sorted(names)
                if len(orders_with_material(stack, mine_id, n)) >= 2 and orders_with_material(stack, other_id, n))
    if cut_short:  # the evidenced line search answers 2 lines of many
        evidenced = queries.lines_matching
        monkeypatch.setattr(queries, "lines_matching", lambda keyword: dataclasses.replace(evidenced(keyword), page_size=2))
        await sim.dialect(line_order_filter="honoured")
    stack.services.guesses.forget()  # whatever an earlier test on this stack taught it
    try:
        found = await gql("query($k: String) { orders(keyword: $k, pageSize: 50) { total items { id } } }", {"k": name})
        learnt = stack.services.guesses.line_order_filter.state
    finally:
        await sim.reset_dialect()
        stack.services.guesses.forget()
    assert "errors" not in found, found
    assert (learnt is GuessState.HOLDS) == cut_short  # the scoped search ran only when cut short
    ids = {o["id"] for o in found["data"]["orders"]["items"]}
    assert ids >= orders_with_material(stack, mine_id, name)
    assert not ids & orders_with_material(stack, other_id, name)
    mine = {str(o["id"]) for o in stack.erp_sim.data.orders if str(o["customerId"]) == mine_id}
    assert ids <= mine and found["data"]["orders"]["total"] == len(ids)
