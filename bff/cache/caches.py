"""The cache: aiocache in memory by default, Redis when ``BFF_REDIS_URL`` is set.

Both use the JSON serializer so behaviour is identical whichever backend runs. Redis is
optional at run time: while it fails, :class:`ResilientCache` serves this process's memory
instead (one log line when Redis goes, one when it comes back) and tries Redis again every
``retry_s`` seconds. What is shared across instances (limits, alert cooldowns, the WeChat
token) is then per instance until Redis returns; sessions live in the database anyway.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiocache import RedisCache, SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

log = logging.getLogger("bff.cache")

REDIS_OP_TIMEOUT_S = 1.0  # a hung Redis costs a request this much once, then is bypassed
REDIS_ERRORS = (RedisError, OSError, TimeoutError)


def create_cache(redis_url: str = "", namespace: str = "bff", *, max_connections: int = 32, retry_s: float = 5.0) -> BaseCache:
    if not redis_url:
        return SimpleMemoryCache(serializer=JsonSerializer(), namespace=namespace)
    redis = RedisCache(serializer=JsonSerializer(), namespace=namespace, timeout=REDIS_OP_TIMEOUT_S)
    # aiocache builds its pool from host, port, db and password only: the client is redis-py's own,
    # from the whole URL (rediss:// for TLS, a username for Redis ACLs, ?ssl_cert_reqs=..., /db).
    redis.client = redis_client(redis_url, max_connections=max_connections)
    return ResilientCache(redis, retry_s=retry_s)


def redis_client(redis_url: str, *, max_connections: int, socket_timeout: float | None = None) -> Redis:
    """A client of ``redis_url`` as redis-py reads it. Pool sized from the admission limit: a full
    pool makes callers wait (briefly), never fail."""
    pool = BlockingConnectionPool.from_url(
        redis_url, max_connections=max_connections, timeout=REDIS_OP_TIMEOUT_S, socket_timeout=socket_timeout,
        socket_connect_timeout=REDIS_OP_TIMEOUT_S, decode_responses=False,  # aiocache's serializer decodes
    )
    return Redis.from_pool(pool)  # the client owns the pool: closing it closes the connections


class ResilientCache(BaseCache):
    """Redis while it answers, this process's memory while it does not."""

    def __init__(self, redis: BaseCache, *, retry_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(serializer=JsonSerializer(), namespace=redis.namespace)
        self.redis = redis
        self.local = SimpleMemoryCache(serializer=JsonSerializer(), namespace=redis.namespace)
        self._retry_s = retry_s
        self._clock = clock
        self.down_since: float | None = None  # monotonic time Redis failed, None while it answers
        self._retry_at = 0.0

    @property
    def degraded(self) -> bool:
        return self.down_since is not None

    async def _run(self, op: str, *args: Any, **kwargs: Any) -> Any:
        if self.down_since is not None and self._clock() < self._retry_at:
            return await getattr(self.local, op)(*args, **kwargs)
        try:
            result = await getattr(self.redis, op)(*args, **kwargs)
        except REDIS_ERRORS as error:
            if self.down_since is None:
                self.down_since = self._clock()
                log.warning("redis unavailable (%s): serving from local memory", type(error).__name__)
            self._retry_at = self._clock() + self._retry_s
            return await getattr(self.local, op)(*args, **kwargs)
        if self.down_since is not None:
            self.down_since = None
            log.warning("redis answers again: shared cache restored")
        return result

    async def get(self, key: str, default: Any = None, loads_fn: Any = None, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("get", key, default=default, loads_fn=loads_fn, namespace=namespace)

    async def multi_get(self, keys: list[str], loads_fn: Any = None, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("multi_get", keys, loads_fn=loads_fn, namespace=namespace)

    async def set(self, key: str, value: Any, ttl: Any = None, dumps_fn: Any = None, namespace: str | None = None, _cas_token: Any = None, _conn: Any = None) -> Any:
        return await self._run("set", key, value, ttl=ttl, dumps_fn=dumps_fn, namespace=namespace)

    async def add(self, key: str, value: Any, ttl: Any = None, dumps_fn: Any = None, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("add", key, value, ttl=ttl, dumps_fn=dumps_fn, namespace=namespace)

    async def increment(self, key: str, delta: int = 1, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("increment", key, delta=delta, namespace=namespace)

    async def delete(self, key: str, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("delete", key, namespace=namespace)

    async def exists(self, key: str, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("exists", key, namespace=namespace)

    async def expire(self, key: str, ttl: Any, namespace: str | None = None, _conn: Any = None) -> Any:
        return await self._run("expire", key, ttl, namespace=namespace)

    async def clear(self, namespace: str | None = None, _conn: Any = None) -> Any:
        await self.local.clear(namespace=namespace)
        return await self._run("clear", namespace=namespace)

    async def ping(self) -> None:
        """Raises unless Redis itself answers (the health check: degraded, not down)."""
        await self.redis.client.ping()

    async def close(self, *args: Any, _conn: Any = None, **kwargs: Any) -> None:
        await self.local.close()
        await self.redis.client.aclose()  # redis-py's own (aiocache's close() calls the deprecated close())


def degraded(cache: BaseCache) -> bool:
    """Whether ``cache`` should be shared (Redis) but serves this process's memory for now."""
    return isinstance(cache, ResilientCache) and cache.degraded


def cache_backend(cache: BaseCache) -> str:
    if isinstance(cache, ResilientCache):
        return "memory (redis unavailable)" if cache.degraded else "redis"
    return "redis" if isinstance(cache, RedisCache) else "memory"
