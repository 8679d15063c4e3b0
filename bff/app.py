"""Builds the Starlette app: /graphql, the /api REST shims, health, OpenAPI."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.extensions import AddValidationRules

from bff.config import Settings
from bff.gql import BffSchema, ErpCallsExtension, GraphQLView, OperationNameExtension, StaleDataExtension
from bff.http_guards import BodySizeLimitMiddleware, ErpBudgetMiddleware, http_error, internal_error
from bff.health import health_check
from bff.monitor.access import AccessLogMiddleware
from bff.monitor.tracing import TracingMiddleware
from bff.requestid import RequestIdMiddleware
from bff.monitor.dashboard import dashboard
from bff.rest import auth_routes, files, monitor_routes, order_routes
from bff.rest import message_routes
from bff.rest.openapi import build_openapi
from bff.rest.shim import Shim, make_route
from bff.services import Services
from schema import build_schema

log = logging.getLogger("bff.app")


def all_shims() -> list[Shim]:
    return [*auth_routes.shims(), *order_routes.shims(), *monitor_routes.shims(), *message_routes.shims()]


def create_schema(settings: Settings) -> BffSchema:
    extensions: list[Any] = [StaleDataExtension, OperationNameExtension]
    if settings.is_production:
        extensions.append(lambda: AddValidationRules([NoSchemaIntrospectionCustomRule]))
    else:
        extensions.append(ErpCallsExtension)
    schema = build_schema(
        max_depth=settings.max_query_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        extra_extensions=extensions,
        schema_class=BffSchema,
    )
    assert isinstance(schema, BffSchema)
    return schema


def create_app(settings: Settings | None = None, services: Services | None = None) -> Starlette:
    settings = settings or Settings()
    owns_services = services is None  # an app closes only what it created
    services = services or Services.create(settings)
    schema = create_schema(settings)
    shims = all_shims()
    openapi = build_openapi(shims)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    async def metrics(request: Request) -> Response:
        # Prometheus text; operation names and counts only, no user data.
        return Response(services.telemetry.prometheus_text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    graphql = GraphQLView(services, schema, graphql_ide=None if settings.is_production else "graphiql")
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/api/health/check", health_check),
        Route("/api/openapi.json", openapi_json),
        Route("/metrics", metrics),
        Route("/admin", dashboard),
        *(make_route(shim, services, schema) for shim in shims),
        *files.routes(),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await services.start()
        try:
            yield
        finally:
            if owns_services:
                await services.aclose()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(TracingMiddleware, tracer=services.telemetry.tracer),
            Middleware(AccessLogMiddleware, writer=services.call_log, observer=services.telemetry.record_request),
            Middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes),
            Middleware(ErpBudgetMiddleware, seconds=settings.erp_request_budget_s),
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.schema = schema
    app.state.shims = shims
    return app
