"""How a record looks in a dialect: what the ERP holds (``held``) and what it sends (``wire``).

Records are stored in one canonical shape (native numbers, epoch ms, attachments as a list
of the evidenced ``"<path>#size=<bytes>&name=<URL-encoded name>"``). ``held`` is what filters, searches and sorting see (an unknown
status, no line link fields); ``wire`` is the JSON sent. Variations "by record" derive
from the record's id, so every answer is reproducible.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bff.sim.erp.data import CST, Record, attachment_entry, attachment_parts, stable
from bff.sim.erp.dialect import Dialect
from bff.sim.erp.forms import (
    CUSTOM_BOOLEANS,
    DATES,
    DELIVERIES,
    DELIVERY_LINES,
    LINE_LINKS,
    ORDERS,
    UNKNOWN_STATUSES,
)


def unknown_status(order_id: str) -> int | None:
    """About one order in nine carries a status code nobody documented."""
    n = stable("status", order_id)
    return UNKNOWN_STATUSES[n // 9 % len(UNKNOWN_STATUSES)] if n % 9 == 0 else None


def held(form_id: int, record: Record, dialect: Dialect) -> Record:
    if form_id == ORDERS and dialect.statuses == "unknown":
        status = unknown_status(record["id"])
        if status is not None:
            return {**record, "status": status}
    if form_id == DELIVERY_LINES and dialect.line_links == "absent":
        return {k: v for k, v in record.items() if k not in LINE_LINKS}
    return record


def wire(form_id: int, record: Record, dialect: Dialect, *, in_list: bool, columns: list[str] | None = None) -> Record:
    """The record as sent; ``columns`` (non-empty) selects fields, ``id`` always included."""
    out = {c: record.get(c) for c in ["id", *[c for c in columns if c != "id"]]} if columns else dict(record)
    if form_id == ORDERS and dialect.order_rates == "frozen" and "shippedRate" in out:
        out["shippedRate"] = 0.0
    if form_id == DELIVERIES:
        if in_list and dialect.logistics_in_list == "no":
            out.pop("logisticsCompanyId", None)
        if in_list and dialect.attachments_in_list == "no":
            out.pop("attachments", None)  # evidence: getBusiness detail carries them; list rows unknown
        if "attachments" in out:
            out["attachments"] = attachments(record["id"], record.get("attachments") or [], dialect.attachments)
    for name in DATES.get(form_id, ()):
        if name in out:
            out[name] = date(out[name], dialect.dates)
    for name, value in out.items():
        if (name == "quantity" or name.endswith("Quantity")) and type(value) is int:
            out[name] = float(value)  # evidence: the live ERP sent "quantity": 2.0
    if dialect.extra_fields == "yes":
        out.update(extras(form_id, record.get("id")))
    if dialect.numbers == "strings":
        yes_no = stable("bool", record.get("id")) % 2 == 0
        out = {k: (("是" if v else "否") if yes_no and k in CUSTOM_BOOLEANS and isinstance(v, bool) else as_text(v))
               for k, v in out.items()}
    return out


def attachments(record_id: str, entries: list[str], shape: str) -> Any:
    """One delivery's attachments in a dialect's shape. "query" (the evidence): the held
    ``"<path>#size=…&name=…"``, the two keys in either order by record; "list": ``"<path>#<name>"``
    with the name bare (a path alone when it has none); "string": the query entries comma-joined."""
    n = stable("attachments", record_id)
    parts = [attachment_parts(entry) for entry in entries]
    query = [attachment_entry(path, name, size, name_first=n % 2 == 1) for path, name, size in parts]
    if shape == "query":
        return query
    if shape == "string":
        return ",".join(query)
    if shape == "objects":
        if n % 2:
            return [{"url": path, "fileName": name, "size": size} for path, name, size in parts]
        return [{"path": path, "name": name} for path, name, _ in parts]
    if shape == "empty":
        return (None, "", [])[n % 3]
    return [f"{path}#{name}" if name else path for path, name, _ in parts]


def date(ms: Any, shape: str) -> Any:
    if not isinstance(ms, int):
        return ms
    if shape == "s":
        return ms // 1000
    if shape == "iso":
        return datetime.fromtimestamp(ms / 1000, CST).isoformat(timespec="seconds")
    return ms


def as_text(value: Any) -> Any:
    """Numbers and booleans as text, through nested values; ``None`` stays ``null``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_text(v) for v in value]
    return value


def extras(form_id: int, record_id: Any) -> Record:
    """Fields a real low-code ERP adds to every record: audit data, workflow state, nested objects."""
    n = stable("extra", form_id, record_id)
    return {
        "createTime": 1735660800000 + n % 31_536_000_000,
        "creator": {"id": str(8 + n % 5), "name": "系统管理员", "dept": {"id": "3", "name": "销售部"}},
        "flowStatus": n % 4,
        "tags": ["常规", "华东"][: n % 3],
        "_version": n % 7 + 1,
        "extData": None if n % 2 else {"source": "web", "items": [{"k": "a", "v": 1.5}]},
    }
