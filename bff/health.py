"""/api/health/check: liveness and readiness of the BFF's own dependencies."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.cache import cache_backend
from bff.monitor.status import erp_status
from bff.services import Services

CHECK_TIMEOUT_S = 2.0


async def _timed(name: str, check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_S)
        status = "up"
        error = None
    except Exception as exc:  # a health check reports failures, it does not raise them
        status, error = "down", type(exc).__name__
    result: dict[str, Any] = {"name": name, "status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


async def _cache_roundtrip(services: Services) -> None:
    await services.cache.set("health:ping", 1, ttl=10)
    if await services.cache.get("health:ping") != 1:
        raise RuntimeError("cache did not return what was written")


async def health_check(request: Request) -> JSONResponse:
    """Liveness: the process answers (``?probe=live``: nothing else is checked). Readiness:
    database and cache. The ERP's state is reported but never makes the BFF unready: it
    still serves stale data, and every instance would fail together behind the balancer."""
    services: Services = request.app.state.services
    if request.query_params.get("probe") == "live":
        return JSONResponse({"status": "ok", "live": True})
    checks = await asyncio.gather(
        _timed("database", services.db.ping()),
        _timed("cache", _cache_roundtrip(services)),
    )
    try:
        backlog = await asyncio.wait_for(services.notify.outbox.backlog(), CHECK_TIMEOUT_S)
        outbox: dict[str, Any] = {"queued": backlog.queued, "sending": backlog.sending, "lagS": round(backlog.lag_s, 1)}
    except Exception as exc:  # reported, not raised: the database check above already says why
        outbox = {"error": type(exc).__name__}
    healthy = all(c["status"] == "up" for c in checks)
    erp = erp_status(services.monitor.probe, services.erp)
    body = {
        "status": "ok" if healthy else "unavailable",
        "live": True,
        "ready": healthy,
        "checks": {c["name"]: c for c in checks},
        "erp": {
            "state": erp.state.value,
            "lastCheck": erp.last_check.isoformat() if erp.last_check else None,
            "circuit": erp.circuit_state,
            "backupInUse": erp.backup_in_use,
            "critical": False,
        },
        "outbox": outbox,
        "database": services.db.dialect,
        "cache": cache_backend(services.cache),
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
