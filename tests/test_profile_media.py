"""Profile: avatar upload (sniffed, re-encoded, https URL), nickname content check, reviewers' code."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from io import BytesIO
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from PIL import Image

from bff.demo import DemoStack
from bff.services import Services
from tests.support import GraphQLClient, app_client, error_code, unique_user

ME = "{ me { nickname avatarUrl } }"
UPDATE = "mutation($p: ProfileInput!) { updateProfile(profile: $p) { nickname avatarUrl } }"
BIND = "mutation($c: String!) { bindCompany(input: {inviteCode: $c}) { binding { method } companyInfo { id name } } }"


def picture(fmt: str = "PNG", size: tuple[int, int] = (640, 480), **save: Any) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (24, 144, 255)).save(out, fmt, **save)
    return out.getvalue()


async def upload(http: httpx.AsyncClient, token: str | None, data: bytes, name: str = "tmp_avatar.png") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/api/user/avatar", files={"file": (name, data, "image/png")}, headers=headers)


@pytest.mark.backend  # avatars and bindings are rows; uploads are counted in the cache
async def test_avatar_upload_keeps_an_https_url_to_a_reencoded_jpeg(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user("avatar"))
    exif = Image.Exif()
    exif[0x010E] = "taken at home"  # ImageDescription: EXIF must not survive
    answer = await upload(http, token, picture("JPEG", (1200, 900), exif=exif.tobytes()), "wxfile://tmp_1.jpg")
    assert answer.status_code == 200, answer.text
    url = answer.json()["avatarUrl"]
    assert url.startswith("https://") and urlparse(url).path.endswith(".jpg")
    me = (await GraphQLClient(http, token)(ME))["data"]["me"]
    assert me["avatarUrl"] == url
    # The demo serves plain http: the same path there (no token needed, as for <image src>).
    served = await http.get(urlparse(url).path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    image = Image.open(BytesIO(served.content))
    assert image.format == "JPEG" and max(image.size) == 256 and image.size == (256, 192)
    assert dict(image.getexif()) == {}


@pytest.mark.backend  # avatars and bindings are rows; uploads are counted in the cache
async def test_a_new_upload_replaces_the_old_picture(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user("avatar"))
    first = (await upload(http, token, picture())).json()["avatarUrl"]
    second = (await upload(http, token, picture("PNG", (100, 100)))).json()["avatarUrl"]
    assert first != second
    assert (await http.get(urlparse(first).path)).status_code == 404  # one image per user
    assert (await http.get(urlparse(second).path)).status_code == 200


async def test_avatar_upload_refuses_what_is_not_an_image(http: httpx.AsyncClient, stack: DemoStack) -> None:
    token = await stack.login(unique_user("avatar"))
    html = await upload(http, token, b"<html><script>alert(1)</script></html>", "avatar.png")
    assert html.status_code == 400 and html.json()["error"]["code"] == "BAD_USER_INPUT"
    assert "图片" in html.json()["error"]["message"]
    truncated = await upload(http, token, picture()[:200])
    assert truncated.json()["error"]["code"] == "BAD_USER_INPUT"
    missing = await http.post("/api/user/avatar", data={"other": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert missing.status_code == 400
    assert (await GraphQLClient(http, token)(ME))["data"]["me"]["avatarUrl"] is None


async def test_avatar_upload_needs_a_session_and_a_small_file(http: httpx.AsyncClient, stack: DemoStack) -> None:
    anonymous = await upload(http, None, picture())
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "UNAUTHENTICATED"
    token = await stack.login(unique_user("avatar"))
    limit = stack.settings.avatar_max_bytes
    huge = await upload(http, token, b"\x89PNG" + b"\0" * (limit + 64 * 1024))
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    just_over = await upload(http, token, b"\x89PNG" + b"\0" * limit)  # within the multipart slack
    assert just_over.status_code == 413 and "KB" in just_over.json()["error"]["message"]
    assert (await http.get("/api/avatars/" + "0" * 32 + ".jpg")).status_code == 404


async def test_nickname_is_checked_by_wechat_msg_sec_check(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = GraphQLClient(http, await stack.login(unique_user("nick")))
    before = stack.wechat_sim.stats["msg_sec_check"]
    saved = await client(UPDATE, {"p": {"nickname": "王采购"}})
    assert saved["data"]["updateProfile"]["nickname"] == "王采购"
    risky = await client(UPDATE, {"p": {"nickname": "赌博代理"}})
    assert error_code(risky) == "BAD_USER_INPUT" and "不当内容" in risky["errors"][0]["message"]
    assert stack.wechat_sim.stats["msg_sec_check"] == before + 2
    markup = await client(UPDATE, {"p": {"nickname": "<script>x</script>"}})
    assert error_code(markup) == "BAD_USER_INPUT"
    assert (await client(ME))["data"]["me"]["nickname"] == "王采购"


@asynccontextmanager
async def bff_with(stack: DemoStack, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A second BFF over the same database and simulators, with other settings."""
    services = Services.create(stack.settings.model_copy(update=overrides))
    try:
        async with app_client(services.settings, services) as client:
            yield client
    finally:
        await services.aclose()


@pytest.mark.backend  # avatars and bindings are rows; uploads are counted in the cache
async def test_reviewers_code_binds_to_the_demo_company_only_when_configured(
    http: httpx.AsyncClient, stack: DemoStack
) -> None:
    review = stack.demo["other_customer"]
    token = await stack.login(unique_user("reviewer"))
    off = await GraphQLClient(http, token)(BIND, {"c": "WXREVIEW2026"})
    assert error_code(off) == "BIND_FAILED"
    async with bff_with(stack, review_invite_code="wxreview2026", review_company_id=str(review["id"])) as other:
        bound = await GraphQLClient(other, token)(BIND, {"c": "WXREVIEW2026"})
    assert bound["data"]["bindCompany"] == {"binding": {"method": "review"}, "companyInfo": {"id": str(review["id"]), "name": review["name"]}}


@pytest.mark.backend  # avatars and bindings are rows; uploads are counted in the cache
async def test_avatar_uploads_per_user_are_limited(stack: DemoStack) -> None:
    token = await stack.login(unique_user("avatar"))
    async with bff_with(stack, avatar_uploads_per_hour=2, public_url="https://bff.example.cn/") as other:
        answers = [await upload(other, token, picture("PNG", (64, 64))) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].json()["avatarUrl"].startswith("https://bff.example.cn/api/avatars/")
