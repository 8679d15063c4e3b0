"""An order's status timeline: ordered → production → produced → each shipment → completed.

Times come from the ERP wherever it has them (order date, ship dates); a step whose time
the ERP does not record is shown done or pending without a time rather than guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bff.domain import Material, Order, OrderStatus, Shipment, TimelineStep


def _totals(materials: Sequence[Material]) -> tuple[float, float, float]:
    ordered = sum(m.progress.ordered for m in materials)
    produced = sum(min(m.progress.produced, m.progress.ordered) for m in materials)
    producing = sum(m.progress.producing for m in materials)
    return ordered, produced, producing


def build_timeline(
    order: Order,
    materials: Sequence[Material],
    shipments: Sequence[Shipment],
    observed: Sequence[tuple[datetime, str]] = (),
) -> list[TimelineStep]:
    """``observed``: (time, "未开始 → 进行中") status changes the change watcher saw, oldest first."""
    ordered, produced, producing = _totals(materials)
    started = produced > 0 or producing > 0 or order.status in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
    all_produced = ordered > 0 and produced >= ordered or order.status is OrderStatus.COMPLETED
    steps: list[TimelineStep] = [
        TimelineStep("ORDERED", "已下单", order.date, True, detail=order.code),
        TimelineStep("PRODUCTION", "生产中", None, started, detail=_percent("已生产", produced, ordered)),
        TimelineStep("PRODUCED", "生产完成", None, all_produced),
    ]
    dated = sorted(shipments, key=lambda s: (s.ship_date is None, s.ship_date or datetime.max))
    for number, shipment in enumerate(dated, start=1):
        detail = " ".join(filter(None, [shipment.logistics_company, shipment.tracking_number]))
        steps.append(TimelineStep("SHIPMENT", f"第{number}次发货", shipment.ship_date, shipment.shipped, detail=detail or None))
    # The ERP keeps no time of a status change; the watcher's observations give them one.
    steps.extend(TimelineStep("STATUS_CHANGE", "状态变更", at, True, detail=change) for at, change in observed)
    if order.status is OrderStatus.CANCELLED:
        steps.append(TimelineStep("CANCELLED", "已取消", None, True))
    else:
        steps.append(TimelineStep("COMPLETED", "已完成", None, order.status is OrderStatus.COMPLETED))
    return _with_durations_and_current(steps)


def _percent(label: str, part: float, whole: float) -> str | None:
    return f"{label} {part / whole:.0%}" if whole > 0 else None


def _with_durations_and_current(steps: list[TimelineStep]) -> list[TimelineStep]:
    pending = [i for i, step in enumerate(steps) if not step.done]
    current = pending[0] if pending else len(steps) - 1
    previous_at: datetime | None = None
    result = []
    for index, step in enumerate(steps):
        duration = (step.at - previous_at).total_seconds() if step.at and previous_at else None
        result.append(
            TimelineStep(step.kind, step.title, step.at, step.done, index == current, duration, step.detail)
        )
        previous_at = step.at or previous_at
    return result
