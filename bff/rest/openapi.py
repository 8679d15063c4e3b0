"""The OpenAPI 3.1 description of the REST shims, generated from the shim table itself."""

from __future__ import annotations

from typing import Any

from bff.rest.shim import Shim

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "requestId"],
            "properties": {
                "code": {"type": "string", "examples": ["UNAUTHENTICATED", "NOT_FOUND", "ERP_UNAVAILABLE"]},
                "message": {"type": "string", "description": "Chinese, for the purchaser"},
                "requestId": {"type": "string"},
                "traceId": {"type": "string", "description": "OpenTelemetry trace id of the request"},
            },
        }
    },
}

EXTRA_PATHS: dict[str, dict[str, Any]] = {
    "/api/health/check": {
        "get": {
            "tags": ["monitoring"],
            "summary": "系统健康检查: liveness and readiness (database, cache)",
            "responses": {
                "200": {"description": "healthy", "content": {"application/json": {"schema": {"type": "object"}}}},
                "503": {"description": "a dependency is down", "content": {"application/json": {"schema": {"type": "object"}}}},
            },
        }
    },
    "/api/files/{shipment_id}/{index}/{name}": {
        "get": {
            "tags": ["orders"],
            "summary": "A shipment attachment (from Shipment.attachments[].url), fetched from the ERP",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "shipment_id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "index", "in": "path", "required": True, "schema": {"type": "integer"}},
                {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"200": {"description": "the file"}, "404": {"description": "no such attachment"}},
        }
    },
    "/api/openapi.json": {
        "get": {"tags": ["meta"], "summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}
    },
}


def _operation(shim: Shim) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": [shim.tag],
        "summary": shim.summary,
        "description": "Runs this GraphQL operation:\n\n```graphql\n" + shim.document.strip() + "\n```",
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": shim.response_schema}}},
            "default": {"description": "Error", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
        },
    }
    if shim.auth:
        operation["security"] = [{"bearer": []}]
    if shim.request_schema:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": shim.request_schema}},
        }
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(shim.path)
    ]
    params += [{"name": name, "in": "query", **spec} for name, spec in shim.query_params.items()]
    if params:
        operation["parameters"] = params
    return operation


def _path_params(path: str) -> list[str]:
    return [part[1:-1].split(":")[0] for part in path.split("/") if part.startswith("{")]


def build_openapi(shims: list[Shim]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for shim in shims:
        paths.setdefault(shim.path, {})[shim.method.lower()] = _operation(shim)
    paths.update(EXTRA_PATHS)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "惠采 BFF REST shims",
            "version": "1.0.0",
            "description": "Each route runs one GraphQL operation of /graphql. Errors share one JSON shape.",
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
