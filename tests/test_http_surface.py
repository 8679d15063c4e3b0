"""The HTTP surface: error shapes, abuse limits, GraphiQL, OpenAPI, health, extensions.erp."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from bff.demo import DemoStack
from tests.support import GraphQLClient, error_code


async def test_graphiql_is_served_outside_production(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_operations_report_their_erp_calls(gql: GraphQLClient) -> None:
    payload = await gql("{ me { binding { company { name code } } } }")
    erp = payload["extensions"]["erp"]
    assert set(erp) == {"calls", "ms", "estimate"}
    assert erp["estimate"] >= erp["calls"] >= 0 and erp["ms"] >= 0


async def test_depth_aliases_and_tokens_are_limited(gql: GraphQLClient) -> None:
    aliases = "{ " + " ".join(f"a{i}: me {{ openid }}" for i in range(40)) + " }"
    assert error_code(await gql(aliases)) == "BAD_USER_INPUT"
    tokens = "{ me { " + " ".join(["openid"] * 2100) + " } }"
    assert error_code(await gql(tokens)) == "BAD_USER_INPUT"


async def test_invalid_documents_are_bad_input_without_internals(gql: GraphQLClient) -> None:
    payload = await gql("{ me { noSuchField } }")
    error = payload["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in str(payload) and "File \"" not in str(payload)


async def test_body_size_is_limited(http: httpx.AsyncClient, stack: DemoStack) -> None:
    big = b"{" + b" " * (stack.settings.max_body_bytes + 10) + b"}"
    answer = await http.post("/graphql", content=big, headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["data"] is None and error_code(answer.json()) == "PAYLOAD_TOO_LARGE"  # /graphql: its shape


async def test_unknown_route_has_the_json_error_shape(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/nope")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "NOT_FOUND" and error["requestId"] == answer.headers["x-request-id"]


@pytest.mark.backend  # reports the store and the cache in use
async def test_health_check_reports_database_and_cache(http: httpx.AsyncClient, stack: DemoStack) -> None:
    answer = await http.get("/api/health/check")
    assert answer.status_code == 200
    body = answer.json()
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["cache"]["status"] == "up"
    assert body["database"] == stack.services.db.dialect


async def test_openapi_lists_exactly_the_routes_that_exist(http: httpx.AsyncClient, stack: DemoStack) -> None:
    spec = (await http.get("/api/openapi.json")).json()
    documented = {(method.upper(), path) for path, methods in spec["paths"].items() for method in methods}
    app = stack.bff.server.config.app
    existing = set()
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/"):
            for method in route.methods or ():
                if method != "HEAD":
                    existing.add((method, re.sub(r":\w+}", "}", route.path)))
    assert documented == existing
    assert spec["openapi"].startswith("3.")


async def test_unexpected_exceptions_become_internal_without_trace(stack: DemoStack) -> None:
    """A resolver failing in an unforeseen way: INTERNAL, a request id, no trace."""
    from bff.web.app import create_app
    from bff.web.serving import start_server

    class Broken:
        async def authenticate(self, token: str) -> None:
            raise RuntimeError("secret internal detail /srv/app.py line 12")

    services = stack.services
    original = services.sessions
    server = await start_server(create_app(stack.settings, services))
    services.sessions = Broken()  # type: ignore[assignment]
    try:
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.post(
                "/graphql", json={"query": "{ me { openid } }"}, headers={"Authorization": "Bearer x"}
            )
            rest = await client.get("/api/user/profile", headers={"Authorization": "Bearer x"})
    finally:
        services.sessions = original
        server.server.should_exit = True
        await server.task
    payload = answer.json()
    assert payload["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "secret internal detail" not in answer.text
    assert rest.status_code == 500 and rest.json()["error"]["code"] == "INTERNAL"
    assert "secret internal detail" not in rest.text
