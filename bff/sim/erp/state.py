"""The ERP simulator's state: records per form, sessions, call counters, faults and dialect.

Free of HTTP so the rules read like the protocol notes. Every mutation is synchronous
(no awaits inside), so concurrent requests on the one event loop always see consistent
records. Protocol answers are dicts shaped exactly as the ERP of the current dialect sends
them (``bff.sim.erp.wire``).
"""

from __future__ import annotations

import asyncio
import contextlib
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
from bff.sim.erp import query
from bff.sim.erp.data import DemoCustomer, Record
from bff.sim.erp.dialect import Dialect
from bff.sim.erp.forms import (
    CONTEXT,
    CUSTOMERS,
    DATASOURCE,
    DELIVERIES,
    DELIVERY_LINES,
    FULLTEXT,
    LOGISTICS_DATASOURCE,
    ORDER_LINES,
    ORDERS,
    SUMMED,
)
from bff.sim.erp.wire import as_text, held, wire

Answer = dict[str, Any]

# The keys no real client used, each answered as its dialect setting says: form -> (where, key, setting).
GUESSED_KEYS: dict[int, tuple[str, str, str]] = {
    DELIVERIES: ("condition", "salesOrderProductIds", "product_ids"),
    ORDERS: ("filters", "code", "code_filter"),
    ORDER_LINES: ("filters", "salesOrderId", "line_order_filter"),
}

MAX_PAGE_SIZE = 20000  # evidence: the live ERP answered 5000 and 10000; its maximum is unknown
SHA1_HEX = re.compile(r"[0-9a-f]{40}")
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
    dialect: Dialect = field(default_factory=Dialect)  # at start; /__sim/dialect changes it at run time


@dataclass
class Faults:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    malformed_rate: float = 0.0
    outage: bool = False
    hang_s: float = 0.0
    hold: bool = False  # every answer waits until hold is switched off (requests kept in flight)
    fail_next: int = 0
    paths: list[str] = field(default_factory=list)  # empty: every protocol path

    def applies_to(self, path: str) -> bool:
        return not self.paths or any(path == p or path.startswith(p.rstrip("/") + "/") for p in self.paths)


@dataclass
class _Session:
    account: str
    last_used: float


@dataclass
class LoginResult:
    """``sid`` on success; ``known_account`` lets a dialect answer an unknown account differently."""

    sid: str | None
    user: Record | None
    known_account: bool


