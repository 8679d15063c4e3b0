"""Rotating BFF_SECRET_KEY and BFF_DATA_KEY without logging anyone out (docs/deploy.md): the new
key with the old one beside it (``*_PREVIOUS``) for a while, then the new key alone. A restart
with each configuration, on one database, as a rolling deployment does."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from bff.core.security import DataCipher
from bff.demo import DemoStack, start_demo_stack
from tests.support import make_settings, unique_user

ME = "{ me { openid binding { company { id } } } }"


def key() -> SecretStr:
    return SecretStr(secrets.token_urlsafe(40))


@asynccontextmanager
async def started(database: Path, **overrides: Any) -> AsyncIterator[DemoStack]:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{database}", invite_code_rotation_ends_bindings=True,
                             **overrides)
    stack = await start_demo_stack(base_settings=settings, seed_user=False)
    try:
        yield stack
    finally:
        await stack.stop()


async def me(stack: DemoStack, token: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=stack.url) as http:
        answer = await http.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
    return dict(answer.json())


def test_session_keys_encrypted_with_the_previous_data_key_still_read() -> None:
    old, new = key().get_secret_value(), key().get_secret_value()
    stored = DataCipher(old).encrypt("session-key")
    assert DataCipher(new, old).decrypt(stored) == "session-key"
    assert DataCipher(new).decrypt(stored) is None  # without the previous key: unreadable
    assert DataCipher(old).decrypt(DataCipher(new, old).encrypt("x")) is None  # written with the new key only


async def test_a_rotation_keeps_sessions_and_invite_bindings(tmp_path: Path) -> None:
    old, new, data = key(), key(), key()
    database = tmp_path / "rotation.sqlite3"
    async with started(database, secret_key=old, data_key=data) as stack:
        token = await stack.login(unique_user("rotation"), stack.demo["customer"]["invite_code"])
        company = stack.demo["customer"]["id"]
        assert (await me(stack, token))["data"]["me"]["binding"]["company"]["id"] == company
    async with started(database, secret_key=new, secret_key_previous=old, data_key=data) as stack:
        answer = await me(stack, token)  # the session moves to the new key's digest
        assert answer["data"]["me"]["binding"]["company"]["id"] == company, answer
    async with started(database, secret_key=new, data_key=data) as stack:
        answer = await me(stack, token)  # the previous key gone: nothing of the old one is needed
        assert answer["data"]["me"]["binding"]["company"]["id"] == company, answer


async def test_a_new_key_without_the_previous_one_ends_sessions_and_invite_bindings(tmp_path: Path) -> None:
    """The control: what the rotation support saves."""
    database = tmp_path / "no-rotation.sqlite3"
    user = unique_user("no-rotation")
    async with started(database, secret_key=key()) as stack:
        token = await stack.login(user, stack.demo["customer"]["invite_code"])
        openid = (await me(stack, token))["data"]["me"]["openid"]
    async with started(database, secret_key=key()) as stack:
        answer = await me(stack, token)
        assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", answer
        fresh = await stack.login(user)  # the same WeChat user logs in again
        again = (await me(stack, fresh))["data"]["me"]
        assert again["openid"] == openid and again["binding"] is None  # the invite binding looked rotated: ended
