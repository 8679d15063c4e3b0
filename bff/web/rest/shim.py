"""The shim machinery: a route declares its GraphQL document, how to read its variables
from the HTTP request, and how to shape the data; errors map to HTTP statuses here, once."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bff.core.errors import HTTP_STATUS, BffError, ErrorCode
from bff.web.appstate import services_of
from bff.web.gql import error_response, execute
from bff.web.rest.shape import Shape, apply_shape

Variables = dict[str, Any]
ReadVariables = Callable[[Request], Awaitable[Variables]]


@dataclass(frozen=True)
class Shim:
    method: str
    path: str
    summary: str
    document: str
    read_variables: ReadVariables
    shape: Shape  # answer key → path into the data ("*": spread); also gives the OpenAPI response schema
    tag: str = "api"
    auth: bool = True
    request_schema: dict[str, Any] | None = None  # OpenAPI JSON schema of the body
    query_params: dict[str, dict[str, Any]] = field(default_factory=dict)


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        raise BffError(ErrorCode.BAD_USER_INPUT, "请求体不是有效的 JSON") from None
    if not isinstance(body, dict):
        raise BffError(ErrorCode.BAD_USER_INPUT, "请求体必须是 JSON 对象")
    return body


def first_error_response(errors: list[dict[str, Any]]) -> Response:
    error = errors[0]
    extensions = dict(error.get("extensions", {}))
    code = ErrorCode(extensions.pop("code", ErrorCode.INTERNAL.value))
    extensions.pop("requestId", None)
    extensions.pop("traceId", None)
    return error_response(code, error["message"], **extensions)


def make_route(shim: Shim, schema: strawberry.Schema) -> Route:
    async def endpoint(request: Request) -> Response:
        try:
            variables = await shim.read_variables(request)
        except BffError as error:
            return error_response(error.code, error.message, **error.details)
        payload = await execute(services_of(request), schema, request, shim.document, variables)
        if payload.get("errors"):
            return first_error_response(payload["errors"])
        body = apply_shape(shim.shape, payload["data"])
        if "extensions" in payload:
            body["extensions"] = payload["extensions"]
        return JSONResponse(body)

    return Route(shim.path, endpoint, methods=[shim.method], name=f"{shim.method} {shim.path}")


__all__ = ["HTTP_STATUS", "Shim", "json_body", "make_route"]
