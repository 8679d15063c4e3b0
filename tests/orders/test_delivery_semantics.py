"""The delivery vocabulary, table-driven (docs/delivery.md): for each ERP situation, what the
purchaser is told: the order's delivery status and shares (by value), each material's dispatched
quantity, the card's text, and the timeline. No surface says shipped > produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bff.core.domain import DeliveryStatus, Material, Order, OrderStatus, Progress, Shipment, ShipmentLine
from bff.orders.progress import dispatched, fulfilment
from bff.orders.timeline import build_timeline, is_overdue
from tests.support import assert_truthful

DAY = timedelta(days=1)
T0 = datetime(2026, 11, 1, 9, tzinfo=UTC)


@dataclass
class Line:
    """One order line as the ERP gives it: ``shipped`` = left the warehouse (shippedQuantity)."""

    quantity: float
    produced: float = 0
    shipped: float = 0
    price: float = 10.0
    producing: float = 0


@dataclass
class Delivery:
    holds: dict[int, float]  # line index -> quantity
    dispatched: bool
    day: int = 5
    orders: tuple[str, ...] = ("1",)
    amount: float | None = field(default=None)  # default: the value of what it holds


def make(lines: list[Line], deliveries: list[Delivery], status: OrderStatus = OrderStatus.IN_PROGRESS):
    order = Order("1", "SO2026112001", "36", None, "PO-1", T0, T0 + 30 * DAY, status, 2, "进行中",
                  None, None, "CNY", None, None, None)
    materials = [
        Material(str(i), "1", order.code, f"WL{i}", f"物料{i}", "规格", None, None, line.quantity, "个", line.price,
                 line.price * line.quantity, None,
                 Progress(line.quantity, line.producing, line.produced, line.quantity - line.produced, 0, line.shipped, 0))
        for i, line in enumerate(lines)
    ]
    shipments, contents = [], {}
    for n, d in enumerate(deliveries):
        value = sum(lines[i].price * q for i, q in d.holds.items())
        sid = f"d{n}"
        shipments.append(Shipment(
            sid, f"XSCK{n}", d.orders, tuple(f"SO{o}" for o in d.orders), T0 + d.day * DAY, "顺丰速运" if d.dispatched else None,
            "SF1" if d.dispatched else None, None, d.dispatched, True, None, None, None, (),
            amount=d.amount if d.amount is not None else value,
        ))
        contents[sid] = [ShipmentLine(f"{sid}-{i}", sid, None, None, f"WL{i}", f"物料{i}", "规格", None, q, None)
                         for i, q in d.holds.items()]
    return order, materials, shipments, contents


# situation -> (lines, deliveries, status, expected status, shipped %, produced %, card text, dispatched per line,
#               whether the per-line figures are exact: else a lower bound, never above the truth)
SITUATIONS = {
    "not started": ([Line(100)], [], OrderStatus.NOT_STARTED, DeliveryStatus.NONE, 0, 0, "未发货", [0], True),
    "producing, nothing made": ([Line(100, producing=20)], [], OrderStatus.IN_PROGRESS, DeliveryStatus.NONE, 0, 0, "未发货", [0], True),
    "packed, not dispatched (SO2026112001)": (
        [Line(100, produced=32, shipped=32), Line(50, produced=0)], [Delivery({0: 32}, dispatched=False)],
        OrderStatus.IN_PROGRESS, DeliveryStatus.AWAITING_DISPATCH, 0, 21.33, "待发货", [0, 0], True,
    ),
    "one dispatched, one packed": (
        [Line(100, produced=100, shipped=80)], [Delivery({0: 50}, True, day=3), Delivery({0: 30}, False, day=6)],
        OrderStatus.IN_PROGRESS, DeliveryStatus.AWAITING_DISPATCH, 50, 100, "已发货 50% · 另有待发货", [50], True,
    ),
    "packed part of two materials: per material a lower bound": (
        [Line(100, produced=100, shipped=100), Line(100, produced=100, shipped=40)],
        [Delivery({0: 100}, True, day=3), Delivery({1: 40}, False, day=6)],
        OrderStatus.IN_PROGRESS, DeliveryStatus.AWAITING_DISPATCH, 50, 100, "已发货 50% · 另有待发货", [60, 0], False,
    ),
    "partly dispatched": (
        [Line(100, produced=60, shipped=30)], [Delivery({0: 30}, True)],
        OrderStatus.IN_PROGRESS, DeliveryStatus.PARTIAL, 30, 60, "已发货 30%", [30], True,
    ),
    "fully dispatched": (
        [Line(100, produced=100, shipped=100)], [Delivery({0: 60}, True, day=3), Delivery({0: 40}, True, day=8)],
        OrderStatus.IN_PROGRESS, DeliveryStatus.ALL, 100, 100, "已全部发货", [100], True,
    ),
    "completed": (
        [Line(100, produced=100, shipped=100)], [Delivery({0: 100}, True)],
        OrderStatus.COMPLETED, DeliveryStatus.ALL, 100, 100, "已全部发货", [100], True,
    ),
    "cancelled after part was made": (
        [Line(100, produced=40)], [], OrderStatus.CANCELLED, DeliveryStatus.NONE, 0, 40, "未发货", [0], True,
    ),
}


@pytest.mark.parametrize("name", SITUATIONS)
def test_delivery_semantics(name: str) -> None:
    lines, deliveries, status, expected, shipped_pct, produced_pct, text, per_line, exact = SITUATIONS[name]
    _, materials, shipments, contents = make(lines, deliveries, status)
    progress = fulfilment(materials, shipments)
    assert progress.status is expected
    assert progress.shipped_rate * 100 == pytest.approx(shipped_pct, abs=0.01)
    assert progress.produced_rate * 100 == pytest.approx(produced_pct, abs=0.01)
    assert progress.label == text
    assert progress.exact
    per = dispatched(materials, shipments)  # from the deliveries' amounts: no line is read
    assert [m.progress.shipped for m in per] == per_line
    assert all(m.progress.exact is exact for m in per)
    truth = [before.progress.shipped - sum(line.quantity for s in shipments if not s.shipped
                                           for line in contents[s.id] if line.product_code == before.product_code)
             for before in materials]
    for before, after, true in zip(materials, per, truth, strict=True):
        assert after.progress.shipped + after.progress.awaiting_dispatch == before.progress.shipped
        assert after.progress.shipped <= true  # exact, or a lower bound: never more than the truth
        assert after.progress.shipped <= after.progress.produced  # never shipped > produced
    assert progress.shipped_rate <= progress.produced_rate


def test_a_packed_delivery_of_two_orders_gives_a_lower_bound_never_more() -> None:
    _, materials, shipments, _ = make(
        [Line(100, produced=100, shipped=100)], [Delivery({0: 60}, True), Delivery({0: 40}, False, orders=("1", "2"), amount=900)]
    )
    progress = fulfilment(materials, shipments)
    assert not progress.exact and progress.shipped_rate == pytest.approx(0.1)  # 1000 left − 900 packed; truly 60 %
    assert progress.status is DeliveryStatus.AWAITING_DISPATCH


def test_overdue_is_a_passed_delivery_date_with_goods_not_all_dispatched() -> None:
    order, materials, shipments, _ = make([Line(100, produced=100, shipped=50)], [Delivery({0: 50}, True)])
    progress = fulfilment(materials, shipments)
    assert not is_overdue(order, progress, T0 + 29 * DAY)
    assert is_overdue(order, progress, T0 + 31 * DAY)
    done = make([Line(100, produced=100, shipped=100)], [Delivery({0: 100}, True)])
    assert not is_overdue(done[0], fulfilment(done[1], done[2]), T0 + 31 * DAY)


# --- the timeline, table-driven ----------------------------------------------------------------

Step = tuple[str, str, bool, bool]  # kind, title, done, current

TIMELINES: dict[str, tuple[str | None, list[Step]]] = {
    # situation of SITUATIONS (or its own) -> the expected steps
    "not started": (None, [
        ("ORDERED", "已下单", True, True), ("PRODUCTION", "待生产", False, False), ("COMPLETED", "完成", False, False)]),
    "producing, nothing made": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产中", False, True), ("COMPLETED", "完成", False, False)]),
    "producing 32 %": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产中", False, True), ("COMPLETED", "完成", False, False)]),
    "produced 100 %": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产完成", True, False),
        ("AWAITING_SHIPMENT", "待出库", False, True), ("COMPLETED", "完成", False, False)]),
    "packed, not dispatched (SO2026112001)": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产中", False, False),
        ("SHIPMENT", "第1批 待发货", False, True), ("COMPLETED", "完成", False, False)]),
    "one dispatched, one packed": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产完成", True, False),
        ("SHIPMENT", "第1批 已发货", True, False), ("SHIPMENT", "第2批 待发货", False, True), ("COMPLETED", "完成", False, False)]),
    "partly dispatched": (None, [  # dispatched while production goes on: 生产中 comes after it
        ("ORDERED", "已下单", True, False), ("SHIPMENT", "第1批 已发货", True, False),
        ("PRODUCTION", "生产中", False, True), ("COMPLETED", "完成", False, False)]),
    "fully dispatched": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产完成", True, False),
        ("SHIPMENT", "第1批 已发货", True, False), ("SHIPMENT", "第2批 已发货", True, True), ("COMPLETED", "完成", False, False)]),
    "completed": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产完成", True, False),
        ("SHIPMENT", "第1批 已发货", True, False), ("COMPLETED", "已完成", True, True)]),
    "cancelled after part was made": (None, [
        ("ORDERED", "已下单", True, False), ("PRODUCTION", "生产中", False, False), ("CANCELLED", "已取消", True, True)]),
    "unknown status": (None, [
        ("ORDERED", "已下单", True, True), ("PRODUCTION", "待生产", False, False), ("COMPLETED", "完成", False, False)]),
}
EXTRA = {
    "producing 32 %": ([Line(100, produced=32)], [], OrderStatus.IN_PROGRESS),
    "produced 100 %": ([Line(100, produced=100)], [], OrderStatus.IN_PROGRESS),
    "unknown status": ([Line(100)], [], OrderStatus.UNKNOWN),
}


@pytest.mark.parametrize("name", TIMELINES)
def test_timeline(name: str) -> None:
    lines, deliveries, status = EXTRA[name] if name in EXTRA else SITUATIONS[name][:3]
    order, materials, shipments, _ = make(lines, deliveries, status)
    steps = build_timeline(order, shipments, fulfilment(materials, shipments))
    assert [(s.kind, s.title, s.done, s.current) for s in steps] == TIMELINES[name][1]
    assert_truthful([{"done": s.done, "current": s.current, "inProgress": s.in_progress} for s in steps])
    times = [s.at for s in steps if s.at is not None and s.done]
    assert times == sorted(times)
    # Production under way (the order open) while a delivery waits is in progress, not a step to come.
    producing = [s for s in steps if s.kind == "PRODUCTION" and s.title == "生产中" and status is not OrderStatus.CANCELLED]
    assert all(s.current or s.in_progress for s in producing)


def test_production_seen_starting_stays_after_a_later_dispatch_with_its_own_time() -> None:
    """A delivery dispatched on day 5 while production (seen starting on day 2) goes on: the
    timeline says dispatched, then 生产中 (current, since day 2); no negative duration."""
    order, materials, shipments, _ = make([Line(100, produced=60, shipped=30)], [Delivery({0: 30}, True, day=5)])
    observed = [(T0 + 2 * DAY, OrderStatus.IN_PROGRESS, "未开始 → 进行中")]
    steps = build_timeline(order, shipments, fulfilment(materials, shipments), observed)
    assert [(s.kind, s.at, s.current) for s in steps] == [
        ("ORDERED", T0, False), ("SHIPMENT", T0 + 5 * DAY, False), ("PRODUCTION", T0 + 2 * DAY, True), ("COMPLETED", None, False)]
    assert [s.duration_s for s in steps] == [None, 5 * 86400, None, None]


def test_a_packed_delivery_dated_before_a_dispatched_one_is_current_after_it() -> None:
    order, materials, shipments, _ = make(
        [Line(100, produced=100, shipped=80)], [Delivery({0: 30}, False, day=2), Delivery({0: 50}, True, day=6)])
    steps = build_timeline(order, shipments, fulfilment(materials, shipments))
    assert [(s.title, s.done, s.current) for s in steps] == [
        ("已下单", True, False), ("生产完成", True, False), ("第2批 已发货", True, False),
        ("第1批 待发货", False, True), ("完成", False, False)]


def test_observed_changes_sit_at_their_time_and_date_the_steps_they_mean() -> None:
    order, materials, shipments, _ = make(
        [Line(100, produced=100, shipped=100)], [Delivery({0: 100}, True, day=10)], OrderStatus.COMPLETED
    )
    observed = [
        (T0 + 2 * DAY, OrderStatus.IN_PROGRESS, "未开始 → 进行中"),
        (T0 + 4 * DAY, OrderStatus.UNKNOWN, "进行中 → 状态未知"),
        (T0 + 12 * DAY, OrderStatus.COMPLETED, "状态未知 → 已完成"),
    ]
    steps = build_timeline(order, shipments, fulfilment(materials, shipments), observed)
    assert [(s.kind, s.at) for s in steps] == [
        ("ORDERED", T0), ("PRODUCTION", T0 + 2 * DAY), ("STATUS_CHANGE", T0 + 4 * DAY),
        ("SHIPMENT", T0 + 10 * DAY), ("COMPLETED", T0 + 12 * DAY),
    ]
    assert [s.duration_s for s in steps] == [None, 2 * 86400, 2 * 86400, 6 * 86400, 2 * 86400]
