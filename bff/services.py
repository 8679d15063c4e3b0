"""Everything a request needs, built once per process from the settings and closed at shutdown."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from aiocache.base import BaseCache

from bff.auth.admin_sessions import AdminSessions
from bff.auth.avatars import AvatarService
from bff.auth.binding import BindingService
from bff.auth.companies import CompanyDirectory
from bff.auth.deletion import AccountDeletion
from bff.auth.sessions import SessionService
from bff.auth.viewers import ViewerCache
from bff.cache.caches import create_cache
from bff.cache.ratelimit import RateLimitConfig, RateLimits
from bff.core.config import Settings
from bff.core.security import DataCipher, SecretKeys
from bff.erp import ErpCall, ErpClient, ErpClientConfig
from bff.erp.breaker import CircuitBreaker
from bff.erp.failover import FailoverErp
from bff.erp.guesses import Guesses
from bff.monitor.calllog import CallLogWriter
from bff.monitor.metrics import CIRCUIT_LEVELS, PROBE_LEVELS, Telemetry, current_trace_id
from bff.monitor.watch import Monitor, MonitorConfig
from bff.notify.outbox import OutboxConfig
from bff.notify.reconcile import DeliveryLog
from bff.notify.service import Notifications, NotifyConfig
from bff.notify.templates import TemplateIds
from bff.notify.tracks import TracksConfig
from bff.notify.watcher import CycleStats, WatcherConfig
from bff.orders.details import DeliveryDetails
from bff.orders.fallback import LastGoodAnswers
from bff.orders.logistics import LogisticsNames
from bff.orders.reads import CustomerOrders
from bff.orders.shipment_lines import DeliveryLines
from bff.store.db import Database
from bff.tracking import TrackingClient, TrackingConfig
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
    accounts: AccountDeletion = field(init=False)  # deleteMyAccount
    guesses: Guesses = field(init=False)  # what this process learnt of the ERP's guessed shapes
    delivery_details: DeliveryDetails = field(init=False)
    admin_sessions: AdminSessions = field(init=False)  # /admin logins (bff/web/dashboard.py)

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
        viewers = ViewerCache(cache, max_age_s=settings.viewer_cache_s, remember_s=settings.viewer_remember_s)
        secret_keys = SecretKeys(settings.secret_key.get_secret_value(), settings.secret_key_previous.get_secret_value())
        sessions = SessionService(
            db,
            DataCipher(settings.data_key.get_secret_value(), settings.data_key_previous.get_secret_value()),
            viewers,
            secret_keys=secret_keys,
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
        limits = RateLimits(rate_limit_config(settings))
        bindings = BindingService(
            db,
            erp,
            companies,
            limits,
            viewers,
            admin_accounts=settings.admin_account_set,
            wholesaler_name=settings.wholesaler_name,
            secret_keys=secret_keys,
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
            LogisticsNames(erp, cache),
            DeliveryLines(erp, settings.erp_delivery_lines),
            call_log, telemetry, Monitor(monitor_config(settings), db, cache, erp, call_log), limits,
        )
        erp.add_listener(services.record_erp_call)
        services.guesses = Guesses.pinned({
            "code_filter": settings.erp_guess_code_filter,
            "line_order_filter": settings.erp_guess_line_order_filter,
            "product_ids": settings.erp_guess_product_ids,
            "customer_list": settings.erp_guess_customer_list,
            "order_rates": settings.erp_guess_order_rates,
        })
        services.delivery_details = DeliveryDetails(erp, cache, enabled=settings.erp_logistics_detail)
        services.notify = Notifications(
            notify_config(settings), db, erp, services.wechat, services.logistics, delivery_log=delivery_log,
            guesses=services.guesses, tracking=tracking_client(settings))
        services.monitor.alerter.add_listener(services.notify.admin_alerts.send)
        services.monitor.outbox_wait = lambda: services.notify.outbox.last_backlog.oldest_s
        services.avatars = AvatarService(db, limits, max_bytes=settings.avatar_max_bytes)
        services.accounts = AccountDeletion(db, viewers)
        services.admin_sessions = AdminSessions(
            db, sessions, secret_keys, admin_token=settings.admin_token.get_secret_value(),
            ttl=timedelta(hours=settings.admin_session_hours))
        services._observe_state()
        return services

    def customer_orders(self, customer_id: str) -> CustomerOrders:
        """The scoped reads of one customer (one instance per request)."""
        return CustomerOrders(
            self.erp, self.last_good, self.logistics, customer_id, self.delivery_lines, self.guesses, self.delivery_details)

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
            "bff.outbox.depth", "Subscription messages waiting, by state (database-wide; refreshed by the worker)",
            lambda: [
                (outbox.last_backlog.queued, {"state": "queued"}),
                (outbox.last_backlog.sending, {"state": "sending"}),
            ],
        )
        self.telemetry.gauge(
            "bff.outbox.oldest_age", "Seconds the most overdue queued message has waited",
            lambda: [(outbox.last_backlog.lag_s, {})], unit="s",
        )
        self.telemetry.counter(
            "bff.outbox.messages", "Messages this instance settled: sent, failed, skipped (no grant), unknown, retry",
            lambda: [(outbox.settled[state], {"outcome": "retry" if state == "queued" else state})
                     for state in ("sent", "failed", "skipped", "unknown", "queued")],  # each from 0: rate() sees the first
        )
        self._observe_watcher()

    def _observe_watcher(self) -> None:
        watcher = self.notify.watcher
        record_cycle = self.telemetry.histogram("bff.watcher.cycle.duration", "Change-watcher cycles of this instance")
        totals = {"changes": 0, "customers": 0, "finished_at": 0.0}

        def on_cycle(stats: CycleStats) -> None:
            record_cycle(stats.seconds, {})
            totals["changes"] += stats.events
            totals["customers"] = stats.customers
            totals["finished_at"] = time.time()

        watcher.add_cycle_listener(on_cycle)
        self.telemetry.counter(
            "bff.watcher.changes", "Order changes the watcher found (events, before fan-out to followers)",
            lambda: [(totals["changes"], {})],
        )
        self.telemetry.gauge(
            "bff.watcher.customers", "Customers this instance compared in its last cycle",
            lambda: [(totals["customers"], {})],
        )
        self.telemetry.gauge(
            "bff.watcher.partitions_held", "Watcher partitions this instance holds (all instances: BFF_WATCH_PARTITIONS)",
            lambda: [(len(watcher.partitions.holds()), {})],
        )
        self.telemetry.gauge(
            "bff.watcher.last_cycle_timestamp", "Unix time this instance last finished a watcher cycle (0: none yet)",
            lambda: [(totals["finished_at"], {})], unit="s",
        )

    def record_erp_call(self, call: ErpCall) -> None:
        """Every outbound ERP call goes to api_call_logs beside the inbound ones, and to the metrics."""
        self.telemetry.record_erp(call.endpoint, call.form_id, call.outcome, call.latency_ms)
        if call.outcome == "transient":
            self.guesses.after_erp_error()  # not after a timeout: a slow answer says nothing of the protocol
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
        await self.erp.aclose()
        await self.wechat_http.aclose()
        if self.notify.parcels.client is not None:
            await self.notify.parcels.client.aclose()
        await self.cache.close()
        await self.limits.close()
        await self.db.dispose()
        self.telemetry.shutdown()


# Each part gets only what it uses of the settings, named here.


def rate_limit_config(settings: Settings) -> RateLimitConfig:
    return RateLimitConfig(
        bind_window_s=settings.bind_window_s,
        bind_max_attempts=settings.bind_max_attempts,
        bind_max_attempts_per_ip=settings.bind_max_attempts_per_ip,
        bind_max_attempts_global=settings.bind_max_attempts_global,
        rate_limit_user=settings.rate_limit_user,
        rate_limit_ip=settings.rate_limit_ip,
        rate_limit_global=settings.rate_limit_global,
        erp_calls_per_user=settings.erp_calls_per_user,
        avatar_uploads_per_hour=settings.avatar_uploads_per_hour,
        redis_url=settings.redis_url,
        redis_max_connections=settings.max_inflight + 8,  # every admitted request may hold one
        redis_retry_s=settings.redis_retry_s,
    )


def monitor_config(settings: Settings) -> MonitorConfig:
    return MonitorConfig(
        probe_interval_s=settings.erp_probe_interval_s,
        probe_slow_ms=settings.erp_probe_slow_ms,
        probe_down_after=settings.erp_probe_down_after,
        probe_timeout_s=settings.erp_deadline_s + 1.0,  # the ERP client's own deadline answers first
        alert_webhook_url=settings.alert_webhook_url,
        alert_webhook_format=settings.alert_webhook_format,
        alert_cooldown_s=settings.alert_cooldown_s,
        alert_min_requests=settings.alert_min_requests,
        alert_error_rate=settings.alert_error_rate,
        alert_latency_ms=settings.alert_latency_ms,
        alert_outbox_wait_s=settings.alert_outbox_wait_s,
        call_log_retention_days=settings.call_log_retention_days,
        call_log_purge_interval_s=settings.call_log_purge_interval_s,
    )


def template_ids(settings: Settings) -> TemplateIds:
    return TemplateIds(
        order_status=settings.tpl_order_status,
        production_done=settings.tpl_production_done,
        order_shipped=settings.tpl_order_shipped,
        admin_alert=settings.tpl_admin_alert,
    )


def outbox_config(settings: Settings) -> OutboxConfig:
    return OutboxConfig(
        poll_s=settings.outbox_poll_s,
        batch=settings.outbox_batch,
        concurrency=settings.outbox_concurrency,
        retry_base_s=settings.outbox_retry_base_s,
        retry_max_s=settings.outbox_retry_max_s,
        retry_for_s=settings.outbox_retry_for_s,
        stale_s=settings.outbox_stale_s,
        miniprogram_state=settings.wx_miniprogram_state,
    )


def watcher_config(settings: Settings) -> WatcherConfig:
    return WatcherConfig(
        interval_s=settings.watch_interval_s,
        customers_per_read=settings.watch_customers_per_read,
        partitions=settings.watch_partitions,
        lease_ttl_s=settings.watch_lease_ttl_s,
    )


def notify_config(settings: Settings) -> NotifyConfig:
    return NotifyConfig(
        enabled=settings.notify_enabled,
        templates=template_ids(settings),
        outbox=outbox_config(settings),
        watcher=watcher_config(settings),
        tracks=TracksConfig(
            callback_url=settings.callback_url, query_every_s=settings.tracking_query_every_s,
            stale_s=settings.tracking_stale_s, keep_days=settings.tracking_keep_days,
            keep_signed_days=settings.tracking_keep_signed_days,
        ),
    )


def tracking_client(settings: Settings) -> TrackingClient | None:
    """快递100's client (BFF_TRACKING_*), or None: no account, no tracking."""
    if not settings.tracking_customer:
        return None
    return TrackingClient(TrackingConfig(
        base_url=settings.tracking_url, customer=settings.tracking_customer,
        key=settings.tracking_key.get_secret_value(), salt=settings.tracking_salt.get_secret_value(),
    ))


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
        downloads=settings.attachment_downloads,
    )


def _erp_client(settings: Settings, base_url: str) -> ErpClient:
    config = erp_config(settings, base_url)
    breaker = CircuitBreaker(
        window=settings.erp_breaker_window,
        failure_ratio=settings.erp_breaker_failure_ratio,
        open_s=settings.erp_breaker_open_s,
    )
    return ErpClient(config, breaker=breaker)
