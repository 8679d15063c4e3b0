"""A WeChat API simulator (login codes, access tokens, subscription messages) with fault injection."""

from bff.sim.wechat.app import create_app
from bff.sim.wechat.state import DEFAULT_TEMPLATES, WechatSim, WechatSimConfig

__all__ = ["DEFAULT_TEMPLATES", "WechatSim", "WechatSimConfig", "create_app"]
