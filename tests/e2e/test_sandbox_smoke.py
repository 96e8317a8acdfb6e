"""The sandbox in-process with a tiny flash sale: every accepted order reaches Odoo exactly once,
and both channels end up showing channelhub's available-to-sell."""

from __future__ import annotations

import httpx
import pytest

from channelhub.bootstrap import RuntimeSettings
from channelhub.sandbox.runner import Sandbox, SandboxSettings, flash_sale_target
from channelhub.sandbox.scenarios.flash_sale import FlashSaleSettings, audit_odoo_orders, run_flash_sale

pytestmark = pytest.mark.timeout(120)


async def test_sandbox_flash_sale_orders_reach_odoo_once_and_ats_reaches_both_channels(
    tmp_path: object,
) -> None:
    settings = SandboxSettings(
        skus=24, seed=5, work_dir=None, runtime=RuntimeSettings(reservation_check_interval_s=0.5)
    )
    async with Sandbox(settings) as sandbox:
        assert sandbox.runtime is not None and sandbox.catalog is not None
        assert set(sandbox.endpoints) >= {"odoo", "shopify", "woocommerce", "channelhub"}
        hub = sandbox.endpoints["channelhub"]
        assert set(sandbox.endpoints["odoo"]["pricelists"]) == {"shopify", "woocommerce"}
        assert {"price_approver_token", "dashboard_user", "dashboard_password"} <= set(hub)
        target = flash_sale_target(sandbox)
        sale = await run_flash_sale(
            target,
            FlashSaleSettings(
                rate=8, duration_s=3, seed=5, receipt_every_s=1, adjustment_every_s=1.5, settle_s=20
            ),
        )
        assert sale.orders > 0 and sum(sale.orders_by_channel.values()) == sale.orders
        assert all(count > 0 for count in sale.orders_by_channel.values())

        audit = await audit_odoo_orders(
            target.odoo, sale.order_refs, [c.name for c in target.channels], wait_s=30
        )
        assert audit == {"lost_orders": 0, "duplicate_odoo_orders": 0}

        # Every stock-changing event (orders on one channel, Odoo moves, the warehouse going
        # offline) was shown by both channels.
        assert sale.propagation["stock_changing_events"] >= sale.orders
        assert sale.propagation["unpropagated_events"] == 0

        report = await sandbox.runtime.reconcile(dry_run=True)
        assert report.checked == 2 * len(sandbox.catalog.skus)
        assert [d.to_dict() for d in report.diffs if d.kind != "pending"] == []

        # The operations surface and pricing are mounted on the runtime's own API.
        admin = {"Authorization": f"Bearer {hub['token']}"}
        async with httpx.AsyncClient(base_url=hub["url"], timeout=10) as http:
            listed = (await http.get("/api/v1/endpoints", headers=admin)).json()["items"]
            names = {e["endpoint"] for e in listed}
            assert names >= {"shopify:graphql", "woocommerce:rest", "odoo:rpc"}
            scrape = (await http.get("/metrics", headers=admin)).text
            assert 'channelhub_events_in_total{channel="shopify"' in scrape
            assert "channelhub_events_out_total{" in scrape
            approver = {"Authorization": f"Bearer {hub['price_approver_token']}"}
            changes = await http.get("/api/v1/price-changes", headers=approver)
            assert changes.status_code == 200, changes.text
            login = await http.get("/dashboard/login")
            assert login.status_code == 200
            runs = (await http.get("/api/v1/reconciliations", headers=admin)).json()["items"]
            assert [run["trigger"] for run in runs] == ["start"]  # the start-up acknowledgement