def sha1_hex(plain: str) -> str:
    return hashlib.sha1(plain.encode()).hexdigest()


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
        self._released = asyncio.Event()  # set: answers flow; cleared while faults.hold
        self._released.set()
        self.answers_held = 0  # answers waiting on a hold
        self._hangs_end = asyncio.Event()  # set when the faults are reset: hanging answers end then
        self.dialect = self.config.dialect
        self.expired_answers = 0  # varies the shape of the success-false expiry answer
        self.fault_rng = random.Random(self.config.seed + 1)  # reproducible fault sequences
        self.change_rng = random.Random(self.config.seed + 2)  # run-time deliveries
        self.ship_days: Counter[str] = Counter(d["code"][4:12] for d in self.data.deliveries)  # next code seq per day
        self.large_files: dict[str, seed_data.LargeFile] = {}  # path -> a file made as it is sent
        self.transfers: list[dict[str, Any]] = []  # large-file downloads: path, bytes sent, how each ended
        self.reset_stats()

    # --- accounts and sessions ------------------------------------------------------------

    def login(self, account: str, password: str) -> LoginResult:
        """A new sid for a right password; the sim keeps plain passwords and compares SHA-1 digests."""
        plain = self.accounts.get(account)
        if plain is None or not SHA1_HEX.fullmatch(password) or sha1_hex(plain) != password:
            return LoginResult(None, None, plain is not None)
        sid = secrets.token_hex(16)
        self.platform_sessions[sid] = _Session(account, self.clock())
        return LoginResult(sid, dict(self.data.users[account]), True)

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
        self.bytes_sent = 0  # HTTP body bytes of business answers and file downloads

    def record_call(self, endpoint: str, form_id: Any = None) -> dict[str, Any]:
        """Counts the call; its record gets ``start`` now and ``end`` when answered (seconds of
        the simulator's monotonic clock): which calls waited on which (bench/roundtrips.py)."""
        self.total += 1
        self.endpoints[endpoint] += 1
        if endpoint == "/apps/service/login":
            self.logins += 1
        if form_id is not None:
            self.form_calls[query.text(form_id)] += 1
        call = {"endpoint": endpoint, "formId": form_id, "start": time.monotonic(), "end": None}
        self.calls.append(call)
        return call

    def stats_snapshot(self) -> Answer:
        return {
            "total": self.total, "logins": self.logins, "endpoints": dict(self.endpoints),
            "forms": dict(self.form_calls), "calls": list(self.calls), "held": self.answers_held,
            "bytes": self.bytes_sent,
        }

    def record_bytes(self, count: int) -> None:
        """Body bytes of one answer to a business call or a download (login steps are not counted)."""
        self.bytes_sent += count

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
        if self.faults.hold:
            self._released.clear()
        else:
            self._released.set()

    def reset_faults(self) -> None:
        self.faults = Faults()
        self._released.set()
        self._hangs_end.set()
        self._hangs_end = asyncio.Event()

    async def hang(self, seconds: float) -> None:
        """A hanging answer: ``seconds``, or until the faults are reset (so that a test which
        resets them leaves no request in flight, and its server stops at once)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hangs_end.wait(), seconds)

    async def wait_if_held(self) -> None:
        if self.faults.hold:
            self.answers_held += 1
            try:
                await self._released.wait()
            finally:
                self.answers_held -= 1

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

    # --- dialect --------------------------------------------------------------------------

    def set_dialect(self, **changes: Any) -> None:
        self.dialect = self.dialect.merged(changes)

    def reset_dialect(self) -> None:
        """Back to the evidence's defaults (not to the start dialect), like faults."""
        self.dialect = Dialect()

    # --- business calls -------------------------------------------------------------------

    def _form(self, body: Answer) -> dict[str, Record] | None:
        if body.get("appName") != self.config.app_name:
            return None
        form_id = body.get("formId")
        if not isinstance(form_id, (int, float, str)):
            return None
        try:
            return self.forms.get(int(form_id))
        except ValueError:
            return None

    def page_list(self, body: Answer) -> Answer:
        records = self._form(body)
        if records is None:
            return NOT_FOUND_FORM
        return self._list(int(body["formId"]), records.values(), body)

    def datasource(self, body: Answer) -> Answer:
        if self._form(body) is None or query.text(body.get("datasourceId")) != str(LOGISTICS_DATASOURCE):
            return {"success": False, "message": "数据源不存在"}
        return self._list(DATASOURCE, self.data.logistics, body)

    def _list(self, form_id: int, records: Iterable[Record], body: Answer) -> Answer:
        try:
            page = int(body.get("page") or 0)
            size = int(body.get("pageSize") or 20)
        except (TypeError, ValueError):
            return {"success": False, "message": "分页参数错误"}
        if size > MAX_PAGE_SIZE or size < 1 or page < 0:
            return {"success": False, "message": f"每页条数须在1到{MAX_PAGE_SIZE}之间"}
        condition, filters = body.get("condition") or {}, body.get("filters") or {}
        if not isinstance(condition, dict) or not isinstance(filters, dict):
            return {"success": False, "message": "查询条件格式错误"}
        dialect = self.dialect
        guessed = GUESSED_KEYS.get(form_id)
        if guessed is not None:
            where, key, setting = guessed
            given = condition if where == "condition" else filters
            if given.get(key) is not None:
                answer = getattr(dialect, setting)
                if answer == "refused":
                    return {"success": False, "message": f"不支持的查询条件: {key}"}
                if answer == "ignored":  # as if the key were absent
                    given = {k: v for k, v in given.items() if k != key}
                    condition, filters = (given, filters) if where == "condition" else (condition, given)
        context = self._context(form_id, condition)
        customer_key = {ORDERS: "customerId", DELIVERIES: "customerOrSupplierId"}.get(form_id, "")
        if isinstance(filters.get(customer_key), list) and dialect.customer_list != "any-of":
            filters = {k: v for k, v in filters.items() if k != customer_key}
            if dialect.customer_list == "nothing":
                filters[customer_key] = []  # matches no record
        tests, keyword = query.filter_tests(filters)
        hits = query.search(
            (held(form_id, r, dialect) for r in records if context is None or context(r)),
            tests, keyword, FULLTEXT.get(form_id, ("name",)),
        )
        query.order(hits, str(body.get("orderby") or "id desc"))
        columns = [c for c in body.get("columns") or [] if isinstance(c, str)]
        rows = [wire(form_id, r, dialect, in_list=True, columns=columns) for r in hits[page * size:(page + 1) * size]]
        sums = query.sums(hits, SUMMED)
        return {"success": True, "data": {
            "_count": len(hits), "_sum": as_text(sums) if dialect.numbers == "strings" else sums, "_dataList": rows,
        }}

    def _context(self, form_id: int, condition: Answer) -> Callable[[Record], bool] | None:
        """The form's parent context from ``condition``; every other key is ignored, as the live ERP does.

        A list means any of those parents (a guess). Deliveries take the order LINE ids they carry.
        """
        key = CONTEXT.get(form_id)
        if key is None or condition.get(key) is None:
            return None
        wanted = query.any_of(condition[key])
        if form_id == ORDER_LINES:
            return lambda r: r["salesOrderId"] in wanted
        if form_id == DELIVERY_LINES:
            return lambda r: r["parentId"] in wanted
        carrying = {line["parentId"] for line in self.forms[DELIVERY_LINES].values() if line["salesOrderLineId"] in wanted}
        return lambda r: r["id"] in carrying

    def get(self, body: Answer) -> Answer:
        records = self._form(body)
        if records is None:
            return NOT_FOUND_FORM
        record = records.get(query.text(body.get("id")))
        if record is None:
            return {"success": False, "message": "记录不存在"}
        return self._one(int(body["formId"]), record)

    def _one(self, form_id: int, record: Record) -> Answer:
        return {"success": True, "data": wire(form_id, held(form_id, record, self.dialect), self.dialect, in_list=False)}

    def update(self, body: Answer) -> Answer:
        records = self._form(body)
        if records is None:
            return NOT_FOUND_FORM
        if body.get("action") != 2:
            return {"success": False, "message": "不支持的操作"}
        record = records.get(query.text(body.get("id")))
        changes = body.get("data")
        if record is None:
            return {"success": False, "message": "记录不存在"}
        if not isinstance(changes, dict):
            return {"success": False, "message": "数据格式错误"}
        record.update({k: v for k, v in changes.items() if k not in READ_ONLY})
        form_id = int(body["formId"])
        if form_id == ORDER_LINES:  # keep the order's totals and rates true to its lines
            self._refresh_order(record["salesOrderId"])
        return self._one(form_id, record)

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

    # --- a longer history (benchmarks) ------------------------------------------------------------

    def add_history(self, customer_id: str, deliveries: int) -> Answer:
        """Give a customer ``deliveries`` more dispatched deliveries, older than everything it
        has, with the completed orders they shipped and every line and link (``data.older_history``).

        Reproducible: the generator derives from the seed, the customer and what the simulator
        already holds, so the same calls on the same seed add the same records. Raises KeyError
        for an unknown customer, ValueError for a count outside 1..100000 or beyond the ids left
        below the smallest held (older records have smaller ids: about 6,500 deliveries from the seed)."""
        customer = self.forms[CUSTOMERS].get(str(customer_id))
        if customer is None:
            raise KeyError(f"no customer {customer_id}")
        if isinstance(deliveries, bool) or not isinstance(deliveries, int) or not 1 <= deliveries <= 100_000:
            raise ValueError("deliveries must be an integer from 1 to 100000")
        cid = customer["id"]
        dates = [o["date"] for o in self.forms[ORDERS].values() if o["customerId"] == cid]
        dates += [d["date"] for d in self.forms[DELIVERIES].values() if d["customerOrSupplierId"] == cid]
        before = min(dates, default=seed_data.epoch_ms(seed_data.FIRST_DAY))
        order_days = Counter(o["code"][2:10] for o in self.forms[ORDERS].values())
        rng = random.Random(seed_data.stable("history", self.config.seed, cid, deliveries, len(self.data.deliveries)))
        new = seed_data.older_history(rng, self.data, customer, deliveries, before, order_days, self.ship_days)
        for form, kept, made in ((ORDERS, self.data.orders, new.orders), (ORDER_LINES, self.data.order_lines, new.order_lines),
                                 (DELIVERIES, self.data.deliveries, new.deliveries),
                                 (DELIVERY_LINES, self.data.delivery_lines, new.delivery_lines)):
            kept.extend(made)
            self.forms[form].update((r["id"], r) for r in made)
        return {
            "customer": cid, "added": {"orders": len(new.orders), "order_lines": len(new.order_lines),
                                       "deliveries": len(new.deliveries), "delivery_lines": len(new.delivery_lines)},
            "deliveries": sum(1 for d in self.forms[DELIVERIES].values() if d["customerOrSupplierId"] == cid),
            "orders": sum(1 for o in self.forms[ORDERS].values() if o["customerId"] == cid),
            "before": before,
        }

    # --- demo facts ----------------------------------------------------------------------

    def add_large_file(
        self, size: int, *, with_length: bool = True, pace_s: float = 0.0, name: str = "大文件.pdf",
        delivery_id: str | None = None, listed: bool = True,
    ) -> Answer:
        """A large attachment (made as it is downloaded) on ``delivery_id``, or on the demo
        customer's latest dispatched delivery that has files; where it is (delivery, index, path).
        ``listed``: the delivery's entry declares its size (as the evidenced entries do)."""
        deliveries = self.forms[DELIVERIES]
        if delivery_id is None:
            demo = self.demo_customer.id
            delivery = next(d for d in reversed(self.data.deliveries)
                            if d["customerOrSupplierId"] == demo and d["attachments"] and d["是否发货"])
        else:
            delivery = deliveries[delivery_id]
        index = len(delivery["attachments"])
        path = f"{seed_data.ATTACHMENT_DIR}/large/{secrets.token_hex(16)}"
        self.large_files[path] = seed_data.LargeFile(size, with_length, pace_s)
        delivery["attachments"] = [*delivery["attachments"], seed_data.attachment_entry(path, name, size if listed else None)]
        return {"delivery": delivery["id"], "order": delivery["salesOrderIds"].split(",")[0], "index": index,
                "path": path, "name": name, "size": size}

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
