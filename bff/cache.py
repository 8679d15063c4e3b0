"""The cache: aiocache in memory by default, Redis when ``BFF_REDIS_URL`` is set.

Both use the JSON serializer so behaviour is identical whichever backend runs.
"""

from __future__ import annotations

from urllib.parse import urlparse

from aiocache import RedisCache, SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import JsonSerializer


def create_cache(redis_url: str = "", namespace: str = "bff") -> BaseCache:
    if not redis_url:
        return SimpleMemoryCache(serializer=JsonSerializer(), namespace=namespace)
    url = urlparse(redis_url)
    db = int(url.path.lstrip("/") or 0)
    return RedisCache(
        serializer=JsonSerializer(),
        namespace=namespace,
        endpoint=url.hostname or "127.0.0.1",
        port=url.port or 6379,
        db=db,
        password=url.password,
    )


def cache_backend(cache: BaseCache) -> str:
    return "redis" if isinstance(cache, RedisCache) else "memory"
