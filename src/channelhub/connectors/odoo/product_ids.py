"""SKU -> product id, remembered per Odoo client (`OdooClient.product_ids`).

Order lines and stock re-reads name products by SKU (`default_code`); during a sale the same few
SKUs come back again and again, and a product's id never changes. Entries expire after
`PRODUCT_ID_TTL_S` (a SKU re-coded onto another product is seen within that time), the table is
bounded, and callers drop entries Odoo proved wrong (an order refused for its products).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

PRODUCT_ID_TTL_S = 300.0
MAX_KNOWN_IDS = 50_000  # entries kept (a few MB); cleared when exceeded


class ProductIds:
    def __init__(self, ttl_s: float = PRODUCT_ID_TTL_S, max_entries: int = MAX_KNOWN_IDS) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._known: dict[str, tuple[int, float]] = {}  # SKU -> (product id, when read)

    def known(self, skus: Iterable[str]) -> dict[str, int]:
        """The ids of `skus` read within the TTL."""
        now = time.monotonic()
        return {
            sku: hit[0]
            for sku in skus
            if (hit := self._known.get(sku)) is not None and now - hit[1] < self.ttl_s
        }

    def remember(self, found: Mapping[str, int]) -> None:
        if len(self._known) + len(found) > self.max_entries:
            self._known.clear()
        now = time.monotonic()
        self._known.update((sku, (product_id, now)) for sku, product_id in found.items())

    def forget(self, skus: Iterable[str] | None = None) -> None:
        """Drop `skus` (every entry when None): the next reads look them up again."""
        if skus is None:
            self._known.clear()
            return
        for sku in skus:
            self._known.pop(sku, None)
