"""An order's status timeline, in time order, that says only what happened.

Steps: 已下单 → 生产 → each delivery (待发货 while packed, 已发货 once dispatched, 已签收 when its
parcel track says so, at the track's time) → 待出库 while
goods wait in the warehouse → 已完成 / 已取消, with the status changes the change watcher observed
placed at their time. ``done`` marks what happened; ``current`` the one step the order is in now
(production while producing, the packed delivery while it awaits dispatch…), never a future
milestone, and no finished step comes after it (a delivery dispatched while production goes on
comes before 生产中). ``in_progress`` marks a step under way that is not the current one
(production at 54 % while a packed delivery waits), so it is not drawn like a step not reached.
The ERP keeps no time for production or a status change: a step has a time only when the ERP or
the watcher recorded one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from bff.core.domain import Fulfilment, Order, OrderStatus, Shipment, TimelineStep, percent

CHANGE_OF = {OrderStatus.IN_PROGRESS: "PRODUCTION", OrderStatus.COMPLETED: "COMPLETED", OrderStatus.CANCELLED: "CANCELLED"}


def is_overdue(order: Order, progress: Fulfilment, now: datetime) -> bool:
    """The delivery date has passed and the goods are not all dispatched (nor the order closed)."""
    if order.delivery_date is None or order.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
        return False
    return order.delivery_date < now and progress.shipped_rate < 1.0


def build_timeline(
    order: Order,
    shipments: Sequence[Shipment],
    progress: Fulfilment,
    observed: Sequence[tuple[datetime, OrderStatus, str]] = (),
    signed: Mapping[str, datetime | None] | None = None,
) -> list[TimelineStep]:
    """``observed``: (time, new status, "未开始 → 进行中") changes the watcher saw, oldest first;
    ``signed``: shipments signed for (their parcel tracks), by id, with when."""
    status = order.status
    final = status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED)
    all_dispatched = progress.shipped_rate >= 1.0
    produced = progress.produced_rate >= 1.0 or all_dispatched or status is OrderStatus.COMPLETED
    started = produced or progress.produced_rate > 0 or status is OrderStatus.IN_PROGRESS
    seen_at = {CHANGE_OF[new]: at for at, new, _ in observed if new in CHANGE_OF}

    dated = sorted(shipments, key=lambda s: (s.ship_date is None, s.ship_date or datetime.max, s.code))
    waiting = [s for s in dated if not s.shipped]  # the first one is current: where the goods are now
    steps = [TimelineStep("ORDERED", "已下单", order.date, True, detail=order.code)]
    production_title = "生产完成" if produced else "生产中" if started else "待生产"
    producing = started and not produced and not final
    steps.append(TimelineStep(
        "PRODUCTION", production_title, seen_at.get("PRODUCTION"), produced,
        current=producing and not waiting, in_progress=producing and bool(waiting),
        detail=f"已生产 {percent(progress.produced_rate)}（按金额）",
    ))
    steps.extend(
        TimelineStep("STATUS_CHANGE", "状态变更", at, True, detail=change)
        for at, new, change in observed if new not in CHANGE_OF
    )
    for number, shipment in enumerate(dated, start=1):
        steps.append(_shipment_step(number, shipment, current=not final and bool(waiting) and shipment is waiting[0]))
        if shipment.shipped and signed and shipment.id in signed:
            steps.append(TimelineStep("SIGNED", f"第{number}批 已签收", signed[shipment.id], True,
                                      detail=shipment.tracking_number))
    if not final and produced and not waiting and not all_dispatched:
        steps.append(TimelineStep("AWAITING_SHIPMENT", "待出库", None, False, current=True, detail="已生产，等待出库发货"))
    if status is OrderStatus.CANCELLED:
        steps.append(TimelineStep("CANCELLED", "已取消", seen_at.get("CANCELLED"), True, current=True))
    else:
        done = status is OrderStatus.COMPLETED
        steps.append(TimelineStep("COMPLETED", "已完成" if done else "完成", seen_at.get("COMPLETED"), done, current=done))
    steps = _current_after_finished(_in_time_order(steps))
    if not any(step.current for step in steps):  # not started, all dispatched but open, status unknown…
        last_done = max(i for i, step in enumerate(steps) if step.done)
        steps[last_done] = replace(steps[last_done], current=True)
    return _with_durations(steps)


def _shipment_step(number: int, shipment: Shipment, current: bool) -> TimelineStep:
    if shipment.shipped:
        carrier = shipment.logistics_company or shipment.remark
        detail = " ".join(filter(None, [carrier, shipment.tracking_number])) or None
        return TimelineStep("SHIPMENT", f"第{number}批 已发货", shipment.ship_date, True, detail=detail)
    return TimelineStep("SHIPMENT", f"第{number}批 待发货", shipment.ship_date, False, current=current,
                        detail="已出库，等待发运" if shipment.left_warehouse else "已备货，等待出库发运")


def _in_time_order(steps: list[TimelineStep]) -> list[TimelineStep]:
    """Steps with a time sorted by it; a step without one stays after the step it follows; the
    final step (completed/cancelled) stays last."""
    keyed: list[tuple[datetime | None, int, TimelineStep]] = []
    anchor: datetime | None = None
    for index, step in enumerate(steps[:-1]):
        anchor = step.at or anchor
        keyed.append((anchor, index, step))
    ordered = sorted(keyed, key=lambda k: (k[0] is not None, k[0] or datetime.min, k[1]))
    return [step for _, _, step in ordered] + [steps[-1]]


def _current_after_finished(steps: list[TimelineStep]) -> list[TimelineStep]:
    """The current step moved after the last finished one: what is under way now comes after
    everything that already happened (a delivery dispatched while production goes on), even
    when the current step began earlier (its time is when it began)."""
    current = next((i for i, step in enumerate(steps) if step.current), None)
    last_done = max((i for i, step in enumerate(steps) if step.done), default=-1)
    if current is None or last_done <= current:
        return steps
    moved = steps[:current] + steps[current + 1:]
    moved.insert(last_done, steps[current])  # last_done shifted down by one with the removal
    return moved


def _with_durations(steps: list[TimelineStep]) -> list[TimelineStep]:
    previous_at: datetime | None = None
    result = []
    for step in steps:
        duration = (step.at - previous_at).total_seconds() if step.at and previous_at and step.at >= previous_at else None
        result.append(replace(step, duration_s=duration))
        if step.at and (previous_at is None or step.at > previous_at):
            previous_at = step.at
    return result
