"""/api/wechat/template-msg: the seed's send endpoint, running sendTemplateMessage."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from bff.core.errors import BffError, ErrorCode
from bff.web.rest.shim import Shim, json_body

SEND = """
mutation RestSendTemplateMessage($openid: String!, $templateId: String!, $data: JSON!, $page: String, $wait: Boolean!) {
  sendTemplateMessage(openid: $openid, templateId: $templateId, data: $data, page: $page, wait: $wait) {
    msgid status sendTime errcode error
  }
}"""


async def _send_variables(request: Request) -> dict[str, Any]:
    body = await json_body(request)
    for key in ("openid", "templateId"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise BffError(ErrorCode.BAD_USER_INPUT, f"缺少参数 {key}", field=key)
    if not isinstance(body.get("data"), dict):
        raise BffError(ErrorCode.BAD_USER_INPUT, "缺少参数 data", field="data")
    page = body.get("page")
    return {"openid": body["openid"], "templateId": body["templateId"], "data": body["data"],
            "page": page if isinstance(page, str) and page else None, "wait": body.get("wait") is True}


def shims() -> list[Shim]:
    return [
        Shim(
            "POST", "/api/wechat/template-msg",
            "发送订阅消息: queue a message (administrators, or X-Service-Key); wait: true waits ≤ 5 s for the outcome",
            SEND, _send_variables, {"*": "sendTemplateMessage"}, tag="wechat",
            request_schema={
                "type": "object", "required": ["openid", "templateId", "data"],
                "properties": {
                    "openid": {"type": "string"}, "templateId": {"type": "string"},
                    "data": {"type": "object", "description": '{"thing1": {"value": "..."}} or {"thing1": "..."}'},
                    "page": {"type": "string"}, "wait": {"type": "boolean"},
                },
            },
        ),
    ]
