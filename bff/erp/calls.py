"""Records of upstream ERP calls, and a per-request counter of them.

``erp_call_scope()`` puts a fresh :class:`ErpCallStats` in a context variable; tasks copy
the context when created, so calls made by tasks spawned inside the scope count too.
A scope may carry a ``limit``: :func:`admit_erp_call` (asked before every attempt) refuses
the attempt past it, so one request can never make more than its share of ERP calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bff.erp.errors import ErpBudgetExceeded

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
    limit: int | None = None  # attempts this scope may start
    started: int = 0

    def chain(self) -> Iterator[ErpCallStats]:
        scope: ErpCallStats | None = self
        while scope is not None:
            yield scope
            scope = scope.parent

    def add(self, call: ErpCall) -> None:
        self.calls += 1
        self.ms += call.latency_ms
        if self.parent is not None:
            self.parent.add(call)


_current: ContextVar[ErpCallStats | None] = ContextVar("erp_call_stats", default=None)


@contextmanager
def erp_call_scope(limit: int | None = None) -> Iterator[ErpCallStats]:
    stats = ErpCallStats(parent=_current.get(), limit=limit)
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)


def current_erp_stats() -> ErpCallStats | None:
    return _current.get()


def admit_erp_call() -> None:
    """Count one attempt about to start; ErpBudgetExceeded (before any call) past a scope's limit."""
    stats = _current.get()
    if stats is None:
        return
    scopes = list(stats.chain())
    if any(s.limit is not None and s.started >= s.limit for s in scopes):
        raise ErpBudgetExceeded()
    for scope in scopes:
        scope.started += 1


def calls_left() -> int | None:
    """Attempts the current scope (and every enclosing one) may still start; None: no limit."""
    stats = _current.get()
    if stats is None:
        return None
    left = [s.limit - s.started for s in stats.chain() if s.limit is not None]
    return max(0, min(left)) if left else None
