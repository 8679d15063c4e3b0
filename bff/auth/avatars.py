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
MAX_PIXELS = 40_000_000  # refused before decoding: a small file must not unpack into gigabytes
FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
CONTENT_TYPE = "image/jpeg"


def not_an_image() -> BffError:
    return BffError(ErrorCode.BAD_USER_INPUT, "请选择 JPG 或 PNG 格式的图片", field="file")


def reencode(data: bytes) -> bytes:
    """A ``MAX_SIDE`` JPEG of ``data``, if ``data`` is an image of an accepted format."""
    try:
        with Image.open(BytesIO(data)) as image:
            if image.format not in FORMATS or image.width * image.height > MAX_PIXELS:
                raise not_an_image()
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

    async def store(self, openid: str, data: bytes) -> str:
        """Keep ``data`` as ``openid``'s avatar; returns its new id."""
        await self._limits.hit(self._limits.avatar_user, openid)  # every upload counts, good or not
        if len(data) > self.max_bytes:
            raise BffError(ErrorCode.PAYLOAD_TOO_LARGE, f"头像图片不能超过 {self.max_bytes // 1024} KB")
        if not data:
            raise not_an_image()
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
