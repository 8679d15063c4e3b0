"""System status and performance: who may see what."""

from __future__ import annotations

from bff.core.domain import Permission
from bff.core.errors import BffError, ErrorCode
from bff.core.security import same_secret
from bff.monitor.performance import WINDOWS_S, PerformanceReport, performance
from bff.monitor.status import SystemStatusView, erp_status, view
from resolvers.context import Info, RequestContext


def is_admin_token(context: RequestContext) -> bool:
    """The operator's BFF_ADMIN_TOKEN sent as the bearer (dashboards, scripts)."""
    return same_secret(context.bearer_token, context.services.settings.admin_token.get_secret_value())


async def may_monitor(context: RequestContext) -> bool:
    """True for the admin token and bound administrators; any other logged-in user: False;
    nobody logged in: UNAUTHENTICATED."""
    if is_admin_token(context):
        return True
    viewer = await context.require_viewer()
    return Permission.MONITORING_READ in viewer.permissions


async def system_status(info: Info) -> SystemStatusView:
    services = info.context.services
    full = await may_monitor(info.context)
    return view(erp_status(services.monitor.probe, services.erp), full)


async def performance_report(info: Info, window: str) -> PerformanceReport:
    if not await may_monitor(info.context):
        raise BffError(ErrorCode.FORBIDDEN)
    return await performance(info.context.services.db, WINDOWS_S[window])
