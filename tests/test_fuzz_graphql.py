"""Fuzzing the GraphQL surface: hypothesis-graphql writes valid and invalid documents over the
whole schema, and the registered (trusted) documents are sent with variables of any JSON shape.
Posted to /graphql of the running stack as a purchaser bound to the demo company and
anonymously: never a 5xx, never INTERNAL, every error with a known code and a message.
Bounded and derandomized for CI."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import NameNode, ObjectFieldNode
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from bff.core.errors import ErrorCode
from bff.demo import DemoStack
from bff.web import documents
from tests.support import unique_user

SDL = (Path(__file__).parents[1] / "schema.graphql").read_text(encoding="utf-8")
EXAMPLES = 40  # per family and caller: 400 requests in all
CODES = {code.value for code in ErrorCode}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
SCALARS = {  # JSON literals: objects of strings (template message data)
    "JSON": st.dictionaries(st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True), st.text(max_size=8), max_size=3).map(
        lambda fields: nodes.Object([ObjectFieldNode(name=NameNode(value=k), value=nodes.String(v)) for k, v in fields.items()])
    ),
}


def _registered_documents() -> list[str]:
    return sorted(json.loads(documents.MANIFEST.read_text(encoding="utf-8")).values())


def _bodies() -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """Each strategy, by name; mutations last (they may end the caller's session or binding)."""
    def document(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[dict[str, Any]]:
        return strategy.map(lambda query: {"query": query})

    return {
        "queries": document(queries(SDL, custom_scalars=SCALARS)),
        "invalid queries": document(queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE)),
        "registered documents, any variables": st.builds(
            lambda query, variables: {"query": query, "variables": variables},
            st.sampled_from(_registered_documents()),
            st.dictionaries(st.sampled_from(["id", "code", "keyword", "page", "pageSize", "input", "status", "v"]),
                            JSON_VALUES, max_size=4) | JSON_VALUES,
        ),
        "mutations": document(mutations(SDL, custom_scalars=SCALARS)),
        "invalid mutations": document(mutations(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE)),
    }


def _check(answer: httpx.Response) -> str:
    """The answer's first error code ("data" when none), after checking it."""
    assert answer.status_code < 500, answer.text
    payload = answer.json()
    assert isinstance(payload, dict), answer.text
    for error in payload.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in CODES and code != ErrorCode.INTERNAL.value, error
        assert isinstance(error.get("message"), str) and error["message"], error
    assert "Traceback" not in answer.text
    return str(payload["errors"][0]["extensions"]["code"]) if payload.get("errors") else "data"


def _post_all(client: httpx.Client, bodies: st.SearchStrategy[dict[str, Any]], token: str | None) -> Counter[str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    outcomes: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(body=bodies)
    def run(body: dict[str, Any]) -> None:
        outcomes[_check(client.post("/graphql", json=body, headers=headers))] += 1

    run()
    return outcomes


def _fuzz(url: str, family: str, tokens: list[str | None]) -> Counter[str]:
    bodies = _bodies()[family]
    with httpx.Client(base_url=url, timeout=10) as client:
        return sum((_post_all(client, bodies, token) for token in tokens), Counter())


# One test per family, so parallel test processes share the work (each ~1/5 of it).
@pytest.mark.parametrize("family", list(_bodies()))
@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
async def test_graphql_fuzzed_never_a_server_error_and_every_error_has_a_code(stack: DemoStack, family: str) -> None:
    token = await stack.login(unique_user("fuzz"), stack.demo["customer"]["invite_code"])
    outcomes = await asyncio.to_thread(_fuzz, stack.url, family, [token, None])  # this loop serves the stack meanwhile
    assert outcomes.total() >= 70, outcomes
    if family.startswith("invalid"):  # a broken document is refused as such, whoever sends it
        assert outcomes["BAD_USER_INPUT"] == outcomes.total(), outcomes
    if family.startswith("registered"):  # the purchaser's documents ran
        assert outcomes["data"] >= 10, outcomes
