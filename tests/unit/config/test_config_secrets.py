"""Secrets come only from the environment or files, and are never printed."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelhub.config import ConfigError, load_config, parse_config, secret_references
from tests.unit.config.test_config_landscape import ENV, MINIMAL, line_of

SECRET_VALUES = ("odoo-secret", "shop-token", "shop-secret")


def test_secrets_resolve_from_the_environment() -> None:
    landscape = parse_config(MINIMAL, environ=ENV)
    assert landscape.odoo.api_key is not None
    assert landscape.odoo.api_key.get_secret_value() == "odoo-secret"
    channel = landscape.channel("shopify-eu")
    assert channel.access_token.get_secret_value() == "shop-token"  # type: ignore[union-attr]


def test_secrets_never_appear_in_repr_str_or_dumps() -> None:
    landscape = parse_config(MINIMAL, environ=ENV)
    renderings = [
        repr(landscape),
        str(landscape),
        landscape.model_dump_json(),
        str(landscape.model_dump()),
        str(landscape.model_dump(mode="json")),
        repr(landscape.odoo),
        f"{landscape.odoo.api_key}",
    ]
    for rendering in renderings:
        for secret in SECRET_VALUES:
            assert secret not in rendering
    assert "**********" in landscape.model_dump_json()


def test_missing_environment_variable_names_key_and_variable() -> None:
    environ = {key: value for key, value in ENV.items() if key != "SHOP_SECRET"}
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL, source="test.yaml", environ=environ)
    [issue] = caught.value.issues
    assert issue.path == "channels[0].client_secret"
    assert issue.line == line_of(MINIMAL, "client_secret")
    assert "SHOP_SECRET" in issue.message and "not set" in issue.message
    # An empty variable is as good as missing: an empty token would fail later and less clearly.
    with pytest.raises(ConfigError, match="SHOP_SECRET"):
        parse_config(MINIMAL, environ={**ENV, "SHOP_SECRET": ""})


def test_literal_secret_is_refused_without_echoing_it() -> None:
    text = MINIMAL.replace("access_token: {env: SHOP_TOKEN}", "access_token: shpat_pasted_by_mistake")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="test.yaml", environ=ENV)
    [issue] = caught.value.issues
    assert issue.path == "channels[0].access_token"
    assert "{env: NAME}" in issue.message
    assert "shpat_pasted_by_mistake" not in str(caught.value)


def test_secret_in_error_context_is_not_echoed() -> None:
    # Another field fails while secrets resolved fine: the message must still hold no secret.
    text = MINIMAL.replace("currency: EUR", "currency: 12")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ=ENV)
    for secret in SECRET_VALUES:
        assert secret not in str(caught.value)


def test_file_secret_relative_to_config_trailing_newline_dropped(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "odoo").write_text("from-a-file\n")
    path = tmp_path / "channelhub.yaml"
    path.write_text(MINIMAL.replace("{env: ODOO_KEY}", "{file: secrets/odoo}"))
    landscape = load_config(path, environ=ENV)
    assert landscape.odoo.api_key is not None
    assert landscape.odoo.api_key.get_secret_value() == "from-a-file"


def test_missing_secret_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    path.write_text(MINIMAL.replace("{env: ODOO_KEY}", "{file: nowhere/key}"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=ENV)
    [issue] = caught.value.issues
    assert issue.path == "odoo.api_key"
    assert str(tmp_path / "nowhere" / "key") in issue.message


@pytest.mark.parametrize("reference", ["{env: ''}", "{env: A, file: b}", "{vault: x}", "[ODOO_KEY]"])
def test_malformed_references_are_rejected(reference: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(MINIMAL.replace("{env: ODOO_KEY}", reference), environ=ENV)
    assert caught.value.issues[0].path == "odoo.api_key"


def test_unresolved_mode_checks_form_only() -> None:
    landscape = parse_config(MINIMAL, environ={}, resolve_secrets=False)
    assert landscape.odoo.api_key is not None
    with pytest.raises(ConfigError):
        parse_config(MINIMAL.replace("{env: ODOO_KEY}", "plain"), environ={}, resolve_secrets=False)


def test_secret_references_list_sources_not_values(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    (tmp_path / "key").write_text("x")
    path.write_text(MINIMAL.replace("{env: ODOO_KEY}", "{file: key}"))
    references = secret_references(path, environ={"SHOP_TOKEN": "t"})
    assert [(r.path, r.source, r.target, r.available) for r in references] == [
        ("odoo.api_key", "file", "key", True),
        ("channels[0].access_token", "env", "SHOP_TOKEN", True),
        ("channels[0].client_secret", "env", "SHOP_SECRET", False),
    ]
