"""One settings object, read from the environment (prefix ``BFF_``) and ``.env``.

Every field is documented in ``.env.example`` and the README's configuration table;
``tests/test_config_docs.py`` keeps the three in step.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from limits import parse as parse_limit
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bff.core.security import parse_networks

# Development defaults: accepted outside production, refused in production.
DEV_SECRET = "dev-only-secret-change-me"
DEV_DATA_KEY = "ZGV2LW9ubHktZGF0YS1rZXktY2hhbmdlLW1lLTMyYg=="  # base64 of 32 bytes, dev only


SECRET_MIN_LENGTH = 32
SECRET_MIN_DISTINCT = 10


def strong_secret(value: str) -> bool:
    """Long enough and varied enough to be random, and not a development default."""
    return (
        len(value) >= SECRET_MIN_LENGTH
        and len(set(value)) >= SECRET_MIN_DISTINCT
        and value not in (DEV_SECRET, DEV_DATA_KEY)
    )


class ProductionConfigError(ValueError):
    """Raised when production mode meets a missing secret or a development default."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BFF_", env_file=".env", extra="ignore", populate_by_name=True)

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, validation_alias="PORT")
    public_url: str = ""

    # Storage and cache
    database_url: str = "sqlite+aiosqlite:///./var/bff.sqlite3"
    redis_url: str = ""

    # Secrets: from the environment, never the repo
    secret_key: SecretStr = SecretStr(DEV_SECRET)
    data_key: SecretStr = SecretStr(DEV_DATA_KEY)
    # During a rotation only: the keys being replaced, still accepted for reading (docs/deploy.md).
    secret_key_previous: SecretStr = SecretStr("")
    data_key_previous: SecretStr = SecretStr("")
    admin_token: SecretStr = SecretStr("")
    admin_session_hours: float = Field(8.0, gt=0, le=24 * 7)  # an /admin login lasts this long (bff/auth/admin_sessions.py)
    service_key: SecretStr = SecretStr("")

    # Sessions and binding
    session_ttl_hours: int = 24 * 7
    bind_max_attempts: int = 5  # per user and window; every attempt counts, success resets nothing
    bind_window_s: int = 600
    session_max_hours: int = 24 * 30  # absolute lifetime, whatever the renewals
    viewer_cache_s: float = Field(5.0, ge=0, le=300)  # a session's viewer is kept this long per instance (bff/auth/viewers.py); 0: off
    viewer_remember_s: float = Field(900.0, ge=0, le=86400)  # ...and recalled this long while the database is out of reach
    review_invite_code: str = ""  # WeChat's reviewers bind with it to review_company_id; empty: off
    review_company_id: str = ""

    # Profile avatars (stored in the database, served at BFF_PUBLIC_URL/api/avatars/...)
    avatar_max_bytes: int = 1024 * 1024
    avatar_uploads_per_hour: int = 20

    # Shipment attachments (/api/files/...): streamed from the ERP, never more than this many bytes
    attachment_max_bytes: int = Field(20 * 1024 * 1024, ge=64 * 1024)
    # ...at most this many at once per instance: each holds an ERP connection while its client reads
    attachment_downloads: int = Field(8, ge=1)

    # WeChat
    wx_base_url: str = "https://api.weixin.qq.com"
    wx_appid: str = "wx-demo-appid"
    wx_secret: SecretStr = SecretStr(DEV_SECRET)
    wx_trust_headers: bool = Field(False, validation_alias="BFF_TRUST_WX_HEADERS")

    # Snowbeasts ERP
    erp_login_url: str = "https://saas.snowbeasts.com"
    erp_base_url: str = "http://saas.snowbeasts.com"
    erp_app_id: str = "82886"
    erp_app_name: str = "SnowInventory-82886"
    erp_account: str = ""
    erp_password: SecretStr = SecretStr("")
    erp_admin_accounts: str = ""
    wholesaler_name: str = "惠采工业品批发"
    erp_customer_account_field: str = "mobile"
    erp_invite_code_field: str = "微信邀请码"
    erp_timeout_s: float = 2.0
    erp_deadline_s: float = 2.5
    erp_retries: int = 3
    # A home screen reads 20 orders' lines at once (evidenced shapes): 20 connections held one home
    # screen's second round, and the next one waited a whole ERP round trip (docs/capacity.md).
    erp_pool_size: int = 100
    # Protocol dialects the live ERP may speak (docs/erp-protocol.md; `bff erp check` tells which)
    erp_delivery_lines: Literal["auto", "per-delivery", "parent-list"] = "auto"
    erp_logistics_detail: bool = True  # read a delivery's detail when its list row lacks carrier or files
    # Guessed call shapes (bff/erp/guesses.py): auto = tried, checked, used while the ERP keeps to them.
    erp_guess_code_filter: Literal["auto", "on", "off"] = "auto"
    erp_guess_line_order_filter: Literal["auto", "on", "off"] = "auto"
    erp_guess_product_ids: Literal["auto", "on", "off"] = "auto"
    erp_guess_customer_list: Literal["auto", "on", "off"] = "auto"
    erp_guess_order_rates: Literal["auto", "on", "off"] = "auto"

    # Monitoring
    call_log_enabled: bool = True
    call_log_retention_days: int = 30
    call_log_purge_interval_s: float = 6 * 3600
    erp_backup_url: str = ""
    erp_request_budget_s: float = 2.7
    erp_probe_interval_s: float = 30.0
    erp_probe_slow_ms: float = 1500.0
    erp_probe_down_after: int = 3
    erp_breaker_window: int = 20
    erp_breaker_failure_ratio: float = 0.5
    erp_breaker_open_s: float = 10.0
    alert_webhook_url: str = ""
    alert_webhook_format: Literal["wecom", "json"] = "wecom"
    alert_cooldown_s: float = 300.0
    alert_error_rate: float = 0.2
    alert_latency_ms: float = 3000.0
    alert_min_requests: int = 20
    alert_outbox_wait_s: float = 300.0

    # Notifications
    tpl_order_status: str = "TPL_ORDER_STATUS"
    tpl_production_done: str = "TPL_PRODUCTION_DONE"
    tpl_order_shipped: str = "TPL_ORDER_SHIPPED"
    tpl_admin_alert: str = "TPL_ADMIN_ALERT"
    wx_miniprogram_state: Literal["developer", "trial", "formal"] = "formal"
    notify_enabled: bool = True
    watch_interval_s: float = 60.0
    # The watcher's customers are split into partitions, each a lease in worker_leases: live
    # instances share them, and a dead instance's partitions expire after the ttl (<= 30 s).
    watch_partitions: int = Field(8, ge=1, le=256)
    watch_lease_ttl_s: float = Field(20.0, gt=0, le=30)
    watch_customers_per_read: int = Field(200, ge=1, le=1000)  # 1: one read per customer (evidenced shape)
    outbox_poll_s: float = 1.0
    outbox_concurrency: int = 16
    outbox_batch: int = 64
    outbox_retry_base_s: float = 2.0
    outbox_stale_s: float = 60.0

    # Capacity and resilience under load (issue 11)
    erp_pool_wait_s: float = 1.0
    max_inflight: int = 24
    max_queued: int = 48
    queue_wait_s: float = 0.5
    redis_retry_s: float = 5.0
    gc_young_threshold: int = Field(10_000, ge=0)  # bff serve: net allocations between young collections; 0: Python's 700
    outbox_retry_for_s: float = 6 * 3600  # replaces outbox_max_attempts: retry for hours, not seconds
    outbox_retry_max_s: float = 600.0

    # Abuse limits
    max_body_bytes: int = 64 * 1024
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 2000
    max_page_size: int = 50

    # --- Abuse-proofing (issue 10): rate limits, ERP budgets, trusted documents, revocation ---
    bind_max_attempts_per_ip: int = 20
    bind_max_attempts_global: int = 200
    rate_limit_user: str = "120/minute"
    rate_limit_ip: str = "600/minute"
    rate_limit_global: str = "20000/minute"  # docs/capacity.md: 9,600 in the 9:00 minute at 20,000 purchasers
    erp_calls_per_user: str = "2000/hour"
    erp_cost_budget: int = 150  # a worst case (resolvers/cost.py); the run-time cap bounds what happens
    erp_max_calls_per_request: int = 60
    trusted_documents_only: bool = False
    developer_key: SecretStr = SecretStr("")
    company_recheck_s: int = 300
    invite_code_rotation_ends_bindings: bool = False
    last_good_max_keys: int = 64
    last_good_max_bytes: int = 2_000_000
    last_good_refresh_s: float = 30.0  # a key's kept answer is rewritten at most this often
    trusted_header_sources: str = ""
    shutdown_grace_s: float = 10.0
    # --- end of issue 10 settings ---

    # --- The edge against a hostile internet (issue 19) ---
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (addresses or CIDRs); the
    # client is the first untrusted hop from the right (bff/web/edge.py).
    trusted_proxies: str = "127.0.0.1, ::1"
    header_timeout_s: float = Field(10.0, gt=0)  # a request's headers must be in within this
    max_header_bytes: int = Field(32 * 1024, ge=4096)
    body_timeout_s: float = Field(30.0, gt=0)  # a request's body must be in within this (1 MB on 3G: ~20 s)
    max_inflight_per_user: int = Field(6, ge=1)  # admitted or waiting, per bearer token / platform user
    max_inflight_per_ip: int = Field(12, ge=1)  # the same for anonymous requests, per client address
    # The same per company (ERP customer), over all its purchasers; 0: half of max_inflight.
    max_inflight_per_company: int = Field(0, ge=0)
    metrics_token: SecretStr = SecretStr("")  # /metrics needs it as a bearer token; empty: loopback only
    ops_refresh_s: float = Field(1.0, ge=0)  # /metrics rendered, readiness worked out, at most this often
    # --- end of issue 19 settings ---

    # --- Parcel tracking (issue 22; docs/tracking.md) ---
    tracking_url: str = "https://poll.kuaidi100.com"  # 快递100 (the simulator in the demo)
    tracking_customer: str = ""  # the 快递100 account (customer); empty: no tracking
    tracking_key: SecretStr = SecretStr("")  # its authorisation key
    tracking_salt: SecretStr = SecretStr("")  # our secret: pushes are signed MD5(param + salt)
    tracking_callback_url: str = ""  # empty: BFF_PUBLIC_URL + /api/tracking/callback
    tracking_query_every_s: float = Field(300.0, ge=60)  # at most one real-time query per number this often
    tracking_stale_s: float = Field(1800.0, ge=60)  # an opened track older than this (not final) is queried
    tracking_keep_days: int = Field(90, ge=1)  # a track is deleted this long after its last change
    tracking_keep_signed_days: int = Field(30, ge=1)  # ... or after it was signed for
    # --- end of tracking settings ---

    @model_validator(mode="after")
    def _valid_rate_limits(self) -> Settings:
        for name in ("rate_limit_user", "rate_limit_ip", "rate_limit_global", "erp_calls_per_user"):
            try:
                parse_limit(getattr(self, name))
            except ValueError:
                raise ValueError(f"BFF_{name.upper()} must look like 120/minute") from None
        return self

    @model_validator(mode="after")
    def _valid_networks(self) -> Settings:
        for name in ("trusted_proxies", "trusted_header_sources"):
            try:
                parse_networks(getattr(self, name))
            except ValueError:
                raise ValueError(f"BFF_{name.upper()} must be addresses or CIDRs separated by commas") from None
        return self

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> Settings:
        if self.env != "production":
            return self
        problems = []
        for name in ("secret_key", "data_key", "wx_secret"):
            if not strong_secret(getattr(self, name).get_secret_value()):
                problems.append(f"BFF_{name.upper()}")
        for name in ("admin_token", "service_key", "developer_key", "metrics_token",  # optional, but strong when set
                     "secret_key_previous", "data_key_previous"):
            value = getattr(self, name).get_secret_value()
            if value and not strong_secret(value):
                problems.append(f"BFF_{name.upper()}")
        if not self.erp_password.get_secret_value():  # its strength is the ERP's policy, not ours
            problems.append("BFF_ERP_PASSWORD")
        if not self.erp_account:
            problems.append("BFF_ERP_ACCOUNT")
        if self.wx_appid == "wx-demo-appid":
            problems.append("BFF_WX_APPID")
        if not self.public_url.startswith("https://"):
            problems.append("BFF_PUBLIC_URL")  # avatar links must be https for the mini program
        if self.review_invite_code and not self.review_company_id:
            problems.append("BFF_REVIEW_COMPANY_ID")
        if self.tracking_customer:  # tracking on: pushes must be signed, and reach us over https
            if not self.tracking_key.get_secret_value():
                problems.append("BFF_TRACKING_KEY")
            if not strong_secret(self.tracking_salt.get_secret_value()):
                problems.append("BFF_TRACKING_SALT")
            if not self.callback_url.startswith("https://"):
                problems.append("BFF_TRACKING_CALLBACK_URL")
        if problems:
            # Names only, never a value: this message reaches logs and terminals.
            raise ProductionConfigError(
                "production mode needs real values (secrets: at least 32 characters, not repetitive) for: "
                + ", ".join(sorted(problems))
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def callback_url(self) -> str:
        """Where the tracking service pushes (bff/web/rest/tracking_routes.py)."""
        return self.tracking_callback_url or (self.public_url.rstrip("/") + "/api/tracking/callback" if self.public_url else "")

    @property
    def trusted_documents_required(self) -> bool:
        """Purchasers may run only registered documents (always in production)."""
        return self.is_production or self.trusted_documents_only

    @cached_property
    def admin_account_set(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.erp_admin_accounts.split(",") if a.strip())
