"""HTTP to the tracking service: the real-time query and the subscription (bff/tracking/protocol.py).

The account (``customer``), the key and the salt come from the settings (``BFF_TRACKING_*``); none
of them, nor a phone number, ever reaches a log line: failures are logged by type and return code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx

from bff.tracking import protocol
from bff.tracking.errors import TrackingUnavailable
from bff.tracking.protocol import Track

log = logging.getLogger("bff.tracking")


@dataclass(frozen=True)
class TrackingConfig:
    base_url: str
    customer: str
    key: str
    salt: str
    timeout_s: float = 3.0

    @property
    def enabled(self) -> bool:
        return bool(self.customer and self.key)


class TrackingClient:
    def __init__(self, config: TrackingConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(config.timeout_s, connect=2.0))
        self.calls = 0  # requests made (tests, the cost bounds)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, path: str, form: dict[str, str]) -> Any:
        self.calls += 1
        try:
            answer = await self._http.post(self.config.base_url.rstrip("/") + path, data=form)
        except httpx.HTTPError as error:
            raise TrackingUnavailable(type(error).__name__) from None
        if answer.status_code != 200:
            raise TrackingUnavailable(f"HTTP {answer.status_code}")
        try:
            return answer.json()
        except ValueError:
            raise TrackingUnavailable("answer is not JSON") from None

    async def query(self, com: str, number: str, phone: str | None) -> Track:
        """The parcel's track now (only when a purchaser asks: the service says not to poll it)."""
        c = self.config
        body = await self._post(protocol.QUERY_PATH, protocol.query_form(c.customer, c.key, com, number, phone))
        return protocol.query_answer(body, com, number)

    async def subscribe(self, com: str, number: str, phone: str | None, callback_url: str) -> None:
        """Follow the parcel: the service pushes each change of its track to ``callback_url``."""
        c = self.config
        body = await self._post(protocol.SUBSCRIBE_PATH, protocol.subscribe_form(c.key, com, number, phone, callback_url, c.salt))
        protocol.subscribe_answer(body)
