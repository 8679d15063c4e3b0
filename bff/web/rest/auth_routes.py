"""/api/auth/* and /api/user/profile."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from bff.core.errors import BffError, ErrorCode
from bff.web.rest.shim import Shim, json_body

USER_FIELDS = """
  openid unionid nickname avatarUrl bound permissions
  session { expiresAt loginSource }
  binding { role method boundAt permissions
            company { id name code abbr province city contact mobile } }
"""

WX_LOGIN = """
mutation RestWxLogin($code: String!, $profile: ProfileInput) {
  wxLogin(code: $code, profile: $profile) { token openid unionid expiresAt user { bound } }
}"""

BIND = """
mutation RestBind($input: BindCompanyInput!) {
  bindCompany(input: $input) {
    bindStatus permissions companyInfo { id name code abbr province city contact mobile }
  }
}"""

UNBIND = "mutation RestUnbind { unbindCompany }"
LOGOUT = "mutation RestLogout($all: Boolean!) { logout(allSessions: $all) }"
PROFILE = "query RestProfile { me { " + USER_FIELDS + " } }"


def _string(body: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BffError(ErrorCode.BAD_USER_INPUT, f"缺少参数 {key}", field=key)
    return value


async def _wx_login_variables(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    user_info = body.get("userInfo") or {}
    if not isinstance(user_info, dict):
        raise BffError(ErrorCode.BAD_USER_INPUT, "userInfo 必须是对象", field="userInfo")
    profile = {"nickname": user_info.get("nickName"), "avatarUrl": user_info.get("avatarUrl")}
    return {"code": _string(body, "code"), "profile": profile}


async def _bind_variables(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    if body.get("inviteCode"):
        return {"input": {"inviteCode": _string(body, "inviteCode")}}
    account = {"username": _string(body, "erpUsername"), "password": _string(body, "erpPassword")}
    return {"input": {"erpAccount": account}}


async def _logout_variables(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    return {"all": bool(body.get("allSessions", False))}


async def _no_variables(request: Request) -> dict[str, Any]:
    return {}


# The seed listed sessionKey here; WeChat forbids it leaving the server, so the BFF's token stands in.
LOGIN_SHAPE = {key: f"wxLogin.{key}" for key in ("token", "openid", "unionid", "expiresAt")} | {"bound": "wxLogin.user.bound"}


BIND_BODY = {
    "type": "object",
    "description": "Either inviteCode, or erpUsername and erpPassword",
    "properties": {
        "openid": {"type": "string", "description": "Optional; the session decides who binds"},
        "inviteCode": {"type": "string"},
        "erpUsername": {"type": "string"},
        "erpPassword": {"type": "string", "format": "password"},
    },
}


def shims() -> list[Shim]:
    return [
        Shim(
            "POST",
            "/api/auth/wx-login",
            "微信小程序登录: exchange a wx.login() code for the BFF's bearer token",
            WX_LOGIN,
            _wx_login_variables,
            LOGIN_SHAPE,
            tag="auth",
            auth=False,
            request_schema={
                "type": "object",
                "required": ["code"],
                "properties": {
                    "code": {"type": "string"},
                    "userInfo": {
                        "type": "object",
                        "properties": {"nickName": {"type": "string"}, "avatarUrl": {"type": "string"}},
                    },
                },
            },
        ),
        Shim(
            "POST",
            "/api/auth/erp-bind",
            "ERP账号绑定: bind the user to their company by invite code or ERP account",
            BIND,
            _bind_variables,
            {"*": "bindCompany"},
            tag="auth",
            request_schema=BIND_BODY,
        ),
        Shim("POST", "/api/auth/erp-unbind", "Unbind the user from their company", UNBIND, _no_variables,
             {"unbound": "unbindCompany"}, tag="auth"),
        Shim("POST", "/api/auth/logout", "End this session (or all with allSessions: true)", LOGOUT,
             _logout_variables, {"loggedOut": "logout"}, tag="auth",
             request_schema={"type": "object", "properties": {"allSessions": {"type": "boolean"}}}),
        Shim("GET", "/api/user/profile", "获取用户信息: user, binding, company, permissions, session expiry",
             PROFILE, _no_variables, {"user": "me"}, tag="user"),
    ]
