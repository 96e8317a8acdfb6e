"""The SKU -> product id memory shared by order and stock reads: expiry, bound, forgetting."""

from __future__ import annotations

from channelhub.connectors.odoo.product_ids import ProductIds


def test_ids_are_known_until_forgotten_or_expired() -> None:
    ids = ProductIds()
    ids.remember({"A": 1, "B": 2})
    assert ids.known(["A", "B", "C"]) == {"A": 1, "B": 2}
    ids.forget(["A"])
    assert ids.known(["A", "B"]) == {"B": 2}
    ids.forget()
    assert ids.known(["B"]) == {}
    expired = ProductIds(ttl_s=0.0)
    expired.remember({"A": 1})
    assert expired.known(["A"]) == {}


def test_the_table_is_bounded() -> None:
    ids = ProductIds(max_entries=3)
    ids.remember({"A": 1, "B": 2, "C": 3})
    ids.remember({"D": 4})  # would exceed the bound: the old entries go
    assert ids.known(["A", "B", "C", "D"]) == {"D": 4}
