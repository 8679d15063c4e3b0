"""Stable error codes, their purchaser-facing Chinese messages and HTTP statuses.

Anything raised as :class:`BffError` reaches the client with its code and message; the
ERP and WeChat clients raise their own exceptions, which one table turns into a BffError
(``bff/web/errors.py``); anything else is logged and answered as ``INTERNAL`` with no detail.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_BOUND = "NOT_BOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    RATE_LIMITED = "RATE_LIMITED"
    WX_LOGIN_FAILED = "WX_LOGIN_FAILED"
    WX_UNAVAILABLE = "WX_UNAVAILABLE"
    BIND_FAILED = "BIND_FAILED"
    ERP_UNAVAILABLE = "ERP_UNAVAILABLE"
    ERP_DATA_INVALID = "ERP_DATA_INVALID"
    ERP_REFUSED = "ERP_REFUSED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    ATTACHMENT_TOO_LARGE = "ATTACHMENT_TOO_LARGE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    QUERY_TOO_EXPENSIVE = "QUERY_TOO_EXPENSIVE"
    PERSISTED_DOCUMENT_REQUIRED = "PERSISTED_DOCUMENT_REQUIRED"
    PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
    OVERLOADED = "OVERLOADED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    INTERNAL = "INTERNAL"


DEFAULT_MESSAGES: dict[ErrorCode, str] = {
    ErrorCode.UNAUTHENTICATED: "登录已失效，请重新登录",
    ErrorCode.FORBIDDEN: "您没有权限执行此操作",
    ErrorCode.NOT_BOUND: "请先绑定您的企业（输入销售代表提供的邀请码）",
    ErrorCode.BAD_USER_INPUT: "请求内容有误，请检查后重试",
    ErrorCode.NOT_FOUND: "未找到相关记录",
    ErrorCode.RATE_LIMITED: "操作过于频繁，请稍后再试",
    ErrorCode.WX_LOGIN_FAILED: "微信登录失败，请重新进入小程序后再试",
    ErrorCode.WX_UNAVAILABLE: "微信服务繁忙，请稍后重试",
    ErrorCode.BIND_FAILED: "绑定失败，请核对信息或联系您的销售代表",
    ErrorCode.ERP_UNAVAILABLE: "订单系统暂时无法访问，请稍后重试或联系您的销售代表",
    ErrorCode.ERP_DATA_INVALID: "订单数据暂时异常，我们已记录问题，请稍后重试",
    ErrorCode.ERP_REFUSED: "订单系统拒绝了本次请求，请联系您的销售代表",
    ErrorCode.PAYLOAD_TOO_LARGE: "请求内容过大",
    ErrorCode.ATTACHMENT_TOO_LARGE: "附件过大，请联系销售获取",
    ErrorCode.REQUEST_TIMEOUT: "网络较慢，请求未能及时发送完成，请检查网络后重试",
    ErrorCode.QUERY_TOO_EXPENSIVE: "一次查询的内容过多，请减少查询项后重试",
    ErrorCode.PERSISTED_DOCUMENT_REQUIRED: "请使用最新版小程序访问",
    ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND: "小程序版本过旧，请重新进入小程序后再试",
    ErrorCode.OVERLOADED: "访问人数较多，请稍等几秒后重试",
    ErrorCode.DATABASE_UNAVAILABLE: "系统维护中：登录、绑定、消息和设置暂时无法使用，订单查询不受影响，请稍后重试",
    ErrorCode.INTERNAL: "系统繁忙，请稍后重试",
}

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_BOUND: 403,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.WX_LOGIN_FAILED: 400,
    ErrorCode.WX_UNAVAILABLE: 503,
    ErrorCode.BIND_FAILED: 400,
    ErrorCode.ERP_UNAVAILABLE: 503,
    ErrorCode.ERP_DATA_INVALID: 502,
    ErrorCode.ERP_REFUSED: 502,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.ATTACHMENT_TOO_LARGE: 413,  # a file larger than BFF_ATTACHMENT_MAX_BYTES: not sent through the BFF
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.QUERY_TOO_EXPENSIVE: 400,
    ErrorCode.PERSISTED_DOCUMENT_REQUIRED: 403,
    ErrorCode.PERSISTED_DOCUMENT_NOT_FOUND: 400,
    ErrorCode.OVERLOADED: 503,
    ErrorCode.DATABASE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL: 500,
}


class BffError(Exception):
    """An error the client may see: a stable code, a Chinese message, optional details."""

    def __init__(self, code: ErrorCode, message: str | None = None, **details: Any) -> None:
        self.code = ErrorCode(code)
        self.message = message or DEFAULT_MESSAGES[self.code]
        self.details = details
        super().__init__(f"{self.code}: {self.message}")


# Server-side failures: what the error-rate alert counts. Everything else is the client's doing.
SERVER_FAILURES: frozenset[str] = frozenset(
    {ErrorCode.INTERNAL, ErrorCode.ERP_UNAVAILABLE, ErrorCode.ERP_DATA_INVALID, ErrorCode.ERP_REFUSED, ErrorCode.WX_UNAVAILABLE,
     ErrorCode.DATABASE_UNAVAILABLE}
)


def rate_limited(retry_after_s: float, message: str | None = None) -> BffError:
    """RATE_LIMITED that says when to retry (seconds, and the moment)."""
    seconds = max(1, int(retry_after_s + 0.999))
    wait = f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"
    return BffError(
        ErrorCode.RATE_LIMITED,
        message or f"操作过于频繁，请 {wait}后再试",
        retryAfter=seconds,
        retryAt=(datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(),
    )
