"""Rate limits that hold across BFF instances: the `limits` library on Redis.

Every limit is counted in Redis when ``BFF_REDIS_URL`` is set, so all instances share one
count; in memory otherwise. When Redis fails, counting goes on in this process's memory
(a per-instance limit is weaker than a shared one, but far better than none) until Redis
answers again. Every refusal is RATE_LIMITED with ``retryAfter`` seconds and ``retryAt``.

Binding attempts use a moving window and are counted *before* they are verified: a hit
is atomic (one Lua script on Redis), so parallel attempts cannot race past the limit,
and a success resets nothing.

The per-request limits (fixed windows) are counted together: a request's IP and global
counts in one Redis round trip, its user's request and ERP-call counts in another (one Lua
script, :data:`_COUNT_LUA`, under the keys the `limits` library would use). Each round trip
costs this process about as much CPU as a whole cheap request's GraphQL work, so one per
limit would double the cost of `me`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis

from bff.cache.caches import REDIS_ERRORS, REDIS_OP_TIMEOUT_S, redis_client
from bff.core.errors import rate_limited
from bff.core.security import client_key

log = logging.getLogger("bff.ratelimit")

@dataclass(frozen=True)
class Limit:
    name: str
    rate: RateLimitItem
    moving: bool = False  # moving window: exact, one sorted set per key (binding attempts)


class Op(Enum):
    HIT = "hit"  # count one; refused when that passes the limit (a fixed window counts it anyway)
    CHECK = "check"  # count nothing; refused when the limit is used up
    CHARGE = "charge"  # count work already done; never refused (the next check is)


@dataclass(frozen=True)
class Count:
    """One fixed-window limit's part in a request's counting."""

    limit: Limit
    keys: tuple[str, ...]
    op: Op = Op.HIT
    cost: int = 1

    @property
    def amount(self) -> int:
        return 0 if self.op is Op.CHECK else self.cost

    def allowed(self, count: int) -> bool:
        """Whether ``count`` (the window's count after this one's amount) lets it pass."""
        if self.op is Op.CHECK:
            return count < self.limit.rate.amount
        return self.op is Op.CHARGE or count <= self.limit.rate.amount


# Per key: add its amount (0: only read), starting the window's expiry on the first count, as
# the `limits` library's incr_expire.lua does; answer the count and the window's seconds left.
_COUNT_LUA = """
local answer = {}
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[2 * i - 1])
  local count
  if amount > 0 then
    count = redis.call('incrby', key, amount)
    if count == amount then redis.call('expire', key, ARGV[2 * i]) end
  else
    count = tonumber(redis.call('get', key) or '0')
  end
  answer[2 * i - 1] = count
  answer[2 * i] = redis.call('ttl', key)
