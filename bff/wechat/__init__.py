"""WeChat server API: the client, its exceptions, and the subscription-message value rules."""

from bff.wechat.client import WechatClient, WxSession
from bff.wechat.errors import WxApiError

__all__ = ["WechatClient", "WxApiError", "WxSession"]
