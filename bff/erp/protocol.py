"""What the ERP's HTTP answers mean. The one place that knows the wire details the
reference leaves *unknown* (expiry signals, not-found signals, login cookies), so they
can change here alone. docs/erp-protocol.md lists each assumption and its evidence."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx

from bff.core import jsoncodec
from bff.erp.errors import ErpDataInvalid, ErpRefused, LoginRefused, RecordMissing, SessionExpired, Transient

LOGIN_PATH = "/apps/service/login"
OPEN_APP_PATH = "/apps/user/open-app/{app_id}"
BUSINESS_PATH = "/business/{name}"
FILE_PATH = "/business/file/{app_name}/{path}"

SESSION_COOKIE = "JSESSIONID"
SID_COOKIE = "sid"

EXPIRED_CODES = frozenset({"NOT_LOGIN", "SESSION_EXPIRED"})
EXPIRED_MESSAGE_HINT = "登录"  # "请先登录", "登录已过期", ...
LOGIN_PAGE_HINT = "login"
NOT_FOUND_CODES = frozenset({"NOT_FOUND", "RECORD_NOT_FOUND", "DATA_NOT_FOUND"})
NOT_FOUND_MESSAGE_HINTS = ("记录不存在", "数据不存在")  # not "表单不存在": a wrong form is an error
TRANSIENT_STATUSES = frozenset({408, 425, 429})
MAX_REDIRECTS = 10


def hash_password(plain: str) -> str:
    return hashlib.sha1(plain.encode("utf-8")).hexdigest()


def login_body(account: str, plain_password: str) -> dict[str, Any]:
    return {"state": True, "account": account, "token": "", "password": hash_password(plain_password)}


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Cookies a response sets, read from Set-Cookie directly so no jar policy (domain,
    scheme) can drop them; empty values are deletions and are skipped."""
    result: dict[str, str] = {}
    for header in response.headers.get_list("set-cookie"):
        name, sep, value = header.split(";", 1)[0].partition("=")
        if sep and name.strip() and value.strip():
            result[name.strip()] = value.strip().strip('"')
    return result


def _is_login_redirect(response: httpx.Response) -> bool:
    location = response.headers.get("location", "")
    return response.status_code in (301, 302, 303, 307, 308) and LOGIN_PAGE_HINT in location.lower()


def _says_not_logged_in(body: dict[str, Any]) -> bool:
    code = str(body.get("errorCode") or body.get("code") or "").upper()
    message = str(body.get("message") or body.get("msg") or "")
    return code in EXPIRED_CODES or EXPIRED_MESSAGE_HINT in message


def _says_not_found(body: dict[str, Any]) -> bool:
    code = str(body.get("errorCode") or body.get("code") or "").upper()
    message = str(body.get("message") or "")
    return code in NOT_FOUND_CODES or any(hint in message for hint in NOT_FOUND_MESSAGE_HINTS)


def refusal_reason(body: dict[str, Any]) -> str:
    # The code when there is one; messages are cut short (they may quote user input).
    return str(body.get("errorCode") or body.get("code") or str(body.get("message") or "")[:60] or "refused")


def check_status(response: httpx.Response) -> None:
    """Raise for statuses whose meaning does not depend on the body."""
    status = response.status_code
    if status >= 500 or status in TRANSIENT_STATUSES:
        raise Transient(f"HTTP {status}")
    if status == 401 or _is_login_redirect(response):
        raise SessionExpired()
    if 300 <= status < 400:
        raise ErpDataInvalid(f"unexpected redirect HTTP {status}")
    if status >= 400:
        raise ErpRefused(f"HTTP {status}")


def _flag(value: Any) -> bool | None:
    # The envelope's success flag; a dialect may send it as text or a number.
    if isinstance(value, bool):
        return value
    if value in (1, 0, "true", "false", "1", "0"):
        return value in (1, "true", "1")
    return None


def _looks_like_html(response: httpx.Response) -> bool:
    return "html" in response.headers.get("content-type", "") or response.content.lstrip()[:1] == b"<"


