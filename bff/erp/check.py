"""``bff erp check``: which of the BFF's protocol assumptions hold on the live ERP.

Read-only: it logs in with the service account, makes each read the BFF makes with the
BFF's exact shapes (bff.erp.queries), reads one page of every form and the logistics
datasource, fetches one attachment, and sends one business call with a made-up session
to see how expiry is signalled. It reports field names, types, counts and dialect labels,
never a value of a record (values may be personal data), and writes nothing to the ERP.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
from pydantic import ConfigDict

from bff.erp import protocol, queries
from bff.erp.client import ErpClient, ErpClientConfig
from bff.erp.reader import ErpReader
from bff.core import filetypes
from bff.erp.fields import EPOCH_MS_FROM, is_empty, is_query_fragment
from bff.erp.anomalies import Anomalies
from bff.erp.forms import CUSTOMERS, DELIVERIES, DELIVERY_LINES, ORDER_LINES, SALES_ORDERS, OrderStatusCode
from bff.erp.models import ErpPage, CustomerRecord, DeliveryLineRecord, DeliveryRecord, ErpRecord, OrderLineRecord, SalesOrderRecord
from bff.erp.validation import read_rows
from bff.erp.errors import INTERNAL_SIGNALS, ErpError

Result = Literal["holds", "fails", "unknown"]
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

    def as_table(self) -> str:
        width = max(len(f.name) for f in self.findings) if self.findings else 10
        lines = [f"{'assumption':<{width}}  result   detail"]
        for f in self.findings:
            mark = " (required)" if f.required else ""
            lines.append(f"{f.name:<{width}}  {f.result:<7}  {f.detail}{mark}")
        lines.append("")
        lines.append("dialect: " + " ".join(f"{k}={v}" for k, v in sorted(self.dialect().items())))
        lines.append("settings: " + (" ".join(self.settings()) or "the defaults fit"))
        lines.append(f"erp calls: {self.calls}; result: {'OK' if self.ok else 'FAILED (a required assumption does not hold)'}")
        return "\n".join(lines)

    def as_json(self) -> str:
        return json.dumps(
            {"ok": self.ok, "calls": self.calls, "dialect": self.dialect(), "settings": self.settings(),
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
        code = str(orders[0].get("code") or "")
        if code:
            by_code = await self._raw(queries.orders_of_customer(customer_id, codes=[code], page_size=1))
            r.add(Finding("filters: order code list (order(code:) and REST by number)", "holds" if len(by_code) == 1 else "fails", f"{len(by_code)} row(s)"))
            found = await self._raw(queries.orders_of_customer(customer_id, keyword=code, columns=queries.ORDER_COLUMNS_FOR_MATCH, page_size=5))
            r.add(Finding("filters: systemFulltext finds an order by its number", "holds" if any(str(o["id"]) == str(orders[0]["id"]) for o in found) else "fails",
                          f"{len(found)} row(s)"))

        await self._lines_and_deliveries(customer_id, [str(o["id"]) for o in orders])
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
        other = next((c for c in customer_ids if c != customer_id), None)
        if other is None:
            r.add(Finding("sales orders: customerId list filter (the watcher's batched read)", "unknown", "only one customer seen"))
        else:
            asked = sorted({customer_id, other})
            single = [await self._raw_page(queries.orders_of_customer(c, page_size=1)) for c in asked]
            both = await self._raw_page(queries.orders_of_customers(asked, page_size=queries.MAX_ROWS))
            rows = [row.model_dump(by_alias=True) for row in both.rows]
            expected = sum(page.count for page in single)
            foreign = [row for row in rows if str(row.get("customerId")) not in asked]
            label = ("ignored" if foreign else "nothing" if expected and not rows
                     else "any-of" if both.count == expected else "")
            holds = label == "any-of"
            r.add(Finding(
                "sales orders: customerId list filter (the watcher's batched read)", "holds" if holds else "fails",
                f"{both.count} rows for 2 customers, {expected} read one by one, {len(foreign)} of other customers"
                + ("" if holds else ": the watcher must read one customer at a time"),
                dialect=f"customer_list={label}" if label else "",
                setting="" if holds else "BFF_WATCH_CUSTOMERS_PER_READ=1"))
            line_ids = [str(line["id"]) for line in self._order_lines]
            if line_ids:
                one = await self._raw(queries.deliveries_carrying(customer_id, line_ids))
                many = await self._raw(queries.deliveries_carrying_for(asked, line_ids))
                same = sorted(str(d["id"]) for d in one) == sorted(str(d["id"]) for d in many)
                r.add(Finding(
                    "deliveries: customerOrSupplierId list filter (the watcher's batched read)", "holds" if same else "fails",
                    f"{len(many)} rows by the list, {len(one)} by the customer alone",
                    setting="" if same else "BFF_WATCH_CUSTOMERS_PER_READ=1"))
        lines = self._order_lines
        quantity: dict[str, float] = {}
        produced: dict[str, float] = {}
        shipped: dict[str, float] = {}
        for line in lines:
            order_id = str(line.get("salesOrderId"))
            quantity[order_id] = quantity.get(order_id, 0.0) + _number(line.get("quantity"))
            produced[order_id] = produced.get(order_id, 0.0) + _number(line.get("producedQuantity"))
            shipped[order_id] = shipped.get(order_id, 0.0) + _number(line.get("shippedQuantity"))
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
        names = sorted({name for o in orders for name in o if name in MODIFY_TIME_NAMES})
        r.add(Finding("sales orders: a modification time field", "holds" if names else "unknown",
                      ", ".join(names) + " (not used yet)" if names else
                      f"none of {', '.join(MODIFY_TIME_NAMES)}: the digest is the status, the rates and the totals"))

    async def _lines_and_deliveries(self, customer_id: str, order_ids: list[str]) -> None:
        r = self.report
        lines = self._order_lines = await self._raw(queries.lines_of_orders(order_ids))
        own = bool(lines) and all(str(line.get("salesOrderId")) in order_ids for line in lines)
        self._typed(ORDER_LINES, OrderLineRecord, lines)
        evidenced = await self._raw(queries.lines_of_order(order_ids[0]))
        same = sorted(str(x["id"]) for x in lines if str(x.get("salesOrderId")) == order_ids[0]) == sorted(str(x["id"]) for x in evidenced)
        r.add(Finding("order lines (100185): salesOrderId list filter (guess) = condition form.id (evidence)",
                      "holds" if own and same else "fails", f"{len(lines)} rows for {len(order_ids)} orders", required=True))
        line_ids = [str(line["id"]) for line in lines]
        deliveries = await self._raw(queries.deliveries_carrying(customer_id, line_ids)) if line_ids else []
        if not deliveries:
            r.add(Finding("deliveries (100039) carrying the orders' lines", "unknown", "no delivery for these orders: pass --customer of a customer with shipments"))
            return
        self._typed(DELIVERIES, DeliveryRecord, deliveries)
        linked = [d for d in deliveries if not is_empty(d.get("salesOrderIds")) or not is_empty(d.get("salesOrderId")) or not is_empty(d.get("orderCodes"))]
        mine = all(str(d.get("customerOrSupplierId")) == customer_id for d in deliveries)
        r.add(Finding("deliveries: scoped by customerOrSupplierId and linked to orders", "holds" if mine and len(linked) == len(deliveries) else "fails",
                      f"{len(deliveries)} rows, {len(linked)} with order links; " + types_of(deliveries, ("salesOrderIds", "orderCodes", "已出库", "是否发货", "发货日期")), required=True))
        carried = {str(i) for d in deliveries for i in str(d.get("salesOrderIds") or d.get("salesOrderId") or "").split(",") if i}
        applied = carried <= set(order_ids) if carried else False
        r.add(Finding("deliveries: condition salesOrderProductIds is applied", "holds" if applied else "unknown",
                      "answer limited to the asked orders" if applied else "answer not limited (the BFF still matches by link fields)"))
        in_list = any("logisticsCompanyId" in d for d in deliveries)
        r.add(Finding("deliveries: list rows carry logisticsCompanyId", "holds" if in_list else "fails",
                      "yes" if in_list else "no: the BFF reads it from the detail in the background",
                      dialect=f"logistics_in_list={'yes' if in_list else 'no'}",
                      setting="" if in_list else "BFF_ERP_LOGISTICS_DETAIL=true"))
        in_list = any("attachments" in d for d in deliveries)
        r.add(Finding("deliveries: list rows carry attachments", "holds" if in_list else "fails",
                      "yes" if in_list else "no (as evidenced: getBusiness detail carries them)",
                      dialect=f"attachments_in_list={'yes' if in_list else 'no'}"))

        detail = await self._erp.get(DELIVERIES, str(deliveries[0]["id"]), model=RawRow)
        detail_row = detail.model_dump(by_alias=True) if detail else {}
        r.add(Finding("delivery detail (getBusiness) carries logisticsCompanyId", "holds" if "logisticsCompanyId" in detail_row else "fails",
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
