"""GraphQL over HTTP: the strawberry view, error formatting, and in-process execution.

One formatting path for every error: a BffError keeps its code and Chinese message;
GraphQL validation problems become BAD_USER_INPUT; anything else is logged with the
request id and answered as INTERNAL, never with a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.execution import ExecutionContext

from bff.erp.calls import erp_call_scope
from bff.errors import DEFAULT_MESSAGES, HTTP_STATUS, BffError, ErrorCode
from bff.monitor.access import request_facts
from bff.monitor.metrics import current_trace_id
from bff.requestid import current_request_id
from bff.services import Services
from resolvers.context import RequestContext

log = logging.getLogger("bff.graphql")


def _unexpected(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, BffError)


def format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    extensions: dict[str, Any] = {"requestId": current_request_id(), "traceId": current_trace_id()}
    if isinstance(original, BffError):
        extensions.update(code=original.code.value, **original.details)
        message = original.message
    elif original is None or isinstance(original, StrawberryGraphQLError):
        # Parse/validation errors and limiter refusals: the client sent a bad document.
        extensions.update(code=ErrorCode.BAD_USER_INPUT.value, detail=error.message)
        message = DEFAULT_MESSAGES[ErrorCode.BAD_USER_INPUT]
    else:
        extensions["code"] = ErrorCode.INTERNAL.value
        message = DEFAULT_MESSAGES[ErrorCode.INTERNAL]
    formatted: dict[str, Any] = {"message": message, "extensions": extensions}
    if error.path:
        formatted["path"] = error.path
    return formatted


class BffSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if _unexpected(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
            elif isinstance(error.original_error, BffError):
                log.info("graphql error %s at %s", error.original_error.code, error.path)


class ErpCallsExtension(SchemaExtension):
    """Adds ``extensions.erp = {calls, ms}``: the ERP round trips this operation cost."""

    def on_operation(self) -> Iterator[None]:
        with erp_call_scope() as stats:
            self._stats = stats
            yield

    def get_results(self) -> dict[str, Any]:
        stats = getattr(self, "_stats", None)
        if stats is None:
            return {}
        return {"erp": {"calls": stats.calls, "ms": round(stats.ms, 1)}}


class OperationNameExtension(SchemaExtension):
    """Names the request's GraphQL operation in the access record (call log and log line)."""

    def on_operation(self) -> Iterator[None]:
        yield
        facts = request_facts()
        if facts is not None:
            facts.operation = self.execution_context.operation_name or "anonymous"


class StaleDataExtension(SchemaExtension):
    """Adds ``extensions.stale = {asOf}`` when any part of the answer is kept data, not live."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        as_of = getattr(context, "stale_as_of", None)
        return {"stale": {"asOf": as_of.isoformat()}} if as_of else {}


def build_context(services: Services, request: Request) -> RequestContext:
    auth = request.headers.get("authorization", "")
    bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    trusted = request.app.state.settings.wx_trust_headers
    return RequestContext(
        services=services,
        bearer_token=bearer or None,
        trusted_openid=request.headers.get("x-wx-openid") if trusted else None,
        trusted_unionid=request.headers.get("x-wx-unionid") if trusted else None,
        request_id=current_request_id(),
        service_key=request.headers.get("x-service-key") or None,
    )


def result_to_payload(result: ExecutionResult) -> dict[str, Any]:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(e) for e in result.errors]
        facts = request_facts()
        if facts is not None:
            facts.error_code = payload["errors"][0]["extensions"]["code"]
    if result.extensions:
        payload["extensions"] = result.extensions
    return payload


def error_response(code: ErrorCode, message: str | None = None, status: int | None = None, **details: Any) -> JSONResponse:
    """The one JSON error shape of every non-GraphQL answer (REST shims, HTTP-level failures)."""
    body = {
        "error": {
            "code": code.value,
            "message": message or DEFAULT_MESSAGES[code],
            "requestId": current_request_id(),
            "traceId": current_trace_id(),
            **details,
        }
    }
    return JSONResponse(body, status_code=status or HTTP_STATUS[code])


class GraphQLView(GraphQL[RequestContext, None]):
    def __init__(self, services: Services, schema: strawberry.Schema, **kwargs: Any) -> None:
        super().__init__(schema, **kwargs)
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "POST"):
            response: Response = error_response(ErrorCode.BAD_USER_INPUT, "仅支持 GET 与 POST 请求", status=405)
            await response(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def get_context(self, request: Request, response: Response) -> RequestContext:  # type: ignore[override]
        return build_context(self.services, request)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:  # type: ignore[override]
        return result_to_payload(result)  # type: ignore[return-value]


async def execute(
    services: Services,
    schema: strawberry.Schema,
    request: Request,
    document: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one GraphQL operation in-process (the REST shims' only way into the system)."""
    result = await schema.execute(document, variable_values=variables, context_value=build_context(services, request))
    return result_to_payload(result)
