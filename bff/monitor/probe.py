"""The ERP probe: a cheap real call every ``interval_s`` (session alive + a one-row read).

UP: the last probe answered within ``slow_ms``. DEGRADED: slower, or it failed fewer than
``down_after`` times in a row. DOWN: ``down_after`` failures in a row. One good probe is UP
again. History: one compact sample per probe for 24 hours (2,880 at 30 s), in memory.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

log = logging.getLogger("bff.probe")

HISTORY_S = 24 * 3600


class ErpState(StrEnum):
    UNKNOWN = "UNKNOWN"  # no probe yet
    UP = "UP"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"


@dataclass(frozen=True)
class ProbeSample:
    at: float  # epoch seconds
    state: ErpState
    latency_ms: float | None  # None: the probe failed
    error: str | None = None


class ErpProbe:
    def __init__(
        self,
        probe: Callable[[], Awaitable[float]],
        *,
        interval_s: float = 30.0,
        slow_ms: float = 1500.0,
        down_after: int = 3,
        timeout_s: float = 5.0,
    ) -> None:
        self._probe = probe
        self.interval_s = interval_s
        self.slow_ms = slow_ms
        self.down_after = down_after
        self._timeout_s = timeout_s
        self.state = ErpState.UNKNOWN
        self.consecutive_failures = 0
        self.last_check: datetime | None = None
        self.last_error: str | None = None
        self.history: deque[ProbeSample] = deque(maxlen=max(10, int(HISTORY_S / max(interval_s, 0.01)) + 1))

    async def check(self) -> ProbeSample:
        """One probe now; updates the state and the history."""
        latency: float | None = None
        error: str | None = None
        try:
            latency = await asyncio.wait_for(self._probe(), self._timeout_s)
        except Exception as exc:  # noqa: BLE001  a probe reports failures, it never raises them
            error = type(exc).__name__  # ErpUnavailable, ErpDataInvalid, TimeoutError...: no URL, no secret
        if latency is None:
            self.consecutive_failures += 1
            new = ErpState.DOWN if self.consecutive_failures >= self.down_after else ErpState.DEGRADED
        else:
            self.consecutive_failures = 0
            new = ErpState.DEGRADED if latency > self.slow_ms else ErpState.UP
        old, self.state = self.state, new
        self.last_check = datetime.now(UTC)
        self.last_error = error
        sample = ProbeSample(time.time(), new, None if latency is None else round(latency, 1), error)
        self.history.append(sample)
        if old is not new:
            log.warning("erp state %s -> %s", old, new, extra={"erpState": new.value, "probeError": error})
        return sample

    def samples(self, since_s: float = HISTORY_S) -> list[ProbeSample]:
        cutoff = time.time() - since_s
        return [s for s in self.history if s.at >= cutoff]

    def latency_percentiles(self, since_s: float = 3600) -> tuple[float | None, float | None]:
        """p50 and p95 of the successful probes' latency over ``since_s``."""
        values = sorted(s.latency_ms for s in self.samples(since_s) if s.latency_ms is not None)
        return percentile(values, 50), percentile(values, 95)


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n * p / 100)
    return float(sorted_values[int(rank) - 1])
