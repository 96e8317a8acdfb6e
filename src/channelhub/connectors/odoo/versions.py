"""Every difference between Odoo 16.0, 17.0, 18.0 and 19.0 that the connector cares about.

Operations never test a version number themselves: they ask an `OdooVersion` which field, context
key, state or wizard method applies. Adding a version means editing this module only.

Sources (see /work/shared/reference/odoo-api.md): storable products became `is_storable` in 18.0
(`type` 'product' removed); stock quantities read the `warehouse_id` context key from 18.0
(`warehouse` before); 17.0 removed `stock.immediate.transfer`, renamed `stock.move.quantity_done` to
`quantity` and added `picked`; 17.0 removed sale order state 'done' (boolean `locked` instead);
17.0 replaced `account.move.reversal.refund_method` by the `refund_moves` button; 18.0 renamed the
return wizard's `create_returns` to `action_create_returns`; the JSON-RPC error code went from 200 to
0 in saas-18.1; JSON-2 (`/json/2/<model>/<method>`) exists from saas-18.4 / 19.0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from channelhub.connectors.odoo.errors import OdooProtocolError

SUPPORTED_SERIES = ("16.0", "17.0", "18.0", "19.0")

_SERIE = re.compile(r"^(?:saas~)?(?P<major>\d+)\.(?P<minor>\d+)")


@dataclass(frozen=True, order=True)
class OdooVersion:
    """An Odoo server version (`major.minor`; saas releases have minor > 0)."""

    major: int
    minor: int = 0

    # -- parsing --------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> OdooVersion:
        """From a serie string: '17.0', 'saas~17.4', '18.0+e', '19.0-20251006'."""
        match = _SERIE.match(str(text).strip())
        if match is None:
            raise OdooProtocolError(f"not an Odoo version: {text!r}")
        return cls(int(match.group("major")), int(match.group("minor")))

    @classmethod
    def from_version_info(cls, info: Sequence[Any]) -> OdooVersion:
        if len(info) < 2 or not isinstance(info[0], int) or isinstance(info[0], bool):
            raise OdooProtocolError(f"not an Odoo version_info: {info!r}")
        minor = info[1] if isinstance(info[1], int) and not isinstance(info[1], bool) else 0
        return cls(info[0], minor)

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> OdooVersion:
        """From `common.version()` (`server_version_info`) or `GET /web/version` (`version_info`)."""
        for key in ("server_version_info", "version_info"):
            info = payload.get(key)
            if isinstance(info, list | tuple) and info:
                return cls.from_version_info(info)
        for key in ("server_serie", "server_version", "version"):
            if isinstance(payload.get(key), str):
                return cls.parse(payload[key])
        raise OdooProtocolError(f"no version in {dict(payload)!r}")

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}" if self.minor == 0 else f"saas~{self.major}.{self.minor}"

    def at_least(self, major: int, minor: int = 0) -> bool:
        return (self.major, self.minor) >= (major, minor)

    # -- protocol -------------------------------------------------------------------------------
    @property
    def jsonrpc_error_code(self) -> int:
        """`error.code` in JSON-RPC error answers: 200 ("totally arbitrary") until 18.0, then 0."""
        return 0 if self.at_least(18, 1) else 200

    @property
    def has_json2(self) -> bool:
        return self.at_least(18, 4)

    @property
    def supports_any_operator(self) -> bool:
        """The `any` / `not any` domain operators exist from 17.0."""
        return self.at_least(17)

    @property
    def sends_webhooks(self) -> bool:
        """Automation rules can 'Send Webhook Notification' from 17.0."""
        return self.at_least(17)

    # -- products -------------------------------------------------------------------------------
    @property
    def storable_product_domain(self) -> list[Any]:
        """Products whose stock is tracked (what a channel can sell from stock)."""
        if self.at_least(18):
            return [("is_storable", "=", True)]
        return [("type", "=", "product")]

    @property
    def storable_fields(self) -> list[str]:
        return ["type", "is_storable"] if self.at_least(18) else ["type"]

    def storable_product_values(self) -> dict[str, Any]:
        """Values that make a new product storable."""
        if self.at_least(18):
            return {"type": "consu", "is_storable": True}
        return {"type": "product"}

    def is_storable(self, product: Mapping[str, Any]) -> bool:
        if self.at_least(18):
            return bool(product.get("is_storable"))
        return product.get("type") == "product"

    # -- stock ----------------------------------------------------------------------------------
    def warehouse_context(self, warehouse_id: int) -> dict[str, Any]:
        """Context restricting computed quantities (`qty_available`, `free_qty`) to a warehouse.

        18.0+ ignore `warehouse` silently, so sending the wrong key returns company-wide numbers.
        """
        return {"warehouse_id": warehouse_id} if self.at_least(18) else {"warehouse": warehouse_id}

    @property
    def move_quantity_field(self) -> str:
        """`stock.move` field holding the processed quantity."""
        return "quantity" if self.at_least(17) else "quantity_done"

    @property
    def uses_picked_flag(self) -> bool:
        """17.0+ validate only moves flagged `picked` (or all when none is)."""
        return self.at_least(17)

    @property
    def has_immediate_transfer_wizard(self) -> bool:
        return not self.at_least(17)

    def processed_move_values(self, quantity: float) -> dict[str, Any]:
        """Values that record `quantity` as processed on a move before validation."""
        values: dict[str, Any] = {self.move_quantity_field: quantity}
        if self.uses_picked_flag:
            values["picked"] = quantity > 0
        return values

    def validate_picking_context(self, picking_ids: Sequence[int], *, backorder: bool) -> dict[str, Any]:
        """Context for `button_validate` that avoids the interactive wizards.

        `skip_backorder` stops the backorder confirmation wizard; `picking_ids_not_to_backorder`
        then decides (Odoo's own wizard buttons set exactly these). `skip_immediate` (16) stops the
        immediate-transfer wizard; `skip_sms` the SMS confirmation.
        """
        context: dict[str, Any] = {"skip_backorder": True, "skip_sms": True}
        if not backorder:
            context["picking_ids_not_to_backorder"] = list(picking_ids)
        if self.has_immediate_transfer_wizard:
            context["skip_immediate"] = True
        return context

    # -- sales ----------------------------------------------------------------------------------
    @property
    def sale_order_states(self) -> tuple[str, ...]:
        if self.at_least(17):
            return ("draft", "sent", "sale", "cancel")
        return ("draft", "sent", "sale", "done", "cancel")

    @property
    def sale_order_fields(self) -> list[str]:
        base = ["name", "state", "client_order_ref", "origin", "partner_id", "picking_ids", "amount_total"]
        return [*base, "locked"] if self.at_least(17) else base

    def is_sale_order_locked(self, order: Mapping[str, Any]) -> bool:
        if self.at_least(17):
            return bool(order.get("locked"))
        return order.get("state") == "done"

    def is_sale_order_confirmed(self, order: Mapping[str, Any]) -> bool:
        return order.get("state") in ("sale", "done")

    @property
    def cancel_context(self) -> dict[str, Any]:
        """`action_cancel` otherwise answers with the `sale.order.cancel` wizard for sent orders."""
        return {"disable_cancel_warning": True}

    # -- returns and credit notes ---------------------------------------------------------------
    @property
    def return_wizard_method(self) -> str:
        return "action_create_returns" if self.at_least(18) else "create_returns"

    @property
    def return_line_has_to_refund(self) -> bool:
        return not self.at_least(18)

    def credit_note_wizard(self) -> tuple[dict[str, Any], str]:
        """(extra wizard values, button method) on `account.move.reversal` for a draft credit note."""
        if self.at_least(17):
            return {}, "refund_moves"
        return {"refund_method": "refund"}, "reverse_moves"

    @property
    def reversal_result_field(self) -> str:
        return "reversal_move_ids" if self.at_least(18) else "reversal_move_id"


def require_supported(version: OdooVersion) -> OdooVersion:
    """Refuse versions the differences above were not researched for."""
    if not OdooVersion(16) <= version < OdooVersion(20):
        raise OdooProtocolError(f"Odoo {version} is not supported (supported: {', '.join(SUPPORTED_SERIES)})")
    return version
