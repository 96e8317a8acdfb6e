"""The Odoo connector: wire protocols, error mapping, version differences and typed operations.

Public surface: `OdooConnector` (the operations), `OdooClient`/`OdooConnection` (raw
`execute_kw`), `OdooVersion`, the `OdooError` hierarchy and `OdooWebhookReceiver`.
"""

from channelhub.connectors.odoo.changes import ChangeBatch, ChangeCursor
from channelhub.connectors.odoo.client import OdooClient, OdooConnection, OdooResilience
from channelhub.connectors.odoo.connector import OdooConnector
from channelhub.connectors.odoo.errors import (
    OdooAccessDenied,
    OdooAccessError,
    OdooBusy,
    OdooError,
    OdooMissingError,
    OdooNotFound,
    OdooProtocolError,
    OdooSerializationFailure,
    OdooServerError,
    OdooTimeout,
    OdooUnavailable,
    OdooUserError,
    OdooValidationError,
)
from channelhub.connectors.odoo.orders import OrderLine, SaleOrderRequest, SaleOrderState
from channelhub.connectors.odoo.stock import HoldPolicy, StockReport
from channelhub.connectors.odoo.versions import OdooVersion
from channelhub.connectors.odoo.webhooks import OdooNotification, OdooWebhookReceiver

__all__ = [
    "ChangeBatch",
    "ChangeCursor",
    "HoldPolicy",
    "OdooAccessDenied",
    "OdooAccessError",
    "OdooBusy",
    "OdooClient",
    "OdooConnection",
    "OdooConnector",
    "OdooError",
    "OdooMissingError",
    "OdooNotFound",
    "OdooNotification",
    "OdooProtocolError",
    "OdooResilience",
    "OdooSerializationFailure",
    "OdooServerError",
    "OdooTimeout",
    "OdooUnavailable",
    "OdooUserError",
    "OdooValidationError",
    "OdooVersion",
    "OdooWebhookReceiver",
    "OrderLine",
    "SaleOrderRequest",
    "SaleOrderState",
    "StockReport",
]
