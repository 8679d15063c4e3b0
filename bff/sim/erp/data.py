"""Deterministic seeded data of the ERP simulator: customers, orders, lines, deliveries.

Everything comes from one ``random.Random(seed)`` in a fixed order, so two simulators
with the same seed hold identical records. Records are plain dicts shaped like the ERP's
JSON; ids are numeric strings as the ERP sends them.
"""

from __future__ import annotations

import functools
import hashlib
import io
import pickle
import random
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, quote

Record = dict[str, Any]

CST = timezone(timedelta(hours=8))  # the ERP stores China Standard Time dates as epoch ms
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no I/L/O/0/1: read aloud without doubt
FIRST_DAY = datetime(2025, 1, 6, tzinfo=CST)
LAST_DAY = datetime(2026, 11, 20, tzinfo=CST)

SERVICE_ACCOUNT = ("13900000000", "svc-demo-password", "惠采服务账号", "1001")
ADMIN_ACCOUNT = ("13800000000", "admin-demo-password", "系统管理员", "1000")

LOGISTICS = [
    ("301", "顺丰速运", "SF", 13), ("302", "德邦物流", "DPK", 12), ("303", "京东物流", "JDVB", 11),
    ("304", "中通快递", "7", 13), ("305", "跨越速运", "KY", 12), ("306", "安能物流", "AN", 12),
    ("307", "韵达快递", "43", 13), ("308", "百世快运", "BEST", 10),
]

# (name, abbr, province, city, county, industry, contact, mobile, street)
CUSTOMERS = [
    ("苏州恒达精密机械有限公司", "恒达精密", "江苏省", "苏州市", "吴中区", "通用设备制造", "王建国", "13912345601", "木渎镇金枫南路288号"),
    ("宁波甬兴液压设备有限公司", "甬兴液压", "浙江省", "宁波市", "北仑区", "液压气动", "陈立", "13857422602", "小港街道渡口南路56号"),
    ("东莞市联创自动化科技有限公司", "联创自动化", "广东省", "东莞市", "长安镇", "自动化设备", "李晓梅", "13790113603", "乌沙社区兴发南路18号"),
    ("天津北洋重工机械有限公司", "北洋重工", "天津市", "天津市", "滨海新区", "重型机械", "张海涛", "13602028604", "开发区第十一大街62号"),
    ("成都蓉锐智能装备有限公司", "蓉锐智能", "四川省", "成都市", "郫都区", "智能装备", "刘洋", "18982015605", "德源镇红旗大道北段99号"),
    ("青岛海泰泵阀有限公司", "海泰泵阀", "山东省", "青岛市", "黄岛区", "泵阀制造", "赵敏", "15866803606", "江山中路1189号"),
]
CUSTOMER_IDS = ["36", "41", "52", "58", "63", "77"]
CUSTOMER_WEIGHTS = [40, 16, 14, 12, 10, 8]  # the demo customer holds about 40% of orders
DISABLED_INDEX = 5

