"""The home list's 未发货 / 已逾期 filters (``orders(shipping: ...)``, ``/api/orders/search?shipping=``),
over HTTP against the real BFF and the ERP simulator: each answers exactly the open orders whose
cards say so (the unfiltered list read page by page is the reference), with the right total on
every page, pages that neither repeat nor skip, combined with status and keyword, scoped to the
caller's company; bounded in ERP calls (refused, before the lines, when the open orders are too
many to decide within the budget); the ``order_rates`` guess proven, and its contradiction caught
in the same request."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.demo import DemoStack
from bff.erp.guesses import GuessState
from bff.orders.reads import FILTER_TOO_BROAD
from tests.support import GraphQLClient, Sim, erp_calls, erp_cost, error_code

OPEN = ("NOT_STARTED", "IN_PROGRESS")
CARDS = """query($page: Int!, $size: Int!, $status: OrderStatus, $keyword: String) {
  orders(page: $page, pageSize: $size, status: $status, keyword: $keyword) {
  total items { id code status overdue shippedRate deliveryText } } }"""
FILTERED = """query($page: Int!, $size: Int!, $shipping: ShippingFilter, $status: OrderStatus, $keyword: String) {
  orders(page: $page, pageSize: $size, shipping: $shipping, status: $status, keyword: $keyword) {
  total page pageSize items { id code status overdue shippedRate deliveryText } } }"""
IDS_ONLY = """query($shipping: ShippingFilter) { orders(pageSize: 20, shipping: $shipping) { total items { id } } }"""


def wanted(shipping: str, card: dict[str, Any]) -> bool:
    """The definition, from the card: open, and nothing dispatched (未发货 or 待发货) or overdue."""
    if card["status"] not in OPEN:
        return False
    return card["shippedRate"] <= 0 if shipping == "NOT_SHIPPED" else bool(card["overdue"])


async def every_page(gql: GraphQLClient, query: str, size: int, **variables: Any) -> list[dict[str, Any]]:
    """Every item, page by page; each page's total the same, no page beyond it."""
    items: list[dict[str, Any]] = []
    total = None
    page = 1
    while True:
        answer = await gql(query, {"page": page, "size": size, **variables})
        assert "errors" not in answer, answer["errors"]
        orders = answer["data"]["orders"]
        assert total in (None, orders["total"]), "the total moved between pages"
        total = orders["total"]
        items += orders["items"]
        if not orders["items"] or len(items) >= total:
            break
        page += 1
    assert len(items) == total
    return items


@pytest_asyncio.fixture
async def fresh(stack: DemoStack, sim: Sim) -> Any:
    """The evidence's dialect, nothing learnt (every guess unknown, no cache)."""
    await sim.reset_dialect()
    stack.services.guesses.forget()
    stack.services.delivery_lines.list_usable = None
    await stack.services.cache.clear()
    yield
    await sim.reset_dialect()
    stack.services.guesses.forget()
    await stack.services.cache.clear()


@pytest.mark.parametrize("shipping", ["NOT_SHIPPED", "OVERDUE"])
async def test_each_filter_is_exactly_what_the_cards_say_with_totals_and_pages(
    stack: DemoStack, gql: GraphQLClient, fresh: None, shipping: str,
) -> None:
    cards = await every_page(gql, CARDS, 20)
    expected = [c for c in cards if wanted(shipping, c)]
    assert 0 < len(expected) < len([c for c in cards if c["status"] in OPEN]) or shipping == "OVERDUE"
    for size in (7, 20, 50):
        got = await every_page(gql, FILTERED, size, shipping=shipping)
        assert [o["id"] for o in got] == [c["id"] for c in expected], size  # newest first, as the list
        assert got == expected  # and the cards say the same in the filtered list
    # A page past the end: the total, no item.
    beyond = await gql(FILTERED, {"page": 50, "size": 20, "shipping": shipping})
    assert beyond["data"]["orders"]["total"] == len(expected) and beyond["data"]["orders"]["items"] == []


async def test_filters_combine_with_status_and_keyword(stack: DemoStack, gql: GraphQLClient, fresh: None) -> None:
    cards = await every_page(gql, CARDS, 20)
    for status in ("NOT_STARTED", "IN_PROGRESS", "COMPLETED", "CANCELLED"):
        for shipping in ("NOT_SHIPPED", "OVERDUE"):
            got = await every_page(gql, FILTERED, 20, shipping=shipping, status=status)
            assert [o["id"] for o in got] == [c["id"] for c in cards if c["status"] == status and wanted(shipping, c)]
    # A keyword (a material name common to several orders): the filter over the keyword's matches.
    material = (await gql("{ orders(pageSize: 1, status: NOT_STARTED) { items { materials { name } } } }"))[
        "data"]["orders"]["items"][0]["materials"][0]["name"]
    matched = await every_page(gql, CARDS, 20, keyword=material)
    got = await every_page(gql, FILTERED, 20, shipping="NOT_SHIPPED", keyword=material)
    assert got and [o["id"] for o in got] == [c["id"] for c in matched if wanted("NOT_SHIPPED", c)]


