"""Did WeChat deliver a message whose sender died mid-send? Asked where it can be known.

WeChat's API has no query for a subscription message, so against the real service the
answer is "cannot tell" and the row is settled as ``unknown`` (never resent: a purchaser
must not get the same event twice). The WeChat simulator keeps a delivery log, so the demo
(``bff demo``, the tests' stack) and ``bff serve --wechat-sim`` hand :class:`SimulatorDeliveryLog`
to the services and settle such rows exactly: delivered -> ``sent``, not delivered -> queued
again. Nothing else chooses it: the services have none unless given one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol

import httpx

from bff.store.tables import MessageLog


class CannotTell(Exception):
    pass


class DeliveryLog(Protocol):
    async def delivered(self, row: MessageLog) -> str | None:
        """WeChat's msgid when it delivered ``row``, None when it surely did not; else CannotTell."""


class SimulatorDeliveryLog:
    """The WeChat simulator's ``/__sim/messages``; any failure to read it is CannotTell."""

    def __init__(self, base_url: str) -> None:
        self._url = base_url.rstrip("/") + "/__sim/messages"

    async def delivered(self, row: MessageLog) -> str | None:
        try:
            async with httpx.AsyncClient(timeout=5.0) as http:
                answer = await http.get(self._url)
                answer.raise_for_status()
                log = answer.json()["messages"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            raise CannotTell(type(error).__name__) from None
        data = json.loads(row.msg_content or "{}")
        claimed = row.claimed_at.isoformat() if isinstance(row.claimed_at, datetime) else ""
        for message in log:
            if (
                message.get("touser") == row.openid and message.get("template_id") == row.template_id
                and message.get("data") == data and (message.get("page") or None) == (row.page or None)
                and str(message.get("time", ""))[:19] >= claimed[:19]
            ):
                return str(message.get("msgid"))
        return None