def envelope(response: httpx.Response) -> dict[str, Any]:
    try:
        body = jsoncodec.loads_tolerant(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as error:
        raise ErpDataInvalid("body is not JSON") from error
    success = _flag(body.get("success")) if isinstance(body, dict) else None
    if success is None:
        raise ErpDataInvalid("body has no success flag")
    return {**body, "success": success}


def business_data(response: httpx.Response) -> Any:
    """The ``data`` of a business call's answer, or the exception the answer means."""
    check_status(response)
    if _looks_like_html(response):
        # Guess: a page instead of JSON is the login page of an expired session. One re-login
        # and one repeat follow; a page again after a fresh login is an outage (client.py).
        raise SessionExpired()
    body = envelope(response)
    if body["success"]:
        return body.get("data")
    if _says_not_logged_in(body):
        raise SessionExpired()
    if _says_not_found(body):
        raise RecordMissing(refusal_reason(body))
    raise ErpRefused(refusal_reason(body))


def login_cookies(response: httpx.Response) -> dict[str, str]:
    """Login step 1 → the cookies it set. Evidence: the public client used the cookies and the
    HTTP status only; the reply body's shape is unknown, so it is not read. A login that sets no
    ``sid`` (or answers 401/403) is refused; 5xx and 429 are transient."""
    status = response.status_code
    if status >= 500 or status in TRANSIENT_STATUSES:
        raise Transient(f"HTTP {status}")
    if status in (401, 403):
        raise LoginRefused(f"HTTP {status}")
    cookies = set_cookies(response)
    if status >= 400 or not cookies.get(SID_COOKIE):
        raise LoginRefused(f"HTTP {status}, no {SID_COOKIE} cookie")
    return cookies


def list_page(data: Any) -> tuple[int, list[Any]]:
    """``{"_count": N, "_dataList": [...]}`` → (count, rows). Rows are checked one by one later
    (an odd row is skipped, not the page); a page that is not this shape is invalid."""
    if not isinstance(data, dict):
        raise ErpDataInvalid("list data is not an object")
    rows = data.get("_dataList")
    if rows is None:
        rows = []
    if not isinstance(rows, list):
        raise ErpDataInvalid("_dataList is not a list")
    return _count(data.get("_count", len(rows))), rows


def _count(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ErpDataInvalid("_count is not a count")


def single_record(data: Any) -> dict[str, Any] | None:
    """getBusiness data → the record, or None when the ERP answers an empty record."""
    if data is None or data == {}:
        return None
    if not isinstance(data, dict):
        raise ErpDataInvalid("record is not an object")
    return data


def open_app_hop(response: httpx.Response) -> httpx.Response:
    """Login step 2, one hop: redirects are expected; 5xx is transient, 4xx a refusal."""
    if response.status_code >= 500 or response.status_code in TRANSIENT_STATUSES:
        raise Transient(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ErpRefused(f"open-app answered HTTP {response.status_code}")
    if _is_login_redirect(response):
        raise ErpRefused("open-app sent the fresh sid to the login page")
    return response


# --- file downloads (streamed: bff/erp/client.py ErpClient.open_file) ---

ENVELOPE_MAX_BYTES = 1024 * 1024  # a JSON answer to a file download is an error envelope: read whole, up to this


def file_status(response: httpx.Response) -> None:
    """A file download's status: 404 is a missing file (guess), the rest as any call's."""
    if response.status_code == 404:
        raise RecordMissing("HTTP 404")
    check_status(response)


def file_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "application/octet-stream"))


def is_envelope(response: httpx.Response) -> bool:
    """JSON instead of a file: the ERP's envelope, an error (guess, as before streaming)."""
    return file_type(response).startswith("application/json")


def file_envelope(response: httpx.Response, body: bytes) -> None:
    """Raise what a JSON answer to a file download means when it is a refusal (``success``
    false); a successful envelope is taken as the file itself."""
    read = httpx.Response(response.status_code, headers=response.headers, content=body)
    if not envelope(read)["success"]:
        business_data(read)  # raises the matching error


def file_length(response: httpx.Response) -> int | None:
    """The file's length as the ERP declares it (``Content-Length``), or None when it declares
    none or a length of encoded bytes (gzip: the decoded file is what counts)."""
    if response.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity"):
        return None
    value = response.headers.get("content-length", "").strip()
    return int(value) if value.isdigit() else None
