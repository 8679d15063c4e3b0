"""A circuit breaker around ERP calls: while the ERP is failing, nobody waits for a timeout.

CLOSED: calls pass; the outcomes of the last ``window`` calls are kept. When at least
``min_calls`` are known and the failure ratio reaches ``failure_ratio``, it OPENs.
OPEN: calls are refused at once for ``open_s`` seconds, then it goes HALF_OPEN.
HALF_OPEN: up to ``trial_calls`` calls pass; a success closes it, a failure reopens it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    def __init__(
        self,
        *,
        window: int = 20,
        min_calls: int = 5,
        failure_ratio: float = 0.5,
        open_s: float = 10.0,
        trial_calls: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._outcomes: deque[bool] = deque(maxlen=window)
        self._min_calls = min_calls
        self._ratio = failure_ratio
        self._open_s = open_s
        self._trial_calls = trial_calls
        self._clock = clock
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._trials = 0
        self._listeners: list[Callable[[BreakerState, BreakerState], None]] = []

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock() - self._opened_at >= self._open_s:
            self._move(BreakerState.HALF_OPEN)
        return self._state

    def on_change(self, listener: Callable[[BreakerState, BreakerState], None]) -> None:
        self._listeners.append(listener)

    def allow(self) -> bool:
        """May a call go to the ERP now? (A HALF_OPEN breaker lets a few trial calls through.)"""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and self._trials < self._trial_calls:
            self._trials += 1
            return True
        return False

    def release(self) -> None:
        """An allowed call ended without telling anything about the ERP (the caller's own budget
        ran out, or it was cancelled): a trial slot it held is free again."""
        if self._state is BreakerState.HALF_OPEN and self._trials > 0:
            self._trials -= 1

    def record(self, success: bool) -> None:
        state = self.state
        if state is BreakerState.HALF_OPEN:
            self._move(BreakerState.CLOSED if success else BreakerState.OPEN)
            return
        self._outcomes.append(success)
        failures = self._outcomes.count(False)
        if (
            state is BreakerState.CLOSED
            and len(self._outcomes) >= self._min_calls
            and failures / len(self._outcomes) >= self._ratio
        ):
            self._move(BreakerState.OPEN)

    def reset(self) -> None:
        """Closed, with no memory of past outcomes (an operator's or a test's fresh start)."""
        if self._state is not BreakerState.CLOSED:
            self._move(BreakerState.CLOSED)
        self._outcomes.clear()

    def _move(self, new: BreakerState) -> None:
        old, self._state = self._state, new
        self._trials = 0
        if new is BreakerState.OPEN:
            self._opened_at = self._clock()
        if new is BreakerState.CLOSED:
            self._outcomes.clear()
        for listener in self._listeners:
            listener(old, new)
