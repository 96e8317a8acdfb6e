"""Why a channel shows what it shows (issue 6 §7): the JSON behind `channelhub explain SKU` and
`GET /api/v1/availability/{sku}`.

For one channel:

    {"sku": "TEE-M", "channel": "shopify",
     "available_to_sell": 7,        # the desired value (what channelhub wants the channel to show)
     "acknowledged": 9,             # what the channel last confirmed (None: never published)
     "in_sync": false, "desired_at": "...", "acknowledged_at": "...", "last_error": null,
     "computed_now": 7,             # recomputed from the stored facts at this moment
     "warehouses": [{"warehouse", "on_hand", "reserved", "hold", "free", "included", "reason",
                     "locations": [{"location", "on_hand", "reserved", "hold", "as_of"}]}],
     "rules": {"share", "safety", "pack_size", "suppressed", "suppression_reason", ...},
     "soft_reservations": [{"order_key", "channel", "units"}], "soft_reserved": 2,
     "explanation": ["SKU TEE-M on shopify: 7 units.", ...]}

Without a channel: `{"sku", "channel": null, "available_to_sell": {channel: n},
"acknowledged": {channel: n | null}, "channels": [<the per-channel object>, ...]}`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from channelhub.domain import AvailabilityResult, Sku, UnknownChannel
from channelhub.service.availability import AvailabilityService
from channelhub.store.repositories import LocationStock, StateRepositories


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _channel_view(
    connection: sa.Connection, result: AvailabilityResult, locations: list[LocationStock]
) -> dict[str, Any]:
    listing = StateRepositories.on(connection).listings.state(result.channel, result.sku)
    desired = listing.desired_quantity if listing else None
    acknowledged = listing.acknowledged_quantity if listing else None
    detail = result.to_dict()
    warehouses = []
    for contribution in detail["warehouses"]:
        rows = [loc for loc in locations if loc.warehouse == contribution["warehouse"]]
        warehouses.append(
            {
                **contribution,
                "locations": [
                    {
                        "location": row.location,
                        "on_hand": row.on_hand,
                        "reserved": row.reserved,
                        "hold": row.hold,
                        "as_of": _iso(row.source_write_date),
                    }
                    for row in rows
                ],
            }
        )
    return {
        "sku": result.sku.value,
        "channel": result.channel,
        "available_to_sell": desired if desired is not None else result.quantity,
        "acknowledged": acknowledged,
        "in_sync": desired is not None and desired == acknowledged,
        "desired_at": _iso(listing.desired_at) if listing else None,
        "acknowledged_at": _iso(listing.acknowledged_at) if listing else None,
        "last_error": listing.last_error if listing else None,
        "computed_now": result.quantity,
        "unit": detail["unit"],
        "warehouses": warehouses,
        "pool": detail["pool"],
        "rules": {
            "share": detail["share"],
            "share_units": detail["share_units"],
            "carved_by_earlier_caps": detail["carved_by_earlier_caps"],
            "safety": detail["safety"],
            "safety_units": detail["safety_units"],
            "pack_size": detail["pack_size"],
            "suppressed": detail["suppressed"],
            "suppression_reason": detail["suppression_reason"],
            "tracks_inventory": detail["tracks_inventory"],
            "continue_selling": detail["continue_selling"],
            "low_stock_fence": detail["fence"],
        },
        "soft_reservations": detail["soft_reservations"],
        "soft_reserved": detail["soft_reserved"],
        "explanation": detail["explanation"],
    }


def explain(
    connection: sa.Connection, availability: AvailabilityService, sku: str, channel: str | None = None
) -> dict[str, Any]:
    """The explanation of `sku` on `channel` (or every channel). Raises `UnknownChannel` for a
    channel the landscape does not have and `InvalidSku` for a malformed SKU."""
    code = Sku(sku)
    if channel is not None and channel not in availability.policy.channels:
        raise UnknownChannel(repr(channel))
    by_channel = availability.results(connection, [code], detailed=True)[code]
    locations = StateRepositories.on(connection).stock.locations(code)
    if channel is not None:
        return _channel_view(connection, by_channel[channel], locations)
    views = [_channel_view(connection, result, locations) for result in by_channel.values()]
    return {
        "sku": code.value,
        "channel": None,
        "available_to_sell": {view["channel"]: view["available_to_sell"] for view in views},
        "acknowledged": {view["channel"]: view["acknowledged"] for view in views},
        "channels": views,
    }
