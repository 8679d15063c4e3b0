"""HTTP helpers shared by both simulators."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


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
