"""What the monitoring knows of the request in progress: its id and its facts.

Context variables, set by the web layer's middleware (bff.web.requestid, bff.web.access) and
read by every layer below it (logs, the resolvers' auth context) without importing the web.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class RequestFacts:
    """Filled in by inner layers (the GraphQL view, the auth context) for the access record."""

    operation: str | None = None
    session_id: str | None = None
    error_code: str | None = None


_facts: ContextVar[RequestFacts | None] = ContextVar("request_facts", default=None)
_request_id: ContextVar[str] = ContextVar("request_id", default="")


def request_facts() -> RequestFacts | None:
    return _facts.get()


def current_request_id() -> str:
    return _request_id.get()


@contextmanager
def collecting_facts() -> Iterator[RequestFacts]:
    facts = RequestFacts()
    token = _facts.set(facts)
    try:
        yield facts
    finally:
        _facts.reset(token)


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
