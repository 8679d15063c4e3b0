"""Everything a request needs, built once per process from the settings and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from aiocache.base import BaseCache

from bff.auth.avatars import AvatarService
from bff.auth.binding import BindingService
from bff.auth.sessions import SessionService
from bff.auth.viewers import ViewerCache
from bff.cache.caches import create_cache
from bff.auth.companies import CompanyDirectory
from bff.core.config import Settings
from bff.erp import ErpCall, ErpClient, ErpClientConfig
from bff.erp.failover import FailoverErp
from bff.erp.breaker import CircuitBreaker
from bff.monitor.calllog import CallLogWriter
from bff.notify.reconcile import DeliveryLog
from bff.notify.service import Notifications
from bff.monitor.metrics import CIRCUIT_LEVELS, PROBE_LEVELS, Telemetry, current_trace_id
from bff.monitor.watch import Monitor
from bff.orders.fallback import LastGoodAnswers
from bff.orders.logistics import LogisticsNames
from bff.orders.reads import CustomerOrders
from bff.orders.shipment_lines import DeliveryLines
from bff.cache.ratelimit import RateLimits
from bff.core.security import DataCipher
from bff.store.db import Database
from bff.wechat import WechatClient


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: BaseCache
    erp: FailoverErp  # an ErpReader; reads fail over to BFF_ERP_BACKUP_URL when set
    wechat: WechatClient
    wechat_http: httpx.AsyncClient
    sessions: SessionService
    companies: CompanyDirectory
    bindings: BindingService
    last_good: LastGoodAnswers
    logistics: LogisticsNames
    delivery_lines: DeliveryLines
    call_log: CallLogWriter
    telemetry: Telemetry
    monitor: Monitor
    limits: RateLimits
    notify: Notifications = field(init=False)  # subscription messages: outbox worker, change watcher, grants
    avatars: AvatarService = field(init=False)

    @classmethod
    def create(cls, settings: Settings, *, delivery_log: DeliveryLog | None = None) -> Services:
        """``delivery_log``: where the outbox asks whether an interrupted send arrived; only a
        simulator can say (the demo's), real WeChat cannot (bff.notify.reconcile)."""
        db = Database(settings.database_url)
        # Redis pool: every admitted request may hold one connection, plus the background jobs.
        cache = create_cache(settings.redis_url, max_connections=settings.max_inflight + 8, retry_s=settings.redis_retry_s)
        telemetry = Telemetry()
        erp = FailoverErp(
            _erp_client(settings, settings.erp_base_url),
            _erp_client(settings, settings.erp_backup_url) if settings.erp_backup_url else None,
        )
        wechat_http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        wechat = WechatClient(
            base_url=settings.wx_base_url,
            appid=settings.wx_appid,
            secret=settings.wx_secret.get_secret_value(),
            http=wechat_http,
            token_cache=create_cache(settings.redis_url, namespace="bff-wx", max_connections=4, retry_s=settings.redis_retry_s),
        )
        viewers = ViewerCache(cache, max_age_s=settings.viewer_cache_s)
        sessions = SessionService(
            db,
            DataCipher(settings.data_key.get_secret_value()),
            viewers,
            secret_key=settings.secret_key.get_secret_value(),
            ttl=timedelta(hours=settings.session_ttl_hours),
            max_age=timedelta(hours=settings.session_max_hours),
        )
        companies = CompanyDirectory(
            erp,
            cache,
            invite_code_field=settings.erp_invite_code_field,
            account_field=settings.erp_customer_account_field,
            recheck_s=settings.company_recheck_s,
        )
        limits = RateLimits(settings)
        bindings = BindingService(
            db,
            erp,
            companies,
            limits,
            viewers,
            admin_accounts=settings.admin_account_set,
            wholesaler_name=settings.wholesaler_name,
            secret_key=settings.secret_key.get_secret_value(),
            rotation_ends_bindings=settings.invite_code_rotation_ends_bindings,
            review_code=settings.review_invite_code,
            review_company_id=settings.review_company_id,
        )
        call_log = CallLogWriter(db, enabled=settings.call_log_enabled)
        services = cls(
            settings, db, cache, erp, wechat, wechat_http, sessions, companies, bindings,
            LastGoodAnswers(
                cache, on_lookup=telemetry.record_fallback,
                max_keys=settings.last_good_max_keys, max_bytes=settings.last_good_max_bytes,
                refresh_s=settings.last_good_refresh_s,
            ),
            LogisticsNames(erp, cache, detail_reads=settings.erp_logistics_detail),
            DeliveryLines(erp, settings.erp_delivery_lines),
            call_log, telemetry, Monitor(settings, db, cache, erp, call_log), limits,
        )
        erp.add_listener(services.record_erp_call)
        services.notify = Notifications(settings, db, erp, services.wechat, services.logistics, delivery_log=delivery_log)
        services.monitor.alerter.add_listener(services.notify.admin_alerts.send)
        services.avatars = AvatarService(db, limits, max_bytes=settings.avatar_max_bytes)
        services._observe_state()
        return services

    def customer_orders(self, customer_id: str) -> CustomerOrders:
        """The scoped reads of one customer (one instance per request)."""
        return CustomerOrders(self.erp, self.last_good, self.logistics, customer_id, self.delivery_lines)

    def _observe_state(self) -> None:
        erp, probe = self.erp, self.monitor.probe
        self.telemetry.gauge(
            "bff.erp.circuit_state", "ERP circuit breaker: 0 closed, 1 half-open, 2 open",
            lambda: [(CIRCUIT_LEVELS[erp.breaker.state.value], {"channel": "primary"})],
        )
        self.telemetry.gauge(
            "bff.erp.probe_state", "ERP probe: -1 unknown, 0 up, 1 degraded, 2 down",
            lambda: [(PROBE_LEVELS[probe.state.value], {})],
        )
        self.telemetry.gauge(
            "bff.erp.backup_in_use", "1 while reads go to the backup ERP channel",
            lambda: [(1 if erp.backup_in_use else 0, {})],
        )
        anomalies = erp.anomalies
        self.telemetry.counter(
            "bff.erp.anomalies", "ERP values of an unforeseen shape (field degraded) or rows without identity (_record)",
            lambda: [(n, {"form": str(form), "field": name}) for form, name, n in anomalies.snapshot()],
        )
        pool = erp.primary.pool_stats
        self.telemetry.gauge(
            "bff.erp.pool", "ERP connection pool of this instance: size, in use, waiting for a connection",
            lambda: [(getattr(pool(), key), {"state": key}) for key in ("size", "in_use", "waiting")],
        )
        outbox = self.notify.outbox
        self.telemetry.gauge(
            "bff.outbox.depth", "Subscription messages waiting, by state (refreshed by the worker)",
            lambda: [
                (outbox.last_backlog.queued, {"state": "queued"}),
                (outbox.last_backlog.sending, {"state": "sending"}),
            ],
        )
        self.telemetry.gauge(
            "bff.outbox.lag", "Seconds the most overdue queued message has waited",
            lambda: [(outbox.last_backlog.lag_s, {})],
        )

    def record_erp_call(self, call: ErpCall) -> None:
        """Every outbound ERP call goes to api_call_logs beside the inbound ones, and to the metrics."""
        self.telemetry.record_erp(call.endpoint, call.form_id, call.outcome, call.latency_ms)
        self.call_log.record(
            trace_id=current_trace_id() or None,
            endpoint=f"erp:{call.endpoint}",
            method="POST",
            status=None,
            latency_ms=call.latency_ms,
            direction="erp",
            operation=str(call.form_id) if call.form_id else None,
            error=None if call.outcome == "ok" else call.outcome,
        )

    async def start(self) -> None:
        """Background work of one BFF process (idempotent: several apps may share the services)."""
        self.call_log.start()
        self.monitor.start()  # probe, alerts, call-log purge (first round at once)
        self.notify.start()  # outbox worker and change watcher (BFF_NOTIFY_ENABLED)

    async def aclose(self) -> None:
        await self.notify.stop()  # before the clients it sends through
        await self.monitor.stop()
        await self.call_log.stop()
        await self.logistics.aclose()
        await self.erp.aclose()
        await self.wechat_http.aclose()
        await self.cache.close()
        await self.limits.close()
        await self.db.dispose()
        self.telemetry.shutdown()


def erp_config(settings: Settings, base_url: str) -> ErpClientConfig:
    """One ERP channel's settings; the backup differs only by its URL (same account, same limits)."""
    return ErpClientConfig(
        login_url=settings.erp_login_url if base_url == settings.erp_base_url else base_url,
        base_url=base_url,
        app_id=settings.erp_app_id,
        app_name=settings.erp_app_name,
        account=settings.erp_account,
        password=settings.erp_password.get_secret_value(),
        timeout_s=settings.erp_timeout_s,
        deadline_s=settings.erp_deadline_s,
        retries=settings.erp_retries,
        pool_size=settings.erp_pool_size,
        pool_wait_s=settings.erp_pool_wait_s,
    )


def _erp_client(settings: Settings, base_url: str) -> ErpClient:
    config = erp_config(settings, base_url)
    breaker = CircuitBreaker(
        window=settings.erp_breaker_window,
        failure_ratio=settings.erp_breaker_failure_ratio,
        open_s=settings.erp_breaker_open_s,
    )
    return ErpClient(config, breaker=breaker)
