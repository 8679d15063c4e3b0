"""The ERP's records: tolerant readers of its loosely typed values, typed records of its forms,
and the reading of rows into records (an odd field degrades alone).

Attribute names are the ERP's own field names (camelCase; Chinese custom fields get
English attributes with aliases), so this module is where the BFF's knowledge of each
form's fields lives. Fields without a default are the record's identity: a row without
them is skipped (and counted), never shown. Every other field degrades to empty when its
value has an unforeseen shape (:func:`read_rows`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote, unquote

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError

from bff.core.filetypes import extension
from bff.erp.anomalies import RECORD, Anomalies

# --- Tolerant readers of the ERP's loosely typed values, as pydantic annotated types. ---
#
# Each reader accepts every plausible shape of its value (numbers and booleans sent as text,
# dates as epoch ms, epoch s or ISO text, attachments as the evidenced list of
# ``"<path>#size=…&name=…"``, bare ``"<path>#<name>"``, a comma-joined string or objects) and
# raises ``ValueError`` for a shape nobody foresaw; :mod:`bff.erp.models` then degrades
# that one field to empty and counts it. Empty values (None, "", []) are always "no value",
# never an error.

# Naive date texts are the ERP's local time (a Chinese SaaS): guess, see docs/erp-protocol.md.
ERP_LOCAL_TZ = timezone(timedelta(hours=8))
EPOCH_MS_FROM = 10**11  # 1973-03 in ms; below it a number is taken as epoch seconds
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
TRUE_TEXTS = frozenset({"true", "1", "是", "y", "yes", "t"})
FALSE_TEXTS = frozenset({"false", "0", "否", "n", "no", "f"})


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def read_id(value: Any) -> str:
    """Ids come as numbers or text; an id is never empty, a boolean or a structure."""
    if type(value) is int:  # the usual shape first
        return str(value)
    if isinstance(value, bool) or is_empty(value):
        raise ValueError("not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        text = value.strip()
        return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text
    raise ValueError("not an id")


def read_opt_id(value: Any) -> str | None:
    return None if is_empty(value) else read_id(value)


def read_text(value: Any) -> str | None:
    if type(value) is str:  # the usual shape first
        return value.strip() or None
    if is_empty(value):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        raise ValueError("boolean is not text")
    if isinstance(value, int | float):
        return read_id(value) if float(value).is_integer() else str(value)
    raise ValueError("not text")


def read_number(value: Any) -> float | None:
    if type(value) is float or type(value) is int:  # the usual shape first: a page reads thousands
        return float(value)
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if _NUMBER.fullmatch(text):
            return float(text)
    raise ValueError("not a number")


def read_rate(value: Any) -> float | None:
    """A 0..1 ratio; a value above 1 and up to 100 is taken as a percentage."""
    number = read_number(value)
    if number is None:
        return None
    if 0 <= number <= 1:
        return number
    if 1 < number <= 100:
        return number / 100
    raise ValueError("not a rate")


def read_int(value: Any) -> int | None:
    number = read_number(value)
    if number is None:
        return None
    if not number.is_integer():
        raise ValueError("not an integer")
    return int(number)


def read_flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return False
        if text in TRUE_TEXTS:
            return True
        if text in FALSE_TEXTS:
            return False
    raise ValueError("not a flag")


def read_date(value: Any) -> datetime | None:
    """Epoch ms (evidenced), epoch s, or ISO-8601 text (naive text: ERP local time). 0 is no date."""
    if is_empty(value) or value == 0 or value == "0":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ERP_LOCAL_TZ)
    if isinstance(value, bool):
        raise ValueError("boolean is not a date")
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) >= EPOCH_MS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("date out of range") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("not a date") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=ERP_LOCAL_TZ)
    raise ValueError("not a date")


def _parts(value: Any) -> list[Any]:
    """The parts of a multi-valued field: ``"1,2"``, ``[1, 2]`` or a lone ``7``."""
    if is_empty(value):
        return []
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, list):
        return value
    return [value]


def read_id_list(value: Any) -> tuple[str, ...]:
    return tuple(read_id(part) for part in _parts(value) if not is_empty(part) and str(part).strip())


def read_text_list(value: Any) -> tuple[str, ...]:
    return tuple(text for text in (read_text(part) for part in _parts(value)) if text)


@dataclass(frozen=True)
class FileRef:
    """An attachment: the ERP's file path, a display name (decoded) and the size it declares."""

    path: str
    name: str
    size: int | None = None


