"""The edge against slow and lying clients (issue 19): who the client is, and how long its
headers and body may take.

* Client address: uvicorn's ``ProxyHeadersMiddleware`` inside the app, trusting only
  ``BFF_TRUSTED_PROXIES``: X-Forwarded-For is walked from the right and the first hop that is
  not a trusted proxy is the client (a forged leftmost entry is never believed), and
  X-Forwarded-Proto only from a trusted proxy. uvicorn's own proxy handling is turned off
  (``uvicorn_options``) so the header is read once, by the rule the app was built with.
* Headers: :func:`guarded_http_protocol` gives uvicorn's httptools protocol a deadline for a
  request's headers and a cap on their size (uvicorn has neither: a slow-header client held a
  socket for ever, and 1 MB of headers was accepted).
* Body: :class:`RequestBodyMiddleware` reads the whole body (bounded in size and in time)
  *before* admission control, so a slow body never holds one of the instance's places; then
  it watches for the client hanging up, so admission can cancel work nobody will read.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from bff.core.config import Settings
from bff.core.errors import BffError, ErrorCode
from bff.web.gql import refusal

log = logging.getLogger("bff.edge")

HANGUP = "bff.hangup"  # scope key: an awaitable that returns once the client is gone
# Scope key: a callable that drops the connection at once (ASGI has no way to say "this answer
# failed half-way"): a streamed answer that cannot be finished is cut, never ended as if complete.
ABORT = "bff.abort"


class _HeadersTooLarge(Exception):
    pass


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline and a header size cap."""

    header_timeout_s = 10.0
    max_header_bytes = 32 * 1024
    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = 0
    _awaiting_headers = True
    _oversized = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        self._awaiting_headers = True
        self._header_bytes = 0
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            log.info("headers not in within %ss: connection closed", self.header_timeout_s)
            self._refuse(b"408 Request Timeout")

    def _refuse(self, status: bytes) -> None:
        self.transport.write(b"HTTP/1.1 " + status + b"\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
            if self._header_timer is None:  # the first bytes of a next request on a kept-alive connection
                self._arm()
        super().data_received(data)
        # Still no end of headers after this data: everything since the request began is header.
        if self._awaiting_headers and self._header_bytes > self.max_header_bytes and not self.transport.is_closing():
            log.info("headers over %d bytes: connection closed", self.max_header_bytes)
            self._refuse(b"431 Request Header Fields Too Large")

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._disarm()
        self.scope[ABORT] = self.transport.abort  # type: ignore[literal-required]
        if len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers) > self.max_header_bytes:
            self._oversized = True
            raise _HeadersTooLarge()  # the parser stops; uvicorn answers through send_400_response
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if self._oversized:
            log.info("headers over %d bytes: connection closed", self.max_header_bytes)
            self._refuse(b"431 Request Header Fields Too Large")
        else:
            super().send_400_response(msg)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_headers = True  # the next request's headers; the timer starts with its first byte
        self._header_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._awaiting_headers:
            self._disarm()  # idle between requests: uvicorn's keep-alive timeout applies

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def guarded_http_protocol(header_timeout_s: float, max_header_bytes: int) -> type[GuardedHttpProtocol]:
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {
        "header_timeout_s": header_timeout_s, "max_header_bytes": max_header_bytes,
    })


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What ``bff serve`` and the demo give uvicorn: the guarded protocol; no proxy handling of
    uvicorn's own (the app's ProxyHeadersMiddleware does it with BFF_TRUSTED_PROXIES)."""
    return {
        "http": guarded_http_protocol(settings.header_timeout_s, settings.max_header_bytes),
        "proxy_headers": False,
    }


class _Refused(Exception):
    def __init__(self, code: ErrorCode, status: int | None = None) -> None:
        self.code = code
        self.status = status


class RequestBodyMiddleware:
    """Reads a request's whole body before the app runs: at most ``max_bytes`` (413;
    ``overrides`` gives a path, an upload, its own limit) within ``deadline_s`` (408), then
    hands it on in one message. A client gone while sending is one INFO line. Afterwards a
    single task waits for the client to hang up (``scope[HANGUP]``)."""

    def __init__(self, app: ASGIApp, max_bytes: int, deadline_s: float, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.deadline_s = deadline_s
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.overrides.get(scope["path"], self.max_bytes)
        try:
            body = await self._read(scope, receive, max_bytes)
        except _Refused as refused:
            response = refusal(scope["path"], BffError(refused.code), status=refused.status)
            if refused.code is ErrorCode.REQUEST_TIMEOUT:
                response.headers["Connection"] = "close"  # no more waiting on this client
            await response(scope, receive, send)
            return
        if body is None:
            log.info("client went away while sending its body", extra={"path": scope["path"]})
            return
        request = _BufferedRequest(body, receive)
        scope[HANGUP] = request.hangup
        try:
            await self.app(scope, request.receive, send)
        finally:
            request.close()

    async def _read(self, scope: Scope, receive: Receive, max_bytes: int) -> bytes | None:
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > max_bytes):
            raise _Refused(ErrorCode.PAYLOAD_TOO_LARGE)
        body = bytearray()
        try:
            async with asyncio.timeout(self.deadline_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    body += message.get("body", b"")
                    if len(body) > max_bytes:
                        raise _Refused(ErrorCode.PAYLOAD_TOO_LARGE)
                    if not message.get("more_body", False):
                        return bytes(body)
        except TimeoutError:
            log.info("body not in within %ss", self.deadline_s, extra={"path": scope["path"]})
            raise _Refused(ErrorCode.REQUEST_TIMEOUT) from None


class _BufferedRequest:
    """The body in one message, then ``http.disconnect`` once the client is gone; one task
    reads the server's ``receive`` for that, whoever asks."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self._body: bytes | None = body
        self._receive = receive
        self._gone: asyncio.Future[Message] | None = None

    async def receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await self.hangup()
        return {"type": "http.disconnect"}

    async def hangup(self) -> None:
        """Returns once the client has hung up (or the response is complete)."""
        if self._gone is None:
            self._gone = asyncio.ensure_future(self._receive())
        await asyncio.shield(self._gone)

    def close(self) -> None:
        if self._gone is not None and not self._gone.done():
            self._gone.cancel()


async def serve_until_hangup(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, hangup: Callable[[], Awaitable[None]]
) -> None:
    """Runs the app; if the client hangs up before the answer starts, cancels the work nobody
    will read (the ERP pool is cancel-safe) and returns at once, so the caller frees its place."""
    responding = False

    async def watch(message: Message) -> None:
        nonlocal responding
        responding = responding or message["type"] == "http.response.start"
        await send(message)

    work = asyncio.ensure_future(app(scope, receive, watch))
    gone = asyncio.ensure_future(hangup())
    try:
        await asyncio.wait((work, gone), return_when=asyncio.FIRST_COMPLETED)
        if work.done() or responding:
            await work
            return
        work.cancel()
        await asyncio.wait((work,))  # its own CancelledError stays in it
        log.info("client hung up before its answer: request cancelled", extra={"path": scope["path"]})
        # Nobody reads this; it tells the access log and the metrics what happened (nginx's 499).
        await send({"type": "http.response.start", "status": 499, "headers": []})
        await send({"type": "http.response.body", "body": b""})
    finally:
        gone.cancel()
        if not work.done():
            work.cancel()
