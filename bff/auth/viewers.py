"""The authenticated viewer, kept a few seconds per session (``BFF_VIEWER_CACHE_S``): a burst of
one purchaser's requests costs one session query, and revocation stays immediate everywhere.

Every change to what ``SessionService.authenticate`` answers for a user (logout, sessions
revoked, bind, unbind, a binding ended by an administrator or by ``standing``, profile) calls
:meth:`ViewerCache.changed` once committed: it writes a fresh global epoch, then a fresh
version of that user, into the cache (Redis when configured, shared by all instances;
this process's memory otherwise). A kept viewer is served only while its user's version is the
one it was kept under: one cache read per request instead of the session query.

Which user a token belongs to is known only after the database read, and a user's version read
after it could pair an old viewer with a new version. So the epoch is read before the database
read and again after the user's version: if unchanged, any change the read missed has not yet
written the user's version (the epoch comes first), and its write makes the kept viewer stale.

A kept viewer never outlives its session's renewal point (renewal still happens once per
half-life), so a renewal needs no new version: no instance keeps the session's viewer past
the point where it is renewed, and the 9:00 rush's renewals do not empty every kept viewer.
While Redis fails nothing is kept or served from here: the database answers.

While the database is out of reach, a session read from it within ``BFF_VIEWER_REMEMBER_S``
(and not expired since) is recalled instead, if its user's version is still the one it was
remembered under: the purchasers seen in the last minutes keep reading their orders from the
ERP. Versions live longer than that window, so a change made after the last read refuses the
recall on every instance sharing Redis; with Redis failing as well nothing is recalled.
A row edited by hand, or a change made while Redis was unreachable from its instance, is seen
by the other instances at the latest ``BFF_VIEWER_CACHE_S`` later.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from aiocache.base import BaseCache

from bff.cache.caches import degraded
from bff.core.clock import aware, utc_now
from bff.core.domain import Viewer
from bff.core.security import new_id

EPOCH = "viewer-epoch"
_DOWN = object()  # the shared cache is failing: a version that matches nothing


def _user_key(openid: str) -> str:
    return "viewer-v:" + openid


class ViewerCache:
    def __init__(
        self, cache: BaseCache, *, max_age_s: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic,
        remember_s: float = 0.0,
    ) -> None:
        self._cache = cache
        self._max_age_s = max_age_s  # 0: nothing is kept
        self._max_entries = max_entries
        self._clock = clock
        self._remember_s = remember_s if max_age_s > 0 else 0.0  # remembered where kept
        # Versions outlive any viewer kept (or remembered) under them: an expired key reads as "no version" again.
        self._version_ttl = int(max(max_age_s, self._remember_s)) + 60
        self._kept: OrderedDict[str, tuple[Viewer, object, float]] = OrderedDict()  # session id -> viewer, version, until
        self._remembered: OrderedDict[str, tuple[Viewer, object, float]] = OrderedDict()  # for a database outage

    async def get(self, session_id: str) -> Viewer | None:
        """A copy of the viewer kept for ``session_id``, if its user has not changed since."""
        kept = self._kept.get(session_id)
        if kept is None:
            return None
        viewer, version, until = kept
        if self._clock() >= until:
            self._kept.pop(session_id, None)
            return None
        self._kept.move_to_end(session_id)
        if await self._read(_user_key(viewer.openid)) != version:
            self._kept.pop(session_id, None)
            return None
        return replace(viewer)  # the request may set its own binding on it

    async def epoch(self) -> object:
        """The epoch, read before the database read whose viewer :meth:`keep` may keep."""
        return await self._read(EPOCH) if self._max_age_s > 0 else _DOWN

    @staticmethod
    def known(epoch: object) -> bool:
        """Whether ``epoch`` was read (not stood in for a failing or disabled cache)."""
        return epoch is not _DOWN

    async def keep(self, session_id: str, viewer: Viewer, epoch: object, keep_s: float) -> None:
        """Keep ``viewer`` (read after ``epoch`` was) at most ``keep_s`` seconds."""
        keep_s = min(keep_s, self._max_age_s)
        if epoch is _DOWN or keep_s <= 0:
            return
        version = await self._read(_user_key(viewer.openid))
        if version is _DOWN or await self._read(EPOCH) != epoch:
            return  # a change may have been missed: the next request reads again
        self._kept[session_id] = (replace(viewer), version, self._clock() + keep_s)
        self._kept.move_to_end(session_id)
        while len(self._kept) > self._max_entries:
            self._kept.popitem(last=False)
        if self._remember_s > 0:
            self._remembered[session_id] = (replace(viewer), version, self._clock() + self._remember_s)
            self._remembered.move_to_end(session_id)
            while len(self._remembered) > 2 * self._max_entries:
                self._remembered.popitem(last=False)

    async def recall(self, session_id: str) -> Viewer | None:
        """The database is out of reach: the viewer last read for ``session_id``, if read within
        the remember window, its session not expired since, and its user unchanged since."""
        remembered = self._remembered.get(session_id)
        if remembered is None:
            return None
        viewer, version, until = remembered
        if self._clock() >= until or aware(viewer.expires_at) <= utc_now():
            self._remembered.pop(session_id, None)
            return None
        current = await self._read(_user_key(viewer.openid))
        if current is _DOWN or current != version:
            return None  # changed since (or cannot tell): not this viewer
        return replace(viewer)

    async def changed(self, *openids: str) -> None:
        """What authenticate answers for these users changed (call after the commit)."""
        if not openids:
            return
        await self._cache.set(EPOCH, new_id(), ttl=self._version_ttl)
        for openid in set(openids):
            await self._cache.set(_user_key(openid), new_id(), ttl=self._version_ttl)
        self._shared_down()

    async def _read(self, key: str) -> object:
        value = await self._cache.get(key)
        return _DOWN if self._shared_down() else value

    def _shared_down(self) -> bool:
        """Whether the shared cache fails; then what was kept is dropped, as changes may go unseen."""
        if degraded(self._cache):
            self._kept.clear()
            return True
        return False
