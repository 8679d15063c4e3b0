"""The ERP simulator's state: records per form, sessions, call counters and faults.

Free of HTTP so the rules read like the protocol notes. Every mutation is synchronous
(no awaits inside), so concurrent requests on the one event loop always see consistent
records. Protocol answers are dicts shaped exactly as the ERP sends them.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from bff.sim.erp import data as seed_data
from bff.sim.erp.data import DemoCustomer, Record

Answer = dict[str, Any]

CUSTOMERS, ORDERS, ORDER_LINES, DELIVERIES, DELIVERY_LINES = 100004, 100001, 100185, 100039, 100041
LOGISTICS_DATASOURCE = 100292
MAX_PAGE_SIZE = 5000
SHA1_HEX = re.compile(r"[0-9a-f]{40}")

# Fields searched by filters.systemFulltext, per form.
FULLTEXT: dict[int, tuple[str, ...]] = {
    CUSTOMERS: ("code", "name", "abbr", "contact", "mobile"),
    ORDERS: ("code", "customerOrderCode", "customerName", "remark"),
    ORDER_LINES: ("productName", "productCode", "spec", "brand", "salesOrderCode"),
    DELIVERIES: ("code", "orderCodes", "logisticsCode"),
    DELIVERY_LINES: ("productName", "productCode", "spec", "brand", "salesOrderCode"),
}
# Parent-context keys of `condition` and the record field each one means.
ALIASES: dict[int, dict[str, str]] = {ORDER_LINES: {"form.id": "salesOrderId"}, DELIVERY_LINES: {"parent.id": "parentId"}}
# Fields a list answers only when `columns` asks for them (getBusiness always has them).
DETAIL_ONLY: dict[int, frozenset[str]] = {DELIVERIES: frozenset({"logisticsCompanyId"})}
SUMMED = ("amount", "rmbAmount", "quantity")
READ_ONLY = frozenset({"id"})

NOT_FOUND_FORM = {"success": False, "message": "表单不存在"}
SESSION_EXPIRED = {"success": False, "errorCode": "SESSION_EXPIRED", "message": "登录已过期，请重新登录"}
BAD_LOGIN = {"success": False, "message": "账号或密码错误"}


@dataclass
class ErpSimConfig:
    seed: int = 82886
    app_id: str = "82886"
    app_name: str = "SnowInventory-82886"
    session_idle_s: float = 1800
    orders: int = 360


@dataclass
class Faults:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    malformed_rate: float = 0.0
    outage: bool = False
    hang_s: float = 0.0
    fail_next: int = 0
    paths: list[str] = field(default_factory=list)  # empty: every protocol path

    def applies_to(self, path: str) -> bool:
        return not self.paths or any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.paths)


@dataclass
class _Session:
    account: str
    last_used: float


def sha1_hex(plain: str) -> str:
    return hashlib.sha1(plain.encode()).hexdigest()


def _text(value: Any) -> str:
    """Values compare as strings (``"36"`` matches 36), booleans as JSON spells them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _sort_key(value: Any) -> tuple[int, float, str]:
    if value is None or value == "":
        return (0, 0.0, "")
    if isinstance(value, bool):
        return (1, float(value), "")
    if isinstance(value, int | float):
        return (1, float(value), "")
    text = str(value)
    try:
        return (1, float(text), "")
    except ValueError:
        return (2, 0.0, text)


def _matches(record: Record, key: str, wanted: Any) -> bool:
    allowed = wanted if isinstance(wanted, list) else [wanted]
    return _text(record.get(key)) in {_text(v) for v in allowed}