# Product families: (name, brand, unit, base price, specs). Three specs each: about 60 items.
FAMILIES: list[tuple[str, str, str, float, list[str]]] = [
    ("内六角圆柱头螺钉", "晋亿", "个", 0.35, ["M6×20 12.9级", "M8×30 12.9级", "M10×40 12.9级"]),
    ("六角头螺栓", "晋亿", "个", 0.42, ["M12×50 8.8级 镀锌", "M16×60 8.8级 镀锌", "M20×80 8.8级 镀锌"]),
    ("不锈钢六角螺母", "东明", "个", 0.18, ["M8 A2-70", "M10 A2-70", "M12 A4-80"]),
    ("平垫圈", "东明", "个", 0.05, ["Φ8 304不锈钢", "Φ10 304不锈钢", "Φ12 304不锈钢"]),
    ("深沟球轴承", "人本", "套", 9.8, ["6204-2RS", "6205-2Z", "6305-2RS"]),
    ("圆锥滚子轴承", "哈轴", "套", 36.5, ["30205", "30206", "32208"]),
    ("直线轴承", "THK", "个", 58.0, ["LM12UU", "LM16UU", "LM20UU"]),
    ("不锈钢法兰", "恒通", "件", 85.0, ["DN50 PN16 304", "DN80 PN16 304", "DN100 PN16 316L"]),
    ("O型密封圈", "NOK", "个", 1.2, ["30×2.65 NBR", "50×3.55 FKM", "80×5.3 NBR"]),
    ("骨架油封", "NOK", "个", 4.6, ["TC 35×52×7", "TC 45×62×8", "TC 60×80×10"]),
    ("气动快插接头", "亚德客", "个", 3.8, ["PC8-02 直通", "PL10-03 弯头", "PE6 三通"]),
    ("标准气缸", "亚德客", "件", 265.0, ["SC50×100", "SC63×150", "SC80×200"]),
    ("电磁阀", "SMC", "件", 188.0, ["SY5120-5DZ-01", "VF3130-5G1-02", "SY3120-5LZD-M5"]),
    ("同步带", "盖茨", "件", 46.0, ["HTD 5M-450-15", "HTD 8M-800-20", "T5-1000-10"]),
    ("同步带轮", "米思米", "件", 72.0, ["HTD5M-30T 孔径14", "HTD8M-24T 孔径20", "T5-20T 孔径10"]),
    ("PU气管", "亚德客", "米", 2.3, ["8×5 蓝色", "10×6.5 透明", "6×4 黑色"]),
    ("镀锌钢管", "友发", "米", 28.0, ["DN25 壁厚2.75", "DN40 壁厚3.25", "DN50 壁厚3.5"]),
    ("铝型材", "凤铝", "米", 45.0, ["4040 国标", "4080 国标", "3030 欧标"]),
    ("锂基润滑脂", "长城", "公斤", 26.0, ["3号 15kg桶", "2号 15kg桶", "0号 极压型"]),
    ("冷轧钢板", "宝钢", "公斤", 6.8, ["SPCC 1.5mm", "SPCC 2.0mm", "SPCC 3.0mm"]),
]
UNIT_QUANTITIES = {
    "个": [100, 200, 500, 1000, 2000, 5000], "件": [10, 20, 50, 100, 200],
    "套": [20, 50, 100, 200, 500], "米": [20, 50, 100, 200, 500],
    "公斤": [15, 30, 60, 120, 300],
}
ORDER_REMARKS = ["", "", "", "加急，请优先排产", "请按图纸要求包装", "可分批发货", "含税价，开13%增值税专票", "随货附材质证明"]
DELIVERY_REMARKS = ["", "", "货到请验收签字", "分批发货第{n}批", "易碎品轻放"]
# What the purchaser wants to read in a dispatched delivery's remark (evidence: "金通物流-青田白帆"):
# the regional carrier actually used and its route, beside the express company's tracking number.
CARRIERS = ["金通物流", "安达物流", "顺心捷达", "盛辉物流", "天地华宇"]
ROUTES = ["青田白帆", "苏州吴中", "宁波北仑", "东莞长安", "天津滨海", "成都郫都", "青岛黄岛"]
ATTACHMENT_DIR = "35"  # evidence: "35/693ce2cba75b1057af4975bb/f8a9cb6bdeef473b9e14fd0538349154"
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚", "桂英", "志强"]


@dataclass
class DemoCustomer:
    id: str
    code: str
    name: str
    invite_code: str
    account: str
    password: str


@dataclass
class Dataset:
    customers: list[Record] = field(default_factory=list)
    orders: list[Record] = field(default_factory=list)
    order_lines: list[Record] = field(default_factory=list)
    deliveries: list[Record] = field(default_factory=list)
    delivery_lines: list[Record] = field(default_factory=list)
    logistics: list[Record] = field(default_factory=list)
    products: list[Record] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # account -> plain password
    users: dict[str, Record] = field(default_factory=dict)  # account -> {account, userName, userId}
    files: dict[str, str] = field(default_factory=dict)  # served path -> file name (its type)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def day_of(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, CST)


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def phone(rng: random.Random) -> str:
    return rng.choice(["139", "138", "137", "136", "158", "159", "186", "188"]) + f"{rng.randrange(10**8):08d}"


def tracking_number(rng: random.Random, company_id: str) -> str:
    prefix, digits = next((p, d) for cid, _, p, d in LOGISTICS if cid == company_id)
    return prefix + "".join(rng.choice("0123456789") for _ in range(digits))


def build_products() -> list[Record]:
    products: list[Record] = []
    for family, (name, brand, unit, price, specs) in enumerate(FAMILIES):
        for n, spec in enumerate(specs):
            pid = 500 + family * 3 + n
            products.append({
                "id": str(pid), "code": f"WL{pid:05d}", "name": name, "spec": spec, "brand": brand,
                "unit": unit, "price": round(price * (1 + 0.35 * n), 2),
                "image": f"img/p{pid}.png" if pid % 4 else "",
            })
    return products


