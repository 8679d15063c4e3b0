"""``bff erp check``: which of the BFF's protocol assumptions hold on the live ERP.

Read-only: it logs in with the service account, makes each read the BFF makes with the
BFF's exact shapes (bff.erp.queries), reads one page of every form and the logistics
datasource, fetches one attachment, and sends one business call with a made-up session
to see how expiry is signalled. It reports field names, types, counts and dialect labels,
never a value of a record (values may be personal data), and writes nothing to the ERP.

Each guessed shape the BFF may try (bff/erp/guesses.py, and the watcher's customer list) is
replayed against the customer's data and judged as the BFF judges it: ``holds`` only when the
answer left out what it should, ``ignored`` when it holds rows outside what was asked,
``refused`` on ``success: false``; the finding names the setting that pins it. A guess that
does not hold is not a failure (the BFF has an evidenced fallback); the evidenced shapes the
pages rely on failing is.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import ConfigDict

from bff.core import filetypes
from bff.erp import protocol, queries
from bff.erp.anomalies import Anomalies
from bff.erp.client import ErpClient, ErpClientConfig
from bff.erp.errors import INTERNAL_SIGNALS, ErpError, ErpRefused
from bff.erp.guesses import left_by_lines, left_by_rate
from bff.erp.models import (
    EPOCH_MS_FROM,
    CustomerRecord,
    DeliveryLineRecord,
    DeliveryRecord,
    ErpPage,
    ErpRecord,
    OrderLineRecord,
    SalesOrderRecord,
    is_empty,
    is_query_fragment,
    read_rows,
)
from bff.erp.queries import CUSTOMERS, DELIVERIES, DELIVERY_LINES, ORDER_LINES, SALES_ORDERS, OrderStatusCode
from bff.erp.reader import ErpReader

# A guess (bff/erp/guesses.py) is "ignored" or "refused" rather than failed: the BFF has an
# evidenced fallback for it, so neither fails the check; the finding names the setting that pins it.
Result = Literal["holds", "fails", "unknown", "ignored", "refused"]
KNOWN_STATUSES = {int(code) for code in OrderStatusCode}
DATE_FIELDS = ("date", "deliveryDate")
NUMBER_FIELDS = ("amount", "quantity", "status")
MODIFY_TIME_NAMES = ("modifyTime", "modifiedTime", "updateTime", "updatedAt", "lastModified", "lastModifyTime", "gmtModified")


def _number(value: Any) -> float:
    try:
        return float(str(value)) if not is_empty(value) else 0.0
    except ValueError:
        return 0.0


def _rate(value: Any) -> float:
    """Rates above 1 are percentages (docs/erp-protocol.md, assumption 5)."""
    rate = _number(value)
    return rate / 100 if rate > 1 else rate


# A step fails on anything the ERP or the HTTP layer raises, the client's inner signals included.
STEP_FAILURES: tuple[type[Exception], ...] = (ErpError, httpx.HTTPError, *INTERNAL_SIGNALS)

class RawRow(ErpRecord):
    """A row kept as the ERP sent it (only for classifying shapes; never printed)."""

    model_config = ConfigDict(extra="allow", frozen=True)


@dataclass
class Finding:
    name: str
    result: Result
    detail: str = ""  # names, types, counts, labels: never a value
    required: bool = False  # the BFF cannot work without it
    dialect: str = ""  # the simulator dialect this answer corresponds to, "key=value"
    setting: str = ""  # the BFF setting that fits, "BFF_X=value"
    guess: str = ""  # the guess this finding judges (bff/erp/guesses.py names, or "customer_list")


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    calls: int = 0

    def add(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        return finding

    @property
    def ok(self) -> bool:
        return not any(f.required and f.result != "holds" for f in self.findings)

    def dialect(self) -> dict[str, str]:
        return dict(f.dialect.split("=", 1) for f in self.findings if f.dialect)

    def settings(self) -> list[str]:
        return sorted({f.setting for f in self.findings if f.setting})

    def guesses(self) -> dict[str, str]:
        """Each guessed shape judged: holds / ignored / refused (or fails / unknown)."""
        return {f.guess: f.result for f in self.findings if f.guess}

    def as_table(self) -> str:
        width = max(len(f.name) for f in self.findings) if self.findings else 10
        lines = [f"{'assumption':<{width}}  result   detail"]
        for f in self.findings:
            mark = " (required)" if f.required else ""
            lines.append(f"{f.name:<{width}}  {f.result:<7}  {f.detail}{mark}")
        lines.append("")
        lines.append("dialect: " + " ".join(f"{k}={v}" for k, v in sorted(self.dialect().items())))
        lines.append("guesses: " + (" ".join(f"{k}={v}" for k, v in self.guesses().items()) or "none judged")
                     + " (ignored or refused: the BFF uses the evidenced shape)")
        lines.append("settings: " + (" ".join(self.settings()) or "the defaults fit"))
        lines.append(f"erp calls: {self.calls}; result: {'OK' if self.ok else 'FAILED (a required assumption does not hold)'}")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps(
            {"ok": self.ok, "calls": self.calls, "dialect": self.dialect(), "settings": self.settings(), "guesses": self.guesses(),
             "findings": [dataclasses.asdict(f) for f in self.findings]},
            ensure_ascii=False, indent=2,
        )


# --- shape classification (types and labels only) ---------------------------------------------

def _type(value: Any) -> str:
    return "empty" if is_empty(value) else type(value).__name__


def types_of(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> str:
    seen = {name: sorted({_type(row.get(name)) for row in rows if name in row}) for name in names}
    return ", ".join(f"{name}:{'/'.join(kinds)}" for name, kinds in seen.items() if kinds)


def attachment_shape(values: Sequence[Any]) -> str:
    """The dialect label of ``attachments`` values: "query" is the evidenced list of
    ``"<path>#size=…&name=…"``, "list" a list of bare ``"<path>#<name>"``."""
    present = [v for v in values if not is_empty(v)]
    if not present:
        return "empty"
    if all(isinstance(v, list) and all(isinstance(e, str) for e in v) for v in present):
        kinds = {"query" if is_query_fragment(e.partition("#")[2]) else "list" for v in present for e in v}
        return kinds.pop() if len(kinds) == 1 else "mixed"
    if all(isinstance(v, list) and all(isinstance(e, dict) for e in v) for v in present):
        return "objects"
    if all(isinstance(v, str) for v in present):
        return "string"
    return "mixed"


ATTACHMENT_SHAPES = {
    "query": 'a list of "<path>#size=<bytes>&name=<URL-encoded name>" (the evidenced shape)',
    "list": 'a list of "<path>#<name>" (bare names, not the evidenced query string)',
    "string": "one comma-joined string", "objects": "a list of objects", "empty": "none seen",
    "mixed": "mixed shapes",
}
DETAIL_READS_FOR_ATTACHMENTS = 12  # getBusiness reads at most, looking for a delivery that has files


def number_shape(rows: Sequence[dict[str, Any]]) -> str:
    values = [row[name] for row in rows for name in NUMBER_FIELDS if not is_empty(row.get(name))]
    if values and all(isinstance(v, str) for v in values):
        return "strings"
    return "native"


def date_shape(rows: Sequence[dict[str, Any]]) -> str:
    values = [row[name] for row in rows for name in DATE_FIELDS if not is_empty(row.get(name))]
    if not values:
        return ""
    if all(isinstance(v, str) and not v.strip().lstrip("-").replace(".", "").isdigit() for v in values):
        return "iso"
    numbers = [float(v) for v in values if not isinstance(v, bool) and str(v).replace(".", "").isdigit()]
    return "ms" if numbers and all(n >= EPOCH_MS_FROM for n in numbers) else "s"


def expiry_signal(response: httpx.Response) -> str:
    if response.status_code == 401:
        return "401"
    if response.is_redirect:
        return "redirect"
    if "html" in response.headers.get("content-type", "") or response.content.lstrip()[:1] == b"<":
        return "html"
    return "success-false"


def login_reply_shape(response: httpx.Response) -> str:
    if not response.content.strip():
        return "empty"
    try:
        body = response.json()
    except ValueError:
        return "html" if response.content.lstrip()[:1] == b"<" else "other"
    return "json-success" if isinstance(body, dict) and "success" in body else "json-other"


# --- the guesses (bff/erp/guesses.py): judged as the BFF judges them --------------------------

PRODUCT_IDS_SHAPE = 'deliveries (100039) condition {"salesOrderProductIds": [<order line ids>]} (a material\'s shipments)'
GUESS_DIALECT = {"holds": "honoured", "ignored": "ignored", "refused": "refused"}


def guess_setting(name: str) -> str:
    """The BFF setting of a guess: ``BFF_ERP_GUESS_CODE_FILTER`` for ``code_filter``."""
    return f"BFF_ERP_GUESS_{name.upper()}"


def guess_finding(name: str, shape: str, result: Result, detail: str) -> Finding:
    """A guess judged: ``holds`` pins it on, ``ignored``/``refused`` (and ``fails``: an answer
    without what was asked) pin it off, ``unknown`` leaves it to the BFF (auto: tried, checked).
    Never required: each guess has an evidenced fallback."""
    pinned = {"holds": "on", "ignored": "off", "refused": "off", "fails": "off"}.get(result)
    fallback = "" if result == "holds" else "; the BFF uses the evidenced shape"
    return Finding(
        f"guess {name}: {shape}", result, detail + (fallback if pinned else ""), guess=name,
        dialect=f"{name}={GUESS_DIALECT[result]}" if result in GUESS_DIALECT else "",
        setting=f"{guess_setting(name)}={pinned}" if pinned else "",
    )


def within(rows: Sequence[dict[str, Any]], asked: Sequence[str], key: str) -> bool:
    """Every row answers one of the asked values (the BFF's test: a row outside = ignored)."""
    allowed = set(asked)
    return all(str(row.get(key)) in allowed for row in rows)


def order_links(delivery: dict[str, Any]) -> set[str]:
    """The orders a delivery names (ids and numbers), as the BFF matches them (``carried_by``)."""
    links: set[str] = set()
    for name in ("salesOrderIds", "salesOrderId", "orderCodes", "salesOrderCode"):
        value = delivery.get(name)
        values = value if isinstance(value, list) else str(value or "").split(",")
        links.update(str(v).strip() for v in values if str(v).strip())
    return links


# --- the check ------------------------------------------------------------------------------

class Checker:
    def __init__(self, config: ErpClientConfig, customer_id: str | None = None) -> None:
        self._config = config
        self._customer_id = customer_id
        self.report = Report()
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(10.0), follow_redirects=False)
        self._erp: ErpReader = ErpClient(dataclasses.replace(config, deadline_s=15.0, timeout_s=10.0))
        self._erp.add_listener(lambda call: self._count())
        self._anomalies = Anomalies()
        self._order_lines: list[dict[str, Any]] = []

    def _count(self) -> None:
        self.report.calls += 1

    async def _raw(self, read: queries.ListRead[Any]) -> list[dict[str, Any]]:
        page = await self._raw_page(read)
        return [row.model_dump(by_alias=True) for row in page.rows]

    async def _raw_page(self, read: queries.ListRead[Any]) -> ErpPage[RawRow]:
        return await self._erp.fetch(dataclasses.replace(read, model=RawRow))

    def _typed(self, form_id: int, model: type[ErpRecord], rows: list[dict[str, Any]]) -> None:
        """Read the raw rows as the BFF does, so unforeseen shapes are counted (by name)."""
        read_rows(form_id, model, rows, self._anomalies)

    async def _step(self, name: str, run: Callable[[], Awaitable[None]], *, required: bool) -> None:
        try:
            await run()
        except STEP_FAILURES as error:
            self.report.add(Finding(name, "fails", f"{type(error).__name__}", required=required))

    async def run(self) -> Report:
        try:
            await self._step("login: session cookies on success", self._login, required=True)
            if self.report.ok:
                await self._step("business reads", self._reads, required=True)
                await self._step("expiry signal", self._expiry, required=False)
        finally:
            await self._erp.aclose()
            await self._http.aclose()
        return self.report

    async def _login(self) -> None:
        response = await self._http.post(
            self._config.login_url.rstrip("/") + protocol.LOGIN_PATH,
            json=protocol.login_body(self._config.account, self._config.password),
        )
        self._count()
        cookies = protocol.set_cookies(response)
        shape = login_reply_shape(response)
        ok = response.status_code < 400 and bool(cookies.get(protocol.SID_COOKIE))
        self.report.add(Finding(
            "login: session cookies on success", "holds" if ok else "fails",
            f"HTTP {response.status_code}, cookies {sorted(cookies)}", required=True,
        ))
        self.report.add(Finding("login: reply body shape (not relied on)", "holds", shape, dialect=f"login_reply={shape}"))

    async def _reads(self) -> None:
        r = self.report
        await self._erp.probe()
        r.add(Finding("open-app: application session from the redirect chain", "holds", "", required=True))

        customers = await self._raw(queries.customers_sample(5))
        self._typed(CUSTOMERS, CustomerRecord, customers)
        r.add(Finding("customers (100004): rows with id", "holds" if customers and all("id" in c for c in customers) else "fails",
                      f"{len(customers)} rows; " + types_of(customers, ("id", "name", "微信邀请码", "mobile", "disable")), required=True))

        customer_id = self._customer_id or await self._a_customer_with_orders()
        if customer_id is None:
            r.add(Finding("a customer with orders", "unknown", "no sales order found: pass --customer"))
            return
        orders = await self._raw(queries.orders_of_customer(customer_id, page_size=100))
        scoped = bool(orders) and all(str(o.get("customerId")) == customer_id for o in orders)
        r.add(Finding("sales orders (100001): customerId filter scopes the answer", "holds" if scoped else "fails",
                      f"{len(orders)} rows; " + types_of(orders, ("id", "code", "customerId", "status", "date", "amount")), required=True))
        if not orders:
            return
        self._typed(SALES_ORDERS, SalesOrderRecord, orders)
        statuses = {o.get("status") for o in orders}
        unknown = {s for s in statuses if str(s).isdigit() and int(str(s)) not in KNOWN_STATUSES}
        r.add(Finding("order status codes within 1, 2, 4, 5", "holds" if not unknown else "fails",
                      f"{len(unknown)} other code(s) seen (shown as 状态未知)", dialect=f"statuses={'unknown' if unknown else 'known'}"))
        r.add(Finding("numbers sent as JSON numbers", "holds", number_shape(orders), dialect=f"numbers={number_shape(orders)}"))
        dates = date_shape(orders)
        if dates:
            r.add(Finding("dates as epoch milliseconds", "holds" if dates == "ms" else "fails", dates, dialect=f"dates={dates}"))

        ids = [str(o["id"]) for o in orders[:2]]
        by_ids = await self._raw(queries.orders_of_customer(customer_id, ids=ids, page_size=len(ids)))
        r.add(Finding("filters: a list of ids means any of them", "holds" if sorted(str(o["id"]) for o in by_ids) == sorted(ids) else "fails",
                      f"{len(by_ids)} of {len(ids)}", required=True))
        await self._orders_by_number(customer_id, orders)
        await self._lines_and_deliveries(customer_id, orders)
        await self._watch_reads(customer_id, [str(c["id"]) for c in customers if "id" in c], orders)

        companies = await self._erp.fetch_datasource(queries.logistics_companies())
        r.add(Finding("logistics companies (datasource 100292)", "holds" if companies.rows else "fails", f"{len(companies.rows)} rows"))
        anomalies = self._anomalies.snapshot()
        r.add(Finding("every field read in a foreseen shape", "holds" if not anomalies else "fails",
                      ", ".join(f"{form}.{name}×{n}" for form, name, n in anomalies) or "no anomaly"))

    async def _a_customer_with_orders(self) -> str | None:
        page = await self._raw(dataclasses.replace(queries.probe(), orderby=queries.NEWEST_FIRST))
        return str(page[0]["customerId"]) if page and page[0].get("customerId") is not None else None

    async def _watch_reads(self, customer_id: str, customer_ids: list[str], orders: list[dict[str, Any]]) -> None:
        """The change watcher's assumptions: one read for many customers' orders (a customerId
        list), and an order row whose digest moves when its lines' production or shipping does."""
        r = self.report
        await self._customer_list_guess(customer_id, customer_ids)
        lines = self._order_lines
        quantity: dict[str, float] = {}
        produced: dict[str, float] = {}
        shipped: dict[str, float] = {}
        by_lines: dict[str, list[tuple[float, float]]] = {}  # (shipped, ordered) per line, for order_rates
        for line in lines:
            order_id = str(line.get("salesOrderId"))
            line_quantity, line_shipped = _number(line.get("quantity")), _number(line.get("shippedQuantity"))
            quantity[order_id] = quantity.get(order_id, 0.0) + line_quantity
            produced[order_id] = produced.get(order_id, 0.0) + _number(line.get("producedQuantity"))
            shipped[order_id] = shipped.get(order_id, 0.0) + line_shipped
            by_lines.setdefault(order_id, []).append((line_shipped, line_quantity))
        compared = [o for o in orders if quantity.get(str(o["id"]))]
        agree = [o for o in compared if all(
            abs(_rate(o.get(name)) - done.get(str(o["id"]), 0.0) / quantity[str(o["id"])]) <= 0.01
            for name, done in (("producedRate", produced), ("shippedRate", shipped)))]
        r.add(Finding(
            "sales orders: producedRate and shippedRate follow the lines (the watcher's digest)",
            "holds" if compared and len(agree) == len(compared) else "unknown" if not compared else "fails",
            f"{len(agree)} of {len(compared)} orders agree"
            + ("" if len(agree) == len(compared) else ": line progress may change without the order row; "
               "the watcher then notices it only with the status or a delivery")))
        judged = [(left_by_rate(_rate(o.get("shippedRate")) if o.get("shippedRate") is not None else None),
                   left_by_lines(by_lines.get(str(o["id"]), []))) for o in orders]
        judged = [(rate, by) for rate, by in judged if rate is not None and by is not None]
        same = sum(1 for rate, by in judged if rate is by)
        rates_hold = bool(judged) and same == len(judged)
        r.add(Finding(
            "guess order_rates: sales order row shippedRate says whether nothing, some or all of the lines left the warehouse",
            "holds" if rates_hold else "unknown" if not judged else "ignored",
            f"{same} of {len(judged)} orders agree" + ("" if rates_hold or not judged else
                                                       "; the 未发货/已逾期 filters read every open order's lines"),
            guess="order_rates", dialect=f"order_rates={'derived' if rates_hold else 'frozen'}" if judged else "",
            setting=f"{guess_setting('order_rates')}={'on' if rates_hold else 'off'}" if judged else ""))
        names = sorted({name for o in orders for name in o if name in MODIFY_TIME_NAMES})
        r.add(Finding("sales orders: a modification time field", "holds" if names else "unknown",
                      ", ".join(names) + " (not used yet)" if names else
                      f"none of {', '.join(MODIFY_TIME_NAMES)}: the digest is the status, the rates and the totals"))

    async def _customer_list_guess(self, customer_id: str, customer_ids: list[str]) -> None:
        """Guess ``customer_list``: a customerId list answers the orders of exactly those customers
        (compared with one read per customer); else the watcher reads one customer at a time (it
        sees that by itself, bff/notify/watch_reads.py; the setting saves it the first try)."""
        name = "guess customer_list: sales orders filters customerId list (the watcher's batched read)"
        one_at_a_time = "BFF_ERP_GUESS_CUSTOMER_LIST=off"
        other = next((c for c in customer_ids if c != customer_id), None)
        if other is None:
            self.report.add(Finding(name, "unknown", "only one customer seen", guess="customer_list"))
            return
        asked = sorted({customer_id, other})
        single = [await self._raw_page(queries.orders_of_customer(c, page_size=1)) for c in asked]
        try:
            both = await self._raw_page(queries.orders_of_customers(asked, page_size=queries.MAX_ROWS))
        except ErpRefused:
            self.report.add(Finding(name, "refused", "success false: the watcher reads one customer at a time",
                                    guess="customer_list", setting=one_at_a_time))
            return
        rows = [row.model_dump(by_alias=True) for row in both.rows]
        expected = sum(page.count for page in single)
        foreign = [row for row in rows if str(row.get("customerId")) not in asked]
        label = ("ignored" if foreign else "nothing" if expected and not rows
                 else "any-of" if both.count == expected else "")
        result: Result = "holds" if label == "any-of" else "ignored" if label in ("ignored", "nothing") else "fails"
        self.report.add(Finding(
            name, result,
            f"{both.count} rows for 2 customers, {expected} read one by one, {len(foreign)} of other customers"
            + ("" if result == "holds" else ": the watcher reads one customer at a time"),
            dialect=f"customer_list={label}" if label else "", guess="customer_list",
            setting="BFF_ERP_GUESS_CUSTOMER_LIST=on" if result == "holds" else one_at_a_time))

    async def _orders_by_number(self, customer_id: str, orders: list[dict[str, Any]]) -> None:
        """An order by its number: the evidenced full-text read (exact code kept), the keyword
        search, and the guess ``code_filter`` (a ``code`` list), judged as the BFF judges it."""
        r = self.report
        code = str(orders[0].get("code") or "")
        if not code:
            r.add(Finding("sales orders: an order by its number", "unknown", "the newest order has no code"))
            return
        texts = await self._raw(queries.order_by_code_text(customer_id, code))
        exact = [o for o in texts if str(o.get("code")) == code and str(o.get("customerId")) == customer_id]
        r.add(Finding("sales orders (100001): filters systemFulltext <order number>, exact code kept (queries.order_by_code_text)",
                      "holds" if len(exact) == 1 else "fails", f"{len(texts)} row(s), {len(exact)} with the number asked", required=True))
        found = await self._raw(queries.orders_of_customer(customer_id, keyword=code, columns=queries.ORDER_COLUMNS_FOR_MATCH, page_size=5))
        r.add(Finding("sales orders: customerId + systemFulltext keyword search (search)", "holds" if any(str(o["id"]) == str(orders[0]["id"]) for o in found) else "fails",
                      f"{len(found)} row(s)", required=True))

        shape = 'sales orders (100001) filters {"code": [<numbers>]} (order(code:), REST by number)'
        wanted = [code]
        try:
            page = await self._raw_page(queries.orders_of_customer(customer_id, codes=wanted, page_size=len(wanted)))
        except ErpRefused:
            r.add(guess_finding("code_filter", shape, "refused", "success false"))
            return
        rows = [row.model_dump(by_alias=True) for row in page.rows]
        if page.count > len(wanted) or not within(rows, wanted, "code"):  # the BFF's test (reads.orders_by_codes)
            r.add(guess_finding("code_filter", shape, "ignored", f"{page.count} rows for 1 number: other orders too"))
        elif not rows:
            r.add(guess_finding("code_filter", shape, "fails", "no row for a number the customer has"))
        elif len(orders) < 2:
            r.add(guess_finding("code_filter", shape, "unknown", "the customer has one order: nothing to exclude"))
        else:
            r.add(guess_finding("code_filter", shape, "holds", f"1 row for 1 number; the customer has {len(orders)}+ orders"))

    async def _lines_and_deliveries(self, customer_id: str, orders: list[dict[str, Any]]) -> None:
        """The evidenced reads a page makes (the customer's newest deliveries, an order's lines by
        ``condition {"form.id"}``, an older order's deliveries by its number, lines by full text) and
        the guesses that would save some of them (``line_order_filter``, ``product_ids``)."""
        r = self.report
        order_ids = [str(o["id"]) for o in orders]
        by_code = {str(o["code"]): str(o["id"]) for o in orders if not is_empty(o.get("code"))}
        window = await self._raw_page(queries.recent_deliveries(customer_id))
        deliveries = [row.model_dump(by_alias=True) for row in window.rows]
        carried: dict[str, set[str]] = {}  # order id -> its deliveries among the newest
        for d in deliveries:
            for link in order_links(d):
                order_id = link if link in order_ids else by_code.get(link)
                if order_id is not None:
                    carried.setdefault(order_id, set()).add(str(d["id"]))
        shipped = sorted(carried, key=lambda i: (-len(carried[i]), order_ids.index(i)))

        probed = list(dict.fromkeys(shipped[:2] + order_ids[:3]))
        lines_of: dict[str, list[dict[str, Any]]] = {i: await self._raw(queries.lines_of_order(i)) for i in probed}
        lines = self._order_lines = [line for rows in lines_of.values() for line in rows]
        self._typed(ORDER_LINES, OrderLineRecord, lines)
        own = all(str(line.get("salesOrderId")) == i for i, rows in lines_of.items() for line in rows)
        r.add(Finding("order lines (100185): condition form.id answers one order's lines (queries.lines_of_order)",
                      "holds" if lines and own else "fails" if lines else "unknown",
                      f"{len(lines)} rows for {len(probed)} orders, one read each" + ("" if lines else ": pass --customer of a customer with order lines"),
                      required=bool(lines)))
        await self._line_order_guess(lines_of)
        await self._lines_matching(lines)

        if not deliveries:
            r.add(Finding("deliveries (100039): the customer's newest (queries.recent_deliveries)", "unknown",
                          "no delivery: pass --customer of a customer with shipments"))
            return
        typed = read_rows(DELIVERIES, DeliveryRecord, deliveries, self._anomalies)
        dates = [d.date for d in typed if d.date is not None]
        newest_first = all(a >= b for a, b in itertools.pairwise(dates))
        linked = [d for d in deliveries if order_links(d)]
        mine = all(str(d.get("customerOrSupplierId")) == customer_id for d in deliveries)
        r.add(Finding("deliveries (100039): filters customerOrSupplierId, newest first, linked to orders (queries.recent_deliveries)",
                      "holds" if mine and newest_first and len(linked) == len(deliveries) else "fails",
                      f"{len(deliveries)} of {window.count} rows, {len(linked)} with order links, {'newest first' if newest_first else 'NOT newest first'}; "
                      + types_of(deliveries, ("salesOrderIds", "orderCodes", "已出库", "是否发货", "发货日期")), required=True))
        if shipped:
            order_id = shipped[0]
            code = next(c for c, i in by_code.items() if i == order_id) if order_id in by_code.values() else ""
            known = set(carried[order_id])
            if code:
                of_order = await self._raw(queries.deliveries_of_order(customer_id, code))
                theirs = {str(d["id"]) for d in of_order if {order_id, code} & order_links(d)}
                scoped = all(str(d.get("customerOrSupplierId")) == customer_id for d in of_order)
                r.add(Finding("deliveries (100039): filters systemFulltext <order number>, matched by orderCodes (queries.deliveries_of_order)",
                              "holds" if scoped and known <= theirs else "fails",
                              f"{len(of_order)} rows, {len(theirs)} naming the order, {len(known - theirs)} of its newest missing", required=True))
                known |= theirs
            await self._product_ids_guess(customer_id, known, lines_of.get(order_id, []), window.count)
        else:
            r.add(Finding("deliveries (100039): filters systemFulltext <order number> (queries.deliveries_of_order)", "unknown",
                          "none of the customer's newest deliveries names one of its newest orders"))
            r.add(guess_finding("product_ids", PRODUCT_IDS_SHAPE, "unknown", "no order with deliveries among the newest"))
        carrier_in_list = any("logisticsCompanyId" in d for d in deliveries)
        files_in_list = any("attachments" in d for d in deliveries)
        detail_needed = not (carrier_in_list and files_in_list)
        r.add(Finding("deliveries: list rows carry logisticsCompanyId", "holds" if carrier_in_list else "fails",
                      "yes" if carrier_in_list else "no (evidenced in getBusiness detail): the BFF reads the detail on a delivery's first view",
                      dialect=f"logistics_in_list={'yes' if carrier_in_list else 'no'}",
                      setting=f"BFF_ERP_LOGISTICS_DETAIL={'true' if detail_needed else 'false'}"))
        r.add(Finding("deliveries: list rows carry attachments", "holds" if files_in_list else "fails",
                      "yes" if files_in_list else "no (as evidenced: getBusiness detail carries them)",
                      dialect=f"attachments_in_list={'yes' if files_in_list else 'no'}"))

        detail = await self._erp.get(DELIVERIES, str(deliveries[0]["id"]), model=RawRow)
        detail_row = detail.model_dump(by_alias=True) if detail else {}
        r.add(Finding("delivery detail (getBusiness) carries logisticsCompanyId and attachments",
                      "holds" if {"logisticsCompanyId", "attachments"} <= detail_row.keys() else "fails",
                      types_of([detail_row], ("logisticsCompanyId", "attachments"))))
        values = [d.get("attachments") for d in deliveries] + [detail_row.get("attachments")]
        values += await self._detail_attachments(deliveries, detail_row.get("attachments"))
        shape = attachment_shape(values)
        r.add(Finding("deliveries: attachments shape (evidenced: list of \"<path>#size=…&name=…\")",
                      "holds" if shape == "query" else "unknown" if shape == "empty" else "fails",
                      f"{shape}: {ATTACHMENT_SHAPES[shape]}", dialect=f"attachments={shape}"))
        await self._delivery_lines(deliveries)
        await self._attachment(values)

    async def _detail_attachments(self, deliveries: list[dict[str, Any]], first: Any) -> list[Any]:
        """Attachments as getBusiness sends them (the evidence's read), until one delivery has
        files: the rows that name files in the list if any do, else the next deliveries."""
        if not is_empty(first):
            return []
        rest = deliveries[1:]
        candidates = [d for d in rest if not is_empty(d.get("attachments"))] or rest
        found: list[Any] = []
        for row in candidates[:DETAIL_READS_FOR_ATTACHMENTS]:
            detail = await self._erp.get(DELIVERIES, str(row["id"]), model=RawRow)
            found.append(detail.model_dump(by_alias=True).get("attachments") if detail else None)
            if not is_empty(found[-1]):
                break
        return found

    async def _line_order_guess(self, lines_of: dict[str, list[dict[str, Any]]]) -> None:
        """Guess ``line_order_filter``: a ``salesOrderId`` list answers exactly the lines the
        evidenced ``condition {"form.id"}`` answers for those orders, and no other."""
        shape = 'order lines (100185) filters {"salesOrderId": [<order ids>]} (a page\'s lines in one read)'
        asked = sorted(i for i, rows in lines_of.items() if rows)[:2]
        if len(asked) < 2:
            self.report.add(guess_finding("line_order_filter", shape, "unknown", "fewer than two orders with lines"))
            return
        try:
            page = await self._raw_page(queries.lines_of_orders(asked))
        except ErpRefused:
            self.report.add(guess_finding("line_order_filter", shape, "refused", "success false"))
            return
        rows = [row.model_dump(by_alias=True) for row in page.rows]
        expected = {str(line["id"]) for i in asked for line in lines_of[i]}
        outside = [row for row in rows if str(row.get("salesOrderId")) not in asked]
        if page.count > len(rows) or outside:  # the BFF's test (reads.read_lines)
            verdict: Result = "ignored"
            detail = f"{page.count} rows for 2 orders' {len(expected)} lines, {len(outside)} of other orders"
        elif {str(row["id"]) for row in rows} != expected:
            verdict, detail = "fails", f"{len(rows)} rows, condition form.id answers {len(expected)}"
        else:
            others = sum(len(rows) for i, rows in lines_of.items() if i not in asked)
            if not others:
                total = await self._raw_page(queries.ListRead(ORDER_LINES, RawRow, columns=("id",), page_size=1))
                others = total.count - len(expected)
            verdict = "holds" if others > 0 else "unknown"
            detail = f"{len(rows)} rows, as condition form.id answers" + ("" if others > 0 else "; the form holds no other line")
        self.report.add(guess_finding("line_order_filter", shape, verdict, detail))

    async def _lines_matching(self, lines: list[dict[str, Any]]) -> None:
        """The keyword search's lines: ``systemFulltext`` over 100185, not scoped (queries.lines_matching)."""
        newest = max(lines, key=lambda line: _number(line.get("id")), default=None)
        keyword = next((str(newest[k]) for k in ("productCode", "productName") if newest and not is_empty(newest.get(k))), "")
        name = "order lines (100185): filters systemFulltext finds a line by its product (queries.lines_matching)"
        if newest is None or not keyword:
            self.report.add(Finding(name, "unknown", "no line with a product code or name"))
            return
        page = await self._raw_page(queries.lines_matching(keyword))
        found = any(str(row.model_dump(by_alias=True).get("id")) == str(newest["id"]) for row in page.rows)
        complete = page.count <= len(page.rows)
        self.report.add(Finding(name, "holds" if found else "fails" if complete else "unknown",
                                f"{page.count} rows{'' if found or complete else ', more than one page'}", required=found or complete))

    async def _product_ids_guess(self, customer_id: str, known: set[str], lines: list[dict[str, Any]], customer_total: int) -> None:
        """Guess ``product_ids``: deliveries carrying one order line by ``condition
        {"salesOrderProductIds"}`` are fewer than the customer's and none of another order."""
        line = next((x for x in lines if _number(x.get("shippedQuantity")) > 0), lines[0] if lines else None)
        if line is None:
            self.report.add(guess_finding("product_ids", PRODUCT_IDS_SHAPE, "unknown", "the order with deliveries has no line"))
            return
        try:
            page = await self._raw_page(queries.deliveries_carrying(customer_id, [str(line["id"])]))
        except ErpRefused:
            self.report.add(guess_finding("product_ids", PRODUCT_IDS_SHAPE, "refused", "success false"))
            return
        outside = [row for row in page.rows if str(row.model_dump(by_alias=True).get("id")) not in known]
        detail = f"{page.count} deliveries for one order line; the customer has {customer_total}, {len(outside)} of other orders"
        if page.count > len(page.rows) or outside:  # the BFF's test (reads._carrying)
            verdict: Result = "ignored"
        elif page.count >= customer_total:
            verdict, detail = "unknown", detail + ": every delivery of the customer is this order's"
        elif not page.rows and _number(line.get("shippedQuantity")) > 0:
            verdict, detail = "fails", detail + ": none for a line that was shipped"
        else:
            verdict = "holds"
        self.report.add(guess_finding("product_ids", PRODUCT_IDS_SHAPE, verdict, detail))

    async def _delivery_lines(self, deliveries: list[dict[str, Any]]) -> None:
        r = self.report
        ids = [str(d["id"]) for d in deliveries[:2]]
        one = await self._raw(queries.lines_of_delivery(ids[0]))
        self._typed(DELIVERY_LINES, DeliveryLineRecord, one)
        r.add(Finding("delivery lines (100041): condition parent.id answers one delivery's lines", "holds" if one else "fails",
                      f"{len(one)} rows; " + types_of(one, ("id", "productName", "spec", "quantity")), required=True))
        links = any(not is_empty(line.get(name)) for line in one for name in ("parentId", "salesOrderId", "salesOrderLineId"))
        r.add(Finding("delivery lines carry link fields (parentId, salesOrderId, salesOrderLineId)", "holds" if links else "fails",
                      "present" if links else "absent: lines are matched to materials by product code", dialect=f"line_links={'present' if links else 'absent'}"))
        if len(ids) < 2:
            r.add(Finding("delivery lines: one read for several deliveries (parent.id list)", "unknown", "fewer than two deliveries"))
            return
        both = await self._raw(queries.lines_of_deliveries(ids))
        usable = bool(both) and all(str(line.get("parentId")) in ids for line in both)
        r.add(Finding("delivery lines: one read for several deliveries (parent.id list)", "holds" if usable else "fails",
                      f"{len(both)} rows", setting=f"BFF_ERP_DELIVERY_LINES={'parent-list' if usable else 'per-delivery'}"))

    async def _attachment(self, values: list[Any]) -> None:
        refs = [ref for value in values for ref in DeliveryRecord.model_validate(
            {"id": "0", "customerOrSupplierId": "0", "attachments": value}).attachments]
        if not refs:
            self.report.add(Finding("attachment download", "unknown", "no attachment among these deliveries"))
            return
        content, content_type = await self._erp.fetch_file(refs[0].path)
        sniffed = filetypes.sniff(content, refs[0].name) or "unknown"
        self.report.add(Finding("attachment download with the session cookies", "holds",
                                f"declared {filetypes.base(content_type) or 'nothing'}, bytes {filetypes.base(sniffed)}, "
                                f"{len(content)} bytes{'' if refs[0].size in (None, len(content)) else f' (declared size {refs[0].size})'}"))

    async def _expiry(self) -> None:
        read = queries.probe()
        body = {"appName": self._config.app_name, "formId": read.form_id, "condition": {}, "columns": list(read.columns),
                "page": 0, "pageSize": 1, "filters": {}, "orderby": ""}
        response = await self._http.post(
            self._config.base_url.rstrip("/") + protocol.BUSINESS_PATH.format(name="getBusinessPageList"),
            json=body, headers={"Cookie": f"{protocol.SESSION_COOKIE}=bff-erp-check-invalid; {protocol.SID_COOKIE}=bff-erp-check-invalid"},
        )
        self._count()
        signal = expiry_signal(response)
        try:
            protocol.business_data(response)
            recognised = False
        except protocol.SessionExpired:
            recognised = True
        except Exception:  # noqa: BLE001 - any other reading is "not recognised"
            recognised = False
        self.report.add(Finding("expiry: an invalid session is recognised as expired", "holds" if recognised else "fails",
                                signal, required=True, dialect=f"expiry={signal}"))


async def check(config: ErpClientConfig, customer_id: str | None = None) -> Report:
    return await Checker(config, customer_id).run()
