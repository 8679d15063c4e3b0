"""Admission control: each instance serves a bounded number of requests at once and lets a
bounded number wait, briefly; beyond that it answers ``503 OVERLOADED`` with ``Retry-After``
at once. A request admitted late would spend its ERP budget waiting on this process's CPU
and come back stale; refused at once, the client retries, or the balancer sends it elsewhere.

Admission runs after the body is in (``bff.web.edge``: a slow body holds no place) and before
the rate limits (a request shed here spends none of them). A client that hangs up frees its
place at once. Fair shares of the places (issue 19), counted admitted or waiting:

* one actor holds at most ``BFF_MAX_INFLIGHT_PER_USER`` (its bearer token or platform user) or
  ``BFF_MAX_INFLIGHT_PER_IP`` (a request naming no user, per client address; a carrier's
  tracking pushes count apart from people's): one purchaser's burst cannot crowd out anyone else;
* one company holds at most ``BFF_MAX_INFLIGHT_PER_COMPANY`` (default: half of
  ``BFF_MAX_INFLIGHT``): however many purchasers (or sessions) a company has, half the places
  that run at once stay for everyone else, so another company's purchaser starts at once
  instead of waiting. Half of the places *and* the queue was tried first: the company then
  held every running place, and once its own requests ran slowly (an attack costs CPU) the
  other company's purchaser timed out in the queue behind it (bench/edge.py: 13 of 20 home
  screens ``503``). A legitimate company needs far less: an instance serves 85–89 home screens
  a second with 24 at once, the whole fleet's sharpest 9:00 minute is ~40 (docs/capacity.md).

Which company a request is for is known only once its session is read, and admission runs
before that (reading the session for every request, shed or not, is the I/O admission exists
to bound). So the company is *learned*: when a request's viewer is resolved
(``RequestContext`` calls ``Ticket.seen``), this instance remembers its actor's company (in
memory, a bounded LRU keyed by a digest of the credential, never the credential itself), and
counts that request against its company from then on. The next request of that actor is
refused at the door, with no I/O, no rate limit and no ERP call spent, if its company already
holds its share. A credential this instance has not seen resolve yet is counted per actor
only: its first requests here are bounded by the per-user share, not the company's. That is
the price of no I/O before admission; each new session costs a WeChat login, and the mini
program's first request (``me``) teaches the instance. A second gate after the session read
would refuse later, after the session read (and the rate limits) had been spent, and inside
GraphQL execution where no ``503`` can be answered.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections import Counter, OrderedDict
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from bff.core.config import Settings
from bff.core.errors import BffError, ErrorCode
from bff.core.security import client_key
from bff.web.edge import HANGUP, serve_until_hangup
from bff.web.gql import COMPANY_SEEN, refusal

# Health, metrics and the admin page answer even when the instance is full: they say why.
EXEMPT_PATHS = ("/api/health/check", "/metrics", "/admin")
KNOWN_ACTORS = 20_000  # actors whose company this instance remembers (~100 bytes each)


@dataclass(frozen=True)
class Shares:
    """Fair shares of the places (issue 19): what one actor or one company may hold, admitted or waiting."""

    per_user: int  # per bearer token / platform user
    per_ip: int  # per client address (an IPv6 /64), for requests that name no user
    per_company: int  # per ERP customer, over all its actors this instance has seen resolve

    @classmethod
    def of(cls, settings: Settings) -> Shares:
        return cls(
            per_user=settings.max_inflight_per_user,
            per_ip=settings.max_inflight_per_ip,
            # Half of what runs at once: another company's purchaser never waits behind this one.
            per_company=settings.max_inflight_per_company or max(1, settings.max_inflight // 2),
        )


def actor_of(scope: Scope, push_paths: frozenset[str] = frozenset()) -> str:
    """Whom a request's place is counted against, before anyone has checked who it is: its
    bearer token or platform user (a forged one only fails faster), else its client address.
    A push to one of ``push_paths`` (a carrier's tracking callback) counts against its sender's
    address apart from people's anonymous requests: a burst of pushes never takes the places
    of a purchaser logging in from the same address (an office NAT; loopback in the demo), nor
    the other way round. A credential is kept only as a digest: the counters outlive the request."""
    headers = dict(scope["headers"])
    user = headers.get(b"authorization") or headers.get(b"x-wx-openid")
    if user:
        return "u:" + hashlib.blake2b(user, digest_size=16).hexdigest()
    client = scope.get("client")
    address = client_key(str(client[0]) if client else "")
    return ("push:" if scope["path"] in push_paths else "ip:") + address


@dataclass(eq=False)
class Ticket:
    """One admitted request's place: whose it is, and the company it is counted against."""

    admission: Admission
    actor: str
    company: str | None
    left: bool = False

    def seen(self, company: str | None) -> None:
        """The request's viewer is resolved: ``company`` is its customer (None: no company)."""
        self.admission.learn(self, company)


class Admission:
    """The counters and the gate; one per app (a test reads ``in_flight`` / ``held()``)."""

    def __init__(self, max_inflight: int, max_queued: int, queue_wait_s: float, shares: Shares | None = None) -> None:
        self.max_inflight = max_inflight
        self.max_queued = max_queued
        self.queue_wait_s = queue_wait_s
        places = max_inflight + max_queued
        self.shares = shares or Shares(places, places, places)
        self._free = asyncio.Semaphore(max_inflight)
        self._held: Counter[str] = Counter()  # places admitted or waiting, per actor
        self._by_company: Counter[str] = Counter()  # the same, per company
        self._companies: OrderedDict[str, str] = OrderedDict()  # actor -> its company, as last resolved here
        self.in_flight = 0
        self.queued = 0
        self.refused: Counter[str] = Counter()  # by reason: full, user, company, push (a carrier's share)

    @property
    def rejected(self) -> int:
        return sum(self.refused.values())

    def held(self) -> tuple[dict[str, int], dict[str, int]]:
        """The places held per actor and per company (only those holding any)."""
        return dict(self._held), dict(self._by_company)

    async def enter(self, actor: str = "") -> Ticket | None:
        """Take a place for ``actor`` (at once or after a short wait); None when refused: the
        instance is full, or the actor or its company already holds its share."""
        share = self.shares.per_user if actor.startswith("u:") else self.shares.per_ip
        company = self._companies.get(actor)
        if self._held[actor] >= share:
            self.refused["push" if actor.startswith("push:") else "user"] += 1
            return None
        if company is not None and self._by_company[company] >= self.shares.per_company:
            self.refused["company"] += 1
            return None
        ticket = Ticket(self, actor, company)
        self._held[actor] += 1
        if company is not None:
            self._by_company[company] += 1
        try:
            admitted = await self._enter()
        except BaseException:  # cancelled while waiting: nothing may stay counted
            self._release(ticket)
            raise
        if not admitted:
            self._release(ticket)
            return None
        return ticket

    def learn(self, ticket: Ticket, company: str | None) -> None:
        """Remember ``ticket``'s actor's company; count the request against it if it was not yet."""
        if company is None:
            self._companies.pop(ticket.actor, None)
        else:
            self._companies[ticket.actor] = company
            self._companies.move_to_end(ticket.actor)
            while len(self._companies) > KNOWN_ACTORS:
                self._companies.popitem(last=False)
        if ticket.company is None and company is not None and not ticket.left:
            ticket.company = company  # counted from now on, not refused: it is already in
            self._by_company[company] += 1

    def _release(self, ticket: Ticket) -> None:
        if ticket.left:
            return
        ticket.left = True
        _decrement(self._held, ticket.actor)
        if ticket.company is not None:
            _decrement(self._by_company, ticket.company)

    async def _enter(self) -> bool:
        if self._free.locked():
            if self.queued >= self.max_queued:
                self.refused["full"] += 1
                return False
            self.queued += 1
            try:
                async with asyncio.timeout(self.queue_wait_s):
                    await self._free.acquire()
            except TimeoutError:
                self.refused["full"] += 1
                return False
            finally:
                self.queued -= 1
        else:
            await self._free.acquire()  # free: returns at once
        self.in_flight += 1
        return True

    def leave(self, ticket: Ticket) -> None:
        self.in_flight -= 1
        self._free.release()
        self._release(ticket)


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]  # the counter holds only who has a request in the house


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, admission: Admission, push_paths: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.admission = admission
        self.push_paths = push_paths
        self._retry_after = max(1, math.ceil(admission.queue_wait_s))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        ticket = await self.admission.enter(actor_of(scope, self.push_paths))
        if ticket is None:
            overloaded = BffError(ErrorCode.OVERLOADED, retryAfter=self._retry_after)
            await refusal(scope["path"], overloaded)(scope, receive, send)
            return
        try:
            scope[COMPANY_SEEN] = ticket.seen  # build_context hands it to the request's context
            hangup = scope.get(HANGUP)
            if hangup is None:
                await self.app(scope, receive, send)
            else:  # a client that hangs up frees its place at once
                await serve_until_hangup(self.app, scope, receive, send, hangup)
        finally:
            self.admission.leave(ticket)
