"""An emulated Shopify shop that behaves like the real platform on the wire.

Run it alone with `channelhub emulate shopify --port 8081 --seed 1 --skus 100 --plan basic`, or
in-process:

    from channelhub.sandbox.shopify import EmulatorSettings, ShopifyEmulator
    emulator = ShopifyEmulator(EmulatorSettings(seed=1, skus=100, plan="basic"))
    with serve_in_thread(emulator.app) as server: ...   # channelhub.sandbox.server

What it serves:

- Admin GraphQL at `/admin/api/<version>/graphql.json` (`X-Shopify-Access-Token`), versions
  2025-10 and 2026-10 with their real differences (see `schema`), executed by graphql-core.
- Calculated query cost and a leaky bucket per shop (see `cost` and `throttle`): objects 1,
  scalars 0, connections 2 + `first` x node, mutations 10; max 1,000 per query; bucket
  2,000 / 4,000 / 20,000 points restoring 100 / 200 / 1,000 points/s for basic / advanced /
  plus (overridable). Every response carries `extensions.cost`.
- Webhooks signed with the API secret, retried 8 times over ~4 hours (compressible), with chaos.
- `/_sandbox/*`: storefront orders, stats, stock changes behind the integration's back, chaos.

The handle (`ShopifyEmulator`) exposes the records (`.shop`, a `ShopState`), the bucket
(`.bucket`), chaos knobs (`.chaos`) and the webhook sender (`.webhooks`). This package imports
nothing from channelhub except `channelhub.sandbox.server`; it stands in for a system channelhub
does not own.
"""

from channelhub.sandbox.shopify.app import ShopifyEmulator, create_app
from channelhub.sandbox.shopify.chaos import ChaosSettings
from channelhub.sandbox.shopify.operations import OrderRefused, SaleLine
from channelhub.sandbox.shopify.schema import SUPPORTED_VERSIONS
from channelhub.sandbox.shopify.settings import ConfiguredWebhook, EmulatorSettings
from channelhub.sandbox.shopify.shoppers import ShopperTraffic, place_random_orders
from channelhub.sandbox.shopify.state import ShopState
from channelhub.sandbox.shopify.throttle import MAX_QUERY_COST, PLAN_LIMITS, PlanLimits
from channelhub.sandbox.shopify.webhooks import RETRY_DELAYS_S, sign

__all__ = [
    "MAX_QUERY_COST",
    "PLAN_LIMITS",
    "RETRY_DELAYS_S",
    "SUPPORTED_VERSIONS",
    "ChaosSettings",
    "ConfiguredWebhook",
    "EmulatorSettings",
    "OrderRefused",
    "PlanLimits",
    "SaleLine",
    "ShopState",
    "ShopifyEmulator",
    "ShopperTraffic",
    "create_app",
    "place_random_orders",
    "sign",
]
