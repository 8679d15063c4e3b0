"""The Snowbeasts ERP client: sessions, retries, merging, validated records."""

from bff.erp import queries
from bff.erp.calls import ErpCall, ErpCallStats, Outcome, current_erp_stats, erp_call_scope
from bff.erp.client import ErpClient, ErpClientConfig
from bff.erp.models import (
    CustomerRecord,
    DeliveryLineRecord,
    DeliveryRecord,
    ErpPage,
    ErpRecord,
    LogisticsCompanyRecord,
    OrderLineRecord,
    SalesOrderRecord,
)
from bff.erp.queries import (
    CUSTOMERS,
    DELIVERIES,
    DELIVERY_LINES,
    LOGISTICS,
    ORDER_LINES,
    ORDER_STATUS_NAMES,
    SALES_ORDERS,
    Datasource,
    OrderStatusCode,
)

__all__ = [
    "CUSTOMERS", "DELIVERIES", "DELIVERY_LINES", "LOGISTICS", "ORDER_LINES", "ORDER_STATUS_NAMES", "SALES_ORDERS",
    "CustomerRecord", "Datasource", "DeliveryLineRecord", "DeliveryRecord", "ErpCall", "ErpCallStats", "ErpClient",
    "ErpClientConfig", "ErpPage", "ErpRecord", "LogisticsCompanyRecord", "OrderLineRecord", "OrderStatusCode",
    "Outcome", "SalesOrderRecord", "current_erp_stats", "erp_call_scope", "queries",
]
