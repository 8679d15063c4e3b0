"""Shared fixtures: the demo stack over loopback, on SQLite + memory and on MariaDB + Redis.

A test using ``stack`` runs on SQLite + memory; one marked ``@pytest.mark.backend`` (whose
behaviour depends on the store or the cache: DB writes and locking, sessions, rate limits,
cached reads, outbox, leases) runs on MariaDB + Redis as well. Each such module says why. What
Redis changes is where entries live and how keys expire, not what they hold: the memory cache
serialises through the same JSON serializer (bff/cache/caches.py).
MariaDB/Redis runs skip when those servers are absent, except in CI (CI=true) where
they must run and a missing server fails the run.
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

# Every test speaks plain HTTP on loopback, yet httpx builds a verifying TLS context for each
# client, and from a CA bundle file (certifi's or SSL_CERT_FILE) that is ~15 ms of CPU each,
# thousands of times a run. From the system's CA directory (SSL_CERT_DIR, which httpx reads
# when SSL_CERT_FILE is unset) the same verifying context loads certificates only when used.
if os.path.isdir("/etc/ssl/certs"):
    os.environ.pop("SSL_CERT_FILE", None)
    os.environ["SSL_CERT_DIR"] = "/etc/ssl/certs"

from bff.demo import DemoStack
from tests.private_redis import redis_server  # noqa: F401 - a fixture: a redis-server a test may kill
from tests.support import (
    GraphQLClient,
    Sim,
    backend_stack,
)

BACKENDS = ("sqlite", "mariadb")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``early`` (long waits on child processes or deadlines) first: the parallel
    test processes steal work from one another, but a long test begun last is the run's tail."""
    items.sort(key=lambda item: item.get_closest_marker("early") is None)  # stable: same order in every process


def pytest_collection_finish(session: pytest.Session) -> None:
    """Fewer garbage collections in the test processes (which run the BFF and both simulators):
    what collection imported is frozen out of the collector's sight, and young objects are
    collected less often. About 8 % of the suite's CPU; the BFF's own processes are untouched."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 50)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``stack`` on SQLite + memory; marked ``backend``, on MariaDB + Redis too (session-scoped:
    one stack per back end for the whole run)."""
    if "stack" not in metafunc.fixturenames or _own_stack(metafunc):
        return  # no stack, or the test's own (its own settings): not the shared one
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs["argnames"]
        if "stack" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return  # the test chose its back ends itself
    backends = BACKENDS if metafunc.definition.get_closest_marker("backend") else BACKENDS[:1]
    metafunc.parametrize("stack", backends, indirect=True, scope="session")


def _own_stack(metafunc: pytest.Metafunc) -> bool:
    """Whether a definition nearer the test than this one serves ``stack``: its class's, its
    module's, or a conftest's between here and the test (pytest picks the nearest)."""
    for holder in (metafunc.cls, metafunc.module):
        if holder is not None and getattr(holder, "stack", stack) is not stack:
            return True
    here, test = Path(__file__).parent, metafunc.definition.path
    return any(
        Path(plugin.__file__).parent != here and Path(plugin.__file__).parent in test.parents
        and here in Path(plugin.__file__).parents and hasattr(plugin, "stack")
        for plugin in metafunc.config.pluginmanager.get_plugins()
        if Path(getattr(plugin, "__file__", None) or "-").name == "conftest.py"
    )


@pytest_asyncio.fixture(scope="session")
async def stack(request: pytest.FixtureRequest) -> AsyncIterator[DemoStack]:
    """The whole system on loopback: ERP sim, WeChat sim, BFF; a bound demo user."""
    backend = getattr(request, "param", "sqlite")
    assert backend in BACKENDS, backend
    async with backend_stack(backend) as demo:
        yield demo


@pytest_asyncio.fixture
async def http(stack: DemoStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient, stack: DemoStack) -> GraphQLClient:
    """GraphQL as the seeded, bound demo user."""
    return GraphQLClient(http, stack.token)


@pytest_asyncio.fixture
async def sim(stack: DemoStack) -> AsyncIterator[Sim]:
    """The ERP simulator's control API; faults are reset after each test."""
    async with httpx.AsyncClient(base_url=stack.erp.url, timeout=30) as client:
        control = Sim(client)
        yield control
        await control.reset_faults()
        stack.services.erp.breaker.reset()  # the next test starts with a closed circuit
