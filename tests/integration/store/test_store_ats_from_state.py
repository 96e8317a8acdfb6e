"""The pieces fit: config rules + stored positions, reservations and listings give the domain's
available-to-sell, and the result becomes the publisher's dirty work."""

from __future__ import annotations

from channelhub.config import example_config, parse_config
from channelhub.domain import ChannelListing, Sku, SoftReservation, available_to_sell_all_channels
from channelhub.store.repositories import LocationStock
from tests.integration.store.conftest import StateDb, at

TSHIRT = Sku("TSHIRT-RED-M")


def test_available_to_sell_from_stored_state(state_db: StateDb) -> None:
    landscape = parse_config(example_config(), resolve_secrets=False)
    with state_db.transaction() as repos:
        repos.stock.upsert(
            [
                LocationStock(TSHIRT, "wh-main", "WH/Stock", 20, reserved=3),
                LocationStock(TSHIRT, "wh-main", "WH/Quality", 4, hold=4),
                LocationStock(TSHIRT, "wh-berlin", "BER/Stock", 6),
            ],
            at(1),
        )
        repos.reservations.reserve([SoftReservation("shopify-eu:1", "shopify-eu", TSHIRT, 2)], at(2))
        repos.listings.save([ChannelListing.create("shopify-eu", TSHIRT, variant_id="1")])
    with state_db.transaction() as repos:
        results = available_to_sell_all_channels(
            TSHIRT,
            positions=repos.stock.positions([TSHIRT]),
            warehouses=landscape.domain_warehouses(),
            rules=landscape.allocation_rules(),
            listings=repos.listings.listings("shopify-eu"),
            soft_reservations=repos.reservations.open_reservations(TSHIRT),
        )
        # free: wh-main 24 on hand - 3 reserved - 4 on quality hold = 17; wh-berlin 6.
        # shopify-eu (both warehouses, SKU safety 5, 2 soft-reserved): 17 + 6 - 5 - 2 = 16.
        assert results["shopify-eu"].quantity == 16
        # pos-berlin (wh-berlin only, SKU safety 0 on this channel): 6 - 2 = 4.
        assert results["pos-berlin"].quantity == 4
        repos.listings.set_desired_quantities(
            [(channel, TSHIRT, result.quantity) for channel, result in results.items()], at(3)
        )
    with state_db.transaction() as repos:
        assert {(s.channel, s.desired_quantity) for s in repos.listings.dirty()} == {
            (channel, result.quantity) for channel, result in results.items()
        }
