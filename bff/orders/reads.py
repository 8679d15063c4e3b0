"""Every ERP read a purchaser can cause, scoped to their customer.

The ERP does not stop a service account from reading any customer's data, so this class
is the guard: orders are always filtered by the customer *and* checked after the read;
lines may be read at the same time as their order (to save a round trip) but are returned
only for orders proven to be the customer's; deliveries are filtered by the customer and
checked. A foreign id and a missing id cost the same reads. Each read records its answer
for the stale fallback. Call shapes come from :mod:`bff.erp.queries`; this module speaks
the domain.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import unicodedata
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from bff.core import jsoncodec
from bff.core.domain import Material, Order, OrderStatus, Shipment, ShipmentLine, ShippingFilter
from bff.core.errors import BffError, ErrorCode
from bff.erp import queries
from bff.erp.calls import calls_left
from bff.erp.errors import ErpRefused
from bff.erp.guesses import Guess, Guesses, GuessState, left_by_lines, left_by_rate
from bff.erp.mapping import (
    CODES_BY_STATUS,
    material_from_record,
    order_from_record,
    shipment_from_record,
)
from bff.erp.models import DeliveryRecord, ErpPage, OrderLineRecord, SalesOrderRecord
from bff.erp.queries import R
from bff.erp.reader import ErpReader
from bff.orders.details import (
    DETAIL_READS_PER_REQUEST,
    DeliveryDetails,
    carrier_in_detail,
    files_in_detail,
    with_detail,
)
from bff.orders.fallback import LastGoodAnswers
from bff.orders.filters import OPEN, decided, matches
from bff.orders.logistics import LogisticsNames
from bff.orders.progress import fulfilment
from bff.orders.shipment_lines import DeliveryLines

NO_SUCH_ID = "0"  # read in place of a missing record's order, so missing and foreign cost the same
MIN_KEYWORD_CHARS = 2  # or one CJK character: shorter keywords match nearly everything
LOOKS_LIKE_NUMBER = re.compile(r"[A-Za-z0-9-]{6,40}")  # a delivery-note (XSCK…) or tracking number
# ERP calls a 未发货/已逾期 page may spend beside its cards' own reads: the lines of the open orders the
# deliveries and the order rows leave undecided, and the deliveries of open orders older than the
# customer's newest 1000 (one read each). Over it the filter is refused before those reads.
FILTER_CALLS = 30
FILTER_TOO_BROAD = "未结订单较多，无法一次筛选未发货或已逾期的订单：请输入关键词或选择状态缩小范围后再试"


def keyword_too_short(keyword: str) -> bool:
    if len(keyword) >= MIN_KEYWORD_CHARS:
        return False
    return not any(unicodedata.east_asian_width(char) in ("W", "F") for char in keyword)


class CustomerOrders:
    """One request's reads of one customer's orders, lines and deliveries (one instance per request).

    Round trips (docs/erp-protocol.md): a page of orders is one read; its lines and the
    customer's newest deliveries (:func:`queries.recent_deliveries`, which needs nothing from the
    orders) are read beside it or right after it, so a page of cards is two sequential round
    trips whatever the ERP supports. Guessed shapes (bff/erp/guesses.py) are tried only where they
    save calls, their answers checked, with the evidenced shape as the fallback in the same read.
    """

    def __init__(
        self,
        erp: ErpReader,
        last_good: LastGoodAnswers,
        logistics: LogisticsNames,
        customer_id: str,
        delivery_lines: DeliveryLines | None = None,
        guesses: Guesses | None = None,
        details: DeliveryDetails | None = None,
    ) -> None:
        self._erp = erp
        self._last_good = last_good
        self._logistics = logistics
        self._delivery_lines = delivery_lines or DeliveryLines(erp)
        self._guesses = guesses or Guesses()
        self._details = details or DeliveryDetails(erp, None)
        self.customer_id = customer_id
        self._orders: dict[str, Order] = {}  # proven this customer's
        self._deliveries: dict[str, DeliveryRecord] = {}  # proven this customer's
        self._made: dict[str, asyncio.Future[tuple[int, list[Any]]]] = {}  # this request's reads, by shape
        self._detail_reads_left = DETAIL_READS_PER_REQUEST
        self._searched = False
        self._window_rows = queries.DELIVERY_WINDOW
        self._filter_calls_left = FILTER_CALLS
        self.stale_as_of: datetime | None = None

    # --- the one way to read: scoped by the query, recorded for the fallback -----------------

    async def _read(self, read: queries.ListRead[R], *, keep: bool = True) -> tuple[int, list[R]]:
        """One list read, made once per request however many of its reads ask it (the order's own
        read and the ownership check of its lines started beside it, say): the ERP client merges
        identical reads only while both are in flight, and a cache lookup in front of one of them
        (the stale fallback's, on Redis) would let them drift apart. ``keep=False``: not remembered
        for the stale fallback (keyword searches: unbounded keys)."""
        key = f"{self.customer_id}:{read.form_id}:" + jsoncodec.canonical(
            [read.condition, read.filters, read.columns, read.page, read.page_size, read.orderby]
        )
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = asyncio.ensure_future(self._read_through(read, key, keep))
            quietly(made)
        count, rows = await asyncio.shield(made)  # a caller cancelled leaves it to the others
        return count, list(rows)

    async def _read_through(self, read: queries.ListRead[R], key: str, keep: bool) -> tuple[int, list[R]]:
        """The read through the stale fallback (:class:`LastGoodAnswers`): live, else kept."""

        def encode(page: ErpPage[R]) -> dict[str, Any]:
            rows = [r.model_dump(mode="json", by_alias=True, exclude_unset=True) for r in page.rows]
            return {"count": page.count, "rows": rows}

        answer, as_of = await self._last_good.read(key, lambda: self._erp.fetch(read), keep=keep, encode=encode)
        if as_of is None:  # live: the records as the ERP client read them
            return answer.count, list(answer.rows)
        if self.stale_as_of is None or as_of < self.stale_as_of:
            self.stale_as_of = as_of
        return int(answer["count"]), [read.model.model_validate(row) for row in answer["rows"]]

    def _own_orders(self, records: Iterable[SalesOrderRecord]) -> list[Order]:
        mine = [order_from_record(r) for r in records if r.customerId == self.customer_id]  # never trust the filter alone
        self._orders.update((o.id, o) for o in mine)
        return mine

    # --- orders ----------------------------------------------------------------------------

    async def search(
        self, keyword: str | None, status: OrderStatus | None, page: int, page_size: int
    ) -> tuple[int, list[Order]]:
        statuses = CODES_BY_STATUS[status] if status is not None else None
        ids: list[str] | None = None
        if keyword:  # the page read even when nothing matched: another company's order costs what a missing one does
            ids = sorted(await self._ids_matching(keyword)) or [NO_SUCH_ID]
        count, records = await self._read(queries.orders_of_customer(
            self.customer_id, ids=ids, statuses=statuses, page=page - 1, page_size=page_size
        ), keep=not keyword)
        return count, self._own_orders(records)

    async def filtered(
        self, shipping: ShippingFilter, keyword: str | None, status: OrderStatus | None, page: int, page_size: int,
        now: datetime, *, cards: bool = True,
    ) -> tuple[int, list[Order]]:
        """The page of the customer's open orders that are not shipped yet or overdue, as their cards
        say (bff/orders/filters.py), newest first like the unfiltered list, and how many there are.
        Reads: the open orders (scoped, one read) ∥ the customer's newest deliveries; the
        deliveries of open orders older than those (by number); the lines of the orders neither
        the deliveries nor the ``order_rates`` guess decide. The lines read check the guess: those of
        the undecided orders and (``cards``: the page shows cards, which read them anyway) the page's."""
        statuses = sorted(c for s in OPEN if status in (None, s) for c in CODES_BY_STATUS[s])
        if not statuses:
            return 0, []  # a completed or cancelled order is never 未发货 nor 已逾期
        ids: list[str] | None = None
        if keyword:
            ids = sorted(await self._ids_matching(keyword)) or [NO_SUCH_ID]
        (count, records), window = await asyncio.gather(
            self._read(queries.orders_of_customer(
                self.customer_id, ids=ids, statuses=statuses, page_size=queries.MAX_ROWS), keep=not keyword),
            self._recent_deliveries(),
        )
        if count > len(records):
            raise BffError(ErrorCode.QUERY_TOO_EXPENSIVE, FILTER_TOO_BROAD, openOrders=count)
        candidates = [o for o in self._own_orders(records)
                      if shipping is not ShippingFilter.OVERDUE or (o.delivery_date is not None and o.delivery_date < now)]
        self._filter_calls_left = self._filter_allowance(page_size)
        self._spend(len(beyond_window(candidates, window)))
        by_order = carried_by(candidates, await self._shipments(
            await deliveries_of_orders(self._read, self.customer_id, candidates, window)))
        start = (page - 1) * page_size
        guess = self._guesses.order_rates
        if guess.worth_trying:
            guess.tried()
            shown = page_size if cards else 0
            matching, verdict = await self._filter_pass(shipping, candidates, by_order, now, start, shown, True)
            if verdict is not GuessState.IGNORED:
                if verdict is GuessState.HOLDS:
                    guess.observed(verdict)
                return len(matching), matching[start:start + page_size]
            guess.observed(verdict)  # the evidenced answer, in this same request
        matching, _ = await self._filter_pass(shipping, candidates, by_order, now, start, 0, False)
        return len(matching), matching[start:start + page_size]

    async def _filter_pass(
        self, shipping: ShippingFilter, candidates: list[Order], by_order: dict[str, list[Shipment]], now: datetime,
        start: int, shown: int, use_rates: bool,
    ) -> tuple[list[Order], GuessState | None]:
        """The matching orders, and (``use_rates``) what the lines read say of the guess: IGNORED
        when a row's rate or a decision it made is contradicted by the lines. ``shown``: cards of the
        page from ``start`` whose lines are read (their own reads, made once) to check it too."""
        decisions = {o.id: decided(shipping, o, by_order.get(o.id, []),
                                   left_by_rate(o.row_shipped_rate) if use_rates else None, now) for o in candidates}
        undecided = [o.id for o in candidates if decisions[o.id] is None]
        self._spend(self._lines_cost(len(undecided)))
        lines = await self.materials_by_order(undecided) if undecided else {}
        for order in candidates:
            if decisions[order.id] is None:
                decisions[order.id] = matches(shipping, order, fulfilment(lines.get(order.id, []), by_order.get(order.id, [])), now)
        matching = [o for o in candidates if decisions[o.id]]
        if not use_rates:
            return matching, None
        page = [o.id for o in matching[start:start + shown]]
        if any(i not in lines for i in page):  # the page's cards' own read (the same ids: made once)
            lines = {**lines, **await self.materials_by_order(page)}
        compared = [o for o in candidates if o.id in lines]
        wrong = [o for o in compared if not self._rate_agrees(o, lines[o.id]) or decisions[o.id] != matches(
            shipping, o, fulfilment(lines[o.id], by_order.get(o.id, [])), now)]
        return matching, GuessState.IGNORED if wrong else GuessState.HOLDS if compared else None

    @staticmethod
    def _rate_agrees(order: Order, materials: Sequence[Material]) -> bool:
        by_rate = left_by_rate(order.row_shipped_rate)
        by_lines = left_by_lines((m.progress.shipped, m.quantity) for m in materials)
        return by_rate is None or by_lines is None or by_rate is by_lines

    def observe_rates(self, materials: dict[str, list[Material]]) -> None:
        """Every page of cards tells whether the order rows' ``shippedRate`` follows their lines
        (the ``order_rates`` guess): no extra read, the lines are read for the cards anyway."""
        compared = [self._rate_agrees(self._orders[i], m) for i, m in materials.items()
                    if i in self._orders and m and self._orders[i].row_shipped_rate is not None]
        if compared:
            self._guesses.order_rates.observed(GuessState.HOLDS if all(compared) else GuessState.IGNORED)

    def _filter_allowance(self, page_size: int) -> int:
        """:data:`FILTER_CALLS`, less when the request's cap leaves less beside the page's cards."""
        left = calls_left()
        cards = self._lines_cost(page_size) + 2  # the cards' lines, the carriers' names, a spare
        return FILTER_CALLS if left is None else max(0, min(FILTER_CALLS, left - cards))

    def _lines_cost(self, orders: int) -> int:
        """ERP calls :func:`read_lines` makes for this many orders at most (as it stands now)."""
        guess = self._guesses.line_order_filter
        if orders <= 1 or not guess.worth_trying:
            return orders
        return 1 if guess.state is GuessState.HOLDS else orders + 1

    def _spend(self, calls: int) -> None:
        if calls > self._filter_calls_left:
            raise BffError(ErrorCode.QUERY_TOO_EXPENSIVE, FILTER_TOO_BROAD)
        self._filter_calls_left -= calls

    async def _ids_matching(self, keyword: str) -> set[str]:
        """Ids of orders whose text matches (the customer's: scoped in the ERP request itself), or
        which hold a line whose text matches (over the whole form, evidenced: the form has no
        customer field, so these may be anyone's: the page read that follows is filtered by the
        customer and keeps the customer's only). Both reads side by side. Only when the lines'
        answer is cut short (more matches than a read holds: a keyword common across customers)
        are the lines searched among the customer's latest orders, by the ``salesOrderId`` list (a
        guess, while it holds): two round trips more. One search per request."""
        if self._searched:
            raise BffError(ErrorCode.BAD_USER_INPUT, "每次请求只能进行一次关键词搜索")
        if keyword_too_short(keyword):
            raise BffError(ErrorCode.BAD_USER_INPUT, f"搜索关键词至少 {MIN_KEYWORD_CHARS} 个字符（或 1 个汉字）")
        self._searched = True
        columns = queries.ORDER_COLUMNS_FOR_MATCH
        (_, by_text), (count, lines), shipped = await asyncio.gather(
            self._read(queries.orders_of_customer(
                self.customer_id, keyword=keyword, columns=columns, page_size=queries.MAX_ROWS), keep=False),
            self._read(queries.lines_matching(keyword), keep=False),
            self._orders_shipped_as(keyword),
        )
        holding = {line.salesOrderId for line in lines if line.salesOrderId}
        if count > len(lines):
            _, recent = await self._read(
                queries.orders_of_customer(self.customer_id, columns=columns, page_size=queries.SEARCH_SCOPE_ORDERS))
            asked = sorted({r.id for r in recent if r.customerId == self.customer_id})
            scoped = await guessed(
                self._read, self._guesses.line_order_filter,
                queries.lines_of_orders(asked, keyword=keyword, columns=queries.LINE_COLUMNS_FOR_MATCH),
                lambda count, rows: _within(rows, asked, lambda r: r.salesOrderId), keep=False) if asked else None
            holding |= {line.salesOrderId for line in scoped or ()}
        return {r.id for r in by_text if r.customerId == self.customer_id} | holding | shipped

    async def _orders_shipped_as(self, keyword: str) -> set[str]:
        """Orders of the customer's deliveries whose delivery-note or tracking number holds the
        keyword (a keyword that looks like one: letters and digits, 6 or more). The orders are then
        read scoped to the customer, as every keyword match is."""
        if not LOOKS_LIKE_NUMBER.fullmatch(keyword):
            return set()
        _, found = await self._read(queries.deliveries_matching(self.customer_id, keyword), keep=False)
        return {order_id for d in found if d.customerOrSupplierId == self.customer_id for order_id in d.order_ids()}

    async def orders_by_ids(self, ids: Sequence[str]) -> dict[str, Order]:
        wanted = sorted(set(ids)) or [NO_SUCH_ID]
        _, records = await self._read(queries.orders_of_customer(self.customer_id, ids=wanted, page_size=len(wanted)))
        return {o.id: o for o in self._own_orders(records)}

    async def orders_by_codes(self, codes: Sequence[str]) -> dict[str, Order]:
        """Orders by number: the ``code`` list (a guess) when the ERP keeps to it, else one
        evidenced full-text read per number, keeping the row whose code is the number."""
        wanted = sorted(set(codes))
        records = await guessed(
            self._read,             self._guesses.code_filter, queries.orders_of_customer(self.customer_id, codes=wanted, page_size=len(wanted)),
            lambda count, rows: count <= len(wanted) and _within(rows, wanted, lambda r: r.code))
        if records is None:
            found = await asyncio.gather(*(self._read(queries.order_by_code_text(self.customer_id, c)) for c in wanted))
            records = [r for (_, rows) in found for r in rows]
        return {o.code: o for o in self._own_orders(records) if o.code in wanted}

    async def owned(self, order_ids: Iterable[str]) -> set[str]:
        """The subset of ``order_ids`` proven to be this customer's (reading the unproven ones)."""
        ids = set(order_ids)
        unknown = ids - self._orders.keys()
        if unknown:
            await self.orders_by_ids(sorted(unknown))  # identical in-flight reads are merged by the client
        return ids & self._orders.keys()

    # --- materials (order lines) --------------------------------------------------------------

    async def materials_by_order(self, order_ids: Sequence[str]) -> dict[str, list[Material]]:
        """Each order's materials, as reached through it (``via_order``)."""
        ids = sorted(set(order_ids))
        lines, owned = await asyncio.gather(read_lines(self._read, self._guesses, ids), self.owned(ids))
        return {i: [material_from_record(r, via_order=True) for r in lines.get(i, [])] for i in ids if i in owned}

    async def materials_by_ids(self, ids: Sequence[str]) -> dict[str, Material]:
        _, records = await self._read(queries.lines_by_ids(ids))
        materials = [material_from_record(r) for r in records]
        owned = await self.owned([m.order_id for m in materials] or [NO_SUCH_ID])  # the customer check, always made
        return {m.id: m for m in materials if m.order_id in owned}

    # --- shipments (deliveries) ---------------------------------------------------------------

    async def _recent_deliveries(self) -> tuple[int, list[DeliveryRecord]]:
        """The customer's newest deliveries (read once per request, as every read: :meth:`_read`)."""
        return await self._read(queries.recent_deliveries(self.customer_id, self._window_rows))

    def widen_deliveries(self) -> None:
        """A filtered page reads the customer's newest :data:`queries.FILTER_DELIVERY_WINDOW`
        deliveries (one read, more bytes) instead of the newest 100, before the read starts, so that
        older open orders seldom need a read of their own; the page's cards use the same read."""
        self._window_rows = queries.FILTER_DELIVERY_WINDOW

    def start_recent_deliveries(self) -> None:
        """Start the newest-deliveries read now, beside the orders' read: it needs nothing of them."""
        quietly(asyncio.ensure_future(self._recent_deliveries()))

    async def shipments_by_order(self, order_ids: Sequence[str]) -> dict[str, list[Shipment]]:
        """Each order's shipments: from the customer's newest deliveries when the order is newer
        than the oldest of them (its deliveries cannot be older than the order), else from one
        evidenced read of the order's deliveries by its number; matched by the deliveries' own
        links (``orderCodes``, ``salesOrderId(s)``). Calls do not grow with the shipments."""
        ids = sorted(set(order_ids))
        owned, window = await asyncio.gather(self.owned(ids), self._recent_deliveries())
        orders = [self._orders[i] for i in ids if i in owned]
        records = await deliveries_of_orders(self._read, self.customer_id, orders, window)
        by_order: dict[str, list[Shipment]] = defaultdict(list)
        for order_id, shipments in carried_by(orders, await self._shipments(records)).items():
            by_order[order_id] = shipments
        return by_order

    async def shipments_of_materials(self, materials: Sequence[Material]) -> dict[str, list[Shipment]]:
        """Each material's shipments (materials read by :meth:`materials_by_ids`, so proven the
        customer's): its order's shipments whose lines carry it. With the ``product_ids`` guess
        proven, the deliveries carrying the material are asked directly (checked: none outside the
        order's), and no delivery line is read."""
        by_order = await self.shipments_by_order(sorted({m.order_id for m in materials}))
        result: dict[str, list[Shipment]] = {}
        for material in materials:
            of_order = by_order.get(material.order_id, [])
            result[material.id] = await self._carrying(material, of_order) if of_order else []
        return result

    async def _carrying(self, material: Material, of_order: list[Shipment]) -> list[Shipment]:
        known = {s.id for s in of_order}
        customer_total, _ = await self._recent_deliveries()

        def kept_to_asked(count: int, rows: list[DeliveryRecord]) -> bool | None:
            if count > len(rows) or any(r.id not in known for r in rows):
                return False  # deliveries of other orders: the context was ignored
            return True if count < customer_total else None  # all the customer's: cannot tell

        carrying = await guessed(
            self._read,             self._guesses.product_ids, queries.deliveries_carrying(self.customer_id, [material.id]), kept_to_asked,
        ) if len(known) > 1 else None
        if carrying is not None:
            kept = {r.id for r in carrying}
            return [s for s in of_order if s.id in kept]
        lines = await self.shipment_lines([s.id for s in of_order])
        return [s for s in of_order if any(line.carries(material) for line in lines.get(s.id, []))]

    async def shipments_by_ids(self, ids: Iterable[str]) -> dict[str, Shipment]:
        wanted = sorted(set(ids)) or [NO_SUCH_ID]
        _, records = await self._read(queries.deliveries_by_ids(self.customer_id, wanted))
        return {s.id: s for s in await self._shipments(records)}

    async def _shipments(self, records: list[DeliveryRecord]) -> list[Shipment]:
        mine = [r for r in records if r.customerOrSupplierId == self.customer_id]
        self._deliveries.update((r.id, r) for r in mine)
        names = await self._logistics.names()
        companies = await self._logistics.companies_of(mine, names)
        return [dataclasses.replace(
            shipment_from_record(r, company),
            carrier_in_detail=carrier_in_detail(r, company), files_in_detail=files_in_detail(r),
        ) for r, company in zip(mine, companies, strict=True)]

    async def detailed(self, shipment_ids: Sequence[str]) -> dict[str, Shipment]:
        """Shipments (proven this customer's) completed from their ERP detail where the list rows
        lack the carrier or the attachments (evidence: both are in getBusiness detail): at most
        :data:`DETAIL_READS_PER_REQUEST` detail reads a request, the rest shown as listed."""
        asked = list(dict.fromkeys(shipment_ids))  # as the page shows them: the cap keeps the first
        records = [self._deliveries[i] for i in asked if i in self._deliveries]
        wanted = [r.id for r in records if files_in_detail(r) or carrier_in_detail(r, None)]
        budget = calls_left()  # a nicety never costs the request its answer: within its ERP calls
        wanted = wanted[: max(0, min(self._detail_reads_left, budget if budget is not None else len(wanted)))]
        self._detail_reads_left -= len(wanted)
        details = await self._details.of(wanted) if wanted else {}
        for delivery_id, detail in details.items():
            if detail.logisticsCompanyId:
                await self._logistics.keep(delivery_id, detail.logisticsCompanyId)
        completed = [with_detail(r, details.get(r.id)) for r in records]
        self._deliveries.update((r.id, r) for r in completed)
        return {s.id: s for s in await self._shipments(completed)}

    async def shipment_lines(self, shipment_ids: Sequence[str]) -> dict[str, list[ShipmentLine]]:
        """Lines of the deliveries proven this customer's: those not yet proven are read beside
        their proof (one round trip) and returned only once proven."""
        ids = sorted(set(shipment_ids))
        unproven = [i for i in ids if i not in self._deliveries]
        if not ids:
            return {}
        if unproven:
            lines, _ = await asyncio.gather(self._delivery_lines.of(ids), self.shipments_by_ids(unproven))
        else:
            lines = await self._delivery_lines.of(ids)
        return {i: found for i, found in lines.items() if i in self._deliveries}

    async def delivery_record(self, shipment_id: str) -> DeliveryRecord | None:
        """The delivery as its detail has it (attachments' paths), if it is this customer's."""
        if shipment_id not in self._deliveries:
            await self.shipments_by_ids([shipment_id])
        if shipment_id not in self._deliveries:
            return None
        await self.detailed([shipment_id])
        return self._deliveries.get(shipment_id)


class Read(Protocol):
    """One list read and its answer: ``(count, rows)``; ``keep=False``: not kept for the fallback."""

    async def __call__(self, read: queries.ListRead[R], *, keep: bool = True) -> tuple[int, list[R]]: ...


async def guessed(
    read: Read, guess: Guess, shape: queries.ListRead[R], kept_to_asked: Callable[[int, list[R]], bool | None], *,
    keep: bool = True,
) -> list[R] | None:
    """The rows of a guessed read when its answer keeps to what was asked; None (use the
    evidenced shape) when the guess is not worth trying, or the ERP ignores or refuses it.
    ``kept_to_asked`` answers None when the answer cannot tell (the evidenced shape is used,
    nothing is learnt)."""
    if not guess.worth_trying:
        return None
    guess.tried()
    try:
        count, rows = await read(shape, keep=keep)
    except ErpRefused:
        guess.observed(GuessState.REFUSED)
        return None
    verdict = kept_to_asked(count, rows)
    if verdict is None:
        return None
    if not verdict:
        guess.observed(GuessState.IGNORED)
        return None
    guess.observed(GuessState.HOLDS)
    return rows


async def read_lines(read: Read, guesses: Guesses, order_ids: list[str]) -> dict[str, list[OrderLineRecord]]:
    """Lines per order: the ``salesOrderId`` list (a guess) for several orders when the ERP keeps
    to it, else the evidenced ``condition {"form.id"}``, one read per order, side by side.
    A line counts only for an order asked for."""
    records: list[OrderLineRecord] | None = None
    if len(order_ids) > 1:
        records = await guessed(
            read, guesses.line_order_filter, queries.lines_of_orders(order_ids),
            lambda count, rows: count <= len(rows) and _within(rows, order_ids, lambda r: r.salesOrderId))
    if records is None:
        found = await asyncio.gather(*(read(queries.lines_of_order(i)) for i in order_ids))
        records = [r for (_, rows) in found for r in rows]
    asked = set(order_ids)
    grouped: dict[str, list[OrderLineRecord]] = defaultdict(list)
    for record in records:
        if record.salesOrderId in asked:
            grouped[record.salesOrderId].append(record)
    return grouped


async def deliveries_of_orders(
    read: Read, customer_id: str, orders: Sequence[Order], window: tuple[int, list[DeliveryRecord]],
) -> list[DeliveryRecord]:
    """The deliveries of these orders (the customer's), from ``window`` (the customer's newest
    deliveries, :func:`queries.recent_deliveries`) when an order is newer than the oldest of them
    (its deliveries cannot be older than the order), else one evidenced read of the order's
    deliveries by its number. Calls do not grow with the shipments; bytes not with the history."""
    older = beyond_window(orders, window)
    _, rows = window
    found = await asyncio.gather(*(read(queries.deliveries_of_order(customer_id, o.code)) for o in older))
    records = {d.id: d for d in rows}
    records.update((d.id, d) for _, more in found for d in more)
    return [d for d in records.values() if d.customerOrSupplierId == customer_id]


def beyond_window(orders: Sequence[Order], window: tuple[int, list[DeliveryRecord]]) -> list[Order]:
    """The orders whose deliveries may be older than the window (one read by number each)."""
    count, rows = window
    if count <= len(rows):
        return []
    oldest = min((d.date for d in rows if d.date is not None), default=None)
    return [o for o in orders if o.date is None or oldest is None or o.date <= oldest]


def carried_by(orders: Sequence[Order], shipments: Iterable[Shipment]) -> dict[str, list[Shipment]]:
    """Each order's shipments, by the deliveries' own links (ids, else order numbers)."""
    ids = {o.id for o in orders}
    codes = {o.code: o.id for o in orders}
    by_order: dict[str, list[Shipment]] = defaultdict(list)
    for shipment in shipments:
        carried = {i for i in shipment.order_ids if i in ids} | {codes[c] for c in shipment.order_codes if c in codes}
        for order_id in sorted(carried):
            by_order[order_id].append(shipment)
    return by_order


def _within(rows: Iterable[R], asked: Iterable[str], key: Callable[[R], str | None]) -> bool:
    """Whether every row answers one of the asked values (a row outside: the key was ignored)."""
    allowed = set(asked)
    return all(key(row) in allowed for row in rows)


def quietly(future: Awaitable[Any]) -> None:
    """A read started ahead that nobody may await (e.g. its order was not found) must not log an
    unretrieved error; whoever awaits it still gets the error."""
    assert isinstance(future, asyncio.Future)  # a task, or a dataloader's answer
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
