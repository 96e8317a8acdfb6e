"""channelhub.service: the use cases (DESIGN §1-§3, §5) and the ports they need.

- Ports (`ports`): `ChannelGateway`, `ErpGateway` and the values they exchange
  (`QuantityUpdate`, `PublishResult`, `ChannelLimits`, `ChannelOrderSnapshot`, `ChannelDelivery`,
  `ErpStockRead`, `ErpOrderRef`, ...). Implementations: `service.adapters` (Odoo, Shopify,
  WooCommerce over the connectors) and `service.fakes` (in memory, for tests).
- Available to sell: `AvailabilityPolicy` (rules from the landscape), `AvailabilityService`
  (`recompute`: desired quantities for every channel of some SKUs), `explain`.
- Stock capture from Odoo: `StockCapture` (snapshot, `(write_date, id)` poll, webhook hint).
- Orders into Odoo: `OrderIngestion` (`receive`: soft reservation + recompute; `sync_to_erp`:
  idempotent sale order, confirm/hold/cancel, business exceptions).
- Operator actions: `AvailabilityOperations` (warehouse hold/release/offline/online, suppression).
- Canonical order events (`order.placed.v1`, `order.paid.v1`, `order.cancelled.v1`):
  `canonical_orders.CanonicalOrders`, registered by `ServiceHandlers` too.
- The durable log: `ServiceHandlers` (`register(registry)`) and the event builders in `handlers`.
"""

from channelhub.service.availability import AvailabilityPolicy, AvailabilityService, RecomputeResult
from channelhub.service.explain import explain
from channelhub.service.handlers import (
    ServiceHandlers,
    backfill_orders,
    erp_notification_event,
    events_for_delivery,
    order_event,
    recompute_event,
    reservation_check_event,
    retry_event,
    skus_sold_in,
    stock_poll_event,
    stock_refresh_events,
    warehouse_event,
)
from channelhub.service.operations import (
    AvailabilityOperations,
    UnknownChannelName,
    UnknownWarehouse,
    WarehouseAction,
    WarehouseChange,
)
from channelhub.service.orders import OrderIngestion, Received, Synced, SyncResult
from channelhub.service.ports import (
    ChannelDelivery,
    ChannelGateway,
    ChannelLimits,
    ChannelOrderLine,
    ChannelOrderSnapshot,
    DeliveryKind,
    ErpGateway,
    ErpNotification,
    ErpOrderRef,
    ErpStockChanges,
    ErpStockRead,
    ErpStockRow,
    PaymentState,
    PublishResult,
    PublishStatus,
    QuantityUpdate,
)
from channelhub.service.stock_capture import CaptureResult, StockCapture

__all__ = [
    "AvailabilityOperations",
    "AvailabilityPolicy",
    "AvailabilityService",
    "CaptureResult",
    "ChannelDelivery",
    "ChannelGateway",
    "ChannelLimits",
    "ChannelOrderLine",
    "ChannelOrderSnapshot",
    "DeliveryKind",
    "ErpGateway",
    "ErpNotification",
    "ErpOrderRef",
    "ErpStockChanges",
    "ErpStockRead",
    "ErpStockRow",
    "OrderIngestion",
    "PaymentState",
    "PublishResult",
    "PublishStatus",
    "QuantityUpdate",
    "Received",
    "RecomputeResult",
    "ServiceHandlers",
    "StockCapture",
    "SyncResult",
    "Synced",
    "UnknownChannelName",
    "UnknownWarehouse",
    "WarehouseAction",
    "WarehouseChange",
    "backfill_orders",
    "erp_notification_event",
    "events_for_delivery",
    "explain",
    "order_event",
    "recompute_event",
    "reservation_check_event",
    "retry_event",
    "skus_sold_in",
    "stock_poll_event",
    "stock_refresh_events",
    "warehouse_event",
]
