"""/api/health/check: liveness and readiness of the BFF's own dependencies."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bff.cache.caches import ResilientCache, cache_backend
from bff.monitor.status import erp_status
from bff.services import Services
from bff.store.migrate import SchemaBehind, schema_ready
from bff.web.appstate import services_of

CHECK_TIMEOUT_S = 2.0
POOL_CHECK_S = 0.8  # each of the two ERP reachability tries (through the pool, then fresh)
POOL_FRESH_S = 60.0  # a pool that had an ERP answer this recently is not wedged: no request to prove it


class PoolWedged(Exception):
    """The ERP answers a fresh connection but not this instance's pool."""


async def _timed(name: str, check: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check, CHECK_TIMEOUT_S)
        status = "up"
        error = None
    except Exception as exc:  # noqa: BLE001  a health check reports failures, it does not raise them
        status, error = "down", type(exc).__name__
    result: dict[str, Any] = {"name": name, "status": status, "ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    return result


async def _cache_roundtrip(services: Services) -> None:
    await services.cache.set("health:ping", 1, ttl=10)
    if await services.cache.get("health:ping") != 1:
        raise RuntimeError("cache did not return what was written")


async def _redis(cache: ResilientCache) -> dict[str, Any]:
    """Redis down is a degradation, not unreadiness: the cache falls back to local memory."""
    check = await _timed("cache", cache.ping())
    if check["status"] == "down":
        check["status"] = "degraded"
    return check


async def _degradable(check: Any) -> dict[str, Any]:
    """The database down is a degradation too: signed-in purchasers keep reading orders from the ERP,
    and what needs the database answers DATABASE_UNAVAILABLE (every instance would fail together)."""
    result: dict[str, Any] = await check
    if result["status"] == "down":
        result["status"] = "degraded"
    return result


async def _schema(services: Services) -> dict[str, Any]:
    """Behind this code's head: unready (run `bff migrate`). Cannot be asked (the database out of
    reach): a degradation, as the database check says."""
    result = await _timed("schema", schema_ready(services.db))
    if result["status"] == "down" and result.get("error") != SchemaBehind.__name__:
        result["status"] = "degraded"
    return result


async def _erp_pool(services: Services) -> None:
    if services.erp.primary.pool_answered_within(POOL_FRESH_S):
        return  # the probe (every BFF_ERP_PROBE_INTERVAL_S) and the traffic keep this fresh
    if await services.erp.primary.pool_wedged(POOL_CHECK_S):
        raise PoolWedged()


def _notifications(services: Services, outbox: dict[str, Any]) -> dict[str, Any]:
    """WeChat as this instance's sends saw it, and whether messages wait too long: a degradation
    (purchasers still read their orders), never unreadiness."""
    reach = services.notify.outbox.wechat
    waited = float(outbox.get("oldestWaitS", 0.0))
    limit = services.settings.alert_outbox_wait_s
    down = reach.failing_since is not None
    return {
        "status": "degraded" if down or waited > limit else "ok",
        "wechat": "down" if down else "up",
        "failingSince": reach.failing_since.isoformat() if reach.failing_since else None,
        "failedSends": reach.failed_sends,
        "failedSendsTotal": reach.failed_total,
        "oldestWaitS": waited,
        "alertAfterS": limit,
    }


class Readiness:
    """Readiness as last worked out, shared by every probe for ``fresh_s`` (BFF_OPS_REFRESH_S) and
    worked out by one of them at a time: a flood of probes costs one database ping and one cache
    round trip a second, and no ERP request while the pool is in use (issue 19)."""

    def __init__(self, fresh_s: float) -> None:
        self.fresh_s = fresh_s
        self._lock = asyncio.Lock()
        self._body: dict[str, Any] | None = None
        self._at = float("-inf")

    async def get(self, services: Services) -> dict[str, Any]:
        async with self._lock:
            if self._body is None or time.monotonic() - self._at >= self.fresh_s:
                self._body = await _readiness(services)
                self._at = time.monotonic()
            return self._body


async def health_check(request: Request) -> JSONResponse:
    """Liveness: the process answers (``?probe=live``: nothing else is checked). Readiness:
    database (migrated to this code's head: unready until `bff migrate` ran) and this instance's ERP
    connection pool; the database out of reach and the cache down are degradations. The ERP's own state is
    reported but never makes the BFF unready: it still serves stale data, and every instance
    would fail together behind the balancer. A pool that cannot reach an ERP which answers a
    fresh connection does: only a restart cures that instance."""
    if request.query_params.get("probe") == "live":
        return JSONResponse({"status": "ok", "live": True})
    readiness: Readiness = request.app.state.readiness
    body = await readiness.get(services_of(request))
    return JSONResponse(body, status_code=200 if body["ready"] else 503)


async def _readiness(services: Services) -> dict[str, Any]:
    cache = services.cache
    checks = await asyncio.gather(
        _degradable(_timed("database", services.db.ping())),
        _schema(services),
        # Redis behind a fallback: its ping says up or degraded (a round trip could straddle the switch).
        _redis(cache) if isinstance(cache, ResilientCache) else _timed("cache", _cache_roundtrip(services)),
        _timed("erpPool", _erp_pool(services)),
    )
    outbox_worker = services.notify.outbox
    try:
        backlog = await asyncio.wait_for(outbox_worker.backlog(), CHECK_TIMEOUT_S)
        outbox: dict[str, Any] = {"queued": backlog.queued, "sending": backlog.sending, "lagS": round(backlog.lag_s, 1),
                                  "oldestWaitS": round(backlog.oldest_s, 1)}
    except Exception as exc:  # noqa: BLE001  reported, not raised: the database check above already says why
        outbox = {"error": type(exc).__name__}
    notifications = _notifications(services, outbox)
    healthy = all(c["status"] in ("up", "degraded") for c in checks)
    degraded = any(c["status"] == "degraded" for c in checks) or notifications["status"] != "ok"
    erp = erp_status(services.monitor.probe, services.erp)
    return {
        "status": ("degraded" if degraded else "ok") if healthy else "unavailable",
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
        "notifications": notifications,
        "database": services.db.dialect,
        "cache": cache_backend(services.cache),
    }
