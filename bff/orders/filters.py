"""The home list's 未发货 / 已逾期 filters: which of the caller's open orders match, as their cards
would say, reading as few order lines as the answer allows.

A card's dispatched share comes from the order's lines (what left the warehouse, ``shippedQuantity``)
minus what its packed deliveries hold (docs/delivery.md). So the exact answer needs each open
order's deliveries (the customer's, one scoped read) and, in general, its lines: one read per order
in the evidenced shape. Two things spare most of those reads:

* a packed delivery without an amount: the card counts nothing as dispatched, whatever the lines;
* the ``order_rates`` guess (bff/erp/guesses.py), while the ERP keeps to it: the order row's
  ``shippedRate`` says whether nothing, some or all of the lines left the warehouse. With no packed
  delivery, that alone decides both filters; an order with a packed delivery still needs its lines.

Known limits of the guess's inference (docs/erp-protocol.md row 26b): a shipped line without any
price, or a share under 0.005 %, would make the card's rounded share differ from what "some left"
implies. Lines read (the page's cards, the undecided orders) check the guess; one contradiction and
the filter is answered again from every open order's lines, in the same request.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bff.core.domain import Fulfilment, Order, OrderStatus, Shipment, ShippingFilter
from bff.erp.guesses import Left
from bff.orders.progress import packed
from bff.orders.timeline import is_overdue

# Only orders the ERP calls open can be "not shipped yet" or late: a completed or cancelled order
# is neither, and a status the BFF does not know may mean either (docs/erp-protocol.md row 7).
OPEN = (OrderStatus.NOT_STARTED, OrderStatus.IN_PROGRESS)


def matches(shipping: ShippingFilter, order: Order, fulfilment: Fulfilment, now: datetime) -> bool:
    """The definition, from the order's card (``Fulfilment``): what the filter must answer."""
    if order.status not in OPEN:
        return False
    if shipping is ShippingFilter.NOT_SHIPPED:
        return fulfilment.shipped_rate <= 0
    return is_overdue(order, fulfilment, now)


def decided(
    shipping: ShippingFilter, order: Order, shipments: Sequence[Shipment], left: Left | None, now: datetime,
) -> bool | None:
    """Whether the order matches, known without its lines; None: its lines are needed. ``left``:
    what the row's rate says left the warehouse (None: not used, or no rate)."""
    if order.status not in OPEN:
        return False
    if shipping is ShippingFilter.OVERDUE and (order.delivery_date is None or order.delivery_date >= now):
        return False
    waiting = packed(shipments)
    if waiting and any(s.amount is None for s in waiting):
        return True  # the card counts nothing as dispatched (docs/delivery.md, Limits)
    if left is None or waiting:
        return None  # what the packed deliveries hold is weighed against the lines' values
    if shipping is ShippingFilter.NOT_SHIPPED:
        return left is Left.NOTHING  # nothing packed: dispatched = what left the warehouse
    return left is not Left.ALL