def build_customers(rng: random.Random, data: Dataset) -> None:
    for i, (name, abbr, province, city, county, industry, contact, mobile, street) in enumerate(CUSTOMERS):
        cid = CUSTOMER_IDS[i]
        invite = "".join(rng.choice(INVITE_ALPHABET) for _ in range(8))
        data.customers.append({
            "id": cid, "code": f"KH{int(cid):04d}", "name": name, "abbr": abbr,
            "customerType": "企业客户", "type": rng.choice(["直销客户", "经销客户"]),
            "province": province, "city": city, "county": county,
            "category": rng.choice(["设备制造", "工程项目", "维修服务"]), "level": rng.choice(["A", "B", "C"]),
            "industry": industry, "currency": "CNY", "ownerId": rng.choice(["8", "12", "15"]),
            "disable": i == DISABLED_INDEX, "contact": contact, "mobile": mobile,
            "address": f"{province}{city if city != province else ''}{county}{street}", "微信邀请码": invite,
        })
        data.accounts[mobile] = f"demo-KH{int(cid):04d}"
        data.users[mobile] = {"account": mobile, "userName": contact, "userId": str(2000 + i)}
    for account, password, user_name, user_id in (SERVICE_ACCOUNT, ADMIN_ACCOUNT):
        data.accounts[account] = password
        data.users[account] = {"account": account, "userName": user_name, "userId": user_id}


def _statuses(rng: random.Random, count: int) -> list[int]:
    """Only the evidenced statuses; the ``statuses=unknown`` dialect adds others at answer time."""
    statuses: list[int] = []
    for i in range(count):
        old = i < count * 0.7  # older orders are mostly done; recent ones in flight
        weights = [68, 16, 4, 12] if old else [12, 48, 28, 12]
        statuses.append(rng.choices([4, 2, 1, 5], weights=weights)[0])
    for wanted in (1, 2, 4, 5):  # small configs still show every status
        if wanted not in statuses and count >= 5:
            statuses[rng.randrange(count)] = wanted
    return statuses


def _progress(rng: random.Random, status: int, qty: int) -> tuple[int, int, int]:
    """(producing, produced, shipped) of one line, consistent with its order's status."""
    if status == 1:
        return 0, 0, 0
    if status == 4:
        return 0, qty, qty
    if status == 5:
        produced = int(qty * rng.uniform(0.2, 0.8)) if rng.random() < 0.5 else 0
        shipped = int(produced * rng.uniform(0.3, 1.0)) if produced and rng.random() < 0.4 else 0
        return 0, produced, shipped
    roll = rng.random()
    produced = qty if roll < 0.35 else int(qty * rng.uniform(0.2, 0.9)) if roll < 0.7 else 0
    producing = rng.randint(0, qty - produced)
    shipped = 0
    if produced and rng.random() < 0.6:
        shipped = produced if rng.random() < 0.5 else max(1, int(produced * rng.uniform(0.3, 0.9)))
    return producing, produced, shipped


def rates(order: Record, lines: list[Record]) -> None:
    """Order totals and ratios derived from its lines (also used after run-time changes)."""
    qty = sum(line["quantity"] for line in lines) or 1
    amount = round(sum(line["amount"] for line in lines), 2)
    produced = sum(line["producedQuantity"] for line in lines)
    shipped = sum(line["shippedQuantity"] for line in lines)
    order.update({
        "amount": amount, "rmbAmount": amount, "quantity": sum(line["quantity"] for line in lines),
        "produceQuantity": sum(line["quantity"] for line in lines), "produced": produced,
        "producedRate": round(produced / qty, 4),
        "producingRate": round(sum(line["producingQuantity"] for line in lines) / qty, 4),
        "shippedRate": round(shipped / qty, 4),
        "shippingRate": round(sum(line["shippingQuantity"] for line in lines) / qty, 4),
        "stockOutRate": round(shipped / qty, 4),
    })


def line_status(order_status: int, line: Record) -> int:
    if order_status == 5:
        return 5
    if line["shippedQuantity"] >= line["quantity"]:
        return 4
    return 2 if line["producedQuantity"] or line["producingQuantity"] else 1


