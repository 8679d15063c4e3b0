"""Fuzzing the REST surface: schemathesis generates requests from /api/openapi.json and checks
each answer against the document (a documented status, a body matching that status's response
schema) and that no answer is a server error. Against the running stack over loopback, as a
purchaser bound to the demo company and anonymously; bounded and derandomized for CI."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from bff.demo import DemoStack
from tests.support import unique_user

EXAMPLES = 8  # per operation, generation mode and caller: about 470 requests in all
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Run last: they end the caller's session or binding, and later operations would see only 401/403.
ENDING = ("/api/auth/logout", "/api/auth/erp-unbind")


def _fuzz(url: str, mode: schemathesis.GenerationMode, token: str | None) -> Counter[int]:
    """Every operation in generation mode ``mode`` for one caller; the statuses answered."""
    schema = schemathesis.openapi.from_url(url + "/api/openapi.json")
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: (op.path in ENDING, op.path, op.method))
    statuses: Counter[int] = Counter()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for operation in operations:

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: schemathesis.Case) -> None:
            response = case.call(base_url=url, headers=headers, timeout=10)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:  # negative mode, and nothing to make invalid (a lone string path parameter)
            assert mode == schemathesis.GenerationMode.NEGATIVE, operation.path
    return statuses


# One test per generation mode and caller, so parallel test processes share the work.
@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
                         ids=["valid", "invalid"])
@pytest.mark.parametrize("purchaser", [True, False], ids=["purchaser", "anonymous"])
@pytest.mark.parametrize("stack", ["sqlite"], indirect=True)
async def test_rest_surface_fuzzed_answers_as_documented_and_never_a_server_error(
    stack: DemoStack, purchaser: bool, mode: schemathesis.GenerationMode
) -> None:
    # A purchaser of our own: the fuzzer logs out and unbinds, which the shared demo user must not.
    token = await stack.login(unique_user("fuzz"), stack.demo["customer"]["invite_code"]) if purchaser else None
    # schemathesis calls synchronously: from a thread, while this loop serves the stack
    statuses = await asyncio.to_thread(_fuzz, stack.url, mode, token)
    assert statuses.total() >= 100, statuses
    if purchaser and mode == schemathesis.GenerationMode.POSITIVE:
        assert statuses[200] >= 25, statuses  # the purchaser's requests ran
    if not purchaser:
        assert statuses[401] >= statuses.total() // 2, statuses  # a stranger is turned away, mostly before validation
