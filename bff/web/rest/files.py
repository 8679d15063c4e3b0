"""/api/files/{shipmentId}/{index}/{name}: a shipment attachment, fetched with the ERP session.

Not a GraphQL operation (it streams bytes), but it reaches the ERP through the same
scoped reads: a shipment that is not the caller's company's is NOT_FOUND.

The answer names the file (``Content-Disposition`` with an ASCII fallback and the UTF-8 name
of RFC 6266/5987), and its Content-Type is what the bytes are: the ERP's store keeps files
without an extension and may declare ``application/octet-stream`` (bff/core/filetypes.py).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bff.core import filetypes
from bff.core.errors import BffError, ErrorCode
from bff.erp.mapping import attachment_of
from bff.web.appstate import services_of
from bff.web.errors import ANSWERABLE, answer_for
from bff.web.gql import build_context, error_response

MAX_INDEX = 50


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
        content, declared = await services.erp.fetch_file(ref.path)
    except ANSWERABLE as error:  # the ERP's own failures included: one table gives code and message
        public = answer_for(error)
        return error_response(public.code, public.message)
    media_type = filetypes.content_type(declared, content, ref.name)
    return Response(content, media_type=media_type, headers={
        "Cache-Control": "private, max-age=300",
        "Content-Disposition": content_disposition(filetypes.named(ref.name, media_type)),
        "X-Content-Type-Options": "nosniff",
    })


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
