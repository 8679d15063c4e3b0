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
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from bff.core.config import Settings
from bff.core.security import parse_networks
from bff.notify.reconcile import DeliveryLog
from bff.services import Services
from bff.web import dashboard
from bff.web.access import AccessLogMiddleware
from bff.web.admission import Admission, AdmissionMiddleware, Shares
from bff.web.documents import DocumentRegistry
from bff.web.edge import RequestBodyMiddleware
from bff.web.gql import DOCUMENT_CACHES, BffSchema, ErpCallsExtension, GraphQLView, OperationNameExtension, StaleDataExtension
from bff.web.gql_guards import ErpBudget, TrustedDocuments
from bff.web.graphiql import graphiql_routes
from bff.web.health import Readiness, health_check
from bff.web.http_guards import (
    ErpBudgetMiddleware,
    RequestRateLimitMiddleware,
    StrayCancellationMiddleware,
    http_error,
    internal_error,
)
from bff.web.metrics_route import MetricsEndpoint
from bff.web.requestid import RequestIdMiddleware
from bff.web.rest import auth_routes, avatar_routes, files, message_routes, monitor_routes, order_routes, tracking_routes
from bff.web.rest.openapi import build_openapi
from bff.web.rest.shim import Shim, make_route
from bff.web.tracing import TracingMiddleware
from schema import build_schema

log = logging.getLogger("bff.app")


def all_shims() -> list[Shim]:
    return [*auth_routes.shims(), *order_routes.shims(), *monitor_routes.shims(), *message_routes.shims()]


def create_schema(settings: Settings, registry: DocumentRegistry | None = None) -> BffSchema:
    registry = registry or DocumentRegistry({})
    extensions: list[Any] = [
        StaleDataExtension,
        lambda: OperationNameExtension(registry.operation_names),
        # Issue 10: trusted documents, then the ERP budget of the operation.
        lambda: TrustedDocuments(registry, required=settings.trusted_documents_required),
        lambda: ErpBudget(
            budget=settings.erp_cost_budget, max_calls=settings.erp_max_calls_per_request,
            max_list=settings.max_page_size,
        ),
        *DOCUMENT_CACHES,  # issue 11: documents outside the registry parsed and validated once too
    ]
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
        field_suggestions=not settings.is_production,  # "Did you mean …" maps the schema for a stranger
    )
    assert isinstance(schema, BffSchema)
    registry.prepare(schema)  # registered documents: parsed here, validated once on first use
    return schema


def create_app(
    settings: Settings | None = None, services: Services | None = None, *, delivery_log: DeliveryLog | None = None,
) -> Starlette:
    """``delivery_log``: for the services it creates (``bff serve --wechat-sim``; see Services.create)."""
    settings = settings or Settings()
    owns_services = services is None  # an app closes only what it created
    services = services or Services.create(settings, delivery_log=delivery_log)
    schema = create_schema(settings, DocumentRegistry.load())
    shims = all_shims()
    openapi = build_openapi(shims, schema._schema)

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    # Prometheus text; operation names and counts only, no user data.
    metrics = MetricsEndpoint(
        services.telemetry.prometheus_text, token=settings.metrics_token.get_secret_value(), fresh_s=settings.ops_refresh_s,
    )

    async def root(request: Request) -> Response:
        return RedirectResponse("/graphql")

    graphql = GraphQLView(schema, graphql_ide=None if settings.is_production else "graphiql")
    routes: list[BaseRoute] = [
        Route("/", root),
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/api/health/check", health_check),
        Route("/api/openapi.json", openapi_json),
        Route("/metrics", metrics.respond),
        *dashboard.routes(),
        *(make_route(shim, schema) for shim in shims),
        *files.routes(),
        *avatar_routes.routes(),
        *tracking_routes.routes(),  # the tracking service's pushes
        *([] if settings.is_production else graphiql_routes()),  # GraphiQL's local assets
    ]

    # Admission control (issue 11): bounded requests at once, a short bounded queue, then 503.
    admission = Admission(settings.max_inflight, settings.max_queued, settings.queue_wait_s, Shares.of(settings))
    services.telemetry.gauge(
        "bff.admission", "Requests of this instance: in flight, queued",
        lambda: [(admission.in_flight, {"state": "in_flight"}), (admission.queued, {"state": "queued"})],
    )
    services.telemetry.counter(
        "bff.admission.rejected", "Requests this instance refused with 503 OVERLOADED: instance full, user's, company's or a carrier's pushes' share held",
        lambda: [(admission.refused[reason], {"reason": reason}) for reason in ("full", "user", "company", "push")],
    )

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
            # Issue 19: the client is the first untrusted hop from the right of X-Forwarded-For.
            Middleware(ProxyHeadersMiddleware, trusted_hosts=[str(n) for n in parse_networks(settings.trusted_proxies)]),
            Middleware(RequestIdMiddleware),
            Middleware(StrayCancellationMiddleware),
            Middleware(TracingMiddleware, tracer=services.telemetry.tracer),
            Middleware(AccessLogMiddleware, writer=services.call_log, observer=services.telemetry.record_request),
            Middleware(  # the whole body in, within its size and time, before it may hold a place
                RequestBodyMiddleware,
                max_bytes=settings.max_body_bytes,
                deadline_s=settings.body_timeout_s,
                overrides={avatar_routes.UPLOAD_PATH: settings.avatar_max_bytes + avatar_routes.MULTIPART_SLACK,
                           tracking_routes.CALLBACK_PATH: tracking_routes.MAX_PUSH_BYTES},
            ),
            Middleware(ErpBudgetMiddleware, seconds=settings.erp_request_budget_s),
            # Inside the budget: queueing spends it. A carrier's pushes are their own actor.
            Middleware(AdmissionMiddleware, admission=admission, push_paths=frozenset({tracking_routes.CALLBACK_PATH})),
            # Issue 20: after admission, so a request shed with 503 spends no rate limit.
            Middleware(RequestRateLimitMiddleware, limits=services.limits),  # issue 10: per IP and global
        ],
        exception_handlers={HTTPException: http_error, Exception: internal_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.services = services
    app.state.schema = schema
    app.state.shims = shims
    app.state.trusted_sources = parse_networks(settings.trusted_header_sources)
    app.state.admission = admission
    app.state.readiness = Readiness(settings.ops_refresh_s)
    app.state.metrics = metrics
    return app
