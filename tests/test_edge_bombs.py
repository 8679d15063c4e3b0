"""Issue 19, decompression bombs: eight parallel avatar uploads of small files that declare huge
images (PNG palette and 16-bit, GIF, progressive JPEG, WebP) against a real `bff serve`; its
peak memory (VmHWM) grows by less than 100 MB, every bomb is a clear 4xx, and a normal photo
is still accepted."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator
from io import BytesIO
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from PIL import Image

from bff.sim.wechat import create_app as create_wechat_app
from bff.web.serving import start_server
from tests.edge_support import bff_serve, peak_rss

PEAK_GROWTH_LIMIT = 100 * 1024 * 1024


def png_bomb(width: int, height: int, depth: int, color_type: int) -> bytes:
    """A PNG of zeros written row by row (the test never holds the pixels): tiny on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    samples = {0: 1, 2: 3, 3: 1, 6: 4}[color_type]
    row = b"\0" * (1 + width * samples * depth // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    head = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0))
    palette = chunk(b"PLTE", b"\0\0\0" * 256) if color_type == 3 else b""
    return head + palette + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pillow_bomb(fmt: str, mode: str, size: tuple[int, int], **save: Any) -> bytes:
    out = BytesIO()
    Image.new(mode, size).save(out, fmt, **save)
    return out.getvalue()


def bombs() -> list[tuple[str, bytes]]:
    return [
        ("palette.png", png_bomb(6324, 6324, 8, 3)),  # the issue's: 39 KB, ~390 MB once converted
        ("deep.png", png_bomb(4800, 4800, 16, 2)),  # 16-bit RGB: 138 MB decoded
        ("frames.gif", pillow_bomb("GIF", "P", (6000, 6000))),
        ("progressive.jpg", pillow_bomb("JPEG", "RGB", (3000, 3000), progressive=True)),
        ("lossless.webp", pillow_bomb("WEBP", "RGB", (4000, 4000), lossless=True)),
    ]


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, int, str]]:
    """`bff serve` (SQLite, memory cache) with the WeChat simulator; its url, pid and the
    simulator's url."""
    wechat = await start_server(create_wechat_app())
    try:
        async with bff_serve({
            "BFF_ENV": "test", "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/bombs.sqlite3", "BFF_REDIS_URL": "",
            "BFF_WX_BASE_URL": wechat.url, "BFF_NOTIFY_ENABLED": "false", "BFF_ERP_PROBE_INTERVAL_S": "3600",
            "BFF_ERP_BASE_URL": "http://127.0.0.1:9", "BFF_ERP_LOGIN_URL": "http://127.0.0.1:9", "BFF_CALL_LOG_ENABLED": "false",
            "BFF_MAX_INFLIGHT_PER_USER": "8",  # all eight bombs reach the decoder
        }) as (url, pid):
            yield url, pid, wechat.url
    finally:
        await wechat.stop()


@pytest.mark.early
async def test_parallel_decompression_bombs_cost_little_memory_and_answer_4xx(served: tuple[str, int, str]) -> None:
    url, pid, wechat = served
    files = bombs()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        code = (await http.post(wechat + "/__sim/wx-login", json={"user": "bomber"})).json()["code"]
        token = (await http.post("/api/auth/wx-login", json={"code": code})).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        async def upload(name: str, data: bytes) -> httpx.Response:
            return await http.post("/api/user/avatar", files={"file": (name, data, "image/png")}, headers=headers)

        photo = pillow_bomb("JPEG", "RGB", (1280, 960), quality=90)
        warm = await upload("photo.jpg", photo)  # Pillow's decoders loaded: the baseline includes them
        before = peak_rss(pid)
        answers = await asyncio.gather(*(upload(*files[i % len(files)]) for i in range(8)))
        after = peak_rss(pid)
        normal = await upload("photo.jpg", photo)
    assert warm.status_code == 200, warm.text
    assert [a.status_code for a in answers] == [400] * 8, [a.text[:200] for a in answers]
    assert {a.json()["error"]["code"] for a in answers} == {"BAD_USER_INPUT"}
    assert "图片尺寸过大" in answers[0].json()["error"]["message"]
    assert after - before < PEAK_GROWTH_LIMIT, f"peak memory grew by {(after - before) / 2**20:.0f} MB"
    assert normal.status_code == 200 and normal.json()["avatarUrl"]
