"""The change watcher's reads across many customers (a purchaser's own reads: bff/orders/reads.py).

Never from the stale fallback: a failed read raises and the watcher compares those customers
next cycle. Many customers' orders in one read (``filters {"customerId": [...]}``) is a guess
(``customer_list``, bff/erp/guesses.py): tried while the ERP keeps to it, each answer checked (a
row of a customer not asked: ignored; an empty answer where one customer asked alone has orders:
ignored as well; ``success:false``: refused), else one evidenced read per customer.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence

from bff.core.domain import Material, Order, Shipment
from bff.erp import queries
from bff.erp.errors import ErpRefused
from bff.erp.guesses import Guess, Guesses, GuessState
from bff.erp.mapping import material_from_record, order_from_record, shipment_from_record
from bff.erp.models import OrderLineRecord, SalesOrderRecord
from bff.erp.queries import R
from bff.erp.reader import ErpReader
from bff.orders.logistics import LogisticsNames
from bff.orders.reads import carried_by, deliveries_of_orders, read_lines


async def orders_of_customers(
    erp: ErpReader, customer_ids: Iterable[str], guesses: Guesses, *, statuses: Sequence[int] | None = None,
    ids: Sequence[str] | None = None, per_read: int = queries.CUSTOMERS_PER_READ,
) -> list[SalesOrderRecord]:
    """These customers' orders (in ``statuses``, or among ``ids``): ``per_read`` customers a read
    while the ``customer_list`` guess holds, else one read per customer; :data:`queries.MAX_ROWS`
    rows a page. Only rows of the customers asked are kept."""
    customers = sorted(set(customer_ids))
    found: list[SalesOrderRecord] = []
    for start in range(0, len(customers), per_read):
        chunk = customers[start:start + per_read]
        listed = await _listed(erp, chunk, guesses.customer_list, statuses, ids) if len(chunk) > 1 else None
        if listed is None:
            for customer in chunk:
                found.extend((await _pages(erp, [customer], statuses, ids))[0])
        else:
            found.extend(listed)
    return found


async def _listed(
    erp: ErpReader, chunk: list[str], guess: Guess, statuses: Sequence[int] | None, ids: Sequence[str] | None,
) -> list[SalesOrderRecord] | None:
    """The chunk's orders by the customer list, or None (read them one customer at a time)."""
    if not guess.worth_trying:
        return None
    guess.tried()
    try:
        rows, outside = await _pages(erp, chunk, statuses, ids, stop_outside=True)
    except ErpRefused:
        guess.observed(GuessState.REFUSED)
        return None
    if outside:  # a row of a customer not asked: the list was ignored (stopped at the first such page)
        guess.observed(GuessState.IGNORED)
        return None
    if not rows and (await _pages(erp, chunk[:1], statuses, ids))[0]:
        guess.observed(GuessState.IGNORED)  # the list answered nothing where one customer alone has orders
        return None
    if rows:
        guess.observed(GuessState.HOLDS)
    return rows


async def _pages(
    erp: ErpReader, customers: list[str], statuses: Sequence[int] | None, ids: Sequence[str] | None, *,
    stop_outside: bool = False,
) -> tuple[list[SalesOrderRecord], bool]:
    """Every page of these customers' orders, rows of others dropped; and whether there were such
    rows (with ``stop_outside``, the reading stops at the first page that has one)."""
    wanted = sorted(set(ids)) if ids is not None else None
    id_chunks: list[list[str] | None] = [None] if wanted is None else [
        wanted[i:i + queries.MAX_ROWS] for i in range(0, len(wanted), queries.MAX_ROWS)]
    allowed = set(customers)
    found: list[SalesOrderRecord] = []
    outside = False
    for id_chunk in id_chunks:
        page = 0
        while True:
            answer = await erp.fetch(queries.orders_of_customers(customers, ids=id_chunk, statuses=statuses, page=page))
            if any(r.customerId not in allowed for r in answer.rows):
                outside = True
                if stop_outside:
                    return found, outside
            found.extend(r for r in answer.rows if r.customerId in allowed)
            page += 1
            if len(answer.rows) < queries.MAX_ROWS or page * queries.MAX_ROWS >= answer.count:
                break
    return found, outside


WATCH_CUSTOMERS_AT_ONCE = 4  # customers whose deliveries the watcher reads side by side


async def details_of_customers(
    erp: ErpReader, logistics: LogisticsNames, guesses: Guesses, records: Sequence[SalesOrderRecord],
) -> tuple[dict[str, list[Material]], dict[str, list[Shipment]]]:
    """Lines and shipments of these orders (rows of :func:`orders_of_customers`, so proven their
    customers'), the change watcher's read: lines as a page reads them (:func:`read_lines`, 100
    orders a read where the ERP keeps to the list), deliveries per customer from its newest ones
    (:func:`deliveries_of_orders`). Never from the stale fallback: a failed read raises and the
    caller skips the cycle."""

    async def read(read: queries.ListRead[R], *, keep: bool = True) -> tuple[int, list[R]]:
        page = await erp.fetch(read)
        return page.count, list(page.rows)

    ids = sorted({r.id for r in records})
    step = queries.ORDERS_PER_DETAIL_READ
    lines: dict[str, list[OrderLineRecord]] = {}
    for start in range(0, len(ids), step):
        lines.update(await read_lines(read, guesses, ids[start:start + step]))
    by_customer: dict[str, list[Order]] = defaultdict(list)
    for record in records:
        by_customer[record.customerId].append(order_from_record(record))
    names = await logistics.names() if by_customer else {}

    async def shipments_of(customer_id: str, orders: list[Order]) -> dict[str, list[Shipment]]:
        window = await read(queries.recent_deliveries(customer_id))
        found = await deliveries_of_orders(read, customer_id, orders, window)
        companies = await logistics.companies_of(found, names)
        return carried_by(orders, [shipment_from_record(d, c) for d, c in zip(found, companies, strict=True)])

    shipments: dict[str, list[Shipment]] = {}
    customers = sorted(by_customer)
    for start in range(0, len(customers), WATCH_CUSTOMERS_AT_ONCE):
        chunk = customers[start:start + WATCH_CUSTOMERS_AT_ONCE]
        for found in await asyncio.gather(*(shipments_of(c, by_customer[c]) for c in chunk)):
            shipments.update(found)
    materials = {i: [material_from_record(line) for line in lines.get(i, [])] for i in ids}
    return materials, {i: shipments.get(i, []) for i in ids}
