"""``POST /api/tracking/callback``: where the tracking service (快递100) pushes each change of a
followed parcel's track (bff/notify/tracks.py; docs/tracking.md).

Authenticated by the push's signature (``MD5(param + BFF_TRACKING_SALT)``), idempotent (a repeated
or older push changes nothing). The answer is the protocol's: ``{"result": true, "returnCode":
"200", ...}`` once stored (or known to say nothing new), else the service pushes again later.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff.tracking.protocol import PUSH_ANSWER
from bff.web.appstate import services_of

CALLBACK_PATH = "/api/tracking/callback"
MAX_PUSH_BYTES = 512 * 1024  # a whole track, form-encoded (percent-encoded Chinese: 9 bytes a character)


async def callback(request: Request) -> Response:
    parcels = services_of(request).notify.parcels
    if not parcels.enabled:
        return JSONResponse({"result": False, "returnCode": "404", "message": "tracking off"}, status_code=404)
    body = await request.body()
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=10))
    except (UnicodeDecodeError, ValueError):
        return JSONResponse({"result": False, "returnCode": "400", "message": "bad form"}, status_code=400)
    if not await parcels.receive(form):
        return JSONResponse({"result": False, "returnCode": "401", "message": "bad signature"}, status_code=401)
    return JSONResponse(PUSH_ANSWER)


def routes() -> list[Route]:
    return [Route(CALLBACK_PATH, callback, methods=["POST"])]
