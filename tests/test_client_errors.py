"""The one table from the ERP and WeChat clients' exceptions to purchaser-facing codes
(bff/web/errors.py): complete, Chinese, and what a purchaser really reads over HTTP."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import httpx
import pytest

import bff.erp
import bff.erp.errors
import bff.wechat
import bff.wechat.errors
from bff.core.errors import DEFAULT_MESSAGES, BffError, ErrorCode
from bff.demo import DemoStack
from bff.web.errors import CLIENT_ERRORS, public_error
from tests.support import GraphQLClient, unique_user

CLIENTS: dict[ModuleType, tuple[type[Exception], ...]] = {
    bff.erp: bff.erp.errors.INTERNAL_SIGNALS,
    bff.wechat: bff.wechat.errors.INTERNAL_SIGNALS,
}


def exception_classes(package: ModuleType) -> set[type[BaseException]]:
    """Every exception class defined in any module of ``package``."""
    found: set[type[BaseException]] = set()
    for module_info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        module = importlib.import_module(module_info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseException) and value.__module__ == module.__name__:
                found.add(value)
    return found


def chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.parametrize("package", list(CLIENTS), ids=lambda p: p.__name__)
def test_every_client_exception_is_in_the_table_or_never_let_out(package: ModuleType) -> None:
    classes = exception_classes(package)
    assert len(classes) >= 5  # the walk found the client's modules
    internal = CLIENTS[package]
    missing = sorted(
        cls.__qualname__ for cls in classes if cls not in CLIENT_ERRORS and not issubclass(cls, internal)
    )
    assert missing == [], f"add these to CLIENT_ERRORS in bff/web/errors.py: {missing}"
    assert not any(issubclass(cls, internal) for cls in CLIENT_ERRORS), "an inner signal must not need an answer"


def test_clients_raise_no_purchaser_errors() -> None:
    for package in CLIENTS:
        for cls in exception_classes(package):
            assert not issubclass(cls, BffError), f"{cls.__qualname__}: clients raise their own exceptions"


def test_table_gives_known_codes_and_chinese_messages() -> None:
    for cls, (code, message) in CLIENT_ERRORS.items():
        assert isinstance(code, ErrorCode), cls
        assert chinese(message or DEFAULT_MESSAGES[code]), cls


def test_nearest_class_in_the_table_answers_for_a_subclass() -> None:
    class Unlisted(bff.erp.errors.ErpDataInvalid):
        pass

    public = public_error(Unlisted("reason: body is not JSON"))
    assert public is not None and public.code is ErrorCode.ERP_DATA_INVALID
    assert "JSON" not in public.message and not public.details
    assert public_error(ValueError("anything else")) is None  # INTERNAL, logged


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (bff.erp.errors.ErpLoginRefused("HTTP 401, no sid cookie"), ErrorCode.BIND_FAILED, "ERP账号或密码错误，请核对后重试"),
        (bff.erp.errors.ErpCircuitOpen(), ErrorCode.ERP_UNAVAILABLE, DEFAULT_MESSAGES[ErrorCode.ERP_UNAVAILABLE]),
        (bff.erp.errors.RecordMissing("HTTP 404"), ErrorCode.ERP_REFUSED, DEFAULT_MESSAGES[ErrorCode.ERP_REFUSED]),
        (bff.erp.errors.ErpFileMissing("HTTP 404"), ErrorCode.NOT_FOUND, "附件不存在"),
        (bff.erp.errors.ErpBudgetExceeded(), ErrorCode.QUERY_TOO_EXPENSIVE, DEFAULT_MESSAGES[ErrorCode.QUERY_TOO_EXPENSIVE]),
        (bff.wechat.errors.refusal(40163, "code been used", login=True), ErrorCode.WX_LOGIN_FAILED, "登录凭证无效或已使用，请重新登录"),
        (bff.wechat.errors.refusal(40226, "high risk user", login=True), ErrorCode.WX_LOGIN_FAILED, "您的微信账号存在安全风险，暂时无法登录"),
        (bff.wechat.errors.refusal(40125, "invalid appsecret", login=True), ErrorCode.WX_LOGIN_FAILED, DEFAULT_MESSAGES[ErrorCode.WX_LOGIN_FAILED]),
        (bff.wechat.errors.refusal(45011, "api minute-quota reach limit", login=True), ErrorCode.RATE_LIMITED, DEFAULT_MESSAGES[ErrorCode.RATE_LIMITED]),
        (bff.wechat.errors.refusal(40037, "invalid template_id"), ErrorCode.INTERNAL, DEFAULT_MESSAGES[ErrorCode.INTERNAL]),
        (bff.wechat.errors.refusal(-1, "system error"), ErrorCode.WX_UNAVAILABLE, DEFAULT_MESSAGES[ErrorCode.WX_UNAVAILABLE]),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_documented_answers(error: Exception, code: ErrorCode, message: str) -> None:
    public = public_error(error)
    assert public is not None and (public.code, public.message) == (code, message)
    assert public.details == {}  # the client's reason and WeChat's errcode stay in the logs


# --- over HTTP, as the purchaser reads it -----------------------------------------------------

BIND = "mutation($input: BindCompanyInput!) { bindCompany(input: $input) { bindStatus } }"
INTERNAL_WORDS = ("HTTP", "sid", "cookie", "Refused", "Erp", "errcode", "Traceback")


def no_internal_detail(text: str) -> None:
    for word in INTERNAL_WORDS:
        assert word not in text, word


async def test_refused_erp_login_during_bind_is_bind_failed(http: httpx.AsyncClient, stack: DemoStack) -> None:
    client = GraphQLClient(http, await stack.login(unique_user()))
    account = stack.demo["customer"]["account"]

    answer = await client(BIND, {"input": {"erpAccount": {"username": account, "password": "Not-The-Password-1"}}})
    error = answer["errors"][0]
    assert answer["data"] is None
    assert error["extensions"]["code"] == "BIND_FAILED"
    assert error["message"] == "ERP账号或密码错误，请核对后重试"
    assert set(error["extensions"]) == {"code", "requestId", "traceId"}
    no_internal_detail(error["message"])

    rest = await http.post(
        "/api/auth/erp-bind",
        json={"erpUsername": account, "erpPassword": "Not-The-Password-2"},
        headers={"Authorization": f"Bearer {client.token}"},
    )
    assert rest.status_code == 400
    body = rest.json()["error"]
    assert (body["code"], body["message"]) == ("BIND_FAILED", "ERP账号或密码错误，请核对后重试")
    assert set(body) == {"code", "message", "requestId", "traceId"}
    no_internal_detail(rest.text)


async def test_reused_wechat_code_gets_the_tables_message(http: httpx.AsyncClient, stack: DemoStack) -> None:
    code = await stack.wx_code(unique_user())
    assert (await http.post("/api/auth/wx-login", json={"code": code})).status_code == 200
    reused = await http.post("/api/auth/wx-login", json={"code": code})
    assert reused.status_code == 400
    body = reused.json()["error"]
    assert (body["code"], body["message"]) == ("WX_LOGIN_FAILED", "登录凭证无效或已使用，请重新登录")
    assert set(body) == {"code", "message", "requestId", "traceId"}
    no_internal_detail(reused.text)
