"""The one table from the clients' exceptions to what a purchaser reads.

The ERP and WeChat clients raise exceptions that say what failed (``bff/erp/errors.py``,
``bff/wechat/errors.py``); here each class gets its stable :class:`ErrorCode` and, where the
code's default message would be too vague, a Chinese message. Every answer path goes
through :func:`public_error`: GraphQL errors (and so the REST shims, which run GraphQL
operations) and the attachment download. The client's own detail (a reason, WeChat's
errcode and errmsg) stays in the logs. ``tests/test_client_errors.py`` checks that every
exception class the clients define is in the table (or is a signal they never let out).
"""

from __future__ import annotations

from bff.core.errors import BffError, ErrorCode
from bff.erp import errors as erp
from bff.store.db import DatabaseUnavailable
from bff.wechat import errors as wx

# What an answer path may catch and answer with a code: the BFF's own errors and the clients'.
ANSWERABLE: tuple[type[Exception], ...] = (BffError, erp.ErpError, wx.WxApiError, DatabaseUnavailable)

CLIENT_ERRORS: dict[type[Exception], tuple[ErrorCode, str | None]] = {
    # ERP: bases first, for a subclass someone forgets to add (the test will not let it stay).
    erp.ErpError: (ErrorCode.ERP_UNAVAILABLE, None),
    erp.ErpFailure: (ErrorCode.ERP_UNAVAILABLE, None),
    erp.ErpUnavailable: (ErrorCode.ERP_UNAVAILABLE, None),
    erp.ErpCircuitOpen: (ErrorCode.ERP_UNAVAILABLE, None),
    erp.ErpDataInvalid: (ErrorCode.ERP_DATA_INVALID, None),
    erp.ErpRefused: (ErrorCode.ERP_REFUSED, None),
    erp.RecordMissing: (ErrorCode.ERP_REFUSED, None),  # a record the services asked for by id: not the purchaser's doing
    erp.ErpFileMissing: (ErrorCode.NOT_FOUND, "附件不存在"),
    erp.ErpFileTooLarge: (ErrorCode.ATTACHMENT_TOO_LARGE, None),
    erp.ErpLoginRefused: (ErrorCode.BIND_FAILED, "ERP账号或密码错误，请核对后重试"),  # only binding checks a user's password
    erp.ErpBudgetExceeded: (ErrorCode.QUERY_TOO_EXPENSIVE, None),
    # WeChat
    wx.WxApiError: (ErrorCode.INTERNAL, None),
    wx.WxUnavailable: (ErrorCode.WX_UNAVAILABLE, None),
    wx.WxRateLimited: (ErrorCode.RATE_LIMITED, None),
    wx.WxRefused: (ErrorCode.INTERNAL, None),  # token, template, grant, data: our side's problem, not the purchaser's
    wx.WxLoginRefused: (ErrorCode.WX_LOGIN_FAILED, None),
    wx.WxLoginCodeInvalid: (ErrorCode.WX_LOGIN_FAILED, "登录凭证无效或已使用，请重新登录"),
    wx.WxAccountBlocked: (ErrorCode.WX_LOGIN_FAILED, "您的微信账号存在安全风险，暂时无法登录"),
    # The database out of reach: what needs it answers 503, reads from the ERP go on.
    DatabaseUnavailable: (ErrorCode.DATABASE_UNAVAILABLE, None),
}


def public_error(error: BaseException | None) -> BffError | None:
    """What the client sees of ``error``: itself if a BffError, its table entry if a client's
    exception (the nearest class in the table), None for anything unexpected (INTERNAL, logged)."""
    if isinstance(error, BffError):
        return error
    if not isinstance(error, ANSWERABLE):
        return None
    for cls in type(error).__mro__:
        entry = CLIENT_ERRORS.get(cls)
        if entry is not None:
            code, message = entry
            return BffError(code, message)
    return None  # unreachable while the bases are in the table


def answer_for(error: Exception) -> BffError:
    """:func:`public_error` for an exception caught as ``ANSWERABLE``: never None."""
    return public_error(error) or BffError(ErrorCode.INTERNAL)
