"""Landscape validation: the example is valid, and every error names its key path and YAML line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from channelhub.config import ConfigError, Landscape, example_config, load_config, parse_config
from channelhub.domain.allocation import ShareKind
from channelhub.domain.catalog import Sku

ENV = {"ODOO_KEY": "odoo-secret", "SHOP_TOKEN": "shop-token", "SHOP_SECRET": "shop-secret"}

MINIMAL = """\
version: 1
odoo:
  url: https://odoo.example.com
  database: shop
  login: bot@example.com
  api_key: {env: ODOO_KEY}
channels:
  - name: shopify-eu
    kind: shopify
    currency: EUR
    shop_domain: demo.myshopify.com
    api_version: "2025-10"
    access_token: {env: SHOP_TOKEN}
    client_secret: {env: SHOP_SECRET}
warehouses:
  - code: wh-main
    feeds: [shopify-eu]
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the `occurrence`-th line containing `needle`."""
    hits = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def errors_of(text: str, **kwargs: object) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="test.yaml", environ=ENV, **kwargs)  # type: ignore[arg-type]
    return [(issue.line, issue.path, issue.message) for issue in caught.value.issues]


def test_minimal_config_loads_with_defaults() -> None:
    landscape = parse_config(MINIMAL, environ=ENV)
    assert landscape.odoo.protocol == "jsonrpc"
    assert landscape.channels[0].name == "shopify-eu"
    assert landscape.database.backend == "sqlite"
    assert landscape.bus.kind == "local"
    assert landscape.tiers.tier1.workers >= 1
    assert landscape.safety_stock.default.units == 0


def test_example_config_is_valid_and_maps_to_domain_rules() -> None:
    landscape = parse_config(example_config(), resolve_secrets=False)
    rules = landscape.allocation_rules()
    assert rules.allocation("shopify-eu").warehouses == ("wh-main", "wh-berlin")
    assert rules.allocation("shopify-eu").share.kind is ShareKind.SHARED
    assert rules.allocation("woo-b2c").share.percent == Decimal(40)
    assert rules.allocation("amazon-de").share.cap == 25
    assert rules.allocation("amazon-de").safety.percent == Decimal(10)
    assert rules.allocation("amazon-de").safety.units == 1
    tshirt = Sku("TSHIRT-RED-M")
    # The channel-specific SKU rule beats the every-channel SKU rule, which beats the channel default.
    assert rules.safety_for("pos-berlin", tshirt).units == 0
    assert rules.safety_for("shopify-eu", tshirt).units == 5
    assert rules.safety_for("shopify-eu", Sku("OTHER")).units == 2
    assert landscape.pack_size_for("amazon-de", "WATER-1L") == 6
    assert landscape.pack_size_for("shopify-eu", "WATER-1L") == 1
    assert [w.code for w in landscape.domain_warehouses()] == ["wh-main", "wh-berlin"]


def test_wrong_literal_names_key_path_line_and_column() -> None:
    text = MINIMAL.replace('api_version: "2025-10"', 'api_version: "2024-01"')
    [(line, path, message)] = errors_of(text)
    assert line == line_of(text, "api_version")
    assert path == "channels[0].api_version"
    assert "2025-10" in message and "2026-10" in message
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="test.yaml", environ=ENV)
    assert f"test.yaml:{line}:5: channels[0].api_version" in str(caught.value)


def test_unknown_key_is_reported_at_its_line() -> None:
    text = MINIMAL.replace("  database: shop\n", "  database: shop\n  databse: typo\n")
    [(line, path, message)] = errors_of(text)
    assert (line, path) == (line_of(text, "databse"), "odoo.databse")
    assert "unknown key" in message


def test_missing_key_is_reported_at_the_parent() -> None:
    text = MINIMAL.replace("    shop_domain: demo.myshopify.com\n", "")
    [(line, path, message)] = errors_of(text)
    assert line == line_of(text, "- name: shopify-eu")
    assert path == "channels[0].shop_domain"
    assert message == "required key is missing"


def test_every_problem_is_reported_at_once() -> None:
    text = MINIMAL.replace("currency: EUR", "currency: euro").replace("login: bot@example.com", "login: ''")
    found = errors_of(text)
    assert {path for _, path, _ in found} == {"odoo.login", "channels[0].currency"}


def test_duplicate_keys_are_errors_not_silently_overwritten() -> None:
    text = MINIMAL.replace("  database: shop\n", "  database: shop\n  database: other\n")
    assert errors_of(text) == [(line_of(text, "database", occurrence=2), "odoo.database", "key given twice")]


def test_yaml_syntax_error_has_a_line() -> None:
    text = MINIMAL.replace("    feeds: [shopify-eu]", "    feeds: [shopify-eu")
    [(line, _, message)] = errors_of(text)
    assert message.startswith("YAML syntax")
    assert line is not None and line >= line_of(text, "feeds")


@pytest.mark.parametrize(("text", "expected"), [("", "empty file"), ("- a\n- b\n", "a list")])
def test_document_must_be_a_mapping(text: str, expected: str) -> None:
    [(_, _, message)] = errors_of(text)
    assert expected in message


def test_cross_references_point_at_the_bad_item() -> None:
    text = MINIMAL.replace("feeds: [shopify-eu]", "feeds: [shopify-eu, shopfy-us]")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="test.yaml", environ=ENV)
    [issue] = caught.value.issues
    assert issue.path == "warehouses[0].feeds[1]"
    line = line_of(text, "shopfy-us")
    assert (issue.line, issue.column) == (line, text.splitlines()[line - 1].index("shopfy") + 1)
    assert "unknown channel 'shopfy-us'" in issue.message


def test_duplicate_names_and_empty_lists_are_rejected() -> None:
    text = MINIMAL.replace(
        "warehouses:\n  - code: wh-main\n", "warehouses:\n  - code: wh-main\n  - code: wh-main\n"
    )
    [(line, path, message)] = errors_of(text)
    assert (line, path) == (line_of(text, "code: wh-main", occurrence=2), "warehouses[1].code")
    assert "defined twice" in message
    no_channels = MINIMAL[: MINIMAL.index("channels:")] + "channels: []\nwarehouses: []\n"
    assert {message for _, _, message in errors_of(no_channels)} == {
        "list at least one channel",
        "list at least one warehouse",
    }


def test_union_members_report_without_the_tag() -> None:
    text = MINIMAL.replace(
        "    kind: shopify\n", "    kind: shopify\n    allocation: {mode: percentage, percent: 140}\n"
    )
    [(line, path, message)] = errors_of(text)
    assert (line, path) == (line_of(text, "percent: 140"), "channels[0].allocation.percent")
    assert "100" in message
    missing_kind = MINIMAL.replace("    kind: shopify\n", "")
    [(_, path, message)] = errors_of(missing_kind)
    assert (path, message) == ("channels[0]", "missing key 'kind'")
    bad_kind = MINIMAL.replace("kind: shopify", "kind: shopfiy")
    [(line, path, message)] = errors_of(bad_kind)
    assert path == "channels[0]" and "shopfiy" in message and "woocommerce" in message


def test_odoo_credentials_rules() -> None:
    both = MINIMAL.replace(
        "  api_key: {env: ODOO_KEY}\n", "  api_key: {env: ODOO_KEY}\n  password: {env: ODOO_KEY}\n"
    )
    [(line, path, message)] = errors_of(both)
    assert (line, path, message) == (
        line_of(both, "odoo:"),
        "odoo",
        "give exactly one of api_key or password",
    )
    json2_password = MINIMAL.replace(
        "api_key: {env: ODOO_KEY}", "protocol: json2\n  password: {env: ODOO_KEY}"
    )
    assert "json2" in errors_of(json2_password)[0][2]


def test_unquoted_odoo_version_is_read_as_text() -> None:
    landscape = parse_config(
        MINIMAL.replace("  database: shop\n", "  database: shop\n  version: 17.0\n"), environ=ENV
    )
    assert landscape.odoo.version == "17.0"


def test_sqlite_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "channelhub.yaml"
    path.parent.mkdir()
    path.write_text(MINIMAL + "database:\n  url: sqlite:///state/ch.db\n")
    landscape = load_config(path, environ=ENV)
    assert landscape.database.url == f"sqlite:///{tmp_path}/conf/state/ch.db"


def test_database_password_only_as_a_secret() -> None:
    inline = MINIMAL + "database:\n  url: postgresql://ch:hunter2@db:5432/ch\n"
    [(line, path, message)] = errors_of(inline)
    assert (line, path) == (line_of(inline, "url: postgresql"), "database.url")
    assert "hunter2" not in message and "database.password" in message
    text = MINIMAL + "database:\n  url: postgresql://ch@db:5432/ch\n  password: {env: DB_PW}\n"
    landscape = parse_config(text, environ={**ENV, "DB_PW": "p@ss/word"})
    assert landscape.database.backend == "postgresql"
    assert landscape.database.url == "postgresql://ch@db:5432/ch"
    assert "p%40ss%2Fword" in landscape.database.connection_url()
    assert "p@ss" not in repr(landscape)
    assert errors_of(MINIMAL + "database:\n  url: mysql://db/ch\n")[0][1] == "database.url"


def test_landscape_is_immutable() -> None:
    landscape = parse_config(MINIMAL, environ=ENV)
    with pytest.raises(ValueError):
        landscape.odoo.url = "https://elsewhere.example.com"
    assert isinstance(landscape, Landscape)


def test_pattern_errors_are_explained_in_words() -> None:
    text = (
        MINIMAL.replace("currency: EUR", "currency: eur")
        + "safety_stock:\n  channels:\n    Shop EU: {units: 1}\n"
    )
    found = {path: (line, message) for line, path, message in errors_of(text)}
    assert found["channels[0].currency"] == (
        line_of(text, "currency: eur"),
        "must be a three-letter ISO 4217 currency code such as EUR",
    )
    line, message = found["safety_stock.channels.Shop EU"]
    assert line == line_of(text, "Shop EU")
    assert message.startswith("key: must be a lower-case code")


def test_orders_poll_interval_per_channel_with_the_runtime_default() -> None:
    from channelhub.bootstrap import Runtime, RuntimeSettings

    polled = MINIMAL.replace(
        "    client_secret: {env: SHOP_SECRET}\n",
        "    client_secret: {env: SHOP_SECRET}\n    orders_poll_interval_s: 2.5\n",
    )
    landscape = parse_config(polled, environ=ENV)
    assert landscape.channels[0].orders_poll_interval_s == 2.5
    assert (
        Runtime(landscape, RuntimeSettings(backfill_interval_s=30)).orders_poll_interval("shopify-eu") == 2.5
    )
    default = Runtime(parse_config(MINIMAL, environ=ENV), RuntimeSettings(backfill_interval_s=30))
    assert default.orders_poll_interval("shopify-eu") == 30
    with pytest.raises(ConfigError, match="orders_poll_interval_s"):
        parse_config(polled.replace("2.5", "0"), environ=ENV)
    example = parse_config(example_config(), resolve_secrets=False)
    woo = next(channel for channel in example.channels if channel.kind == "woocommerce")
    assert woo.orders_poll_interval_s == 5


TWO_SHOPS = MINIMAL.replace("feeds: [shopify-eu]", "feeds: [shopify-eu, woo]") + (
    "  - code: wh-2\n    feeds: [SECOND]\nlow_stock_fence:\n  below: 12\n  channels: {shopify-eu: 2, woo: 1}\n"
)
WOO = """\
  - name: woo
    kind: woocommerce
    currency: EUR
    url: https://shop.example.com
    consumer_key: {env: WOO_KEY}
    consumer_secret: {env: WOO_SECRET}
    webhook_secret: {env: WOO_HOOK}