def build_orders(rng: random.Random, data: Dataset, count: int) -> None:
    span = (LAST_DAY - FIRST_DAY).days
    days = sorted(rng.randrange(span + 1) for _ in range(count))
    statuses = _statuses(rng, count)
    per_day: dict[str, int] = {}
    line_id = 20001
    for i, (day, status) in enumerate(zip(days, statuses, strict=True)):
        customer = rng.choices(data.customers, weights=CUSTOMER_WEIGHTS)[0]
        date = FIRST_DAY + timedelta(days=day, hours=rng.randint(8, 17), minutes=rng.randrange(60))
        ymd = date.strftime("%Y%m%d")
        per_day[ymd] = per_day.get(ymd, 0) + 1
        delivery = date + timedelta(days=rng.randint(15, 60))
        ship_contact = person(rng) if rng.random() < 0.3 else customer["contact"]
        order: Record = {
            "id": str(10001 + i), "code": f"SO{ymd}{per_day[ymd]:02d}",
            "customerOrderCode": f"PO-{date.year}-{rng.randrange(1, 10000):04d}",
            "date": epoch_ms(date.replace(hour=0, minute=0)), "deliveryDate": epoch_ms(delivery.replace(hour=0, minute=0)),
            "customerId": customer["id"], "customerName": customer["name"], "status": status, "currency": "CNY",
            "receivedRate": 1.0 if status == 4 and rng.random() < 0.8 else round(rng.choice([0, 0, 0.3, 0.5]), 4),
            "invoicedRate": 1.0 if status == 4 and rng.random() < 0.7 else round(rng.choice([0, 0, 0.3]), 4),
            "remark": rng.choice(ORDER_REMARKS), "contact": customer["contact"], "mobile": customer["mobile"],
            "address": customer["address"], "shipmentContact": ship_contact,
            "shipmentMobile": customer["mobile"] if ship_contact == customer["contact"] else phone(rng),
            "shipmentAddress": customer["address"] if rng.random() < 0.8 else customer["address"] + "2号仓库",
        }
        lines: list[Record] = []
        for product in rng.sample(data.products, rng.randint(1, 8)):
            qty = rng.choice(UNIT_QUANTITIES[product["unit"]])
            price = round(product["price"] * rng.uniform(0.92, 1.08), 2)
            producing, produced, shipped = _progress(rng, status, qty)
            line: Record = {
                "id": str(line_id), "salesOrderId": order["id"], "salesOrderCode": order["code"],
                "productId": product["id"], "productCode": product["code"], "productName": product["name"],
                "spec": product["spec"], "brand": product["brand"], "image": product["image"],
                "quantity": qty, "unitId": product["unit"], "producingQuantity": producing,
                "producedQuantity": produced, "unProducedQuantity": qty - produced, "shippedQuantity": shipped,
                "shippingQuantity": 0, "returnedQuantity": 0, "deliveryDate": order["deliveryDate"],
                "stockOutDate": None, "status": 1, "produceType": rng.choice(["自制", "自制", "外购"]),
                "price": price, "amount": round(price * qty, 2), "remark": "",
            }
            line["status"] = line_status(status, line)
            lines.append(line)
            line_id += 1
        rates(order, lines)
        data.orders.append(order)
        data.order_lines.extend(lines)


def _split(rng: random.Random, quantity: int, parts: int) -> list[int]:
    if parts == 1 or quantity < parts:
        out = [0] * parts
        out[rng.randrange(parts)] = quantity
        return out
    cuts = sorted(rng.sample(range(1, quantity), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, quantity], strict=True)]


def build_deliveries(rng: random.Random, data: Dataset) -> None:
    lines_of: dict[str, list[Record]] = {}
    for line in data.order_lines:
        lines_of.setdefault(line["salesOrderId"], []).append(line)
    # One "part" = what one order put into one shipment: (order, date ms, [(line, qty)]).
    parts: list[tuple[Record, int, list[tuple[Record, int]]]] = []
    for order in data.orders:
        shipped_lines = [line for line in lines_of[order["id"]] if line["shippedQuantity"] > 0]
        if not shipped_lines:
            continue
        count = rng.choices([1, 2, 3], weights=[60, 30, 10])[0]
        buckets: list[list[tuple[Record, int]]] = [[] for _ in range(count)]
        for line in shipped_lines:
            for n, qty in enumerate(_split(rng, line["shippedQuantity"], count)):
                if qty:
                    buckets[n].append((line, qty))
        day = order["date"]
        latest = max(order["date"], epoch_ms(LAST_DAY + timedelta(days=2)))  # no shipment in the future
        for bucket in buckets:
            day = min(day + rng.randint(3, 20) * 86_400_000, latest)
            if bucket:
                parts.append((order, day, bucket))
    parts.sort(key=lambda p: (p[1], p[0]["id"]))
    # Group: now and then a shipment carries parts of 2-3 orders of the same customer.
    groups: list[list[tuple[Record, int, list[tuple[Record, int]]]]] = []
    used: set[int] = set()
    for i, part in enumerate(parts):
        if i in used:
            continue
        used.add(i)
        group = [part]
        if rng.random() < 0.12:
            want = rng.choice([1, 1, 2])
            for j in range(i + 1, len(parts)):
                other = parts[j]
                if j in used or other[0]["customerId"] != part[0]["customerId"]:
                    continue
                if any(other[0]["id"] == g[0]["id"] for g in group):
                    continue
                group.append(other)
                used.add(j)
                if len(group) > want:
                    break
        groups.append(group)
    groups.sort(key=lambda g: (max(p[1] for p in g), g[0][0]["id"]))
    per_day: dict[str, int] = {}
    pending = 3  # the latest shipments have left the warehouse but not yet been dispatched
    for n, group in enumerate(groups):
        dispatched = n < len(groups) - pending
        when = max(p[1] for p in group) + rng.randint(9, 17) * 3_600_000
        items = [item for p in group for item in p[2]]
        order_ids = list(dict.fromkeys(p[0]["id"] for p in group))
        codes = list(dict.fromkeys(p[0]["code"] for p in group))
        delivery = new_delivery(rng, data, group[0][0], order_ids, codes, items, when, dispatched, per_day)
        remark = rng.choice(DELIVERY_REMARKS).format(n=len(group))
        delivery["remark"] = delivery["remark"] or remark
        if rng.random() < 0.35:
            delivery["attachments"] = attachments_for(rng, delivery["code"], data.files)


