"""BFF_REDIS_URL is read by redis-py itself (issue 21: it was parsed by hand, and a username or
rediss:// were silently dropped): an ACL user, a database number and TLS all reach the client."""

from __future__ import annotations

import pytest
import redis.asyncio as redis
from redis.asyncio.connection import SSLConnection

from bff.cache.caches import ResilientCache, create_cache
from tests.private_redis import PrivateRedis


@pytest.mark.redis
async def test_a_redis_acl_user_and_database_from_the_url(redis_server: PrivateRedis) -> None:
    admin = redis.Redis(port=redis_server.port)
    await admin.execute_command("ACL", "SETUSER", "bff-cache", "on", ">s3cret-pass", "~*", "+@all")
    await admin.execute_command("ACL", "SETUSER", "default", "off")  # from here on, only the named user gets in
    cache = create_cache(f"redis://bff-cache:s3cret-pass@127.0.0.1:{redis_server.port}/3", namespace="t")
    assert isinstance(cache, ResilientCache)
    try:
        await cache.set("k", {"v": 1})
        assert await cache.get("k") == {"v": 1} and not cache.degraded  # Redis answered, not the local fallback
        user = redis.Redis(port=redis_server.port, username="bff-cache", password="s3cret-pass", db=3)
        assert await user.keys() == [b"t:k"]  # in database 3, under the namespace
        await user.aclose()
    finally:
        await cache.close()
        await admin.aclose()

    wrong = create_cache(f"redis://bff-cache:wrong@127.0.0.1:{redis_server.port}/3", namespace="t")
    try:
        await wrong.set("k", 1)
        assert isinstance(wrong, ResilientCache) and wrong.degraded  # refused: served from memory, not silently anonymous
    finally:
        await wrong.close()


async def test_rediss_urls_use_tls() -> None:
    cache = create_cache("rediss://user:pw@redis.example.internal:6380/2?ssl_cert_reqs=required", namespace="t")
    assert isinstance(cache, ResilientCache)
    pool = cache.redis.client.connection_pool
    assert pool.connection_class is SSLConnection
    assert {k: pool.connection_kwargs[k] for k in ("host", "port", "db", "username", "password")} == {
        "host": "redis.example.internal", "port": 6380, "db": 2, "username": "user", "password": "pw"}
    await cache.close()
