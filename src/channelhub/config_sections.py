"""The sections of the landscape file (see `config_example.yaml` for every key, explained)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from channelhub.config_secrets import Secret

DEFAULT_DATABASE_URL = "sqlite:///.channelhub/channelhub.db"

# The same identifier rule as `channelhub.domain.catalog.check_code`, so config codes are always
# valid domain codes.
CODE_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
Code = Annotated[str, Field(pattern=CODE_PATTERN)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
SkuCode = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^\S+$")]
# At most 4 decimals: the domain's allocation arithmetic is exact on that grid.
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=4)]
HTTP_URL_PATTERN = r"^https?://[^\s/]+(/\S*)?$"
HttpUrl = Annotated[str, Field(pattern=HTTP_URL_PATTERN)]
SHOP_DOMAIN_PATTERN = r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$"

PATTERN_HINTS = {
    CODE_PATTERN: "must be a lower-case code (a-z, 0-9, '-', '_', '.'; at most 64 characters)",
    r"^[A-Z]{3}$": "must be a three-letter ISO 4217 currency code such as EUR",
    r"^\S+$": "must not contain spaces",
    HTTP_URL_PATTERN: "must be an http:// or https:// URL",
    SHOP_DOMAIN_PATTERN: "must be the shop's <name>.myshopify.com domain",
}


def _number_as_text(value: object) -> object:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class Section(BaseModel):
    """Base of every config section: unknown keys are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# --- Odoo -------------------------------------------------------------------------------------


class OdooSettings(Section):
    url: HttpUrl
    database: str = Field(min_length=1)
    login: str = Field(min_length=1)
    protocol: Literal["jsonrpc", "xmlrpc", "json2"] = "jsonrpc"
    # `version: 17.0` unquoted is a YAML float; accept it as the text the operator meant.
    version: (
        Annotated[str, BeforeValidator(_number_as_text), Field(pattern=r"^(saas~)?\d{1,2}\.\d$")] | None
    ) = None
    api_key: Secret | None = None
    password: Secret | None = None
    hold_locations: tuple[str, ...] = ()
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_concurrency: int = Field(default=8, ge=1, le=256)

    @model_validator(mode="after")
    def _one_credential(self) -> OdooSettings:
        if (self.api_key is None) == (self.password is None):
            raise PydanticCustomError("credentials", "give exactly one of api_key or password")
        if self.protocol == "json2" and self.api_key is None:
            raise PydanticCustomError("credentials", "protocol json2 authenticates with an api_key (bearer)")
        return self


# --- Channels ---------------------------------------------------------------------------------


class SharedAllocation(Section):
    """The channel sees the whole pool (the default)."""

    mode: Literal["shared"] = "shared"


class PercentageAllocation(Section):
    """The channel sees `percent` % of the pool, rounded down."""

    mode: Literal["percentage"]
    percent: Annotated[Percent, Field(gt=0)]


class FixedCapAllocation(Section):
    """The channel sees at most `units` of the pool. Caps are carved out of the free stock one
    channel after the other, lowest `carve_priority` first, so they never add up above the pool."""

    mode: Literal["fixed_cap"]
    units: int = Field(ge=0)
    carve_priority: int = Field(default=100, ge=0)


AllocationRule = Annotated[
    SharedAllocation | PercentageAllocation | FixedCapAllocation, Field(discriminator="mode")
]


class ChannelBase(Section):
    name: Code
    currency: Currency
    pricelist: str | None = None
    enabled: bool = True
    allocation: AllocationRule = Field(default_factory=SharedAllocation)
    # Seconds between reads of "orders changed since the cursor" (the safety net behind webhooks);
    # None: the runtime's default (30 s). Poll WooCommerce more often in busy shops: its webhooks
    # go out one at a time through Action Scheduler and fall behind under load.
    orders_poll_interval_s: float | None = Field(default=None, gt=0)


class ShopifyChannel(ChannelBase):
    kind: Literal["shopify"]
    shop_domain: Annotated[str, Field(pattern=SHOP_DOMAIN_PATTERN)]
    api_version: Literal["2025-10", "2026-10"] = "2025-10"
    plan: Literal["standard", "advanced", "plus", "enterprise"] = "standard"
    access_token: Secret
    client_secret: Secret
    # Emulators and proxies: where the Admin API lives if not at https://<shop_domain>.
    base_url: HttpUrl | None = None
    # Warehouse code -> Shopify location GID (`gid://shopify/Location/123`).
    locations: dict[Code, Annotated[str, Field(pattern=r"^gid://shopify/Location/\d+$")]] = Field(
        default_factory=dict
    )


class WooCommerceChannel(ChannelBase):
    kind: Literal["woocommerce"]
    url: HttpUrl
    consumer_key: Secret
    consumer_secret: Secret
    webhook_secret: Secret
    api_version: Literal["wc/v3"] = "wc/v3"
    # WooCommerce's default `woocommerce_rest_batch_items_limit`; shops often raise it.
    batch_limit: int = Field(default=100, ge=1, le=10_000)
    query_string_auth: bool = False