class ErpSim:
    def __init__(self, config: ErpSimConfig | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config or ErpSimConfig()
        self.clock = clock
        self.data = seed_data.build(self.config.seed, self.config.orders)
        self.forms: dict[int, dict[str, Record]] = {
            CUSTOMERS: {r["id"]: r for r in self.data.customers},
            ORDERS: {r["id"]: r for r in self.data.orders},
            ORDER_LINES: {r["id"]: r for r in self.data.order_lines},
            DELIVERIES: {r["id"]: r for r in self.data.deliveries},
            DELIVERY_LINES: {r["id"]: r for r in self.data.delivery_lines},
        }
        self.accounts: dict[str, str] = self.data.accounts
        self.demo_customer: DemoCustomer = seed_data.demo_customer(self.data, 0)
        self.other_customer: DemoCustomer = seed_data.demo_customer(self.data, 1)
        self.platform_sessions: dict[str, _Session] = {}  # sid -> who and when
        self.app_sessions: dict[str, str] = {}  # application JSESSIONID -> sid
        self.faults = Faults()
        self.fault_rng = random.Random(self.config.seed + 1)  # reproducible fault sequences
        self.change_rng = random.Random(self.config.seed + 2)  # run-time deliveries
        self.ship_days: Counter[str] = Counter(d["code"][4:12] for d in self.data.deliveries)  # next code seq per day
        self.reset_stats()

    # --- accounts and sessions ------------------------------------------------------------

    def login(self, account: str, password: str) -> tuple[Answer, str | None]:
        """Answer and new sid; the sim keeps plain passwords and compares SHA-1 digests."""
        plain = self.accounts.get(account)
        if plain is None or not SHA1_HEX.fullmatch(password) or sha1_hex(plain) != password:
            return BAD_LOGIN, None
        sid = secrets.token_hex(16)
        self.platform_sessions[sid] = _Session(account, self.clock())
        return {"success": True, "data": dict(self.data.users[account])}, sid

    def _live(self, sid: str | None) -> _Session | None:
        session = self.platform_sessions.get(sid or "")
        if session is None:
            return None
        now = self.clock()
        if now - session.last_used > self.config.session_idle_s:
            self._drop(sid or "")
            return None
        session.last_used = now
        return session

    def _drop(self, sid: str) -> None:
        self.platform_sessions.pop(sid, None)
        for js in [js for js, owner in self.app_sessions.items() if owner == sid]:
            del self.app_sessions[js]

    def sid_alive(self, sid: str | None) -> bool:
        return self._live(sid) is not None

    def open_app(self, sid: str | None) -> str | None:
        """A new application JSESSIONID for a live sid, else None."""
        if self._live(sid) is None:
            return None
        jsessionid = secrets.token_hex(16).upper()
        self.app_sessions[jsessionid] = sid or ""
        return jsessionid

    def authorised(self, jsessionid: str | None, sid: str | None) -> bool:
        """Both cookies must name one live application session; use refreshes the idle timer."""
        if not jsessionid or self.app_sessions.get(jsessionid) != sid:
            return False
        return self._live(sid) is not None

    def expire_sessions(self) -> None:
        self.platform_sessions.clear()
        self.app_sessions.clear()

    # --- counters -------------------------------------------------------------------------

    def reset_stats(self) -> None:
        self.total = 0
        self.logins = 0
        self.endpoints: Counter[str] = Counter()
        self.form_calls: Counter[str] = Counter()
        self.calls: deque[dict[str, Any]] = deque(maxlen=500)

    def record_call(self, endpoint: str, form_id: Any = None) -> None:
        self.total += 1
        self.endpoints[endpoint] += 1
        if endpoint == "/apps/service/login":
            self.logins += 1
        if form_id is not None:
            self.form_calls[_text(form_id)] += 1
        self.calls.append({"endpoint": endpoint, "formId": form_id})

    def stats_snapshot(self) -> Answer:
        return {
            "total": self.total, "logins": self.logins, "endpoints": dict(self.endpoints),
            "forms": dict(self.form_calls), "calls": list(self.calls),
        }

    # --- faults ---------------------------------------------------------------------------

    def set_faults(self, **changes: Any) -> None:
        current = asdict(self.faults)
        for key, value in changes.items():
            if key not in current:
                raise ValueError(f"unknown fault: {key}")
            if key in ("error_rate", "malformed_rate") and not 0 <= float(value) <= 1:
                raise ValueError(f"{key} must be between 0 and 1")
            if key == "paths" and not (isinstance(value, list) and all(isinstance(p, str) for p in value)):
                raise ValueError("paths must be a list of strings")
            current[key] = value
        self.faults = Faults(**current)

    def reset_faults(self) -> None:
        self.faults = Faults()

    def take_fail_next(self) -> bool:
        if self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            return True
        return False

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.fault_rng.random() < rate

    def latency_s(self) -> float:
        f = self.faults
        jitter = self.fault_rng.uniform(-f.latency_jitter_ms, f.latency_jitter_ms) if f.latency_jitter_ms else 0.0
        return max(0.0, f.latency_ms + jitter) / 1000

    # --- business calls -------------------------------------------------------------------

    def _form(self, body: Answer) -> dict[str, Record] | None:
        if body.get("appName") != self.config.app_name:
            return None
        try:
            return self.forms.get(int(body.get("formId")))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return None

    def page_list(self, body: Answer) -> Answer:
        records = self._form(body)
        if records is None:
            return NOT_FOUND_FORM
        form_id = int(body["formId"])
        return self._list(form_id, records.values(), body, DETAIL_ONLY.get(form_id, frozenset()))

    def datasource(self, body: Answer) -> Answer:
        if self._form(body) is None or _text(body.get("datasourceId")) != str(LOGISTICS_DATASOURCE):
            return {"success": False, "message": "数据源不存在"}
        return self._list(0, self.data.logistics, body, frozenset())

    def _list(self, form_id: int, records: Iterable[Record], body: Answer, hidden: frozenset[str]) -> Answer:
        try:
            page = int(body.get("page") or 0)
            size = int(body.get("pageSize") or 20)
        except (TypeError, ValueError):
            return {"success": False, "message": "分页参数错误"}
        if size > MAX_PAGE_SIZE or size < 1 or page < 0:
            return {"success": False, "message": f"每页条数须在1到{MAX_PAGE_SIZE}之间"}
        aliases = ALIASES.get(form_id, {})
        tests: list[tuple[str, Any]] = []
        keyword = ""
        for source in (body.get("condition") or {}, body.get("filters") or {}):
            if not isinstance(source, dict):
                return {"success": False, "message": "查询条件格式错误"}
            for key, wanted in source.items():
                if key == "systemFulltext":
                    keyword = _text(wanted).strip().lower()
                elif wanted is not None:
                    tests.append((aliases.get(key, key), wanted))
        fields = FULLTEXT.get(form_id, ("name",))
        hits = [
            r for r in records
            if all(_matches(r, k, w) for k, w in tests)
            and (not keyword or any(keyword in _text(r.get(f)).lower() for f in fields))
        ]
        for part in reversed(str(body.get("orderby") or "id desc").split(",")):
            words = part.split()
            if words:
                desc = len(words) > 1 and words[1].lower() == "desc"
                hits.sort(key=lambda r, f=words[0]: _sort_key(r.get(f)), reverse=desc)
        sums = {f: round(sum(r.get(f) or 0 for r in hits), 2) for f in SUMMED if hits and f in hits[0]}
        columns = [c for c in body.get("columns") or [] if isinstance(c, str)]
        window = hits[page * size:(page + 1) * size]
        if columns:
            wanted_cols = ["id", *[c for c in columns if c != "id"]]
            rows = [{c: r.get(c) for c in wanted_cols} for r in window]
        else:
            rows = [{k: v for k, v in r.items() if k not in hidden} for r in window]
        return {"success": True, "data": {"_count": len(hits), "_sum": sums, "_dataList": rows}}

    def get(self, body: Answer) -> Answer:
        records = self._form(body)
        if records is None:
            return NOT_FOUND_FORM
        record = records.get(_text(body.get("id")))
        if record is None:
            return {"success": False, "message": "记录不存在"}
        return {"success": True, "data": dict(record)}

    def update(self, body: Answer) -> Answer:
        records = self._form(body)
        if records is None:
            return NOT_FOUND_FORM
        if body.get("action") != 2:
            return {"success": False, "message": "不支持的操作"}
        record = records.get(_text(body.get("id")))
        changes = body.get("data")
        if record is None:
            return {"success": False, "message": "记录不存在"}
        if not isinstance(changes, dict):
            return {"success": False, "message": "数据格式错误"}
        record.update({k: v for k, v in changes.items() if k not in READ_ONLY})
        form_id = int(body["formId"])
        if form_id == ORDER_LINES:  # keep the order's totals and rates true to its lines
            self._refresh_order(record["salesOrderId"])
        return {"success": True, "data": dict(record)}

    # --- run-time changes of an order (notification tests) -----------------------------------

    def lines_of(self, order_id: str) -> list[Record]:
        return [r for r in self.forms[ORDER_LINES].values() if r["salesOrderId"] == order_id]

    def _refresh_order(self, order_id: str) -> None:
        order = self.forms[ORDERS][order_id]
        lines = self.lines_of(order_id)
        for line in lines:
            line["unProducedQuantity"] = line["quantity"] - line["producedQuantity"]
        seed_data.rates(order, lines)

    def change_order(self, order_id: str, status: int | None = None, action: str | None = None) -> Record:
        """Apply ``action`` then ``status``; raises KeyError for an unknown order, ValueError for a bad action."""
        order = self.forms[ORDERS][order_id]
        if action == "produce":
            for line in self.lines_of(order_id):
                line.update(producedQuantity=line["quantity"], producingQuantity=0)
                line["status"] = seed_data.line_status(order["status"], line)
            if order["status"] == 1:
                order["status"] = 2
        elif action == "ship":
            self._ship(order)
        elif action == "complete":
            order["status"] = 4
        elif action == "cancel":
            order["status"] = 5
        elif action is not None:
            raise ValueError(f"unknown action: {action}")
        if status is not None:
            order["status"] = int(status)
        self._refresh_order(order_id)
        return dict(order)

    def _ship(self, order: Record) -> None:
        items = [(line, line["producedQuantity"] - line["shippedQuantity"]) for line in self.lines_of(order["id"])]
        items = [(line, qty) for line, qty in items if qty > 0]
        if not items:
            raise ValueError("nothing produced and unshipped to ship")
        now_ms = int(time.time() * 1000)
        seed_data.new_delivery(
            self.change_rng, self.data, order, [order["id"]], [order["code"]], items, now_ms, True, self.ship_days
        )
        delivery = self.data.deliveries[-1]
        self.forms[DELIVERIES][delivery["id"]] = delivery
        for record in self.data.delivery_lines:
            if record["parentId"] == delivery["id"]:
                self.forms[DELIVERY_LINES][record["id"]] = record
        for line, qty in items:
            line["shippedQuantity"] += qty
            line["status"] = seed_data.line_status(order["status"], line)
        if order["status"] == 1:
            order["status"] = 2

    # --- demo facts ----------------------------------------------------------------------

    def demo_info(self) -> Answer:
        c, o = self.demo_customer, self.other_customer
        service, admin = seed_data.SERVICE_ACCOUNT, seed_data.ADMIN_ACCOUNT
        return {
            "customer": {"id": c.id, "code": c.code, "name": c.name, "invite_code": c.invite_code,
                         "account": c.account, "password": c.password},
            "other_customer": {"id": o.id, "code": o.code, "name": o.name, "invite_code": o.invite_code},
            "service": {"account": service[0], "password": service[1]},
            "admin": {"account": admin[0], "password": admin[1]},
            "app_id": self.config.app_id, "app_name": self.config.app_name,
        }
