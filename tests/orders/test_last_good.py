"""The last good answer is rewritten at most once per refresh window per key, and an outage
serves what was kept, with its time."""

from __future__ import annotations

from typing import Any

import pytest
from aiocache import SimpleMemoryCache

from bff.erp.errors import ErpUnavailable
from bff.orders.fallback import LastGoodAnswers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def answer(value: Any) -> Any:
    async def fetch() -> Any:
        return value
    return fetch


async def down() -> Any:
    raise ErpUnavailable("down")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def answers(clock: Clock) -> LastGoodAnswers:
    return LastGoodAnswers(SimpleMemoryCache(), refresh_s=30, monotonic=clock)


async def test_a_key_is_kept_once_per_window_and_served_in_an_outage(answers: LastGoodAnswers, clock: Clock) -> None:
    assert await answers.read("c1:home", answer(["first"])) == (["first"], None)
    assert (await answers.read("c1:home", answer(["second"])))[0] == ["second"]  # live answers are always live
    kept, as_of = await answers.read("c1:home", down)
    assert kept == ["first"] and as_of is not None  # the second came within the window: not rewritten

    clock.now += 30
    await answers.read("c1:home", answer(["third"]))
    assert (await answers.read("c1:home", down))[0] == ["third"]


async def test_keys_are_kept_independently_and_unkept_ones_still_fail(answers: LastGoodAnswers) -> None:
    await answers.read("c1:home", answer(["home"]))
    await answers.read("c1:detail", answer(["detail"]))
    assert (await answers.read("c1:detail", down))[0] == ["detail"]
    assert (await answers.read("c1:home", down))[0] == ["home"]
    await answers.read("c1:search", answer(["hit"]), keep=False)
    with pytest.raises(ErpUnavailable):
        await answers.read("c1:search", down)


async def test_a_live_answer_is_encoded_only_when_kept(answers: LastGoodAnswers, clock: Clock) -> None:
    encoded: list[Any] = []

    def encode(value: Any) -> Any:
        encoded.append(value)
        return {"kept": value}

    live, as_of = await answers.read("c1:home", answer("page 1"), encode=encode)
    assert (live, as_of) == ("page 1", None)  # the caller gets the answer as read, not its encoding
    await answers.read("c1:home", answer("page 1 again"), encode=encode)
    assert encoded == ["page 1"]  # within the window: not encoded again
    kept, as_of = await answers.read("c1:home", down, encode=encode)
    assert kept == {"kept": "page 1"} and as_of is not None  # an outage serves the encoding