PATH_KEYS = ("path", "url", "filePath", "fileUrl", "value")
NAME_KEYS = ("name", "fileName", "filename", "originalName", "title")
SIZE_KEYS = ("size", "fileSize", "length")
UNNAMED = "附件{n}"  # an attachment the ERP sent without a name; its type is added from the path or the bytes
_QUERY = re.compile(r"(?:^|&)(?:name|size)=")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _decoded(text: str, *, plus_is_space: bool) -> str:
    """``text`` percent-decoded as UTF-8; as it was if that does not decode."""
    try:
        return unquote(text.replace("+", " ") if plus_is_space else text, errors="strict")
    except UnicodeDecodeError:
        return text


def _query_value(text: str) -> str:
    """A value of the fragment's query string. ``+`` is a space (form encoding) unless the value
    spells spaces ``%20`` (``encodeURIComponent``, which leaves a ``+`` as it is)."""
    return _decoded(text, plus_is_space="%20" not in text)


def _bare_name(text: str) -> str:
    """A bare name is decoded only when it is clearly encoded: escapes, nothing that encoding
    would have escaped (no space, no non-ASCII), and valid UTF-8 once decoded."""
    if text.isascii() and " " not in text and _ESCAPE.search(text):
        return _decoded(text, plus_is_space=False)
    return text


def is_query_fragment(fragment: str) -> bool:
    """Whether what follows ``#`` is the evidenced query string (``size=…&name=…``)."""
    return bool(_QUERY.search(fragment.strip()))


def _size(value: Any) -> int | None:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() else None


def _fragment(fragment: str) -> tuple[str, int | None]:
    """What follows ``#``: the evidenced query string ``size=<bytes>&name=<URL-encoded>`` (keys in
    any order, others ignored), or a bare file name."""
    fragment = fragment.strip()
    if not is_query_fragment(fragment):
        return _bare_name(fragment), None
    fields: dict[str, str] = {}
    for pair in fragment.split("&"):
        key, _, value = pair.partition("=")
        fields.setdefault(key.strip(), value)
    return _query_value(fields.get("name", "")).strip(), _size(fields.get("size"))


def _file_ref(entry: Any) -> FileRef | None:
    """A ``FileRef`` whose name may still be ``""`` (named by its position afterwards)."""
    if is_empty(entry):
        return None
    if isinstance(entry, str):
        path, _, inner = entry.strip().partition("#")
        name, size = _fragment(inner)
    elif isinstance(entry, dict):
        found_path = next((entry[k] for k in PATH_KEYS if isinstance(entry.get(k), str) and entry[k]), "")
        path, _, inner = str(found_path).partition("#")
        name, size = _fragment(inner)
        given = next((entry[k] for k in NAME_KEYS if isinstance(entry.get(k), str) and entry[k].strip()), None)
        name = _bare_name(given.strip()) if given is not None else name
        size = next((s for s in (_size(entry.get(k)) for k in SIZE_KEYS) if s is not None), size)
    else:
        raise ValueError("not an attachment")
    path = path.strip().lstrip("/")
    if not path:
        return None
    return FileRef(path, name, size)


def _named(ref: FileRef, position: int) -> FileRef:
    """An unnamed attachment is ``附件<n>``, with the path's extension if it has one (the
    evidenced paths have none: the download adds the type its bytes show)."""
    if ref.name:
        return ref
    return FileRef(ref.path, UNNAMED.format(n=position) + extension(ref.path), ref.size)


def read_attachments(value: Any) -> tuple[FileRef, ...]:
    """Evidence: a JSON list of ``"<path>#size=<bytes>&name=<URL-encoded name>"`` (the keys in
    either order); also ``"<path>#<name>"``, a path alone, a comma-joined string, a JSON text of
    a list, a list of objects ({path|url, name|fileName, size}), a single object, or nothing."""
    if is_empty(value):
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            try:
                return read_attachments(json.loads(text))
            except json.JSONDecodeError:
                raise ValueError("not an attachment list") from None
        value = text.split(",")
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise ValueError("not an attachment list")
    refs = [ref for ref in (_file_ref(entry) for entry in value) if ref is not None]
    return tuple(_named(ref, position) for position, ref in enumerate(refs, 1))