"""


def two_shops(second_feeds: str, woo_allocation: str = "") -> str:
    text = TWO_SHOPS.replace("SECOND", second_feeds)
    return text.replace("warehouses:\n", WOO + woo_allocation + "warehouses:\n", 1)


def test_low_stock_fence_maps_to_the_domain_rule() -> None:
    landscape = parse_config(two_shops("shopify-eu, woo"), resolve_secrets=False)
    fence = landscape.allocation_rules().fence
    assert fence is not None and fence.below == 12 and fence.weights == (("shopify-eu", 2), ("woo", 1))
    assert parse_config(MINIMAL, environ=ENV).allocation_rules().fence is None


def test_low_stock_fence_needs_shared_channels_fed_by_the_same_warehouses() -> None:
    [(_, path, message)] = errors_of(two_shops("woo"), resolve_secrets=False)
    assert (path, message) == (
        "low_stock_fence.channels",
        "the fenced channels must be fed by the same warehouses",
    )
    percentage = "    allocation: {mode: percentage, percent: 50}\n"
    [(_, path, message)] = errors_of(two_shops("shopify-eu, woo", percentage), resolve_secrets=False)
    assert path == "low_stock_fence.channels.woo" and "shared allocation" in message
    unknown = two_shops("shopify-eu, woo").replace("woo: 1}", "wooo: 1}")
    assert ("low_stock_fence.channels.wooo", "unknown channel 'wooo'") in [
        (p, m) for _, p, m in errors_of(unknown, resolve_secrets=False)
    ]