async def test_filters_are_scoped_to_the_callers_company(stack: DemoStack, http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    other = GraphQLClient(http, await stack.login("filters-other", stack.demo["other_customer"]["invite_code"]))
    for shipping in ("NOT_SHIPPED", "OVERDUE"):
        mine = {o["id"] for o in await every_page(gql, FILTERED, 50, shipping=shipping)}
        theirs_all = {o["id"] for o in await every_page(other, CARDS, 20)}
        theirs = await every_page(other, FILTERED, 50, shipping=shipping)
        assert mine and theirs
        assert {o["id"] for o in theirs} <= theirs_all  # only their own orders...
        assert not mine & theirs_all  # ...and none of them in ours
    unbound = GraphQLClient(http, await stack.login("filters-unbound"))
    assert error_code(await unbound(IDS_ONLY, {"shipping": "OVERDUE"})) == "NOT_BOUND"


async def test_cost_bounded_and_the_rates_guess_proven_by_the_cards(
    stack: DemoStack, gql: GraphQLClient, sim: Sim, fresh: None,
) -> None:
    """Cold, a filtered first page costs its cards' reads and a few more: the open orders ∥ the
    customer's newest deliveries, the carriers' names, the lines of the orders the deliveries and
    the order rows leave undecided. The lines the cards read prove the ``order_rates`` guess."""
    guesses = stack.services.guesses
    assert guesses.order_rates.state is GuessState.UNKNOWN
    page = """query($s: ShippingFilter) { orders(pageSize: 20, shipping: $s) { total items { id deliveryText overdue } } }"""
    calls, data = await erp_cost(stack, sim, gql, page, {"s": "NOT_SHIPPED"})
    assert guesses.order_rates.state is GuessState.HOLDS
    shown = len(data["orders"]["items"])
    assert calls <= 3 + shown + 3, calls  # evidenced lines: one read per card, and ≤ 3 undecided orders
    calls, _ = await erp_cost(stack, sim, gql, page, {"s": "OVERDUE"})
    assert calls <= 3 + 20 + 3, calls
    # Where the ERP keeps to the salesOrderId list: a handful, whatever the open orders: the open
    # orders ∥ the deliveries; the undecided orders' lines; the page's lines (the cards' own read).
    await sim.dialect(line_order_filter="honoured")
    guesses.line_order_filter.forget()  # as after an ERP upgrade: tried again
    await erp_cost(stack, sim, gql, page, {"s": "OVERDUE"})  # learns that the list holds
    for shipping in ("NOT_SHIPPED", "OVERDUE"):
        calls, _ = await erp_cost(stack, sim, gql, page, {"s": shipping})
        assert calls <= 4, (shipping, calls)


async def test_a_contradicted_rate_is_caught_in_the_same_request(
    stack: DemoStack, gql: GraphQLClient, sim: Sim, fresh: None,
) -> None:
    """The rows' shippedRate stops following the lines (dialect ``order_rates=frozen``) while the
    BFF still believes the guess: the lines read contradict it, and the same request answers from
    every open order's lines."""
    await sim.dialect(line_order_filter="honoured")  # the evidenced answer within the budget
    stack.services.guesses.forget()
    expected = {s: [c["id"] for c in await every_page(gql, CARDS, 20) if wanted(s, c)] for s in ("NOT_SHIPPED", "OVERDUE")}
    assert stack.services.guesses.order_rates.state is GuessState.HOLDS
    await sim.dialect(order_rates="frozen")
    await stack.services.cache.clear()
    got = await every_page(gql, FILTERED, 50, shipping="NOT_SHIPPED")
    assert [o["id"] for o in got] == expected["NOT_SHIPPED"]
    assert stack.services.guesses.order_rates.state is GuessState.IGNORED
    got = await every_page(gql, FILTERED, 50, shipping="OVERDUE")
    assert [o["id"] for o in got] == expected["OVERDUE"]


async def test_too_many_open_orders_to_decide_is_refused_before_their_lines(
    stack: DemoStack, gql: GraphQLClient, sim: Sim, fresh: None,
) -> None:
    """No guess holds (rates frozen, lines one order a read): the demo's 40-odd open orders would
    cost a read each, over the filter's budget: refused with a way forward, before any line is read."""
    await sim.dialect(order_rates="frozen")
    await every_page(gql, CARDS, 20)  # the cards see the rates contradicted: the guess is ignored
    assert stack.services.guesses.order_rates.state is GuessState.IGNORED
    calls, answer = await erp_calls(stack, sim, lambda: gql(FILTERED, {"page": 1, "size": 20, "shipping": "NOT_SHIPPED"}))
    assert error_code(answer) == "QUERY_TOO_EXPENSIVE"
    assert answer["errors"][0]["message"] == FILTER_TOO_BROAD
    assert calls <= 3, calls  # the open orders ∥ the deliveries (∥ the carriers' names): no line
    # Narrowed by a status, it fits: answered from the lines, exactly.
    cards = await every_page(gql, CARDS, 20, status="NOT_STARTED")
    got = await every_page(gql, FILTERED, 20, shipping="NOT_SHIPPED", status="NOT_STARTED")
    assert [o["id"] for o in got] == [c["id"] for c in cards if wanted("NOT_SHIPPED", c)]


async def test_rest_search_takes_the_filter(stack: DemoStack, http: httpx.AsyncClient, gql: GraphQLClient) -> None:
    headers = {"Authorization": f"Bearer {stack.token}"}
    graphql = await every_page(gql, FILTERED, 50, shipping="OVERDUE")
    answer = await http.get("/api/orders/search", params={"shipping": "overdue", "pageSize": 50}, headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == len(graphql) and [o["id"] for o in body["orders"]] == [o["id"] for o in graphql]
    bad = await http.get("/api/orders/search", params={"shipping": "LATE"}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BAD_USER_INPUT"
    spec = (await http.get("/api/openapi.json")).json()
    params = {p["name"]: p for p in spec["paths"]["/api/orders/search"]["get"]["parameters"]}
    assert params["shipping"]["schema"]["enum"] == ["NOT_SHIPPED", "OVERDUE"]
