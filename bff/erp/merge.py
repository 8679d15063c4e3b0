"""Request merging: identical reads in flight at the same time share one upstream call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Coalescer:
    def __init__(self) -> None:
        self._flights: dict[Hashable, asyncio.Task[Any]] = {}
        self.waiting = 0  # callers awaiting a flight, first ones included (monitoring, tests)

    async def run(self, key: Hashable, factory: Callable[[], Awaitable[T]]) -> T:
        task = self._flights.get(key)
        if task is None:
            # A task of its own, so a cancelled first caller does not cancel the followers.
            task = asyncio.ensure_future(factory())
            self._flights[key] = task
            task.add_done_callback(lambda done: self._land(key, done))
        self.waiting += 1
        try:
            return await asyncio.shield(task)
        finally:
            self.waiting -= 1

    def _land(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._flights.get(key) is task:
            del self._flights[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter may have gone away

    @property
    def in_flight(self) -> int:
        return len(self._flights)
