"""/api/files/{shipmentId}/{index}/{name}: a shipment attachment, fetched with the ERP session.

Not a GraphQL operation (it streams bytes), but it reaches the ERP through the same
scoped reads: a shipment that is not the caller's company's is NOT_FOUND.

The answer names the file (``Content-Disposition`` with an ASCII fallback and the UTF-8 name
of RFC 6266/5987), and its Content-Type is what the bytes are: the ERP's store keeps files
without an extension and may declare ``application/octet-stream`` (bff/core/filetypes.py).

The file is streamed, never held whole: its first bytes (what the type is told from) are read
before the status is sent, then the rest is relayed chunk by chunk. At most
``BFF_ATTACHMENT_MAX_BYTES``: a file the ERP declares larger is refused before its body is read
(413 ATTACHMENT_TOO_LARGE), as is one its delivery lists larger (the ERP is not even asked);
one without a declared length that passes the limit after the
status was sent has its connection cut (:data:`bff.web.edge.ABORT`), so the client sees a
broken transfer, never a shorter file that looks complete. A client that hangs up has the ERP's
answer closed at once (its connection is not returned to the pool with unread bytes).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bff.core import filetypes
from bff.core.errors import BffError, ErrorCode
from bff.erp.client import ErpFile
from bff.erp.errors import ErpError
from bff.erp.mapping import attachment_of
from bff.web.appstate import services_of, settings_of
from bff.web.edge import ABORT
from bff.web.errors import ANSWERABLE, answer_for
from bff.web.gql import build_context, error_response

log = logging.getLogger("bff.files")

MAX_INDEX = 50
# A client that takes no chunk for this long is dropped: it holds one of the few ERP connections
# downloads may use (bff/erp/client.py), so it must not hold it for ever.
SEND_STALL_S = 60.0


async def download(request: Request) -> Response:
    services = services_of(request)
    context = build_context(services, request)
    try:
        loaders = await context.order_loaders()
        shipment_id = request.path_params["shipment_id"]
        index = int(request.path_params["index"])
        if not shipment_id.isalnum() or len(shipment_id) > 40 or index > MAX_INDEX:
            raise BffError(ErrorCode.NOT_FOUND)
        record = await loaders.reads.delivery_record(shipment_id)
        ref = attachment_of(record, index) if record is not None else None
        if ref is None:
            raise BffError(ErrorCode.NOT_FOUND, "附件不存在")
        max_bytes = settings_of(request).attachment_max_bytes
        if ref.size is not None and ref.size > max_bytes:  # the delivery lists it larger: the ERP is not asked
            raise BffError(ErrorCode.ATTACHMENT_TOO_LARGE)
        file = await services.erp.open_file(ref.path, max_bytes=max_bytes, head_bytes=filetypes.HEAD)
    except ANSWERABLE as error:  # the ERP's own failures included: one table gives code and message
        public = answer_for(error)
        return error_response(public.code, public.message)
    media_type = filetypes.content_type(file.content_type, file.head, ref.name)
    headers = {
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": content_disposition(filetypes.named(ref.name, media_type)),
        "X-Content-Type-Options": "nosniff",
    }
    if file.length is not None:
        headers["Content-Length"] = str(file.length)
    return FileRelay(file, media_type, headers)


class FileRelay(Response):
    """The ERP's file relayed as it comes: the head at once, then each chunk; the ERP's answer
    closed in every case (done, failed, or the client gone)."""

    def __init__(self, file: ErpFile, media_type: str, headers: dict[str, str]) -> None:
        self.file = file
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.init_headers(headers)  # no Content-Length unless the ERP's: chunked otherwise

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        relay = asyncio.ensure_future(self._relay(send))
        gone = asyncio.ensure_future(_hangup(receive))
        try:
            await asyncio.wait((relay, gone), return_when=asyncio.FIRST_COMPLETED)
            if not relay.done():
                relay.cancel()
                await asyncio.wait((relay,))
                log.info("client hung up during a download: ERP answer closed after %d bytes", self.file.bytes_read)
                return
            failure = relay.exception()
            if failure is not None:
                if not isinstance(failure, (ErpError, TimeoutError)):
                    raise failure
                # The status is out: the only honest end left is a broken connection.
                log.warning("download cut after %d bytes: %s", self.file.bytes_read,
                            "over BFF_ATTACHMENT_MAX_BYTES" if self.file.bytes_read > self.file.max_bytes else failure)
                await _cut(scope, gone)
        finally:
            gone.cancel()
            if not relay.done():
                relay.cancel()
            await self.file.aclose()

    async def _relay(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        async with asyncio.timeout(SEND_STALL_S):
            await send({"type": "http.response.body", "body": self.file.head, "more_body": True})
        async for chunk in self.file.rest():
            async with asyncio.timeout(SEND_STALL_S):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _hangup(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _cut(scope: Scope, gone: asyncio.Future[None]) -> None:
    """Drop the client's connection mid-answer. Under `bff serve` (the guarded protocol) at once,
    and the request ends when the server has seen the connection go; elsewhere, returning with
    the answer unfinished makes uvicorn close the connection (and log that it was unfinished)."""
    abort = scope.get(ABORT)
    if abort is None:
        return
    abort()
    await asyncio.wait((gone,), timeout=5.0)


def ascii_fallback(name: str) -> str:
    """The ``filename`` of old clients: accents dropped, every other non-ASCII run, quote,
    backslash or control as one ``_``; ``attachment<.ext>`` when nothing of the stem is left."""
    chars = (c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    text = re.sub(r"_{2,}", "_", "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in chars)).strip()
    ext = filetypes.extension(name)
    stem = text[: len(text) - len(ext)] if ext and text.lower().endswith(ext) else text
    return text if stem.strip(" _.") else "attachment" + ext


def content_disposition(name: str) -> str:
    """``attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>`` (RFC 6266, 5987)."""
    return f"attachment; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def routes() -> list[Route]:
    return [Route("/api/files/{shipment_id}/{index:int}/{name}", download, methods=["GET"], name="attachment")]
