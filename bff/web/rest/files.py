"""/api/files/{shipmentId}/{index}/{name}: a shipment attachment, fetched with the ERP session.

Not a GraphQL operation (it streams bytes), but it reaches the ERP through the same
scoped reads: a shipment that is not the caller's company's is NOT_FOUND.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bff.core.errors import BffError, ErrorCode
from bff.web.errors import ANSWERABLE, answer_for
from bff.web.appstate import services_of
from bff.web.gql import build_context, error_response
from bff.erp.mapping import attachment_path

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
        await loaders.reads.shipments_by_ids([shipment_id])
        record = loaders.reads.delivery_record(shipment_id)
        path = attachment_path(record, index) if record is not None else None
        if path is None:
            raise BffError(ErrorCode.NOT_FOUND, "附件不存在")
        content, content_type = await services.erp.fetch_file(path)
    except ANSWERABLE as error:  # the ERP's own failures included: one table gives code and message
        public = answer_for(error)
        return error_response(public.code, public.message)
    return Response(content, media_type=content_type, headers={"Cache-Control": "private, max-age=300"})


def routes() -> list[Route]:
    return [Route("/api/files/{shipment_id}/{index:int}/{name}", download, methods=["GET"], name="attachment")]
