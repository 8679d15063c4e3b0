"""Records of upstream ERP calls, and a per-request counter of them.

``erp_call_scope()`` puts a fresh :class:`ErpCallStats` in a context variable; tasks copy
the context when created, so calls made by tasks spawned inside the scope count too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Outcome = Literal["ok", "expired", "refused", "invalid", "transient", "timeout"]


@dataclass(frozen=True)
class ErpCall:
    """One upstream HTTP call (login steps included). Holds no body, cookie or account."""

    endpoint: str
    form_id: int | None
    started_at: datetime
    latency_ms: float
    outcome: Outcome
    attempt: int


@dataclass
class ErpCallStats:
    calls: int = 0
    ms: float = 0.0
    parent: ErpCallStats | None = field(default=None, repr=False)  # an enclosing scope counts too

    def add(self, call: ErpCall) -> None:
        self.calls += 1
        self.ms += call.latency_ms
        if self.parent is not None:
            self.parent.add(call)


_current: ContextVar[ErpCallStats | None] = ContextVar("erp_call_stats", default=None)


@contextmanager
def erp_call_scope() -> Iterator[ErpCallStats]:
    stats = ErpCallStats(parent=_current.get())
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)


def current_erp_stats() -> ErpCallStats | None:
    return _current.get()
