"""Rate limits that hold across BFF instances: the `limits` library on Redis.

Every limit is counted in Redis when ``BFF_REDIS_URL`` is set, so all instances share one
count; in memory otherwise. When Redis fails, counting goes on in this process's memory
(a per-instance limit is weaker than a shared one, but far better than none) until Redis
answers again. Every refusal is RATE_LIMITED with ``retryAfter`` seconds and ``retryAt``.

Binding attempts use a moving window and are counted *before* they are verified: a hit
is atomic (one Lua script on Redis), so parallel attempts cannot race past the limit,
and a success resets nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerSecond, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from bff.core.config import Settings
from bff.core.errors import rate_limited

log = logging.getLogger("bff.ratelimit")

@dataclass(frozen=True)
class Limit:
    name: str
    rate: RateLimitItem
    moving: bool = False  # moving window: exact, one sorted set per key (binding attempts)


def _storage_uri(redis_url: str) -> str:
    return "async+" + redis_url if redis_url.startswith(("redis://", "rediss://")) else redis_url


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        window = settings.bind_window_s
        self.bind_user = Limit("bind-user", RateLimitItemPerSecond(settings.bind_max_attempts, window), moving=True)
        self.bind_ip = Limit("bind-ip", RateLimitItemPerSecond(settings.bind_max_attempts_per_ip, window), moving=True)
        self.bind_global = Limit("bind-all", RateLimitItemPerSecond(settings.bind_max_attempts_global, window), moving=True)
        self.request_user = Limit("req-user", parse(settings.rate_limit_user))
        self.request_ip = Limit("req-ip", parse(settings.rate_limit_ip))
        self.request_global = Limit("req-all", parse(settings.rate_limit_global))
        self.erp_user = Limit("erp-user", parse(settings.erp_calls_per_user))
        self.avatar_user = Limit("avatar-user", RateLimitItemPerSecond(settings.avatar_uploads_per_hour, 3600))
        self._local = MemoryStorage()
        self._shared: Storage | None = (
            RedisStorage(_storage_uri(settings.redis_url), implementation="redispy") if settings.redis_url else None
        )
        self._redis_retry_s = settings.redis_retry_s  # after a Redis failure, count locally this long
        self._redis_down_until = 0.0

    def _limiter(self, limit: Limit, storage: Storage) -> RateLimiter:
        return MovingWindowRateLimiter(storage) if limit.moving else FixedWindowRateLimiter(storage)

    async def _run(self, limit: Limit, op: str, keys: tuple[str, ...], cost: int = 1) -> tuple[bool, float]:
        """(allowed, seconds until the window frees up); Redis first, this process's memory if it fails."""
        for storage in self._storages():
            limiter = self._limiter(limit, storage)
            try:
                if op == "hit":
                    allowed = await limiter.hit(limit.rate, limit.name, *keys, cost=cost)
                else:
                    allowed = await limiter.test(limit.rate, limit.name, *keys, cost=max(cost, 1))
                reset = 0.0 if allowed else (await limiter.get_window_stats(limit.rate, limit.name, *keys)).reset_time
                return allowed, max(0.0, reset - time.time())
            except Exception as error:  # Redis down or unreachable: never let that open the gates
                if storage is self._local:
                    raise
                log.warning("rate limit storage failed, counting locally: %s", type(error).__name__)
                self._redis_down_until = time.monotonic() + self._redis_retry_s
        raise AssertionError("unreachable")  # pragma: no cover

    def _storages(self) -> list[Storage]:
        if self._shared is not None and time.monotonic() >= self._redis_down_until:
            return [self._shared, self._local]
        return [self._local]

    async def hit(self, limit: Limit, *keys: str, cost: int = 1) -> None:
        """Count ``cost`` against the limit; RATE_LIMITED (nothing counted) when it would exceed it."""
        allowed, retry_after = await self._run(limit, "hit", keys, cost)
        if not allowed:
            raise rate_limited(retry_after)

    async def check(self, limit: Limit, *keys: str) -> None:
        """RATE_LIMITED when the limit is already used up; counts nothing."""
        allowed, retry_after = await self._run(limit, "test", keys)
        if not allowed:
            raise rate_limited(retry_after)

    async def charge(self, limit: Limit, *keys: str, cost: int) -> None:
        """Count work already done (e.g. ERP calls): never refuses; the next ``check`` will.
        (A fixed window counts a hit even past the limit.)"""
        assert not limit.moving
        if cost > 0:
            await self._run(limit, "hit", keys, cost)

    async def bind_attempt(self, openid: str, client_ip: str) -> None:
        """One binding attempt, counted before it is verified: per user, per IP, then globally."""
        await self.hit(self.bind_user, openid)
        await self.hit(self.bind_ip, client_ip)
        await self.hit(self.bind_global)

    async def request(self, client_ip: str) -> None:
        await self.hit(self.request_ip, client_ip)
        await self.hit(self.request_global)
