"""The OpenAPI 3.1 description of the REST shims, generated from the shim table itself."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from graphql import GraphQLSchema

from bff.core.errors import HTTP_STATUS, ErrorCode
from bff.web.rest.shape import data_schema, shape_schema
from bff.web.rest.shim import Shim

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "requestId"],
            "properties": {
                "code": {"type": "string", "enum": [code.value for code in ErrorCode]},
                "message": {"type": "string", "description": "Chinese, for the purchaser"},
                "requestId": {"type": "string"},
                "traceId": {"type": ["string", "null"], "description": "OpenTelemetry trace id of the request"},
                "field": {"type": "string", "description": "the input at fault"},
                "retryAfter": {"type": "integer", "description": "RATE_LIMITED, OVERLOADED: seconds to wait (also sent as Retry-After)"},
                "retryAt": {"type": "string", "description": "RATE_LIMITED: when to retry (ISO 8601)"},
            },
        }
    },
}

def _error_responses() -> dict[str, Any]:
    """One response per HTTP status of the error table, naming its codes."""
    codes: dict[int, list[str]] = defaultdict(list)
    for code, status in HTTP_STATUS.items():
        codes[status].append(code.value)
    return {
        str(status): {"description": ", ".join(names), "content": {"application/json": {"schema": ERROR_SCHEMA}}}
        for status, names in sorted(codes.items())
    }


ERROR_RESPONSES = _error_responses()
HEALTH_SCHEMA = {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}


PUSH_ANSWER_SCHEMA = {  # the answer 快递100 expects (bff/tracking/protocol.py)
    "type": "object", "required": ["result", "returnCode", "message"],
    "properties": {"result": {"type": "boolean"}, "returnCode": {"type": "string"}, "message": {"type": "string"}},
}

EXTRA_PATHS: dict[str, dict[str, Any]] = {
    "/api/health/check": {
        "get": {
            "tags": ["monitoring"],
            "summary": "系统健康检查: liveness and readiness (database, cache)",
            "responses": {
                "200": {"description": "healthy", "content": {"application/json": {"schema": HEALTH_SCHEMA}}},
                "503": {"description": "a dependency is down", "content": {"application/json": {"schema": HEALTH_SCHEMA}}},
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
            "responses": {"200": {
                "description": "the file, streamed: Content-Type from its bytes (the ERP's when it agrees), "
                               "Content-Disposition attachment with filename and filename* (UTF-8), nosniff; "
                               "Content-Length when the ERP declares one, else chunked. At most BFF_ATTACHMENT_MAX_BYTES: "
                               "a file the ERP declares larger is 413 ATTACHMENT_TOO_LARGE (附件过大，请联系销售获取); "
                               "one without a declared length that passes it has its connection cut (an incomplete answer)",
                "headers": {
                    "Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=\"<ASCII>\"; filename*=UTF-8''<name>"},
                    "X-Content-Type-Options": {"schema": {"type": "string", "enum": ["nosniff"]}},
                    "Content-Length": {"schema": {"type": "integer"}, "description": "the ERP's, when it sent one"},
                },
            }, **ERROR_RESPONSES},
        }
    },
    "/api/user/avatar": {
        "post": {
            "tags": ["users"],
            "summary": "Upload the avatar (wx.uploadFile, multipart field `file`); keeps it and returns its https URL",
            "security": [{"bearer": []}],
            "requestBody": {"content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}},
            }}}},
            "responses": {
                "200": {"description": "stored", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["avatarUrl"], "additionalProperties": False,
                    "properties": {"avatarUrl": {"type": "string", "format": "uri"}},
                }}}},
                **ERROR_RESPONSES,  # 400: not a JPG/PNG/WebP/GIF image; 413: over BFF_AVATAR_MAX_BYTES; 429
            },
        }
    },
    "/api/avatars/{avatar_id}.jpg": {
        "get": {
            "tags": ["users"],
            "summary": "An avatar (public, by its unguessable id, for <image src>)",
            "parameters": [{"name": "avatar_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "image/jpeg"}, **ERROR_RESPONSES},
        }
    },
    "/api/openapi.json": {
        "get": {"tags": ["meta"], "summary": "This document", "responses": {"200": {"description": "OpenAPI"}}}
    },
    "/api/tracking/callback": {
        "post": {
            "tags": ["tracking"],
            "summary": "快递100's push of a followed parcel's track (docs/tracking.md): signed MD5(param + BFF_TRACKING_SALT); "
                       "idempotent. 404 while tracking is off (no BFF_TRACKING_CUSTOMER)",
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["param"],
                "properties": {"param": {"type": "string"}, "sign": {"type": "string"}},
            }}}},
            "responses": {**ERROR_RESPONSES, **{
                status: {"description": what, "content": {"application/json": {"schema": {"anyOf": [PUSH_ANSWER_SCHEMA, ERROR_SCHEMA]}}}}
                for status, what in (("200", "stored, or nothing new: 快递100 stops pushing it"), ("400", "not a form"),
                                     ("401", "not signed with our salt"), ("404", "tracking off"))
            }},
        }
    },
}


def _operation(shim: Shim, schema: GraphQLSchema) -> dict[str, Any]:
    answer = shape_schema(shim.shape, data_schema(schema, shim.document))
    operation: dict[str, Any] = {
        "tags": [shim.tag],
        "summary": shim.summary,
        "description": "Runs this GraphQL operation:\n\n```graphql\n" + shim.document.strip() + "\n```",
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": answer}}},
            **ERROR_RESPONSES,
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


def build_openapi(shims: list[Shim], schema: GraphQLSchema) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for shim in shims:
        paths.setdefault(shim.path, {})[shim.method.lower()] = _operation(shim, schema)
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