def stable(*parts: object) -> int:
    """A number derived from a record, for choices that must not draw from the seeded sequence
    (adding them leaves every other record as it was) and are the same in every run."""
    return zlib.crc32(":".join(str(p) for p in parts).encode())


def carrier_route(delivery_id: str) -> str:
    n = stable("route", delivery_id)
    return f"{CARRIERS[n % len(CARRIERS)]}-{ROUTES[n // 7 % len(ROUTES)]}"


def attachment_path(code: str, name: str) -> str:
    """``35/<24 hex>/<32 hex>``: the evidenced shape (no extension, no year folder)."""
    digest = hashlib.sha1(f"{code}/{name}".encode()).hexdigest()
    return f"{ATTACHMENT_DIR}/{digest[:24]}/{hashlib.md5(digest.encode()).hexdigest()}"


# File names as purchasers' documents are really called: spaces, Chinese, and the characters
# that make URL encoding matter (``&``, ``#``, ``%``). Chosen by the delivery code (``stable``),
# so the seeded sequence is drawn exactly as before.
DOCUMENT_NAMES = [
    "{code}发货单.pdf", "{code} 装箱单 & 质检报告.pdf", "送货单#{n}.pdf", "出厂检验报告 100%合格.pdf",
    "{code}对账单.xlsx",
]
PHOTO_NAMES = ["签收单.png", "签收照片 1.jpg", "到货照片.jpeg"]


def attachment_entry(path: str, name: str, size: int | None, *, name_first: bool = False) -> str:
    """The canonical (held) attachment: the evidenced ``"<path>#size=<bytes>&name=<URL-encoded>"``
    (``name_first``: the two keys the other way round, as the wire may send them); an attachment
    without a name is ``"<path>#size=<bytes>"``, one whose size is not listed (``None``: a test of
    a size the BFF learns only while it downloads) has no ``size`` key."""
    keys = ([f"size={size}"] if size is not None else []) + ([f"name={quote(name, safe='')}"] if name else [])
    return f"{path}#{'&'.join(reversed(keys) if name_first else keys)}"


def attachment_parts(entry: str) -> tuple[str, str, int | None]:
    """``(path, name, size)`` of a canonical entry (name ``""`` when it has none, size None when unlisted)."""
    path, _, fragment = entry.partition("#")
    fields = dict(parse_qsl(fragment, keep_blank_values=True))
    size = fields.get("size")
    return path, fields.get("name", ""), int(size) if size else None


