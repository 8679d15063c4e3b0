"""HTTP helpers shared by both simulators."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(payload: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(payload, status_code=status)


async def read_json(request: Request) -> Any:
    """The body as JSON: {} when empty, None when it is not JSON (each simulator answers that its own way)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def read_object(request: Request) -> dict[str, Any]:
    """A control call's body, which must be a JSON object."""
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def control(handler: Endpoint) -> Endpoint:
    """A control-API endpoint: misuse answers HTTP 400 ``{"error": ...}`` so a broken test fails loudly."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return json_response({"error": str(exc) or type(exc).__name__}, 400)

    return wrapped
