"""Everything a request needs, built once per process from the settings and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx
from aiocache.base import BaseCache

from bff.auth.binding import BindingService
from bff.auth.limiter import FailureLimiter
from bff.auth.sessions import SessionService
from bff.cache import create_cache
from bff.companies import CompanyDirectory
from bff.config import Settings
from bff.erp import ErpCall, ErpClient, ErpClientConfig
from bff.monitor.calllog import CallLogWriter
from bff.orders.fallback import LastGoodAnswers
from bff.orders.logistics import LogisticsNames
from bff.security import DataCipher
from bff.store.db import Database
from bff.wechat import WechatClient


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: BaseCache
    erp: ErpClient
    wechat: WechatClient
    wechat_http: httpx.AsyncClient
    sessions: SessionService
    companies: CompanyDirectory
    bindings: BindingService
    last_good: LastGoodAnswers
    logistics: LogisticsNames
    call_log: CallLogWriter

    @classmethod
    def create(cls, settings: Settings) -> Services:
        db = Database(settings.database_url)
        cache = create_cache(settings.redis_url)
        erp = ErpClient(
            ErpClientConfig(
                login_url=settings.erp_login_url,
                base_url=settings.erp_base_url,
                app_id=settings.erp_app_id,
                app_name=settings.erp_app_name,
                account=settings.erp_account,
                password=settings.erp_password.get_secret_value(),
                timeout_s=settings.erp_timeout_s,
                deadline_s=settings.erp_deadline_s,
                retries=settings.erp_retries,
                pool_size=settings.erp_pool_size,
            )
        )
        wechat_http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        wechat = WechatClient(
            base_url=settings.wx_base_url,
            appid=settings.wx_appid,
            secret=settings.wx_secret.get_secret_value(),
            http=wechat_http,
            token_cache=create_cache(settings.redis_url, namespace="bff-wx"),
        )
        sessions = SessionService(
            db,
            DataCipher(settings.data_key.get_secret_value()),
            secret_key=settings.secret_key.get_secret_value(),
            ttl=timedelta(hours=settings.session_ttl_hours),
        )
        companies = CompanyDirectory(
            erp,
            cache,
            invite_code_field=settings.erp_invite_code_field,
            account_field=settings.erp_customer_account_field,
        )
        limiter = FailureLimiter(
            cache, name="bind", max_failures=settings.bind_max_failures, window_s=settings.bind_failure_window_s
        )
        bindings = BindingService(
            db,
            erp,
            companies,
            limiter,
            admin_accounts=settings.admin_account_set,
            wholesaler_name=settings.wholesaler_name,
        )
        services = cls(
            settings, db, cache, erp, wechat, wechat_http, sessions, companies, bindings,
            LastGoodAnswers(cache), LogisticsNames(erp, cache),
            CallLogWriter(db, enabled=settings.call_log_enabled),
        )
        erp.add_listener(services.record_erp_call)
        return services

    def record_erp_call(self, call: ErpCall) -> None:
        """Every outbound ERP call goes to api_call_logs beside the inbound ones."""
        self.call_log.record(
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
        await self.call_log.purge(timedelta(days=self.settings.call_log_retention_days))

    async def aclose(self) -> None:
        await self.call_log.stop()
        await self.erp.aclose()
        await self.wechat_http.aclose()
        await self.cache.close()
        await self.db.dispose()
