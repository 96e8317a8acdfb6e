"""Stock positions and the publisher's desired/acknowledged listing state, on both backends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from channelhub.domain import ChannelListing, Money, Sku, StockPosition
from channelhub.store.repositories import LocationStock
from tests.integration.store.conftest import StateDb, at

A, B = Sku("TSHIRT-RED-M"), Sku("MUG-01")


def row(sku: Sku, location: str, on_hand: int, written: float | None, **more: int) -> LocationStock:
    warehouse = location.split("/")[0].lower()
    return LocationStock(
        sku, warehouse, location, on_hand, source_write_date=None if written is None else at(written), **more
    )


def test_positions_sum_locations_per_warehouse(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.stock.upsert(
            [
                row(A, "WH/Stock", 10, 1, reserved=2),
                row(A, "WH/Quality", 3, 1, hold=3),
                row(A, "BER/Stock", 4, 1, incoming=6),
                row(B, "WH/Stock", 7, 1),
            ],
            at(2),
        )
    with state_db.transaction() as repos:
        assert repos.stock.positions([A]) == [
            StockPosition(A, "ber", on_hand=4, incoming=6),
            StockPosition(A, "wh", on_hand=13, reserved=2, hold=3),
        ]
        assert repos.stock.positions(warehouse="wh") == [
            StockPosition(B, "wh", on_hand=7),
            StockPosition(A, "wh", on_hand=13, reserved=2, hold=3),
        ]
        assert [r.location for r in repos.stock.locations(A)] == ["BER/Stock", "WH/Quality", "WH/Stock"]
        repos.stock.remove([(A, "wh", "WH/Quality"), (A, "wh", "WH/Nowhere")])
        assert repos.stock.positions([A], warehouse="wh") == [StockPosition(A, "wh", on_hand=10, reserved=2)]


def test_older_odoo_snapshot_never_overwrites_a_newer_one(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.stock.upsert([row(A, "WH/Stock", 10, written=100)], at(100))
        repos.stock.upsert([row(A, "WH/Stock", 99, written=50)], at(101))  # late, older poll
    with state_db.transaction() as repos:
        [position] = repos.stock.positions([A])
        assert position.on_hand == 10
        repos.stock.upsert([row(A, "WH/Stock", 8, written=100)], at(102))  # same write_date: applied
        repos.stock.upsert([row(A, "WH/Stock", 7, written=None)], at(103))  # unknown date: applied
        [location] = repos.stock.locations(A)
        assert location.on_hand == 7
        assert location.source_write_date == at(100)  # the known write_date is kept
        repos.stock.upsert([row(A, "WH/Stock", 6, written=99)], at(104))
        assert repos.stock.positions([A])[0].on_hand == 7


def test_bulk_upsert_of_thousands_of_rows(state_db: StateDb) -> None:
    skus = [Sku(f"SKU-{n:05d}") for n in range(3000)]
    with state_db.transaction() as repos:
        repos.stock.upsert([row(sku, "WH/Stock", n, 1) for n, sku in enumerate(skus)], at(1))
    with state_db.transaction() as repos:
        repos.stock.upsert([row(sku, "WH/Stock", n + 1, 2) for n, sku in enumerate(skus)], at(2))
    with state_db.transaction() as repos:
        positions = repos.stock.positions(skus[::3])  # more SKUs than one IN list holds
        assert len(positions) == 1000
        assert all(p.on_hand == int(p.sku.value[4:]) + 1 for p in positions)


def test_listing_identity_round_trips_without_touching_desired_state(state_db: StateDb) -> None:
    listing = ChannelListing.create(
        "shopify-eu", A, pack_size=6, continue_selling=True, variant_id="gid://shopify/ProductVariant/1"
    )
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5)], at(1))
        repos.listings.save([listing])
        repos.listings.save([ChannelListing.create("woo-b2c", A, product_id="9")])
    with state_db.transaction() as repos:
        assert repos.listings.listing("shopify-eu", A) == listing
        assert repos.listings.listing("shopify-eu", B) is None
        assert [x.channel for x in repos.listings.listings("woo-b2c")] == ["woo-b2c"]
        state = repos.listings.state("shopify-eu", A)
        assert state is not None and state.desired_quantity == 5 and state.pack_size == 6


def test_desired_differs_from_acknowledged_until_confirmed(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5), ("shopify-eu", B, 0)], at(1))
        assert {(s.sku, s.desired_quantity) for s in repos.listings.dirty()} == {(A, 5), (B, 0)}
        repos.listings.acknowledge_quantities([("shopify-eu", A, 5)], at(2))
    with state_db.transaction() as repos:
        assert [s.sku for s in repos.listings.dirty()] == [B]
        state = repos.listings.state("shopify-eu", A)
        assert state is not None and not state.dirty and state.acknowledged_at == at(2)


def test_change_while_publishing_stays_dirty(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5)], at(1))
    with state_db.transaction() as repos:
        [in_flight] = repos.listings.dirty()
        repos.listings.set_desired_quantities([("shopify-eu", A, 4)], at(2))  # an order came in
        repos.listings.acknowledge_quantities([("shopify-eu", A, in_flight.desired_quantity or 0)], at(3))
    with state_db.transaction() as repos:
        [still] = repos.listings.dirty()
        assert (still.desired_quantity, still.acknowledged_quantity) == (4, 5)


def test_bursts_coalesce_into_one_dirty_row(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        for n in range(100):
            repos.listings.set_desired_quantities([("shopify-eu", A, 100 - n)], at(10 + n))
        repos.listings.set_desired_quantities([("shopify-eu", B, 3)], at(50))
    with state_db.transaction() as repos:
        dirty = repos.listings.dirty()
        assert [(s.sku, s.desired_quantity) for s in dirty] == [(A, 1), (B, 3)]
        assert dirty[0].desired_at == at(10)  # longest waiting first, measured from the first change
        assert repos.listings.count_dirty() == 2
        assert repos.listings.dirty(limit=1) == dirty[:1]
        assert repos.listings.dirty(channel="woo-b2c") == []


def test_setting_the_acknowledged_value_again_is_clean(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5)], at(1))
        repos.listings.acknowledge_quantities([("shopify-eu", A, 5)], at(2))
        repos.listings.set_desired_quantities([("shopify-eu", A, 6)], at(3))
        repos.listings.set_desired_quantities([("shopify-eu", A, 5)], at(4))  # back to what it shows
        assert repos.listings.dirty() == []


def test_prices_compare_as_exact_decimals(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_prices([("shopify-eu", A, Money.of("19.90", "EUR"))], at(1))
        [dirty] = repos.listings.dirty()
        assert dirty.desired_price == Money.of("19.9", "EUR") and dirty.price_differs
        repos.listings.acknowledge_prices([("shopify-eu", A, Money.of("19.9", "EUR"))], at(2))
        assert repos.listings.dirty() == []
        repos.listings.set_desired_prices([("shopify-eu", A, Money.of("19.91", "EUR"))], at(3))
        [dirty] = repos.listings.dirty()
        assert dirty.acknowledged_price == Money(Decimal("19.9"), "EUR")
        assert not dirty.quantity_differs


def test_reconciliation_read_back_makes_a_listing_dirty_again(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5)], at(1))
        repos.listings.acknowledge_quantities([("shopify-eu", A, 5)], at(2))
        # Someone edited stock in the Shopify admin; reconciliation reads 9 back.
        repos.listings.acknowledge_quantities([("shopify-eu", A, 9), ("shopify-eu", B, 1)], at(3))
        [dirty] = repos.listings.dirty()
        assert (dirty.sku, dirty.desired_quantity, dirty.acknowledged_quantity) == (A, 5, 9)


def test_publish_errors_are_kept_until_the_next_acknowledgement(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5)], at(1))
        repos.listings.record_error("shopify-eu", A, "THROTTLED")
        [dirty] = repos.listings.dirty()
        assert dirty.last_error == "THROTTLED"
        repos.listings.acknowledge_quantities([("shopify-eu", A, 5)], at(2))
        state = repos.listings.state("shopify-eu", A)
        assert state is not None and state.last_error is None


def test_bulk_desired_quantities_for_a_whole_catalog(state_db: StateDb) -> None:
    skus = [Sku(f"SKU-{n:05d}") for n in range(2000)]
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities(
            [("shopify-eu", sku, n % 7) for n, sku in enumerate(skus)], at(1)
        )
        repos.listings.acknowledge_quantities(
            [("shopify-eu", sku, n % 7) for n, sku in enumerate(skus[:1500])], at(2)
        )
    with state_db.transaction() as repos:
        assert repos.listings.count_dirty("shopify-eu") == 500
        assert {s.sku for s in repos.listings.dirty(limit=1000)} == set(skus[1500:])


def test_a_channels_own_sale_lowers_what_it_acknowledged_unless_it_may_have_raced_our_write(
    state_db: StateDb,
) -> None:
    with state_db.transaction() as repos:
        repos.listings.set_desired_quantities([("shopify-eu", A, 5), ("shopify-eu", B, 5)], at(1))
        repos.listings.acknowledge_quantities([("shopify-eu", A, 5)], at(2))
        repos.listings.acknowledge_quantities([("shopify-eu", B, 5)], at(9))
        repos.listings.set_desired_quantities([("shopify-eu", A, 3), ("shopify-eu", B, 3)], at(10))
        # Sold at 10 s: 8 s after our write of A, 1 s after our write of B (which may have hidden it).
        repos.listings.record_channel_sale("shopify-eu", {A: 2, B: 2}, at(10), timedelta(seconds=2))
        repos.listings.record_channel_sale("woo-b2c", {A: 9}, at(10), timedelta(seconds=2))  # no row
    with state_db.transaction() as repos:
        a, b = repos.listings.state("shopify-eu", A), repos.listings.state("shopify-eu", B)
        assert a is not None and (a.acknowledged_quantity, a.dirty, a.acknowledged_at) == (3, False, at(2))
        assert b is not None and (b.acknowledged_quantity, b.dirty) == (5, True)
        repos.listings.record_channel_sale("shopify-eu", {A: 7}, at(20), timedelta(seconds=2))
        a = repos.listings.state("shopify-eu", A)
        assert a is not None and a.acknowledged_quantity == 0  # never below zero


def test_the_low_stock_fence_counts_sales_only_while_it_is_up(state_db: StateDb) -> None:
    with state_db.transaction() as repos:
        repos.fences.count_sale("shopify-eu", {A: 2})  # not fenced: nothing to count
        repos.fences.put_up({A: ("shopify-eu", "woo-b2c")}, at(1))
        repos.fences.count_sale("shopify-eu", {A: 2, B: 1})
        repos.fences.put_up({A: ("shopify-eu",)}, at(2))  # already up: the count stays
    with state_db.transaction() as repos:
        assert repos.fences.sold([A, B], lock=True) == {A: {"shopify-eu": 2, "woo-b2c": 0}}
        repos.fences.take_down([A])
        assert repos.fences.all() == {}