end
return answer
"""


def _storage_uri(redis_url: str) -> str:
    return "async+" + redis_url if redis_url.startswith(("redis://", "rediss://")) else redis_url


@dataclass(frozen=True)
class RateLimitConfig:
    """What the rate limits use of the settings."""

    bind_window_s: int
    bind_max_attempts: int  # per user and window
    bind_max_attempts_per_ip: int
    bind_max_attempts_global: int
    rate_limit_user: str  # the `limits` notation, "120/minute"
    rate_limit_ip: str
    rate_limit_global: str
    erp_calls_per_user: str
    avatar_uploads_per_hour: int
    redis_url: str  # empty: counted in this process only
    redis_max_connections: int
    redis_retry_s: float


class RateLimits:
    def __init__(self, config: RateLimitConfig) -> None:
        window = config.bind_window_s
        self.bind_user = Limit("bind-user", RateLimitItemPerSecond(config.bind_max_attempts, window), moving=True)
        self.bind_ip = Limit("bind-ip", RateLimitItemPerSecond(config.bind_max_attempts_per_ip, window), moving=True)
        self.bind_global = Limit("bind-all", RateLimitItemPerSecond(config.bind_max_attempts_global, window), moving=True)
        self.request_user = Limit("req-user", parse(config.rate_limit_user))
        self.request_ip = Limit("req-ip", parse(config.rate_limit_ip))
        self.request_global = Limit("req-all", parse(config.rate_limit_global))
        self.erp_user = Limit("erp-user", parse(config.erp_calls_per_user))
        self.avatar_user = Limit("avatar-user", RateLimitItemPerSecond(config.avatar_uploads_per_hour, 3600))
        self._local = MemoryStorage()
        self._shared: RedisStorage | None = None  # moving windows, through the `limits` library
        self._redis: Redis | None = None  # fixed windows, through one script per round trip
        if config.redis_url:
            self._shared = RedisStorage(_storage_uri(config.redis_url), implementation="redispy")
            self._redis = redis_client(config.redis_url, max_connections=config.redis_max_connections,
                                       socket_timeout=REDIS_OP_TIMEOUT_S)
            self._count_script = self._redis.register_script(_COUNT_LUA)
        self._redis_retry_s = config.redis_retry_s  # after a Redis failure, count locally this long
        self._redis_down_until = 0.0

    def _redis_usable(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, error: Exception) -> None:
        log.warning("rate limit storage failed, counting locally: %s", type(error).__name__)
        self._redis_down_until = time.monotonic() + self._redis_retry_s

    async def count(self, *counts: Count) -> None:
        """Count all of ``counts`` at once (Redis first, this process's memory if it fails);
        RATE_LIMITED after the first one refused, with the seconds until its window frees up."""
        answers: Sequence[tuple[int, float]] | None = None
        if self._redis_usable():
            try:
                answers = await self._count_shared(counts)
            except REDIS_ERRORS as error:  # Redis down or unreachable: never let that open the gates
                self._redis_failed(error)
        if answers is None:
            answers = [await self._count_local(count) for count in counts]
        for count, (value, retry_after) in zip(counts, answers, strict=True):
            if not count.allowed(value):
                raise rate_limited(retry_after)

    async def _count_shared(self, counts: Sequence[Count]) -> list[tuple[int, float]]:
        assert self._redis is not None
        keys = [f"{RedisStorage.PREFIX}:{c.limit.rate.key_for(c.limit.name, *c.keys)}" for c in counts]
        args = [part for c in counts for part in (c.amount, c.limit.rate.get_expiry())]
        flat = await self._count_script(keys=keys, args=args)
        return [(int(flat[i]), max(0.0, float(flat[i + 1]))) for i in range(0, len(flat), 2)]

    async def _count_local(self, count: Count) -> tuple[int, float]:
        key = count.limit.rate.key_for(count.limit.name, *count.keys)
        if count.amount > 0:
            value = await self._local.incr(key, count.limit.rate.get_expiry(), amount=count.amount)
        else:
            value = await self._local.get(key)
        return value, max(0.0, await self._local.get_expiry(key) - time.time())

    async def _moving_hit(self, limit: Limit, keys: tuple[str, ...]) -> None:
        storages: list[Storage] = [self._local]
        if self._shared is not None and self._redis_usable():
            storages.insert(0, self._shared)
        for storage in storages:
            limiter = MovingWindowRateLimiter(storage)
            try:
                if await limiter.hit(limit.rate, limit.name, *keys):
                    return
                reset = (await limiter.get_window_stats(limit.rate, limit.name, *keys)).reset_time
            except Exception as error:  # Redis down or unreachable: never let that open the gates
                if storage is self._local:
                    raise
                self._redis_failed(error)
                continue
            raise rate_limited(max(0.0, reset - time.time()))

    async def hit(self, limit: Limit, *keys: str) -> None:
        """Count one against the limit; RATE_LIMITED when it exceeds it (a moving window then
        counts nothing)."""
        if limit.moving:
            await self._moving_hit(limit, keys)
        else:
            await self.count(Count(limit, keys))

    async def check(self, limit: Limit, *keys: str) -> None:
        """RATE_LIMITED when the limit is already used up; counts nothing."""
        await self.count(Count(limit, keys, Op.CHECK))

    async def charge(self, limit: Limit, *keys: str, cost: int) -> None:
        """Count work already done (e.g. ERP calls): never refuses; the next ``check`` will."""
        assert not limit.moving
        if cost > 0:
            await self.count(Count(limit, keys, Op.CHARGE, cost))

    async def for_user(self, openid: str) -> None:
        """A signed-in user's request: counted against their request limit, refused when their
        ERP calls are used up (one round trip)."""
        await self.count(Count(self.request_user, (openid,)), Count(self.erp_user, (openid,), Op.CHECK))

    async def bind_attempt(self, openid: str, client_ip: str) -> None:
        """One binding attempt, counted before it is verified: per user, per address (an IPv6
        /64), then globally. The global budget counts only what passed the per-actor limits, and
        a user's first attempt of the window passes it untouched: one actor with many WeChat
        identities cannot spend it for everyone (a newcomer's or an administrator's first try
        still gets through; each identity's other tries still spend it)."""
        await self.hit(self.bind_user, openid)
        await self.hit(self.bind_ip, client_key(client_ip))
        if not await self._first_of_window(self.bind_user, openid):
            await self.hit(self.bind_global)

    async def _first_of_window(self, limit: Limit, *keys: str) -> bool:
        """Whether the hit just counted was the only one in ``limit``'s moving window."""
        storage: Storage = self._shared if self._shared is not None and self._redis_usable() else self._local
        try:
            stats = await MovingWindowRateLimiter(storage).get_window_stats(limit.rate, limit.name, *keys)
        except Exception as error:  # Redis down: not known to be the first, so the global budget applies
            if storage is self._local:
                raise
            self._redis_failed(error)
            return False
        return stats.remaining == limit.rate.amount - 1

    async def request(self, client_ip: str) -> None:
        """Any request: counted against its client IP's and the global limit (one round trip)."""
        await self.count(Count(self.request_ip, (client_ip,)), Count(self.request_global, ()))

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()
