"""The fixed-window limits, counted several at a time: the same answers in Redis (one script
per round trip) and in this process's memory."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bff.cache.ratelimit import Count, Op, RateLimits
from bff.core.errors import BffError, ErrorCode
from bff.services import rate_limit_config
from tests.support import REDIS_URL, make_settings, require_service, unique_user


@pytest_asyncio.fixture(params=["redis", "memory"])
async def limits(request: pytest.FixtureRequest) -> AsyncIterator[RateLimits]:
    if request.param == "redis":
        require_service(REDIS_URL, 6379, "Redis")
    settings = make_settings(redis_url=REDIS_URL if request.param == "redis" else "",
                             rate_limit_user="3/minute", erp_calls_per_user="5/hour")
    limits = RateLimits(rate_limit_config(settings))
    yield limits
    await limits.close()


async def _refusal(limits: RateLimits, *counts: Count) -> BffError | None:
    try:
        await limits.count(*counts)
    except BffError as error:
        return error
    return None


async def test_hits_pass_up_to_the_limit_then_are_refused_with_the_window_left(limits: RateLimits) -> None:
    user = unique_user("hits")
    for _ in range(3):
        await limits.hit(limits.request_user, user)
    refusal = await _refusal(limits, Count(limits.request_user, (user,)))
    assert refusal is not None and refusal.code == ErrorCode.RATE_LIMITED
    assert 1 <= refusal.details["retryAfter"] <= 60  # the minute's window, not the hour's
    await limits.hit(limits.request_user, unique_user("other"))  # another user's own window


async def test_charged_work_passes_then_the_next_check_refuses(limits: RateLimits) -> None:
    user = unique_user("charge")
    await limits.check(limits.erp_user, user)
    await limits.charge(limits.erp_user, user, cost=4)
    await limits.check(limits.erp_user, user)  # 4 of 5 used: still allowed
    await limits.charge(limits.erp_user, user, cost=7)  # past the limit: work already done is counted
    refusal = await _refusal(limits, Count(limits.erp_user, (user,), Op.CHECK))
    assert refusal is not None and refusal.details["retryAfter"] > 60  # the hour's window
    await limits.charge(limits.erp_user, user, cost=0)  # nothing to count: no refusal either


async def test_a_users_request_counts_its_request_and_checks_its_erp_calls_at_once(limits: RateLimits) -> None:
    user = unique_user("for-user")
    await limits.charge(limits.erp_user, user, cost=5)
    refusal = await _refusal(limits, Count(limits.request_user, (user,)), Count(limits.erp_user, (user,), Op.CHECK))
    assert refusal is not None and refusal.details["retryAfter"] > 60  # refused by the ERP-call limit
    for _ in range(2):  # the refused request was counted too: 2 of 3 left
        with pytest.raises(BffError):
            await limits.for_user(user)
    refusal = await _refusal(limits, Count(limits.request_user, (user,)))
    assert refusal is not None and refusal.details["retryAfter"] <= 60
