"""Rate limits hold when Redis fails: counting goes on in this process's memory (killed Redis,
or a Redis URL nobody answers), and goes back to Redis once it answers again."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as redis

from bff.cache.ratelimit import RateLimits
from bff.core.errors import BffError, ErrorCode
from bff.services import rate_limit_config
from tests.private_redis import PrivateRedis, free_port
from tests.support import make_settings

ATTEMPTS = 3
RETRY_S = 0.3


def _limits(redis_url: str) -> RateLimits:
    return RateLimits(rate_limit_config(make_settings(
        redis_url=redis_url, bind_max_attempts=ATTEMPTS, redis_retry_s=RETRY_S, rate_limit_user="4/minute")))


async def _allowed_until_refused(limits: RateLimits, user: str) -> tuple[int, BffError]:
    """Binding attempts of ``user`` that pass before the first refusal, and that refusal."""
    for allowed in range(ATTEMPTS + 5):
        try:
            await limits.hit(limits.bind_user, user)
        except BffError as refusal:
            return allowed, refusal
    pytest.fail(f"{ATTEMPTS + 5} binding attempts of one user, none refused")


async def _keys(url: str) -> list[bytes]:
    client = redis.from_url(url)
    try:
        return list(await client.keys("*"))
    finally:
        await client.aclose()


async def test_limits_count_in_memory_while_redis_is_dead_and_in_redis_again_after(
    redis_server: PrivateRedis,
) -> None:
    limits = _limits(redis_server.url)
    await limits.hit(limits.bind_user, "before")
    assert await _keys(redis_server.url), "counted in Redis while it is up"

    redis_server.kill()
    allowed, refusal = await _allowed_until_refused(limits, "during")
    assert allowed == ATTEMPTS
    assert refusal.code == ErrorCode.RATE_LIMITED and refusal.details["retryAfter"] >= 1
    for _ in range(4):  # the fixed-window request limit too
        await limits.hit(limits.request_user, "during")
    with pytest.raises(BffError) as requests_refused:
        await limits.hit(limits.request_user, "during")
    assert requests_refused.value.code == ErrorCode.RATE_LIMITED

    redis_server.start()  # the same port: Redis is back, empty
    deadline = time.monotonic() + 10
    while not await _keys(redis_server.url):  # after RETRY_S, counting goes back to Redis
        assert time.monotonic() < deadline, "the rate limits never went back to Redis"
        await limits.hit(limits.bind_user, f"after-{time.monotonic()}")
        await asyncio.sleep(RETRY_S / 3)


async def test_limits_hold_with_a_redis_url_nobody_answers() -> None:
    limits = _limits(f"redis://127.0.0.1:{free_port()}/0")
    allowed, refusal = await _allowed_until_refused(limits, "nobody")
    assert allowed == ATTEMPTS and refusal.code == ErrorCode.RATE_LIMITED
