"""What is dispatched, and an order's progress by value: the rule of docs/delivery.md.

The ERP counts an order line's ``shippedQuantity`` when its delivery order is made (the goods
leave the warehouse); to a purchaser only a dispatched delivery (是否发货) is shipped. So:

    dispatched = shippedQuantity − what the order's packed, not-dispatched deliveries hold.

What those deliveries hold is known without reading their lines in the common cases: there are
none (dispatched = shipped), or their amounts cover every shipped value of the order (nothing is
dispatched yet: SO2026112001), or only one material has left the warehouse. Otherwise a material's
dispatched quantity is a lower bound (``Progress.exact`` false): its lines would tell, at one read
per delivery, which no page's budget allows. Per order, by value, the amounts tell it exactly
(a lower bound only when a packed delivery carries several orders or lacks its amount).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bff.core.domain import DeliveryStatus, Fulfilment, Material, Progress, Shipment

VALUE_TOLERANCE = 0.01  # a yuan's cent of rounding between a delivery's amount and its lines


def total_progress(materials: Iterable[Material]) -> Progress:
    items = [m.progress for m in materials]
    return Progress(
        ordered=sum(p.ordered for p in items),
        producing=sum(p.producing for p in items),
        produced=sum(p.produced for p in items),
        unproduced=sum(p.unproduced for p in items),
        shipping=sum(p.shipping for p in items),
        shipped=sum(p.shipped for p in items),
        returned=sum(p.returned for p in items),
        awaiting_dispatch=sum(p.awaiting_dispatch for p in items),
        exact=all(p.exact for p in items),
    )


def unit_value(material: Material) -> float:
    value = material.amount if material.amount is not None else (material.price or 0.0) * material.quantity
    return value / material.quantity if material.quantity else 0.0


def packed(shipments: Iterable[Shipment]) -> list[Shipment]:
    """The deliveries made but not dispatched (left the warehouse, or about to)."""
    return [s for s in shipments if not s.shipped]


def _left_value(materials: Sequence[Material]) -> float:
    """Value of what left the warehouse: the ERP's shipped quantities (before this rule)."""
    return sum(unit_value(m) * min(m.progress.shipped, m.quantity) for m in materials)


def _packed_value(waiting: Sequence[Shipment]) -> float | None:
    """The packed deliveries' amount, or None when some amount is missing."""
    amounts = [s.amount for s in waiting]
    return None if any(a is None for a in amounts) else sum(a or 0.0 for a in amounts)


def _held_by_amounts(materials: Sequence[Material], waiting: Sequence[Shipment]) -> dict[str, float] | None:
    """What the packed deliveries hold of each material, when their amounts alone tell: they carry
    this order only and either cover all it sent out, or only one material has left the warehouse."""
    value = _packed_value(waiting)
    if value is None or not all(len(s.order_ids) <= 1 and len(s.order_codes) <= 1 for s in waiting):
        return None
    if value >= _left_value(materials) - VALUE_TOLERANCE:
        return {m.id: m.progress.shipped for m in materials}
    out = [m for m in materials if m.progress.shipped > 0]
    if len(out) == 1 and unit_value(out[0]) > 0:
        return {m.id: (value / unit_value(m) if m is out[0] else 0.0) for m in materials}
    return None


def dispatched(materials: Sequence[Material], shipments: Sequence[Shipment], whole_order: bool = True) -> list[Material]:
    """The materials with ``shipped`` counting dispatched goods only, from the deliveries' amounts
    (no delivery line is read, so every page keeps its ERP budget). ``shipments`` are the order's
    (or, ``whole_order`` false, those carrying the one material given). When the amounts cannot
    tell which material a packed delivery holds, each material is taken to hold as much of it as
    the amount allows: a lower bound of what is dispatched (``Progress.exact`` false)."""
    waiting = packed(shipments)
    if not waiting:
        return list(materials)
    held = _held_by_amounts(materials, waiting) if whole_order else None
    value = _packed_value(waiting)
    result = []
    for material in materials:
        p = material.progress
        if held is not None:
            at_most, exact = held[material.id], True
        elif value is not None and unit_value(material) > 0:
            at_most, exact = value / unit_value(material), False
        else:
            at_most, exact = p.shipped, False
        waiting_qty = min(p.shipped, max(0.0, at_most))
        result.append(replace(material, progress=replace(
            p, shipped=p.shipped - waiting_qty, awaiting_dispatch=waiting_qty, exact=exact and p.exact)))
    return result


def fulfilment(materials: Sequence[Material], shipments: Sequence[Shipment]) -> Fulfilment:
    """The order's produced and dispatched shares by value, from its materials as the ERP gives
    them and its deliveries' amounts (no delivery line is read). Exact unless a packed delivery
    carries several orders or lacks its amount: then the dispatched share is a lower bound."""
    waiting = packed(shipments)
    value = _packed_value(waiting)
    exact = value is not None and all(len(s.order_ids) <= 1 and len(s.order_codes) <= 1 for s in waiting)
    total = sum(unit_value(m) * m.quantity for m in materials)
    if total <= 0:  # no prices at all: each material weighs the same; packed goods count as not dispatched
        count = len(materials) or 1
        produced = sum(m.progress.produced_ratio for m in materials) / count
        left = sum(m.progress.shipped_ratio for m in materials) / count
        return _fulfilment(produced, 0.0 if waiting else left, left if waiting else 0.0, not waiting)
    produced = sum(unit_value(m) * min(m.progress.produced, m.quantity) for m in materials)
    left = _left_value(materials)
    sent = max(0.0, left - value) if value is not None else 0.0
    return _fulfilment(produced / total, sent / total, (left - sent) / total, exact)


def _fulfilment(produced: float, sent: float, waiting: float, exact: bool) -> Fulfilment:
    produced, sent, waiting = (round(min(1.0, x), 4) for x in (produced, sent, waiting))
    if sent >= 1.0:
        status = DeliveryStatus.ALL
    elif waiting > 0:
        status = DeliveryStatus.AWAITING_DISPATCH
    elif sent > 0:
        status = DeliveryStatus.PARTIAL
    else:
        status = DeliveryStatus.NONE
    return Fulfilment(produced, sent, waiting, status, exact)


def material_summary(materials: Sequence[Material]) -> str | None:
    """"内六角圆柱头螺钉 M10×40 等 6 项": what a purchaser scans a card for."""
    if not materials:
        return None
    first = " ".join(filter(None, [materials[0].name, materials[0].spec])) or materials[0].product_code or "物料"
    return first if len(materials) == 1 else f"{first} 等 {len(materials)} 项"
