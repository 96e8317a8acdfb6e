"""`ErpGateway` over `OdooConnector`.

Stock rows come from the connector's quant read (per SKU × internal location, hold locations
flagged by its `HoldPolicy`); Odoo warehouse codes are mapped to the landscape's codes
(`warehouse_codes`, else the Odoo code lower-cased). Change polling reads `stock.quant` on its
`(write_date, id)` cursor, resolves the touched products to SKUs and re-reads those SKUs whole,
so a location emptied in Odoo is seen as empty (a quant row alone cannot say that).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from channelhub.connectors.odoo import (
    ChangeCursor,
    OdooConnector,
    OdooWebhookReceiver,
    OrderLine,
    SaleOrderRequest,
    SaleOrderState,
)
from channelhub.connectors.odoo import orders as odoo_orders
from channelhub.connectors.odoo.stock import StockReport
from channelhub.connectors.odoo.values import many2one_id, parse_datetime, text
from channelhub.service.ports import (
    ChannelOrderSnapshot,
    ErpNotification,
    ErpOrderRef,
    ErpStockChanges,
    ErpStockRead,
    ErpStockRow,
)

# Picking states in which Odoo holds (part of) the order's stock itself.
RESERVED_PICKING_STATES = frozenset({"assigned", "done"})
# Models whose webhook notifications say "a product's stock may have changed".
STOCK_MODELS = frozenset({"stock.quant", "stock.move", "stock.move.line", "product.product"})


def _ref(state: SaleOrderState) -> ErpOrderRef:
    return ErpOrderRef(
        id=state.id,
        name=state.name,
        state=state.state,
        client_order_ref=state.client_order_ref,
        created=state.created,
        locked=state.locked,
    )


class OdooErpGateway:
    def __init__(
        self,
        connector: OdooConnector,
        *,
        partner_id: int,
        partner_ids: Mapping[str, int] | None = None,
        warehouse_codes: Mapping[str, str] | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        """`partner_id`: the customer of channel orders (per channel in `partner_ids`);
        `warehouse_codes`: Odoo warehouse code → landscape code; `webhook_secret`: the shared
        token Odoo's automation rules carry (≥ 16 characters)."""
        self.connector = connector
        self.partner_id = partner_id
        self.partner_ids = dict(partner_ids or {})
        self.warehouse_codes = dict(warehouse_codes or {})
        self._receiver = OdooWebhookReceiver(webhook_secret) if webhook_secret else None
        self._sku_by_product: dict[int, str] = {}

    # -- stock ---------------------------------------------------------------------------------

    def _warehouse(self, odoo_code: str) -> str:
        return self.warehouse_codes.get(odoo_code, odoo_code.lower())

    def _read(self, report: StockReport, skus: Sequence[str] | None) -> ErpStockRead:
        hold_locations = {location.code for location in report.locations if location.is_quality_hold}
        warehouse_of = {location.code: location.warehouse for location in report.locations}
        rows = []
        for quant in report.quants:
            warehouse = warehouse_of.get(quant.location)
            if warehouse is None:
                continue
            rows.append(
                ErpStockRow(
                    sku=quant.sku.value,
                    warehouse=self._warehouse(warehouse),
                    location=quant.location,
                    on_hand=quant.quantity,
                    reserved=quant.reserved,
                    hold=max(0, quant.quantity - quant.reserved) if quant.location in hold_locations else 0,
                )
            )
        listed = tuple(dict.fromkeys(skus)) if skus is not None else tuple(sorted({r.sku for r in rows}))
        return ErpStockRead(
            skus=listed,
            rows=tuple(rows),
            warehouses=tuple(self._warehouse(w.code) for w in report.warehouses),
            unknown_skus=report.unknown_skus,
        )

    async def read_stock(self, skus: Sequence[str] | None = None) -> ErpStockRead:
        """Rows are stamped with the time the read started: reads racing each other (a poll and
        a webhook re-read on two workers) then apply newest-wins in the stock repository."""
        wanted = None if skus is None else list(skus)
        if wanted == []:
            return ErpStockRead(skus=(), rows=())
        started = self.connector.client.clock.now()
        read = self._read(await self.connector.read_stock_positions(wanted), wanted)
        return replace(read, rows=tuple(replace(row, write_date=started) for row in read.rows))

    async def read_stock_pages(self, page_size: int = 5000) -> AsyncIterator[ErpStockRead]:
        """Every SKU's stock, `page_size` products per page (see `ErpGateway.read_stock_pages`).
        Each page lists the SKUs it has rows for, as `read_stock(None)` does, and its rows are
        stamped with the time that page's read started (newest-wins, as in `read_stock`)."""
        pages = aiter(self.connector.read_stock_position_pages(page_size))
        while True:
            started = self.connector.client.clock.now()
            try:
                report = await anext(pages)
            except StopAsyncIteration:
                return
            read = self._read(report, None)
            yield replace(read, rows=tuple(replace(row, write_date=started) for row in read.rows))

    async def _skus_of_products(self, product_ids: set[int]) -> list[str]:
        missing = sorted(pid for pid in product_ids if pid not in self._sku_by_product)
        if missing:
            rows = await self.connector.client.execute_kw(
                "product.product", "read", [missing, ["default_code"]], {"context": {"active_test": False}}
            )
            for row in rows:
                code = text(row.get("default_code"))
                if code:
                    self._sku_by_product[int(row["id"])] = code
        return sorted({self._sku_by_product[pid] for pid in product_ids if pid in self._sku_by_product})

    async def stock_changes_since(self, cursor: str | None, *, limit: int = 1000) -> ErpStockChanges:
        start = ChangeCursor.decode(cursor) if cursor else ChangeCursor()
        batch = await self.connector.read_changes("quants", start, limit=limit)
        products = {pid for row in batch.records if (pid := many2one_id(row.get("product_id"))) is not None}
        skus = await self._skus_of_products(products)
        return ErpStockChanges(await self.read_stock(skus), batch.cursor.encode(), has_more=batch.has_more)

    # -- webhooks ------------------------------------------------------------------------------

    def verify_webhook(
        self, headers: Mapping[str, str], raw_body: bytes, url_token: str | None = None
    ) -> ErpNotification:
        from channelhub.connectors.errors import WebhookVerificationError

        if self._receiver is None:
            raise WebhookVerificationError("no Odoo webhook secret configured: refusing", system="odoo")
        notification = self._receiver.receive(headers, raw_body, url_token)
        stamp = notification.values.get("write_date")
        version = str(stamp) if stamp else hashlib.sha256(raw_body).hexdigest()[:32]
        return ErpNotification(
            dedupe_key=f"odoo:{notification.model}:{notification.record_id}:{version}",
            model=notification.model,
            record_id=notification.record_id,
            values=notification.values,
            occurred_at=parse_datetime(stamp) if stamp else None,
        )

    async def skus_of_notification(self, notification: ErpNotification) -> tuple[str, ...]:
        if notification.model not in STOCK_MODELS:
            return ()
        if notification.model == "product.product":
            code = text(notification.values.get("default_code"))
            if code:
                return (code,)
            return tuple(await self._skus_of_products({notification.record_id}))
        product = notification.values.get("product_id")
        product_id = many2one_id(product) if product not in (None, False) else None
        if product_id is None and notification.model == "stock.quant":
            rows: list[dict[str, Any]] = await self.connector.client.execute_kw(
                "stock.quant", "read", [[notification.record_id], ["product_id"]]
            )
            product_id = many2one_id(rows[0].get("product_id")) if rows else None
        return tuple(await self._skus_of_products({product_id})) if product_id is not None else ()

    # -- orders --------------------------------------------------------------------------------

    async def find_sale_order(self, client_order_ref: str) -> ErpOrderRef | None:
        found = await odoo_orders.find_sale_order(self.connector.client, client_order_ref)
        return None if found is None else _ref(found)

    async def ensure_sale_order(self, order: ChannelOrderSnapshot, *, note: str = "") -> ErpOrderRef:
        request = SaleOrderRequest(
            client_order_ref=order.order_key,
            partner_id=self.partner_ids.get(order.channel, self.partner_id),
            lines=[
                OrderLine(line.sku or "", line.quantity, line.unit_price)
                for line in order.lines
                if line.quantity > 0
            ],
            origin=f"{order.order_key} {order.name}".strip(),
            note=note,
        )
        # No read after a create: the next step (confirm) reads the order anyway.
        return _ref(await self.connector.ensure_sale_order(request, read_back=False))

    async def cancel_sale_order(self, ref: ErpOrderRef) -> ErpOrderRef:
        return _ref(await self.connector.cancel_sale_order(ref.id))

    async def reservation_seen(self, ref: ErpOrderRef) -> bool:
        if not ref.confirmed:
            return False
        pickings = await self.connector.order_pickings(ref.id)
        return any(str(p.get("state")) in RESERVED_PICKING_STATES for p in pickings)

    async def reserved_orders(self, client_order_refs: Sequence[str]) -> set[str]:
        if not client_order_refs:
            return set()
        # One call: the confirmed orders with a picking Odoo has reserved (or delivered); the
        # dotted path is an "any of the pickings" test in Odoo's domain language.
        orders: list[dict[str, Any]] = await self.connector.client.execute_kw(
            "sale.order",
            "search_read",
            [
                [
                    ("client_order_ref", "in", list(client_order_refs)),
                    ("state", "in", ["sale", "done"]),
                    ("picking_ids.state", "in", sorted(RESERVED_PICKING_STATES)),
                ]
            ],
            {"fields": ["client_order_ref"]},
        )
        return {str(order["client_order_ref"]) for order in orders}

    async def confirm_sale_order(self, ref: ErpOrderRef) -> ErpOrderRef:
        # The state the caller holds saves the read before acting; a returned action_confirm is
        # trusted (Odoo raises when it cannot confirm), which saves the read after.
        return _ref(await self.connector.confirm_sale_order(ref.id, known_state=ref.state, read_after=False))

    async def aclose(self) -> None:
        await self.connector.aclose()
