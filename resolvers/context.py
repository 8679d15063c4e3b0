"""The per-request context: who is asking, the services, and (later) the dataloaders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info as StrawberryInfo

from bff.core.domain import Permission, Viewer
from bff.core.errors import BffError, ErrorCode
from bff.monitor.context import request_facts
from bff.services import Services
from resolvers.cost import Plan
from resolvers.loaders import OrderLoaders

_UNSET: Any = object()

# Why a binding ended on this request, as the purchaser should read it.
ENDED_MESSAGES = {
    "company_disabled": "贵司的账户已停用，请联系您的销售代表",
    "company_missing": "贵司的账户已不存在，请联系您的销售代表",
    "invite_code_changed": "贵司的邀请码已更换，请向销售代表索取新的邀请码后重新绑定",
}


NOT_LOGGED_IN = "尚未登录，请先登录"


@dataclass
class RequestContext:
    services: Services
    bearer_token: str | None = None
    trusted_openid: str | None = None  # X-WX-OPENID, only when BFF_TRUST_WX_HEADERS is on
    trusted_unionid: str | None = None
    request_id: str = ""
    service_key: str | None = None  # X-Service-Key: server-to-server callers (sendTemplateMessage)
    client_ip: str = ""  # per-IP limits (uvicorn resolves trusted proxies' X-Forwarded-For)
    developer: bool = False  # sent the developer key: may run unregistered documents in production
    # Told the viewer's company once resolved: admission counts this request, and the next ones
    # of its credential, against the company's share of the instance's places (bff/web/admission.py).
    company_seen: Callable[[str | None], None] | None = field(default=None, repr=False)
    _viewer: Any = field(default=_UNSET, repr=False)
    plan: Plan = field(default_factory=Plan)  # the operation's declared reads (set before it runs)
    _order_loaders: OrderLoaders | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)  # sibling resolvers share one load

    async def viewer(self) -> Viewer | None:
        if self._viewer is _UNSET:
            async with self._lock:
                if self._viewer is _UNSET:
                    self._viewer = await self._load_viewer()
        viewer: Viewer | None = self._viewer
        return viewer

    async def _load_viewer(self) -> Viewer | None:
        sessions = self.services.sessions
        viewer: Viewer | None = None
        if self.bearer_token:
            viewer = await sessions.authenticate(self.bearer_token)  # the binding comes in the same query
        elif self.trusted_openid:
            viewer = await sessions.viewer_for_trusted_openid(
                self.trusted_openid, self.trusted_unionid, self.services.bindings.current)
        if self.company_seen is not None:  # before the limits and the standing check, which may refuse
            self.company_seen(viewer.customer_id if viewer is not None else None)
        if viewer is not None:
            await self.services.limits.for_user(viewer.openid)
            bindings = self.services.bindings
            if viewer.binding is not None and (ended := await bindings.standing(viewer.binding)):
                viewer.binding, viewer.binding_ended = None, ended
            facts = request_facts()
            if facts is not None:
                facts.session_id = viewer.session_id
        return viewer

    @property
    def loaded_viewer(self) -> Viewer | None:
        """The viewer if this request already loaded one (no loading here)."""
        return None if self._viewer is _UNSET else self._viewer

    async def require_viewer(self) -> Viewer:
        viewer = await self.viewer()
        if viewer is None:
            # No credential at all is not an expired one (issue 21: both said 登录已失效).
            sent = self.bearer_token or self.trusted_openid
            raise BffError(ErrorCode.UNAUTHENTICATED, None if sent else NOT_LOGGED_IN)
        return viewer

    async def require(self, permission: Permission) -> Viewer:
        """The viewer, if bound and allowed ``permission``; else NOT_BOUND or FORBIDDEN."""
        viewer = await self.require_viewer()
        if viewer.binding is None:
            raise BffError(ErrorCode.NOT_BOUND, ENDED_MESSAGES.get(viewer.binding_ended or ""))
        if permission not in viewer.permissions:
            raise BffError(ErrorCode.FORBIDDEN)
        return viewer

    async def order_loaders(self) -> OrderLoaders:
        """This request's loaders, scoped to the viewer's customer (who must be a bound purchaser).
        Once made they are the answer: the viewer and its permissions are fixed for the request."""
        if self._order_loaders is not None:
            return self._order_loaders
        viewer = await self.require(Permission.ORDERS_READ)
        if self._order_loaders is None:  # no await between the check and the assignment
            assert viewer.customer_id is not None
            notify, openid = self.services.notify, viewer.openid
            self._order_loaders = OrderLoaders(
                self.services.customer_orders(viewer.customer_id), lambda ids: notify.order_notes(openid, ids),
                notify.parcels,
            )
        return self._order_loaders

    def order_loaders_made(self) -> OrderLoaders:
        """The loaders a root field made (for fields answered from what it loaded)."""
        if self._order_loaders is None:
            raise RuntimeError("order fields resolved outside an order root field")
        return self._order_loaders

    def release(self) -> None:
        """The operation is answered: let go of what it read. graphql-core keeps its execution
        context (and so this one) in a reference cycle until the garbage collector runs; what
        the loaders hold is freed now instead (issue 11: collections were a fifth of a page's CPU)."""
        self._order_loaders = None

    @property
    def stale_as_of(self) -> Any:
        return self._order_loaders.reads.stale_as_of if self._order_loaders else None


Info = StrawberryInfo[RequestContext, None]