class AmazonChannel(ChannelBase):
    kind: Literal["amazon"]
    region: Literal["na", "eu", "fe"]
    seller_id: str = Field(min_length=1)
    marketplace_ids: tuple[str, ...] = Field(min_length=1)
    lwa_client_id: str = Field(min_length=1)
    lwa_client_secret: Secret
    refresh_token: Secret
    base_url: HttpUrl | None = None


class PosChannel(ChannelBase):
    kind: Literal["pos"]
    # The store whose shelves this POS sells from; POS sells from one warehouse.
    warehouse: Code
    api_token: Secret
    base_url: HttpUrl | None = None


Channel = Annotated[
    ShopifyChannel | WooCommerceChannel | AmazonChannel | PosChannel, Field(discriminator="kind")
]


# --- Warehouses and stock rules ---------------------------------------------------------------


class WarehouseSettings(Section):
    code: Code
    name: str = ""
    # The Odoo `stock.warehouse` short code (e.g. `WH`); defaults to the upper-cased code.
    odoo_code: str | None = None
    feeds: tuple[Code, ...] = ()
    online: bool = True
    on_hold: bool = False


class SafetyStock(Section):
    """A buffer kept back from a channel: `units` plus `percent` % of the channel's share
    (of the share, not the pool, so more stock never shows fewer units)."""

    units: int = Field(default=0, ge=0)
    percent: Percent = Decimal(0)


class SkuSafetyStock(SafetyStock):
    sku: SkuCode
    channel: Code | None = None  # absent: every channel


class SafetyStockSettings(Section):
    default: SafetyStock = Field(default_factory=SafetyStock)
    channels: dict[Code, SafetyStock] = Field(default_factory=dict)
    skus: tuple[SkuSafetyStock, ...] = ()


class LowStockFenceSettings(Section):
    """Deal a SKU's last units between channels so that together they never show more than there
    is (`channelhub.domain.fence`): while the units not sold yet are at or below `below`, each
    channel in `channels` shows only its deal (by weight) minus what it sold since. A retailer's
    policy: it ends cross-channel oversells at any latency, at the price of a unit dealt to one
    channel not being sold on another. The channels must be shared ones fed by the same warehouses."""

    below: int = Field(ge=0, le=100_000)
    channels: dict[Code, Annotated[int, Field(ge=1, le=1000)]]


class PackSizeRule(Section):
    sku: SkuCode
    channel: Code
    units: int = Field(ge=1)


class Tier(Section):
    workers: int = Field(ge=1, le=256)
    max_attempts: int = Field(default=10, ge=1, le=1000)
    base_delay_s: float = Field(default=0.5, gt=0)
    max_delay_s: float = Field(default=300.0, gt=0)
    lease_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _delays_ordered(self) -> Tier:
        if self.max_delay_s < self.base_delay_s:
            raise PydanticCustomError("tier", "max_delay_s must be at least base_delay_s")
        return self


class Tiers(Section):
    """Tier 1 (seconds): stock, orders, payments; tier 2 (minutes): shipments, price releases;
    tier 3 (batch): catalog, reconciliation. Tier 1 always has its own workers."""

    tier1: Tier = Field(default_factory=lambda: Tier(workers=4, max_delay_s=60.0))
    tier2: Tier = Field(default_factory=lambda: Tier(workers=2))
    tier3: Tier = Field(default_factory=lambda: Tier(workers=1, max_delay_s=3600.0))


# --- Infrastructure ---------------------------------------------------------------------------


class DatabaseSettings(Section):
    url: str = DEFAULT_DATABASE_URL
    password: Secret | None = None

    @field_validator("url")
    @classmethod
    def _supported_url(cls, url: str, info: ValidationInfo) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url)
        except ArgumentError:
            raise PydanticCustomError("database_url", "not a database URL") from None
        if parsed.get_backend_name() not in ("sqlite", "postgresql"):
            raise PydanticCustomError("database_url", "use sqlite:///PATH or postgresql://HOST/DB")
        if parsed.password is not None:
            raise PydanticCustomError(
                "database_url", "put the password in database.password as {env: NAME}, not in the URL"
            )
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
            path = Path(parsed.database or "")
            if not path.is_absolute():
                # Relative to the config file, so the engine finds the same file from any directory.
                context = info.context if isinstance(info.context, Mapping) else {}
                base_dir = Path(context.get("base_dir") or ".")
                url = parsed.set(database=str((base_dir / path).resolve())).render_as_string()
        return url

    def connection_url(self) -> str:
        """The URL with the password filled in. Hand it to the engine; never print or log it."""
        if self.password is None:
            return self.url
        from sqlalchemy.engine import make_url

        with_password = make_url(self.url).set(password=self.password.get_secret_value())
        return with_password.render_as_string(hide_password=False)

    @property
    def backend(self) -> str:
        return "postgresql" if self.url.startswith("postgresql") else "sqlite"


class BusSettings(Section):
    kind: Literal["local", "nats"] = "local"
    url: Annotated[str, Field(pattern=r"^(nats|tls)://\S+$")] | None = None
    stream: Code = "channelhub"
    token: Secret | None = None

    @model_validator(mode="after")
    def _nats_needs_url(self) -> BusSettings:
        if self.kind == "nats" and self.url is None:
            raise PydanticCustomError("bus", "kind nats needs a url (nats://HOST:4222)")
        return self


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
