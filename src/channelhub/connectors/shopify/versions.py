"""The Admin API versions this connector speaks, and every wire difference between them.

All version-specific behaviour lives here so the rest of the connector never branches on a
version string. Sources (shopify.dev Admin GraphQL reference):

- 2025-10 `inventorySetQuantities`: each `InventoryQuantityInput` carries `compareQuantity`; the
  input has `ignoreCompareQuantity` to opt out; a mismatch is the user error
  `COMPARE_QUANTITY_STALE`.
- 2026-04 and later (so 2026-10): `changeFromQuantity` must be present on *every* quantity
  (explicit `null` skips the check for that quantity; omitting it is an error); a mismatch is
  `CHANGE_FROM_QUANTITY_STALE`. `compareQuantity`/`ignoreCompareQuantity` are gone.
- 2026-04 and later: each `InventoryChangeInput` of `inventoryAdjustQuantities` also carries a
  mandatory `changeFromQuantity` (null: no compare), like the set quantities.
- 2026-04 and later: `inventoryAdjustQuantities` and `refundCreate` require an idempotency key
  given with the `@idempotent(key:)` directive on the mutation field (Shopify changelog "Making
  idempotency mandatory for inventory adjustments and refund mutations"); 2025-10 has no such
  directive at all (sending it is an unknown-directive error).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class ApiVersion(StrEnum):
    V2025_10 = "2025-10"
    V2026_10 = "2026-10"


@dataclass(frozen=True)
class VersionProfile:
    """What differs on the wire between two pinned API versions."""

    version: ApiVersion
    stale_quantity_code: str
    compare_field: str
    has_ignore_compare_flag: bool
    requires_idempotency_key: bool

    def quantity_entry(
        self, inventory_item_id: str, location_id: str, quantity: int, expected_current: int | None
    ) -> dict[str, Any]:
        """One `InventoryQuantityInput`; `expected_current=None` means "skip the compare check"."""
        entry: dict[str, Any] = {
            "inventoryItemId": inventory_item_id,
            "locationId": location_id,
            "quantity": quantity,
        }
        if self.has_ignore_compare_flag:
            # 2025-10: omit the field to not compare (the input-level flag says so).
            if expected_current is not None:
                entry[self.compare_field] = expected_current
        else:
            # 2026-10: the field is mandatory on every quantity; null opts this one out.
            entry[self.compare_field] = expected_current
        return entry

    def set_quantities_input(
        self, name: str, reason: str, quantities: list[dict[str, Any]], reference_document_uri: str | None
    ) -> dict[str, Any]:
        """The `InventorySetQuantitiesInput` for a batch built with `quantity_entry`."""
        payload: dict[str, Any] = {"name": name, "reason": reason, "quantities": quantities}
        if reference_document_uri:
            payload["referenceDocumentUri"] = reference_document_uri
        if self.has_ignore_compare_flag:
            payload["ignoreCompareQuantity"] = not any(self.compare_field in q for q in quantities)
        return payload

    def change_entry(
        self, inventory_item_id: str, location_id: str, delta: int, expected_current: int | None = None
    ) -> dict[str, Any]:
        """One `InventoryChangeInput` of `inventoryAdjustQuantities`."""
        entry: dict[str, Any] = {
            "delta": delta,
            "inventoryItemId": inventory_item_id,
            "locationId": location_id,
        }
        if not self.has_ignore_compare_flag:
            entry["changeFromQuantity"] = expected_current  # mandatory from 2026-04; null: no check
        return entry

    def is_stale_quantity(self, code: str | None) -> bool:
        return code in {self.stale_quantity_code, "COMPARE_QUANTITY_STALE", "CHANGE_FROM_QUANTITY_STALE"}


PROFILES: dict[ApiVersion, VersionProfile] = {
    ApiVersion.V2025_10: VersionProfile(
        version=ApiVersion.V2025_10,
        stale_quantity_code="COMPARE_QUANTITY_STALE",
        compare_field="compareQuantity",
        has_ignore_compare_flag=True,
        requires_idempotency_key=False,
    ),
    ApiVersion.V2026_10: VersionProfile(
        version=ApiVersion.V2026_10,
        stale_quantity_code="CHANGE_FROM_QUANTITY_STALE",
        compare_field="changeFromQuantity",
        has_ignore_compare_flag=False,
        requires_idempotency_key=True,
    ),
}


def profile_for(version: str | ApiVersion) -> VersionProfile:
    """The profile of a pinned version; unknown versions are refused, never guessed."""
    try:
        return PROFILES[ApiVersion(version)]
    except ValueError as exc:
        supported = ", ".join(v.value for v in ApiVersion)
        raise ValueError(f"unsupported Shopify API version {version!r}; supported: {supported}") from exc
