"""Guessed call shapes: accelerations the BFF uses only once the ERP it talks to proves them.

No real client of the live ERP ever sent these shapes (shared reference, "Evidence"), so each
read that tries one checks the answer itself: a row outside what was asked means the ERP
ignored the key, ``success: false`` that it refused it, and either way the read falls back, in
the same request, to its evidenced shape. What was learnt is remembered per process, forgotten
after an ERP error (the service may have changed) and reported by ``bff erp check``; a setting
pins a guess (``on``: always tried, still checked; ``off``: never tried).

| guess | shape | evidenced fallback |
|---|---|---|
| ``code_filter`` | 100001 ``filters {"code": [<codes>]}`` | ``systemFulltext`` per code, exact code kept |
| ``line_order_filter`` | 100185 ``filters {"salesOrderId": [<ids>]}`` | ``condition {"form.id"}`` per order |
| ``product_ids`` | 100039 ``condition {"salesOrderProductIds": [<line ids>]}`` | the order's deliveries, lines read |
| ``customer_list`` | 100001 ``filters {"customerId": [<ids>]}`` (the watcher) | one read per customer |
| ``order_rates`` | 100001 row ``shippedRate``: 0 when no line left the warehouse, 1 when every line did | the order's lines |

``order_rates`` is not a call shape but a reading of an answer (docs/erp-protocol.md row 26): every
page of cards compares each order row's ``shippedRate`` with its lines (nothing / some / all left
the warehouse) and records whether it agrees; the 未发货 / 已逾期 filters use it to leave the lines
of most open orders unread (``bff/orders/filters.py``) and check it on the lines they do read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

logger = logging.getLogger("bff.erp")

Setting = Literal["auto", "on", "off"]
GUESS_NAMES = ("code_filter", "line_order_filter", "product_ids", "customer_list", "order_rates")
RECHECK_AFTER_S = 300.0  # an ERP error makes the guesses be proven again, at most this often


class Left(StrEnum):
    """How much of an order left the warehouse (its lines' ``shippedQuantity``): the ``order_rates``
    guess reads it off the order row's ``shippedRate`` instead of the lines."""

    NOTHING = "nothing"
    SOME = "some"
    ALL = "all"


def left_by_rate(rate: float | None) -> Left | None:
    """The guess: the row's ``shippedRate`` (0..1, read by ``models.read_rate``) says it; None: no rate."""
    if rate is None:
        return None
    return Left.NOTHING if rate <= 0 else Left.ALL if rate >= 1 else Left.SOME


def left_by_lines(lines: Iterable[tuple[float, float]]) -> Left | None:
    """The evidence: each line's (shippedQuantity, quantity); None for an order without lines."""
    pairs = [(shipped, quantity) for shipped, quantity in lines if quantity > 0]
    if not pairs:
        return None
    if all(shipped <= 0 for shipped, _ in pairs):
        return Left.NOTHING
    return Left.ALL if all(shipped >= quantity for shipped, quantity in pairs) else Left.SOME


class GuessState(StrEnum):
    UNKNOWN = "unknown"  # not tried since start (or since the last ERP error)
    HOLDS = "holds"  # the last answer kept to what was asked
    IGNORED = "ignored"  # an answer held rows outside what was asked
    REFUSED = "refused"  # the ERP answered success: false


@dataclass
class Guess:
    name: str
    setting: Setting = "auto"
    state: GuessState = GuessState.UNKNOWN
    tries: int = 0  # reads that tried the shape (monitoring, tests)

    @property
    def worth_trying(self) -> bool:
        if self.setting != "auto":
            return self.setting == "on"
        return self.state in (GuessState.UNKNOWN, GuessState.HOLDS)

    def tried(self) -> None:
        self.tries += 1

    def observed(self, state: GuessState) -> None:
        if state is not self.state:
            log = logger.info if state is GuessState.HOLDS else logger.warning
            log("erp guess %s: %s (was %s); evidenced shape %s", self.name, state.value, self.state.value,
                "not needed" if state is GuessState.HOLDS else "used from now on")
            self.state = state

    def forget(self) -> None:
        if self.state is not GuessState.UNKNOWN:
            logger.info("erp guess %s: forgotten after an ERP error (was %s)", self.name, self.state.value)
            self.state = GuessState.UNKNOWN


@dataclass
class Guesses:
    """The process's knowledge of every guess, shared by all requests."""

    code_filter: Guess = field(default_factory=lambda: Guess("code_filter"))
    line_order_filter: Guess = field(default_factory=lambda: Guess("line_order_filter"))
    product_ids: Guess = field(default_factory=lambda: Guess("product_ids"))
    customer_list: Guess = field(default_factory=lambda: Guess("customer_list"))
    order_rates: Guess = field(default_factory=lambda: Guess("order_rates"))
    forgotten_at: float | None = None  # time.monotonic() of the last forget()

    @classmethod
    def pinned(cls, settings: dict[str, Setting]) -> Guesses:
        guesses = cls()
        for name, setting in settings.items():
            guesses.by_name(name).setting = setting
        return guesses

    def by_name(self, name: str) -> Guess:
        if name not in GUESS_NAMES:
            raise KeyError(name)
        guess: Guess = getattr(self, name)
        return guess

    def all(self) -> list[Guess]:
        return [self.by_name(name) for name in GUESS_NAMES]

    def forget(self) -> None:
        """Each guess is checked again by the next read that tries it."""
        for guess in self.all():
            guess.forget()

    def after_erp_error(self) -> None:
        """The ERP failed (perhaps an upgrade): prove the guesses again, at most once per
        :data:`RECHECK_AFTER_S`: re-checking an ignored guess reads a whole form, which an ERP
        already in trouble should not be asked for again and again."""
        now = time.monotonic()
        if self.forgotten_at is not None and now - self.forgotten_at < RECHECK_AFTER_S:
            return
        self.forgotten_at = now
        self.forget()

    def describe(self) -> dict[str, dict[str, str | int]]:
        return {g.name: {"setting": g.setting, "state": g.state.value, "tries": g.tries} for g in self.all()}
