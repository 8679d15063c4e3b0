"""What the WeChat client raises: what WeChat answered (its ``errcode`` and masked ``errmsg``),
classified by meaning, never with a purchaser-facing code or message. Those are decided in
one table above the clients (``bff/web/errors.py``)."""

from __future__ import annotations

SYSTEM_BUSY = -1  # WeChat's own "system busy"; also used here for transport failures
RATE_LIMIT_CODES = frozenset({45009, 45011})  # the app's API quota, or a user's too-frequent logins
LOGIN_CODE_INVALID = frozenset({40029, 40163})  # a wx.login() code unknown or already used
ACCOUNT_BLOCKED = 40226  # WeChat holds the user's account as risky


class WxApiError(Exception):
    """Base of every failure the WeChat client lets out. ``errcode`` is WeChat's (-1 also for
    transport failures); ``ambiguous`` is True when the request may have reached WeChat, so it
    must never be repeated (a subscription message sent twice)."""

    def __init__(self, errcode: int, errmsg: str, *, ambiguous: bool = False) -> None:
        super().__init__(f"WeChat errcode {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.ambiguous = ambiguous


class WxUnavailable(WxApiError):
    """WeChat did not answer usefully: busy after retries, unreachable, an unreadable answer."""


class WxRateLimited(WxApiError):
    """WeChat refused for frequency: the app's quota or the user's login rate."""


class WxRefused(WxApiError):
    """WeChat refused a server call (token, template, grant, data): the BFF's problem, not the user's."""


class WxLoginRefused(WxApiError):
    """jscode2session refused the login (a wrong appid or secret included)."""


class WxLoginCodeInvalid(WxLoginRefused):
    """The wx.login() code is unknown, expired or already used."""


class WxAccountBlocked(WxLoginRefused):
    """WeChat holds the user's account as at risk and refuses its logins for now."""


def refusal(errcode: int, errmsg: str, *, login: bool = False) -> WxApiError:
    """The exception for a WeChat ``errcode`` (``login``: answered by jscode2session)."""
    if errcode == SYSTEM_BUSY:
        return WxUnavailable(errcode, errmsg)
    if errcode in RATE_LIMIT_CODES:
        return WxRateLimited(errcode, errmsg)
    if not login:
        return WxRefused(errcode, errmsg)
    if errcode in LOGIN_CODE_INVALID:
        return WxLoginCodeInvalid(errcode, errmsg)
    if errcode == ACCOUNT_BLOCKED:
        return WxAccountBlocked(errcode, errmsg)
    return WxLoginRefused(errcode, errmsg)


class Retryable(Exception):
    """Inside the client only: a failure that may be repeated (never let out)."""

    def __init__(self, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errmsg = errmsg


INTERNAL_SIGNALS: tuple[type[Exception], ...] = (Retryable,)
