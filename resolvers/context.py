"""The per-request context: who is asking, the services, and (later) the dataloaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from bff.domain import Permission, Viewer
from bff.errors import BffError, ErrorCode
from bff.services import Services

_UNSET: Any = object()


@dataclass
class RequestContext:
    services: Services
    bearer_token: str | None = None
    trusted_openid: str | None = None  # X-WX-OPENID, only when BFF_TRUST_WX_HEADERS is on
    trusted_unionid: str | None = None
    request_id: str = ""
    _viewer: Any = field(default=_UNSET, repr=False)

    async def viewer(self) -> Viewer | None:
        if self._viewer is _UNSET:
            self._viewer = await self._load_viewer()
        return self._viewer

    async def _load_viewer(self) -> Viewer | None:
        sessions = self.services.sessions
        viewer: Viewer | None = None
        if self.bearer_token:
            viewer = await sessions.authenticate(self.bearer_token)
        elif self.trusted_openid:
            viewer = await sessions.viewer_for_trusted_openid(self.trusted_openid, self.trusted_unionid)
        if viewer is not None:
            viewer.binding = await self.services.bindings.current(viewer.openid)
        return viewer

    async def require_viewer(self) -> Viewer:
        viewer = await self.viewer()
        if viewer is None:
            raise BffError(ErrorCode.UNAUTHENTICATED)
        return viewer

    async def require(self, permission: Permission) -> Viewer:
        """The viewer, if bound and allowed ``permission``; else NOT_BOUND or FORBIDDEN."""
        viewer = await self.require_viewer()
        if viewer.binding is None:
            raise BffError(ErrorCode.NOT_BOUND)
        if permission not in viewer.permissions:
            raise BffError(ErrorCode.FORBIDDEN)
        return viewer


Info = StrawberryInfo[RequestContext, None]