def attachments_for(rng: random.Random, code: str, files: dict[str, str]) -> list[str]:
    n = stable("attachment-name", code)
    names = [DOCUMENT_NAMES[n % len(DOCUMENT_NAMES)].format(code=code, n=n // 7 % 9 + 1)]
    if rng.random() < 0.5:
        names.append(PHOTO_NAMES[n // 5 % len(PHOTO_NAMES)])
    entries = []
    for name in names:
        path = attachment_path(code, name)
        files[path] = name
        entries.append(attachment_entry(path, name, len(file_payload(path, name)[0])))
    return entries


def strip_one_name(data: Dataset) -> None:
    """One attachment of the demo customer sent without a name (``"<path>#size=<bytes>"``): its
    type is known only from its bytes. The latest dispatched delivery carrying files; its first."""
    demo_id = data.customers[0]["id"]
    carrying = [d for d in data.deliveries if d["customerOrSupplierId"] == demo_id and d["attachments"] and d["是否发货"]]
    if not carrying:
        return
    delivery = max(carrying, key=lambda d: (d["发货日期"], d["id"]))
    path, _, size = attachment_parts(delivery["attachments"][0])
    delivery["attachments"][0] = attachment_entry(path, "", size)


def new_delivery(
    rng: random.Random, data: Dataset, order: Record, order_ids: list[str], codes: list[str],
    items: list[tuple[Record, int]], when: int, dispatched: bool, per_day: dict[str, int],
) -> Record:
    """Append one delivery and its lines; also used by the run-time "ship" action."""
    ymd = day_of(when).strftime("%Y%m%d")
    per_day[ymd] = per_day.get(ymd, 0) + 1
    delivery_id = str(30001 + len(data.deliveries))
    company = rng.choice(LOGISTICS)[0]
    amount = round(sum(round(line["price"] * qty, 2) for line, qty in items), 2)
    delivery: Record = {
        "id": delivery_id, "code": f"XSCK{ymd}{per_day[ymd]:02d}", "orderCodes": ",".join(codes),
        "salesOrderId": order_ids[0], "salesOrderIds": ",".join(order_ids), "salesOrderCode": codes[0],
        "date": epoch_ms(day_of(when).replace(hour=0, minute=0, second=0, microsecond=0)),
        "customerOrSupplierId": order["customerId"], "finished": True, "amount": amount, "rmbAmount": amount,
        "contact": order["shipmentContact"], "tel": "", "mobile": order["shipmentMobile"],
        "address": order["shipmentAddress"],
        "remark": carrier_route(delivery_id) if dispatched and stable("remark", delivery_id) % 2 else "",
        "logisticsCode": tracking_number(rng, company) if dispatched else "",
        "logisticsCompanyId": company if dispatched else None, "attachments": [],
        "发货日期": when, "已出库": True, "是否发货": dispatched,
    }
    data.deliveries.append(delivery)
    for line, qty in items:
        data.delivery_lines.append({
            "id": str(40001 + len(data.delivery_lines)), "parentId": delivery_id,
            "salesOrderId": line["salesOrderId"], "salesOrderCode": line["salesOrderCode"],
            "salesOrderLineId": line["id"], "productName": line["productName"], "productCode": line["productCode"],
            "spec": line["spec"], "brand": line["brand"], "quantity": qty, "price": line["price"],
            "amount": round(line["price"] * qty, 2), "batch": f"B{ymd}-{rng.randint(1, 9):02d}",
            "stockCode": rng.choice(["CK01", "CK02", "CK03"]), "finished": True, "remark": "",
        })
        if line["stockOutDate"] is None or line["stockOutDate"] < when:
            line["stockOutDate"] = when
    return delivery


def build(seed: int, orders: int) -> Dataset:
    """The seeded data set: a fresh copy on every call (a simulator changes its own). Generating
    it runs once per process and (seed, size): tests start some hundred simulators."""
    data: Dataset = pickle.loads(_generated(seed, orders))
    return data


@functools.cache
def _generated(seed: int, orders: int) -> bytes:
    return pickle.dumps(_generate(seed, orders))


def _generate(seed: int, orders: int) -> Dataset:
    rng = random.Random(seed)
    data = Dataset(products=build_products())
    data.files.update((p["image"], p["image"].rsplit("/", 1)[-1]) for p in data.products if p["image"])
    data.logistics = [{"id": cid, "name": name} for cid, name, _, _ in LOGISTICS]
    build_customers(rng, data)
    build_orders(rng, data, orders)
    ship_one_in_full(data)
    build_deliveries(rng, data)
    strip_one_name(data)
    return data


def ship_one_in_full(data: Dataset) -> None:
    """The demo customer's oldest order in progress: all made and shipped, not yet closed.

    Random progress seldom ships every line of an open order; the demo must show one.
    It draws nothing from the seeded sequence, so customers and orders stay as the seed made them.
    """
    demo_id = data.customers[0]["id"]
    order = next((o for o in data.orders if o["customerId"] == demo_id and o["status"] == 2), None)
    if order is None:
        return
    lines = [line for line in data.order_lines if line["salesOrderId"] == order["id"]]
    for line in lines:
        line.update(producingQuantity=0, producedQuantity=line["quantity"], unProducedQuantity=0,
                    shippedQuantity=line["quantity"])
        line["status"] = line_status(order["status"], line)
    rates(order, lines)


def demo_customer(data: Dataset, index: int = 0) -> DemoCustomer:
    c = data.customers[index]
    return DemoCustomer(c["id"], c["code"], c["name"], c["微信邀请码"], c["mobile"], data.accounts[c["mobile"]])


# --- attachment payloads: small, deterministic, of the right type -------------------------

def _png(seed_text: str) -> bytes:
    """A valid 16×16 single-colour PNG whose colour derives from the path."""
    digest = zlib.crc32(seed_text.encode())
    rgb = bytes([(digest >> 16) & 255, (digest >> 8) & 255, digest & 255])
    raw = b"".join(b"\x00" + rgb * 16 for _ in range(16))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _pdf(title: str) -> bytes:
    text = title.encode("ascii", "replace")
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 100]>>endobj\n"
        b"% " + text + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def _jpeg(seed_text: str) -> bytes:
    """A valid 16×16 single-colour baseline JPEG (Pillow: the BFF's avatars need it anyway)."""
    from PIL import Image

    digest = zlib.crc32(seed_text.encode())
    out = io.BytesIO()
    Image.new("RGB", (16, 16), ((digest >> 16) & 255, (digest >> 8) & 255, digest & 255)).save(out, "JPEG", quality=80)
    return out.getvalue()


XLSX_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
}


def _xlsx(title: str) -> bytes:
    """A minimal valid workbook (one sheet, one cell holding ``title``); fixed timestamps."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{title}</t></is></c></row></sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in [*XLSX_PARTS.items(), ("xl/worksheets/sheet1.xml", sheet)]:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 6, 0, 0, 0)), text)
    return out.getvalue()


def file_payload(path: str, name: str) -> tuple[bytes, str]:
    """The file's bytes and real type, known from its stored name (paths have no extension)."""
    lower = name.lower()
    if lower.endswith(".png"):
        return _png(path), "image/png"
    if lower.endswith((".jpg", ".jpeg")):
        return _jpeg(path), "image/jpeg"
    if lower.endswith(".pdf"):
        return _pdf(path), "application/pdf"
    if lower.endswith(".xlsx"):
        return _xlsx(path), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return path.encode(), "text/plain; charset=utf-8"


# --- large files (POST /__sim/files/large): made as they are sent, never held whole ---------------

LARGE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class LargeFile:
    size: int
    with_length: bool  # Content-Length sent (else chunked)
    pace_s: float = 0.0  # pause before each chunk: a slow ERP, so a test can act mid-transfer


def large_file_chunks(path: str, size: int) -> Iterator[bytes]:
    """The bytes of a large file: a PDF header, then one 64 KiB block of the path's digest over
    and over; the same for the same path and size, so a test can check what it got."""
    block = (hashlib.sha256(path.encode()).digest() * (LARGE_CHUNK // 32))
    first = (b"%PDF-1.7\n%" + block)[:LARGE_CHUNK]
    sent = 0
    while sent < size:
        chunk = (first if sent == 0 else block)[: size - sent]
        sent += len(chunk)
        yield chunk


GENERIC_TYPE = "application/octet-stream"


def served_type(path: str, real_type: str) -> str:
    """The Content-Type the file download declares. The attachment store keeps files without an
    extension, so (a guess, like a plain file server) about one attachment in two is sent as
    ``application/octet-stream``, chosen by path; product images keep their type."""
    if path.startswith(f"{ATTACHMENT_DIR}/") and stable("served-type", path) % 2 == 0:
        return GENERIC_TYPE
    return real_type


# --- older history of one customer (POST /__sim/history: benchmarks of long histories) --------

def older_history(
    rng: random.Random, data: Dataset, customer: Record, deliveries: int, before_ms: int,
    order_days: dict[str, int], ship_days: dict[str, int],
) -> Dataset:
    """``deliveries`` dispatched deliveries of ``customer``, all dated before ``before_ms``, with
    the completed orders they shipped in full (one to three deliveries an order, 1-8 lines), their
    lines and delivery lines, in a new ``Dataset`` (nothing of ``data`` changes but its files).

    Going back in time from ``before_ms``, about two orders a day. Older records have smaller ids,
    as in an ERP that numbers records as they are made: each form's ids count down from below the
    smallest held (ValueError when they would reach 0). Codes take the next free number of their
    day (``order_days``, ``ship_days``: codes per day so far, updated)."""
    new = Dataset(products=data.products)
    next_order, next_line = 1, 1  # provisional; see _number_below
    day = datetime.fromtimestamp(before_ms / 1000, CST).replace(hour=0, minute=0, second=0, microsecond=0)
    left = deliveries
    while left > 0:
        count = min(left, rng.choices([1, 2, 3], weights=[60, 30, 10])[0])
        left -= count
        day -= timedelta(days=rng.randint(0, 1))
        # the order is placed, then shipped in ``count`` parts within the month before ``day``
        first_ship = day - timedelta(days=rng.randint(1, 10) + 3 * count)
        placed = first_ship - timedelta(days=rng.randint(3, 20))
        ymd = placed.strftime("%Y%m%d")
        order_days[ymd] = order_days.get(ymd, 0) + 1
        order: Record = {
            "id": str(next_order), "code": f"SO{ymd}{order_days[ymd]:02d}",
            "customerOrderCode": f"PO-{placed.year}-{rng.randrange(1, 10000):04d}",
            "date": epoch_ms(placed), "deliveryDate": epoch_ms(placed + timedelta(days=rng.randint(15, 60))),
            "customerId": customer["id"], "customerName": customer["name"], "status": 4, "currency": "CNY",
            "receivedRate": 1.0, "invoicedRate": 1.0, "remark": rng.choice(ORDER_REMARKS),
            "contact": customer["contact"], "mobile": customer["mobile"], "address": customer["address"],
            "shipmentContact": customer["contact"], "shipmentMobile": customer["mobile"],
            "shipmentAddress": customer["address"],
        }
        next_order += 1
        lines: list[Record] = []
        for product in rng.sample(data.products, rng.randint(1, 8)):
            qty = rng.choice(UNIT_QUANTITIES[product["unit"]])
            price = round(product["price"] * rng.uniform(0.92, 1.08), 2)
            line: Record = {
                "id": str(next_line), "salesOrderId": order["id"], "salesOrderCode": order["code"],
                "productId": product["id"], "productCode": product["code"], "productName": product["name"],
                "spec": product["spec"], "brand": product["brand"], "image": product["image"],
                "quantity": qty, "unitId": product["unit"], "producingQuantity": 0, "producedQuantity": qty,
                "unProducedQuantity": 0, "shippedQuantity": qty, "shippingQuantity": 0, "returnedQuantity": 0,
                "deliveryDate": order["deliveryDate"], "stockOutDate": None, "status": 4,
                "produceType": rng.choice(["自制", "自制", "外购"]), "price": price, "amount": round(price * qty, 2),
                "remark": "",
            }
            lines.append(line)
            next_line += 1
        rates(order, lines)
        new.orders.append(order)
        new.order_lines.extend(lines)
        buckets: list[list[tuple[Record, int]]] = [[] for _ in range(count)]
        for line in lines:  # quantities are at least 10, so each of the (at most 3) parts gets some
            for n, qty in enumerate(_split(rng, line["quantity"], count)):
                buckets[n].append((line, qty))
        for n, bucket in enumerate(buckets):
            when = epoch_ms(first_ship + timedelta(days=3 * n, hours=rng.randint(9, 17)))
            delivery = new_delivery(rng, new, order, [order["id"]], [order["code"]], bucket, when, True, ship_days)
            delivery["remark"] = delivery["remark"] or rng.choice(DELIVERY_REMARKS).format(n=n + 1)
            if rng.random() < 0.35:
                delivery["attachments"] = attachments_for(rng, delivery["code"], data.files)
    _number_below(data, new)
    return new


def _number_below(data: Dataset, new: Dataset) -> None:
    """Give ``new``'s records ids below every id ``data`` holds, per form, counting down in the
    order they were made (newest first), and point every link at the new ids."""
    ids: dict[str, dict[str, str]] = {}
    for form, held, made in (("order", data.orders, new.orders), ("line", data.order_lines, new.order_lines),
                             ("delivery", data.deliveries, new.deliveries),
                             ("delivery_line", data.delivery_lines, new.delivery_lines)):
        below = min((int(r["id"]) for r in held), default=len(made) + 1)
        if below - len(made) < 1:
            raise ValueError(f"no ids left below {below} for {len(made)} more {form} records")
        ids[form] = {r["id"]: str(below - 1 - n) for n, r in enumerate(made)}
    for order in new.orders:
        order["id"] = ids["order"][order["id"]]
    for line in new.order_lines:
        line["id"], line["salesOrderId"] = ids["line"][line["id"]], ids["order"][line["salesOrderId"]]
    for delivery in new.deliveries:
        delivery["id"] = ids["delivery"][delivery["id"]]
        delivery["salesOrderId"] = ids["order"][delivery["salesOrderId"]]
        delivery["salesOrderIds"] = ",".join(ids["order"][i] for i in delivery["salesOrderIds"].split(","))
    for line in new.delivery_lines:
        line.update(id=ids["delivery_line"][line["id"]], parentId=ids["delivery"][line["parentId"]],
                    salesOrderId=ids["order"][line["salesOrderId"]], salesOrderLineId=ids["line"][line["salesOrderLineId"]])
