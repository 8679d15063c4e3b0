"""WeChat server API: the client, and the subscription-message value rules."""

from bff.wechat.client import WechatClient, WxApiError, WxSession

__all__ = ["WechatClient", "WxApiError", "WxSession"]
