"""The landscape: one YAML file describing Odoo, the channels, warehouses and the stock rules.

`load_config(path)` reads and validates it; every problem is reported at once as a `ConfigError`
whose lines name the key path and the YAML line and column (`channelhub.yaml:12:5: channels[0]...`).

Secrets never live in the file. A secret field is written as a reference, resolved at load time and
held as a `pydantic.SecretStr` (printed as `**********`), see `config_secrets`:

    api_key: {env: ODOO_API_KEY}              # from an environment variable
    api_key: {file: /run/secrets/odoo_key}    # from a file (relative to the config file)

The sections are defined in `config_sections`, YAML positions and errors in `config_yaml`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError

from channelhub.config_secrets import SecretReference, secret_references
from channelhub.config_sections import (
    PATTERN_HINTS,
    AmazonChannel,
    ApiSettings,
    BusSettings,
    Channel,
    DatabaseSettings,
    FixedCapAllocation,
    LowStockFenceSettings,
    OdooSettings,
    PackSizeRule,
    PercentageAllocation,
    PosChannel,
    SafetyStock,
    SafetyStockSettings,
    Section,
    SharedAllocation,
    ShopifyChannel,
    Tiers,
    WarehouseSettings,
    WooCommerceChannel,
)
from channelhub.config_yaml import (
    ConfigError,
    ConfigIssue,
    YamlDocument,
    issues_from_validation,
    read_config_text,
)
from channelhub.domain.allocation import (
    AllocationRules,
    ChannelAllocation,
    ChannelShare,
)
from channelhub.domain.allocation import SafetyStock as DomainSafetyStock
from channelhub.domain.allocation import SkuSafetyStock as DomainSkuSafetyStock
from channelhub.domain.catalog import Sku
from channelhub.domain.fence import LowStockFence
from channelhub.domain.stock import Warehouse

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "ConfigError",
    "ConfigIssue",
    "Landscape",
    "SecretReference",
    "default_config_path",
    "example_config",
    "load_config",
    "low_stock_fence_yaml",
    "parse_config",
    "secret_references",
]

DEFAULT_CONFIG_PATH = Path("channelhub.yaml")
CONFIG_PATH_ENV = "CHANNELHUB_CONFIG"


def default_config_path() -> Path:
    """`$CHANNELHUB_CONFIG` if set, else `channelhub.yaml` in the working directory."""
    return Path(os.environ.get(CONFIG_PATH_ENV) or DEFAULT_CONFIG_PATH)


class Landscape(Section):
    """The whole landscape file."""

    version: Literal[1] = 1
    odoo: OdooSettings
    # "At least one" is checked with the cross-references: a length error on a list whose items
    # failed would only repeat those errors.
    channels: tuple[Channel, ...]
    warehouses: tuple[WarehouseSettings, ...]
    safety_stock: SafetyStockSettings = Field(default_factory=SafetyStockSettings)
    pack_sizes: tuple[PackSizeRule, ...] = ()
    low_stock_fence: LowStockFenceSettings | None = None
    tiers: Tiers = Field(default_factory=Tiers)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    bus: BusSettings = Field(default_factory=BusSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    def channel(self, name: str) -> ShopifyChannel | WooCommerceChannel | AmazonChannel | PosChannel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)

    def warehouses_feeding(self, channel: str) -> tuple[WarehouseSettings, ...]:
        """Warehouses mapped to `channel` (including offline or held ones; the domain filters)."""
        return tuple(warehouse for warehouse in self.warehouses if channel in warehouse.feeds)

    def pack_size_for(self, channel: str, sku: str) -> int:
        for rule in self.pack_sizes:
            if rule.channel == channel and rule.sku == sku:
                return rule.units
        return 1

    def domain_warehouses(self) -> tuple[Warehouse, ...]:
        return tuple(
            Warehouse(code=w.code, name=w.name, online=w.online, on_hold=w.on_hold) for w in self.warehouses
        )

    def allocation_rules(self) -> AllocationRules:
        """The domain's allocation rules; a SKU rule without a channel applies to every channel
        that has no rule of its own for that SKU."""
        allocations = tuple(
            ChannelAllocation(
                channel=channel.name,
                warehouses=tuple(w.code for w in self.warehouses_feeding(channel.name)),
                share=_share(channel.allocation),
                safety=_safety(self.safety_stock.channels.get(channel.name, self.safety_stock.default)),
                carve_priority=getattr(channel.allocation, "carve_priority", 100),
            )
            for channel in self.channels
        )
        specific = {(rule.channel, rule.sku) for rule in self.safety_stock.skus if rule.channel}
        sku_safety = [
            DomainSkuSafetyStock(channel=channel, sku=Sku(rule.sku), safety=_safety(rule))
            for rule in self.safety_stock.skus
            for channel in ([rule.channel] if rule.channel else [c.name for c in self.channels])
            if rule.channel or (channel, rule.sku) not in specific
        ]
        fence = self.low_stock_fence
        return AllocationRules(
            channels=allocations,
            sku_safety=tuple(sku_safety),
            fence=None if fence is None else LowStockFence(fence.below, tuple(fence.channels.items())),
        )


def low_stock_fence_yaml(below: int | None, channels: Sequence[str]) -> str:
    """The `low_stock_fence` section dealing equally between `channels` at `below` units left, as
    landscape YAML (empty when `below` is None): for generated landscapes (sandbox, benchmarks)."""
    if below is None:
        return ""
    weights = ", ".join(f"{channel}: 1" for channel in channels)
    return f"low_stock_fence:\n  below: {below}\n  channels: {{{weights}}}\n"


def _share(rule: SharedAllocation | PercentageAllocation | FixedCapAllocation) -> ChannelShare:
    if isinstance(rule, PercentageAllocation):
        return ChannelShare.percentage(rule.percent)
    if isinstance(rule, FixedCapAllocation):
        return ChannelShare.fixed_cap(rule.units)
    return ChannelShare.shared()


def _safety(rule: SafetyStock) -> DomainSafetyStock:
    return DomainSafetyStock(units=rule.units, percent=rule.percent)


def _cross_references(landscape: Landscape) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks that span sections: names are unique and every reference points at something."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    channel_names = {channel.name for channel in landscape.channels}
    warehouse_codes = {warehouse.code for warehouse in landscape.warehouses}

    def unknown_channel(loc: tuple[str | int, ...], name: str) -> None:
        if name not in channel_names:
            problems.append((loc, f"unknown channel {name!r} (channels: {', '.join(sorted(channel_names))})"))

    if not landscape.channels:
        problems.append((("channels",), "list at least one channel"))
    if not landscape.warehouses:
        problems.append((("warehouses",), "list at least one warehouse"))
    seen: set[str] = set()
    for index, channel in enumerate(landscape.channels):
        if channel.name in seen:
            problems.append((("channels", index, "name"), f"channel {channel.name!r} is defined twice"))
        seen.add(channel.name)
        warehouse_refs: list[tuple[tuple[str | int, ...], str]] = []
        if isinstance(channel, ShopifyChannel):
            warehouse_refs = [(("channels", index, "locations", code), code) for code in channel.locations]
        elif isinstance(channel, PosChannel):
            warehouse_refs = [(("channels", index, "warehouse"), channel.warehouse)]
        for loc, code in warehouse_refs:
            if code not in warehouse_codes:
                problems.append((loc, f"unknown warehouse {code!r}"))
    seen = set()
    for index, warehouse in enumerate(landscape.warehouses):
        if warehouse.code in seen:
            problems.append((("warehouses", index, "code"), f"warehouse {warehouse.code!r} is defined twice"))
        seen.add(warehouse.code)
        for position, name in enumerate(warehouse.feeds):
            unknown_channel(("warehouses", index, "feeds", position), name)
    for name in landscape.safety_stock.channels:
        unknown_channel(("safety_stock", "channels", name), name)
    for index, rule in enumerate(landscape.safety_stock.skus):
        if rule.channel is not None:
            unknown_channel(("safety_stock", "skus", index, "channel"), rule.channel)
    safety_keys: set[tuple[str, str | None]] = set()
    for index, rule in enumerate(landscape.safety_stock.skus):
        if (rule.sku, rule.channel) in safety_keys:
            problems.append((("safety_stock", "skus", index), f"safety stock for {rule.sku} given twice"))
        safety_keys.add((rule.sku, rule.channel))
    pack_keys: set[tuple[str, str]] = set()
    for index, pack in enumerate(landscape.pack_sizes):
        unknown_channel(("pack_sizes", index, "channel"), pack.channel)
        if (pack.sku, pack.channel) in pack_keys:
            problems.append(
                (("pack_sizes", index), f"pack size for {pack.sku} on {pack.channel} given twice")
            )
        pack_keys.add((pack.sku, pack.channel))
    problems.extend(_fence_problems(landscape))
    return problems


def _fence_problems(landscape: Landscape) -> list[tuple[tuple[str | int, ...], str]]:
    fence = landscape.low_stock_fence
    if fence is None:
        return []
    loc: tuple[str | int, ...] = ("low_stock_fence", "channels")
    if len(fence.channels) < 2:
        return [(loc, "the fence deals between at least two channels")]
    known = {channel.name: channel for channel in landscape.channels}
    problems: list[tuple[tuple[str | int, ...], str]] = []
    feeds: set[frozenset[str]] = set()
    for name in fence.channels:
        channel = known.get(name)
        if channel is None:
            problems.append(((*loc, name), f"unknown channel {name!r}"))
        elif not isinstance(channel.allocation, SharedAllocation):
            problems.append(((*loc, name), f"channel {name!r} must have a shared allocation to be fenced"))
        else:
            feeds.add(frozenset(w.code for w in landscape.warehouses_feeding(name)))
    if not problems and len(feeds) > 1:
        problems.append((loc, "the fenced channels must be fed by the same warehouses"))
    return problems


def parse_config(
    text: str,
    *,
    source: str = "<config>",
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    resolve_secrets: bool = True,
) -> Landscape:
    """Validate landscape YAML `text`.

    `environ` resolves `{env: ...}` secrets (default `os.environ`), `base_dir` relative paths
    (default the working directory). `resolve_secrets=False` checks only the form of secret
    references and leaves the values empty (for `config check` on a machine without the secrets).
    """
    document = YamlDocument.parse(text, source)
    context = {
        "environ": os.environ if environ is None else environ,
        "base_dir": base_dir or Path.cwd(),
        "resolve_secrets": resolve_secrets,
    }
    try:
        landscape = Landscape.model_validate(document.data, context=context)
    except ValidationError as exc:
        raise ConfigError(issues_from_validation(document, exc, PATTERN_HINTS)) from None
    problems = _cross_references(landscape)
    if problems:
        raise ConfigError([document.issue(loc, message) for loc, message in problems])
    return landscape


def load_config(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
) -> Landscape:
    """Read and validate the landscape file at `path` (default: `default_config_path()`); secrets
    are resolved, relative paths are taken from the file's directory."""
    path = default_config_path() if path is None else Path(path)
    return parse_config(
        read_config_text(path),
        source=str(path),
        environ=environ,
        base_dir=path.resolve().parent,
        resolve_secrets=resolve_secrets,
    )


def example_config() -> str:
    """The commented example landscape that `channelhub init` writes."""
    from importlib.resources import files

    return files("channelhub").joinpath("config_example.yaml").read_text(encoding="utf-8")


def summarize(value: Any) -> str:
    """A one-line description of an allocation or safety-stock rule, for tables."""
    if isinstance(value, SharedAllocation):
        return "shared (100 %)"
    if isinstance(value, PercentageAllocation):
        return f"{_plain(value.percent)} % of pool"
    if isinstance(value, FixedCapAllocation):
        return f"at most {value.units} units (carve priority {value.carve_priority})"
    if isinstance(value, SafetyStock):
        parts = [f"{value.units} units"] if value.units or not value.percent else []
        parts += [f"{_plain(value.percent)} % of share"] if value.percent else []
        return " + ".join(parts)
    return str(value)


def _plain(number: Decimal) -> str:
    return format(number.normalize(), "f")