def _dump_attachments(refs: tuple[FileRef, ...]) -> list[str]:
    """The evidenced shape, read back as it was."""
    return [
        f"{ref.path}#" + "&".join([*([f"size={ref.size}"] if ref.size is not None else []), f"name={quote(ref.name, safe='')}"])
        for ref in refs
    ]


def _dump_date(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


ErpId = Annotated[str, BeforeValidator(read_id)]
OptId = Annotated[str | None, BeforeValidator(read_opt_id)]
Text = Annotated[str | None, BeforeValidator(read_text)]
Number = Annotated[float | None, BeforeValidator(read_number)]
Rate = Annotated[float | None, BeforeValidator(read_rate)]
Int = Annotated[int | None, BeforeValidator(read_int)]
Flag = Annotated[bool | None, BeforeValidator(read_flag)]
Date = Annotated[datetime | None, BeforeValidator(read_date), PlainSerializer(_dump_date)]
IdList = Annotated[tuple[str, ...], BeforeValidator(read_id_list)]
TextList = Annotated[tuple[str, ...], BeforeValidator(read_text_list)]
Attachments = Annotated[
    tuple[FileRef, ...], BeforeValidator(read_attachments), PlainSerializer(_dump_attachments)
]


class ErpRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    def carries(self, name: str) -> bool:
        """Whether the ERP's answer had this field at all (list reads may leave fields out)."""
        return name in self.model_fields_set

    def value_of(self, erp_field: str) -> object:
        """A value by the ERP's field name (aliases such as 微信邀请码 included)."""
        return self.model_dump(by_alias=True).get(erp_field)


class CustomerRecord(ErpRecord):
    """Form 100004 (客户). Evidence: the reference's field list."""

    id: ErpId
    code: Text = None
    name: Text = None
    abbr: Text = None
    customerType: Text = None
    type: Text = None
    province: Text = None
    city: Text = None
    county: Text = None
    category: Text = None
    level: Text = None
    industry: Text = None
    currency: Text = None
    ownerId: OptId = None
    disable: Flag = None
    contact: Text = None
    mobile: Text = None
    invite_code: Text = Field(None, alias="微信邀请码")


class SalesOrderRecord(ErpRecord):
    """Form 100001 (销售订单). ``status`` codes other than 1, 2, 4, 5 mean "unknown", never a crash."""

    id: ErpId
    customerId: ErpId
    code: Text = None
    status: Int = None
    customerOrderCode: Text = None
    date: Date = None
    customerName: Text = None
    deliveryDate: Date = None
    amount: Number = None
    rmbAmount: Number = None
    currency: Text = None
    quantity: Number = None
    produceQuantity: Number = None
    produced: Number = None
    producedRate: Rate = None
    producingRate: Rate = None
    shippedRate: Rate = None
    shippingRate: Rate = None
    stockOutRate: Rate = None
    receivedRate: Rate = None
    invoicedRate: Rate = None
    remark: Text = None
    contact: Text = None
    mobile: Text = None
    address: Text = None
    shipmentContact: Text = None
    shipmentMobile: Text = None
    shipmentAddress: Text = None


class OrderLineRecord(ErpRecord):
    """Form 100185 (销售订单产品): one material of an order."""

    id: ErpId
    salesOrderId: ErpId
    quantity: Number = None
    salesOrderCode: Text = None
    productId: OptId = None
    productCode: Text = None
    productName: Text = None
    spec: Text = None
    brand: Text = None
    image: Text = None
    unitId: Text = None
    producingQuantity: Number = None
    producedQuantity: Number = None
    unProducedQuantity: Number = None
    shippedQuantity: Number = None
    shippingQuantity: Number = None
    returnedQuantity: Number = None
    deliveryDate: Date = None
    stockOutDate: Date = None
    status: Int = None
    produceType: Text = None
    price: Number = None
    amount: Number = None
    remark: Text = None


class DeliveryRecord(ErpRecord):
    """Form 100039 (销售出库单): one shipment, possibly carrying several orders.

    Evidence: ``attachments`` is a JSON list of ``"<path>#<name>"`` in getBusiness detail (other
    shapes tolerated); ``logisticsCompanyId`` is evidenced in detail only; ``发货日期`` is epoch
    ms; ``已出库`` (left the warehouse) and ``是否发货`` (dispatched) are separate booleans.
    """

    id: ErpId
    customerOrSupplierId: ErpId
    code: Text = None
    orderCodes: TextList = ()
    salesOrderId: OptId = None
    salesOrderIds: IdList = ()
    salesOrderCode: Text = None
    date: Date = None
    finished: Flag = None
    amount: Number = None
    rmbAmount: Number = None
    contact: Text = None
    tel: Text = None
    mobile: Text = None
    address: Text = None
    remark: Text = None
    logisticsCode: Text = None
    logisticsCompanyId: OptId = None
    attachments: Attachments = ()
    ship_date: Date = Field(None, alias="发货日期")
    left_warehouse: Flag = Field(None, alias="已出库")
    dispatched: Flag = Field(None, alias="是否发货")

    def order_ids(self) -> tuple[str, ...]:
        """The orders this shipment carries: ``salesOrderIds``, else ``salesOrderId``."""
        return self.salesOrderIds or ((self.salesOrderId,) if self.salesOrderId else ())

    def order_codes(self) -> tuple[str, ...]:
        return self.orderCodes or ((self.salesOrderCode,) if self.salesOrderCode else ())


class DeliveryLineRecord(ErpRecord):
    """Form 100041 (出库单明细), a column form read per delivery (``condition {"parent.id"}``).

    Evidence: the live answer had ``productName, spec, quantity``; whether rows carry an ``id``
    or any link field (``parentId``, ``salesOrderId``, ``salesOrderLineId``) is unknown, so
    none is required: the delivery is known from the read's own context.
    """

    id: OptId = None
    parentId: OptId = None
    salesOrderId: OptId = None
    salesOrderLineId: OptId = None
    productId: OptId = None
    productName: Text = None
    productCode: Text = None
    spec: Text = None
    brand: Text = None
    quantity: Number = None
    price: Number = None
    amount: Number = None
    batch: Text = None
    stockCode: Text = None
    finished: Flag = None
    remark: Text = None


class LogisticsCompanyRecord(ErpRecord):
    """Datasource 100292 of form 100039 (物流公司)."""

    id: ErpId
    name: Text = None


M = TypeVar("M", bound=BaseModel)


@dataclass
class ErpPage(Generic[M]):
    count: int
    rows: list[M] = field(default_factory=list)


# --- Reading rows into records: an odd field degrades alone, a row without identity is skipped. ---
#
# Both are counted in :class:`bff.erp.anomalies.Anomalies` by field name, never by value.


def _required_keys(model: type[BaseModel]) -> frozenset[str]:
    # The input keys of the identity fields: by alias where there is one.
    return frozenset(
        key for name, info in model.model_fields.items() if info.is_required() for key in (name, info.alias) if key
    )


def _failed_keys(error: ValidationError) -> set[str]:
    return {str(item["loc"][0]) for item in error.errors(include_input=False, include_url=False) if item["loc"]}


def read_record(form_id: int, model: type[M], row: Any, anomalies: Anomalies) -> M | None:
    if not isinstance(row, dict):
        anomalies.record(form_id, RECORD)
        return None
    try:
        return model.model_validate(row)
    except ValidationError as error:
        failed = _failed_keys(error)
    if failed & _required_keys(model):
        anomalies.record(form_id, RECORD)
        return None
    for key in sorted(failed):
        anomalies.record(form_id, key)
    try:
        return model.model_validate({key: value for key, value in row.items() if key not in failed})
    except ValidationError:  # cannot happen with optional fields; skip rather than fail a page
        anomalies.record(form_id, RECORD)
        return None


def read_rows(form_id: int, model: type[M], rows: Iterable[Any], anomalies: Anomalies) -> list[M]:
    return [record for record in (read_record(form_id, model, row, anomalies) for row in rows) if record is not None]
