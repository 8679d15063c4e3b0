"""/api/orders/* and /api/materials/*: each runs one GraphQL operation."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from bff.core.errors import BffError, ErrorCode
from bff.web.rest.shim import Shim

PROGRESS = "ordered producing produced unproduced shipping shipped awaitingDispatch returned producedRatio shippedRatio stage"
SHIPMENT = (
    "id code orderCodes shipDate logisticsCompany trackingNumber remark state shipped leftWarehouse address contact "
    "mobile amount attachments { name url }"
)
MATERIAL = f"id orderId orderCode productCode name spec brand image quantity unit price amount deliveryDate progress {{ {PROGRESS} }}"
ORDER = (
    "id code customerName customerOrderCode date deliveryDate status statusCode statusName amount rmbAmount "
    "currency quantity remark deliveryStatus deliveryText shippedRate producedRate awaitingDispatchRate progressExact "
    f"overdue materialSummary trackingState progress {{ {PROGRESS} }}"
)
TRACKING = "tracking { state updatedAt carrier events { time text location } }"

SEARCH_PAGE_FIELDS = ["total", "page", "pageSize", "queryTime", "cacheHit", "stale", "asOf"]
SEARCH = f"""
query RestOrderSearch($keyword: String, $status: OrderStatus, $shipping: ShippingFilter, $page: Int!, $pageSize: Int!) {{
  orders(keyword: $keyword, status: $status, shipping: $shipping, page: $page, pageSize: $pageSize) {{
    {" ".join(SEARCH_PAGE_FIELDS)}
    items {{ {ORDER} shipments {{ {SHIPMENT} }} }}
  }}
}}"""

STATUS = f"""
query RestOrderStatus($id: ID, $code: String) {{
  order(id: $id, code: $code) {{ {ORDER} timeline {{ kind title at done current durationS detail }} shipments {{ {SHIPMENT} {TRACKING} }} }}
}}"""

MATERIALS = f"""
query RestOrderMaterials($id: ID, $code: String) {{
  order(id: $id, code: $code) {{ id code materials {{ {MATERIAL} }} }}
}}"""

MATERIAL_PROGRESS = f"""
query RestMaterialProgress($id: ID!) {{
  material(id: $id) {{ {MATERIAL} shipments {{ {SHIPMENT} lines {{ id productCode name spec quantity batch materialId }} }} }}
}}"""

STATUSES = ["NOT_STARTED", "IN_PROGRESS", "COMPLETED", "CANCELLED"]
SHIPPING = ["NOT_SHIPPED", "OVERDUE"]  # the 未发货 / 已逾期 filters (GraphQL ShippingFilter)


def _int(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # "²" is a digit to str.isdigit
        raise BffError(ErrorCode.BAD_USER_INPUT, f"参数 {name} 必须是正整数", field=name)
    return int(raw)


async def _search_variables(request: Request) -> dict[str, Any]:
    status = request.query_params.get("status") or None
    if status is not None and status.upper() not in STATUSES:
        raise BffError(ErrorCode.BAD_USER_INPUT, "订单状态筛选无效", field="status")
    shipping = request.query_params.get("shipping") or None
    if shipping is not None and shipping.upper() not in SHIPPING:
        raise BffError(ErrorCode.BAD_USER_INPUT, "发货筛选无效（可选 NOT_SHIPPED 未发货、OVERDUE 已逾期）", field="shipping")
    return {
        "keyword": request.query_params.get("keyword") or None,
        "status": status.upper() if status else None,
        "shipping": shipping.upper() if shipping else None,
        "page": _int(request, "page", 1),
        "pageSize": _int(request, "pageSize", 20),
    }


async def _path_id(request: Request) -> dict[str, Any]:
    return {"id": request.path_params["id"]}


async def _order_ref(request: Request) -> dict[str, Any]:
    """An order's ERP id (digits) or its order number (SO2026112001), as GraphQL accepts both."""
    ref = request.path_params["id"]
    return {"id": ref, "code": None} if ref.isdigit() else {"id": None, "code": ref}


def shims() -> list[Shim]:
    search_params: dict[str, dict[str, Any]] = {
        "openid": {"schema": {"type": "string"}, "description": "Ignored: the bearer token decides whose orders"},
        "keyword": {"schema": {"type": "string", "maxLength": 50}, "description": "order number or material name"},
        "status": {"schema": {"type": "string", "enum": STATUSES}},
        "shipping": {"schema": {"type": "string", "enum": SHIPPING}, "description":
                     "NOT_SHIPPED (未发货: nothing dispatched yet) or OVERDUE (已逾期), over open orders; "
                     "combines with keyword and status"},
        "page": {"schema": {"type": "integer", "minimum": 1, "default": 1}},
        "pageSize": {"schema": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20}},
    }
    return [
        Shim("GET", "/api/orders/search", "实时订单查询: the company's orders, live from the ERP", SEARCH,
             _search_variables,
             {"orders": "orders.items", **{k: f"orders.{k}" for k in SEARCH_PAGE_FIELDS}}, tag="orders", query_params=search_params),
        Shim("GET", "/api/orders/{id}/status", "订单实时状态: status, progress, timeline, shipments (id or order number)", STATUS,
             _order_ref, {"order": "order"}, tag="orders"),
        Shim("GET", "/api/orders/{id}/materials", "订单物料清单: the order's materials with progress (id or order number)", MATERIALS,
             _order_ref, {"orderId": "order.id", "code": "order.code", "materials": "order.materials"},
             tag="orders"),
        Shim("GET", "/api/materials/{id}/progress", "物料生产进度: one material's production and shipping", MATERIAL_PROGRESS,
             _path_id, {"material": "material"}, tag="orders"),
    ]
