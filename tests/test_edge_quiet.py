"""Issue 19, quiet and clean: nicknames refuse controls and bidi characters (an emoji sequence
still passes)."""

from __future__ import annotations

import httpx
import pytest

from bff.demo import DemoStack
from tests.support import GraphQLClient, error_code, unique_user

UPDATE = "mutation($p: ProfileInput!) { updateProfile(profile: $p) { nickname } }"


@pytest.mark.parametrize("nickname", ["李采购\n管理员", "采购\u202e员理管", "a\u2066b\u2069", "tab\there", "x\u2028y", "零\u200b宽"])
async def test_nicknames_with_controls_or_bidi_characters_are_refused(
    http: httpx.AsyncClient, stack: DemoStack, nickname: str
) -> None:
    client = GraphQLClient(http, await stack.login(unique_user("nick")))
    answer = await client(UPDATE, {"p": {"nickname": nickname}})
    assert error_code(answer) == "BAD_USER_INPUT"
    assert answer["errors"][0]["extensions"]["field"] == "profile.nickname"
    assert "控制字符" in answer["errors"][0]["message"]


async def test_an_emoji_sequence_nickname_is_kept(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = GraphQLClient(http, await stack.login(unique_user("nick")))
    family = "王工 👨\u200d👩\u200d👧"
    answer = await client(UPDATE, {"p": {"nickname": family}})
    assert answer["data"]["updateProfile"]["nickname"] == family
