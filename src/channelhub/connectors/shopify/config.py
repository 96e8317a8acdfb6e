"""Settings of one Shopify shop connection."""

from __future__ import annotations

from dataclasses import dataclass

from channelhub.connectors.shopify.versions import ApiVersion, profile_for


@dataclass(frozen=True)
class ShopifyConfig:
    """Where the shop is, how to authenticate, and which API version is pinned.

    `shop_url` is the shop's base URL (`https://<shop>.myshopify.com`, or an emulator's URL);
    `api_secret` is the app's client secret, used only to verify webhooks; `location_id` is the
    `gid://shopify/Location/<n>` whose `available` quantities this connection publishes (None:
    the shop's first active location, looked up once).
    """

    shop_url: str
    access_token: str
    api_version: ApiVersion | str = ApiVersion.V2025_10
    api_secret: str | None = None
    location_id: str | None = None
    timeout_s: float = 30.0
    connect_timeout_s: float = 5.0
    max_attempts: int = 6
    retry_base_delay_s: float = 0.5
    retry_max_delay_s: float = 30.0
    breaker_failure_threshold: int = 5
    breaker_reset_timeout_s: float = 30.0
    # Kept below the bucket's refill headroom so a burst from another process of the same app
    # does not starve us; 1.0 means "plan batches against the whole bucket".
    bucket_share: float = 1.0
    # Share of the bucket this client leaves to others of the same app: before each call it waits
    # until the bucket holds the call's cost plus this share. A background reader (the order
    # backfill) set to 0.5 never spends the points the stock publisher needs during a sale.
    leave_free: float = 0.0

    def __post_init__(self) -> None:
        if not self.shop_url.startswith(("http://", "https://")):
            raise ValueError(f"shop_url must be an http(s) URL, got {self.shop_url!r}")
        if not self.access_token:
            raise ValueError("access_token is required")
        # Refuses unknown versions early and normalises "2026-10" to the enum.
        object.__setattr__(self, "api_version", profile_for(self.api_version).version)
        if not 0 < self.bucket_share <= 1:
            raise ValueError("bucket_share must be in (0, 1]")
        if not 0 <= self.leave_free < 1:
            raise ValueError("leave_free must be in [0, 1)")

    @property
    def graphql_url(self) -> str:
        return f"{self.shop_url.rstrip('/')}/admin/api/{ApiVersion(self.api_version).value}/graphql.json"
