"""GraphQL over HTTP: the strawberry view, error formatting, and in-process execution.

One formatting path for every error: a BffError keeps its code and Chinese message, an
ERP or WeChat client's exception gets its code and message from the one table
(``bff/web/errors.py``); GraphQL validation problems become BAD_USER_INPUT; anything else
is logged with the request id and answered as INTERNAL, never with a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import strawberry
from cross_web import HTTPException
from graphql import GraphQLError
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import StrawberryGraphQLError
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.execution import ExecutionContext

from bff.core import jsoncodec
from bff.core.errors import DEFAULT_MESSAGES, HTTP_STATUS, BffError, ErrorCode
from bff.core.security import from_wechat_platform, same_secret
from bff.erp.calls import erp_call_scope
from bff.monitor.context import current_request_id, request_facts
from bff.monitor.metrics import current_trace_id
from bff.services import Services
from bff.web.appstate import services_of, settings_of, trusted_sources_of
from bff.web.errors import public_error
from bff.web.graphiql import graphiql_page
from resolvers.context import RequestContext

log = logging.getLogger("bff.graphql")


def _client_fault(error: GraphQLError) -> bool:
    """Parse/validation errors, limiter refusals, and variables that do not coerce to their
    types (graphql-core wraps the scalar's own GraphQLError or ValueError, with no path)."""
    original = error.original_error
    return (
        original is None
        or isinstance(original, (StrawberryGraphQLError, GraphQLError))
        or (not error.path and isinstance(original, (ValueError, TypeError)))
    )


def _unexpected(error: GraphQLError) -> bool:
    return not _client_fault(error) and public_error(error.original_error) is None


def format_error(error: GraphQLError) -> dict[str, Any]:
    public = public_error(error.original_error)
    extensions: dict[str, Any] = {"requestId": current_request_id(), "traceId": current_trace_id()}
    if public is not None:
        extensions.update(code=public.code.value, **public.details)
        message = public.message
    elif _client_fault(error):
        # The client sent a bad document or bad variables.
        extensions.update(code=ErrorCode.BAD_USER_INPUT.value, detail=error.message)
        message = DEFAULT_MESSAGES[ErrorCode.BAD_USER_INPUT]
    else:
        extensions["code"] = ErrorCode.INTERNAL.value
        message = DEFAULT_MESSAGES[ErrorCode.INTERNAL]
    formatted: dict[str, Any] = {"message": message, "extensions": extensions}
    if error.path:
        formatted["path"] = error.path
    return formatted


def format_bff_error(error: BffError) -> dict[str, Any]:
    """A BffError raised outside GraphQL execution, in the GraphQL error shape."""
    return format_error(GraphQLError(error.message, original_error=error))


def refusal(path: str, error: BffError, status: int | None = None) -> JSONResponse:
    """A request refused before it ran (rate limit, admission, a stray cancellation): on /graphql
    in the GraphQL shape, so a GraphQL client reads its code and ``retryAfter`` like any other
    error; elsewhere the JSON error shape. ``retryAfter`` also goes out as ``Retry-After``."""
    if path == "/graphql":
        status = status or HTTP_STATUS[error.code]
        response = JSONResponse({"data": None, "errors": [format_bff_error(error)]}, status_code=status)
    else:
        response = error_response(error.code, error.message, status, **error.details)
    if "retryAfter" in error.details:
        response.headers["Retry-After"] = str(error.details["retryAfter"])
    return response


class BffSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        for error in errors:
            if _unexpected(error):
                log.error("unexpected error in %s", error.path, exc_info=error.original_error)
            elif (public := public_error(error.original_error)) is not None:
                original = error.original_error  # a client's reason or WeChat's errcode: for the log only
                detail = "" if original is public else f" ({type(original).__name__}: {original})"
                log.info("graphql error %s at %s%s", public.code, error.path, detail)
            else:
                log.info("graphql bad input: %s", error.message[:200])  # the client's mistake: no trace


class ErpCallsExtension(SchemaExtension):
    """Adds ``extensions.erp = {calls, ms, estimate}`` (development): the ERP calls this operation
    made, their time, and what its plan estimated before it ran (resolvers/cost.py)."""

    def on_operation(self) -> Iterator[None]:
        with erp_call_scope() as stats:
            self._stats = stats
            yield

    def get_results(self) -> dict[str, Any]:
        stats = getattr(self, "_stats", None)
        if stats is None:
            return {}
        request = self.execution_context.context
        estimate = request.plan.calls if isinstance(request, RequestContext) else None
        return {"erp": {"calls": stats.calls, "ms": round(stats.ms, 1), "estimate": estimate}}


class OperationNameExtension(SchemaExtension):
    """Names the request's GraphQL operation in the access record (call log, log line, metric
    labels): a registered operation's name, else ``other`` (client-chosen names are unbounded)."""

    def __init__(self, known: frozenset[str] = frozenset()) -> None:
        self.known = known

    def on_operation(self) -> Iterator[None]:
        yield
        facts = request_facts()
        if facts is not None:
            name = self.execution_context.operation_name
            facts.operation = name if name in self.known else "other"


class StaleDataExtension(SchemaExtension):
    """Adds ``extensions.stale = {asOf}`` when any part of the answer is kept data, not live."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        as_of = getattr(context, "stale_as_of", None)
        return {"stale": {"asOf": as_of.isoformat()}} if as_of else {}


# Parsed and validated documents, cached: the mini program sends a handful of fixed documents,
# and re-validating each on every request was a quarter of `me`'s CPU (issue 11).
DOCUMENT_CACHE_SIZE = 256
DOCUMENT_CACHES: list[Any] = [
    lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
    lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
]


CONTEXT_KEY = "bff.graphql_context"  # the request's GraphQL context, in its ASGI scope
# Scope key: told the company of the request's viewer once resolved (admission's per-company share).
COMPANY_SEEN = "bff.company_seen"


def bearer_token(request: HTTPConnection) -> str | None:
    """The token of ``Authorization: Bearer <token>``: the one parser of it."""
    auth = request.headers.get("authorization", "")
    return (auth[7:].strip() or None) if auth[:7].lower() == "bearer " else None


def build_context(services: Services, request: HTTPConnection) -> RequestContext:
    bearer = bearer_token(request)
    settings = settings_of(request)
    client_ip = request.client.host if request.client else ""
    trusted = settings.wx_trust_headers and from_wechat_platform(
        dict(request.headers), client_ip, appid=settings.wx_appid, networks=trusted_sources_of(request)
    )
    return RequestContext(
        services=services,
        bearer_token=bearer or None,
        trusted_openid=request.headers.get("x-wx-openid") if trusted else None,
        trusted_unionid=request.headers.get("x-wx-unionid") if trusted else None,
        request_id=current_request_id(),
        service_key=request.headers.get("x-service-key") or None,
        client_ip=client_ip,
        developer=same_secret(request.headers.get("x-developer-key"), settings.developer_key.get_secret_value()),
        company_seen=request.scope.get(COMPANY_SEEN),
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
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] not in ("GET", "POST"):
            response: Response = error_response(ErrorCode.BAD_USER_INPUT, "仅支持 GET 与 POST 请求", status=405)
        else:
            request = Request(scope=scope, receive=receive)
            try:
                response = await self.run(request)
            except HTTPException as error:  # strawberry answers these in text/plain: JSON here, like every error
                response = error_response(ErrorCode.BAD_USER_INPUT, status=error.status_code, detail=error.reason)
            finally:
                context = request.scope.get(CONTEXT_KEY)
                if context is not None:
                    context.release()
        await response(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        return jsoncodec.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return jsoncodec.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A JSON object, or a 400: never a 500 for a body that is a number, not UTF-8 or nested
        20,000 deep. A top-level ``documentId`` travels on in the extensions (trusted documents)."""
        try:
            payload = super().parse_json(data)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        if not isinstance(payload, dict):
            raise HTTPException(400, "The request body must be a JSON object")
        if "documentId" in payload:
            extensions = payload.get("extensions")
            if extensions is None:
                payload["extensions"] = extensions = {}
            if isinstance(extensions, dict):
                extensions["documentId"] = payload["documentId"]
        return payload

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(graphiql_page())  # works offline once `make install` fetched the assets

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> RequestContext:
        context = request.scope[CONTEXT_KEY] = build_context(services_of(request), request)  # released once answered
        return context

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        payload = result_to_payload(result)
        answer: GraphQLHTTPResponse = {"data": payload["data"]}
        if "errors" in payload:
            answer["errors"] = payload["errors"]
        if "extensions" in payload:
            answer["extensions"] = payload["extensions"]
        return answer

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        """A request refused before execution (bad document or variables, unregistered document,
        over budget, rate limited) is a 4xx, as GraphQL over HTTP has it; answers are 200."""
        response = super().create_response(response_data, sub_response)
        errors = response_data.get("errors") if isinstance(response_data, dict) else None
        if errors and response_data.get("data") is None and not any("path" in e for e in errors):
            code = errors[0]["extensions"].get("code", "")
            status = HTTP_STATUS.get(ErrorCode(code)) if code in ErrorCode.__members__ else None
            if status is not None and status < 500:
                response.status_code = status
        return response


async def execute(
    services: Services,
    schema: strawberry.Schema,
    request: Request,
    document: str,
    variables: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run one GraphQL operation in-process (the REST shims' only way into the system)."""
    context = build_context(services, request)
    try:
        result = await schema.execute(document, variable_values=variables, context_value=context)
    finally:
        context.release()
    return result_to_payload(result)
