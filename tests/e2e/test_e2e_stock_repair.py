"""Stock side, end to end: a warehouse going offline lowers what every channel it fed shows, and
reconciliation puts back a quantity someone changed in a shop's admin behind channelhub's back."""

from __future__ import annotations

import httpx
import pytest

from channelhub.bootstrap import RuntimeSettings
from channelhub.sandbox.runner import Sandbox, SandboxSettings, channel_quantities
from tests.e2e.conftest import eventually

pytestmark = pytest.mark.timeout(120)
CHANNELS = ("shopify", "woocommerce")


def _settings(seed: int) -> SandboxSettings:
    return SandboxSettings(skus=24, seed=seed, runtime=RuntimeSettings(reservation_check_interval_s=0.5))


async def test_warehouse_going_offline_lowers_ats_on_every_channel_it_fed_within_seconds() -> None:
    async with Sandbox(_settings(seed=31)) as sandbox:
        assert sandbox.runtime is not None and sandbox.emulators is not None and sandbox.catalog is not None
        catalog = sandbox.catalog
        fed_by_east = [sku for sku in catalog.skus if catalog.by_warehouse[sku].get("east", 0) > 0]
        assert fed_by_east, "the seeded catalog has stock in EAST"
        expected = {
            sku: max(0, sum(units for wh, units in catalog.by_warehouse[sku].items() if wh != "east"))
            for sku in catalog.skus
        }
        shown = channel_quantities(sandbox.emulators)
        assert all(shown(c, fed_by_east) == {s: catalog.sellable(s) for s in fed_by_east} for c in CHANNELS)

        await sandbox.runtime.set_warehouse("east", "offline", reason="e2e: feed down", by="e2e")

        await eventually(
            lambda: all(shown(channel, catalog.skus) == expected for channel in CHANNELS),
            within_s=5,
            what="every channel showing stock without EAST",
        )


async def test_reconciliation_fixes_a_quantity_changed_behind_channelhubs_back() -> None:
    async with Sandbox(_settings(seed=32)) as sandbox:
        assert sandbox.runtime is not None and sandbox.emulators is not None and sandbox.catalog is not None
        catalog = sandbox.catalog
        sku = next(s for s in catalog.skus if catalog.sellable(s) > 0)
        right = catalog.sellable(sku)
        urls = sandbox.endpoints
        async with httpx.AsyncClient(timeout=10) as client:
            edited = await client.post(
                f"{urls['shopify']['url']}/_sandbox/inventory", json={"sku": sku, "available": right + 40}
            )
            assert edited.status_code == 200, edited.text
            edited = await client.post(
                f"{urls['woocommerce']['url']}/_sandbox/stock", json={"sku": sku, "stock_quantity": right + 7}
            )
            assert edited.status_code == 200, edited.text
        shown = channel_quantities(sandbox.emulators)
        assert shown("shopify", [sku]) == {sku: right + 40} and shown("woocommerce", [sku]) == {
            sku: right + 7
        }

        report = await sandbox.runtime.reconcile()

        assert {(d.channel, d.sku, d.kind) for d in report.diffs} >= {
            ("shopify", sku, "drift"),
            ("woocommerce", sku, "drift"),
        }
        await eventually(
            lambda: all(shown(channel, [sku]) == {sku: right} for channel in CHANNELS),
            within_s=5,
            what="both channels back to channelhub's value",
        )
        after = await sandbox.runtime.reconcile(dry_run=True)
        assert [d.to_dict() for d in after.diffs if d.kind != "pending"] == []
