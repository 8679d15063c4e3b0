"""Profile avatars: the picture a user chose, judged by its bytes, re-encoded, one per user.

``<button open-type="chooseAvatar">`` gives the mini program a temporary local file; it
uploads the file here. Whatever it claims to be, only bytes Pillow decodes as an image are
kept, and only after re-encoding to a small JPEG (which also drops EXIF data such as GPS).
Each user keeps one image: a new upload replaces it under a new id, so its URL never
changes meaning and may be cached for good.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlmodel import select

from bff.cache.ratelimit import RateLimits
from bff.core.errors import BffError, ErrorCode
from bff.core.security import new_id
from bff.store.db import Database
from bff.store.tables import AvatarImage

MAX_SIDE = 256  # px: the profile shows the avatar at 60 px; 256 stays sharp on 3x screens
MAX_PIXELS = 24_000_000  # as the header declares them (a 24 MP photo; chooseAvatar's are far smaller)
# What decoding may allocate, judged from the header before a pixel is decoded: width x height x
# bands x bytes per band (x 2 for a progressive JPEG's coefficients); the work after it (RGBA,
# RGB, thumbnail) is at most about three times that. One decode at a time per process
# (AvatarService), so eight parallel uploads cost what one does: a 39 KB palette PNG of
# 6324 x 6324 declared 390 MB once converted, and eight took a production instance to 2.4 GB.
MAX_DECODED_BYTES = 16 * 1024 * 1024
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
CONTENT_TYPE = "image/jpeg"


def not_an_image() -> BffError:
    return BffError(ErrorCode.BAD_USER_INPUT, "请选择 JPG 或 PNG 格式的图片", field="file")


def too_large_image() -> BffError:
    return BffError(ErrorCode.BAD_USER_INPUT, "图片尺寸过大，请选择较小的图片或截图后重试", field="file")


def decoded_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    """What decoding ``image`` allocates, from its header: its pixels at the size it will be
    decoded to (a palette image as the RGBA it becomes), plus a progressive JPEG's coefficients,
    kept at ``full_size`` whatever the draft scale (2 bytes a sample)."""
    bands, per_band = len(image.getbands()), _bytes_per_band(image.mode)
    if image.mode == "P":
        bands, per_band = 4, 1
    total = image.width * image.height * bands * per_band
    if image.format == "JPEG" and (image.info.get("progressive") or image.info.get("progression")):
        total += full_size[0] * full_size[1] * bands * 2
    return total


def _bytes_per_band(mode: str) -> int:
    return 2 if ";16" in mode else 4 if mode in ("I", "F") else 1


def reencode(data: bytes) -> bytes:
    """A ``MAX_SIDE`` JPEG of ``data``, if ``data`` is an image of an accepted format that
    decodes within ``MAX_DECODED_BYTES``; judged from its header before decoding."""
    try:
        with Image.open(BytesIO(data)) as image:
            if image.format not in FORMATS:
                raise not_an_image()
            if image.width * image.height > MAX_PIXELS:
                raise too_large_image()
            full_size = image.size
            if image.format == "JPEG":
                image.draft("RGB", (MAX_SIDE * 2, MAX_SIDE * 2))  # libjpeg decodes at 1/2..1/8 scale
            if decoded_bytes(image, full_size) > MAX_DECODED_BYTES:
                raise too_large_image()
            upright = ImageOps.exif_transpose(image)
            if upright.mode in ("RGBA", "LA", "P"):  # transparency onto white, not black
                upright = upright.convert("RGBA")
                background = Image.new("RGB", upright.size, (255, 255, 255))
                background.paste(upright, mask=upright.getchannel("A"))
                upright = background
            rgb = upright.convert("RGB")
            rgb.thumbnail((MAX_SIDE, MAX_SIDE))
            out = BytesIO()
            rgb.save(out, "JPEG", quality=85, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError, SyntaxError):
        raise not_an_image() from None


class AvatarService:
    def __init__(self, db: Database, limits: RateLimits, *, max_bytes: int) -> None:
        self._db = db
        self._limits = limits  # counts uploads per user and hour
        self.max_bytes = max_bytes
        self._decoding = asyncio.Semaphore(1)  # one decode at a time: memory bounded by MAX_DECODED_BYTES

    async def store(self, openid: str, data: bytes) -> str:
        """Keep ``data`` as ``openid``'s avatar; returns its new id."""
        await self._limits.hit(self._limits.avatar_user, openid)  # every upload counts, good or not
        if len(data) > self.max_bytes:
            raise BffError(ErrorCode.PAYLOAD_TOO_LARGE, f"头像图片不能超过 {self.max_bytes // 1024} KB")
        if not data:
            raise not_an_image()
        async with self._decoding:
            jpeg = await asyncio.to_thread(reencode, data)  # CPU work off the event loop
        avatar_id = new_id()
        now = datetime.now(UTC)
        async with self._db.session() as s:
            row = await s.get(AvatarImage, openid)
            if row is None:
                row = AvatarImage(openid=openid, avatar_id=avatar_id, content_type=CONTENT_TYPE, data=jpeg, size=len(jpeg), created_at=now)
            else:
                row.avatar_id, row.data, row.size, row.created_at = avatar_id, jpeg, len(jpeg), now
            s.add(row)
        return avatar_id

    async def load(self, avatar_id: str) -> AvatarImage | None:
        async with self._db.session() as s:
            return (await s.exec(select(AvatarImage).where(AvatarImage.avatar_id == avatar_id))).first()
