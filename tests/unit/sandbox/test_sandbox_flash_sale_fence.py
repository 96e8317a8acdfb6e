"""The sandbox's flash-sale scenario under channelhub's low-stock fence: at or below the threshold
the channels' numbers must add up to the true ATS, not each show it."""

from __future__ import annotations

from collections.abc import Sequence

from channelhub.sandbox.scenarios.flash_sale import ChannelShop, FlashSaleTarget, drift_after
from channelhub.sandbox.scenarios.odoo_rpc import OdooAccess

SHOWN = {"shop": {"HOT": 3, "COLD": 40}, "web": {"HOT": 2, "COLD": 40}}


def target(fence_below: int | None) -> FlashSaleTarget:
    def quantities(channel: str, skus: Sequence[str]) -> dict[str, int]:
        return {sku: SHOWN[channel][sku] for sku in skus}

    async def offline(code: str) -> None:
        raise AssertionError("not used")

    return FlashSaleTarget(
        channels=[
            ChannelShop("shop", "http://127.0.0.1:1", "shopify"),
            ChannelShop("web", "http://127.0.0.1:2", "woocommerce"),
        ],
        odoo=OdooAccess("http://127.0.0.1:3", "db", "login", "password"),
        stock={"HOT": {"wh": 5}, "COLD": {"wh": 40}},
        hot_skus=["HOT"],
        channel_quantities=quantities,
        take_warehouse_offline=offline,
        fence_below=fence_below,
    )


def test_a_fenced_sku_is_right_when_the_channels_add_up_to_the_truth() -> None:
    truth = {"HOT": 5, "COLD": 40}
    assert drift_after(target(10), truth)["drift_skus"] == 0  # 3 + 2 = 5
    shared = drift_after(target(None), truth)  # shared stock: each channel must show 5
    assert shared["drift_examples"] == ["HOT"] and shared["drift_by_channel"] == {"shop": 1, "web": 1}
    assert drift_after(target(10), {"HOT": 4, "COLD": 40})["drift_examples"] == ["HOT"]
    assert target(10).pooled(10) and not target(10).pooled(11) and not target(None).pooled(0)
