"""The circuit breaker's state machine, on a controlled clock."""

from __future__ import annotations

from bff.erp.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_opens_on_failure_ratio_then_half_opens_and_closes() -> None:
    clock = Clock()
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(window=10, min_calls=4, failure_ratio=0.5, open_s=5, clock=clock)
    breaker.on_change(lambda old, new: changes.append((old.value, new.value)))
    for success in (True, False, True):
        assert breaker.allow()
        breaker.record(success)
    assert breaker.state is BreakerState.CLOSED  # only 3 calls known
    breaker.record(False)  # 2 of 4 failed
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.now = 4.9
    assert not breaker.allow()
    clock.now = 5.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.record(True)
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    assert changes == [("CLOSED", "OPEN"), ("OPEN", "HALF_OPEN"), ("HALF_OPEN", "CLOSED")]


def test_failed_trial_reopens_for_another_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(window=4, min_calls=2, failure_ratio=1.0, open_s=3, clock=clock)
    breaker.record(False)
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN
    clock.now = 3
    assert breaker.allow()
    breaker.record(False)
    assert breaker.state is BreakerState.OPEN
    clock.now = 5.9
    assert not breaker.allow()
    clock.now = 6.0
    assert breaker.allow()


def test_successes_keep_it_closed() -> None:
    breaker = CircuitBreaker(window=10, min_calls=5, failure_ratio=0.5)
    for i in range(100):
        breaker.record(i % 3 != 0)  # a third fail: under the ratio
    assert breaker.state is BreakerState.CLOSED
