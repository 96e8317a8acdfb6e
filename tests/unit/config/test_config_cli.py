"""`channelhub init`, `config check` and `contracts export` through the real Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from channelhub.cli import app
from channelhub.config import secret_references
from channelhub.domain.events import event_json_schemas

runner = CliRunner()


def test_init_writes_a_config_that_check_accepts(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text().count("#") > 40  # every section is explained
    checked = runner.invoke(app, ["config", "check", str(path)], env={"COLUMNS": "200"})
    assert checked.exit_code == 0, checked.output
    for expected in ("is valid", "shopify-eu", "woo-b2c", "wh-main", "40 % of pool", "ODOO_API_KEY"):
        assert expected in checked.output


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    path.write_text("mine")
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 1
    assert "--force" in result.output
    assert path.read_text() == "mine"
    assert runner.invoke(app, ["init", str(path), "--force"]).exit_code == 0
    assert path.read_text().startswith("# channelhub landscape")


def test_check_require_secrets_needs_every_variable(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    runner.invoke(app, ["init", str(path)])
    names = {ref.target for ref in secret_references(path)}
    missing = runner.invoke(
        app, ["config", "check", str(path), "--require-secrets"], env=dict.fromkeys(names, "")
    )
    assert missing.exit_code == 1
    assert "ODOO_API_KEY" in missing.output and "Traceback" not in missing.output
    environ = {name: f"value-of-{name}" for name in names}
    present = runner.invoke(app, ["config", "check", str(path), "--require-secrets"], env=environ)
    assert present.exit_code == 0, present.output
    assert "value-of-" not in present.output


def test_check_reports_problems_with_lines_not_tracebacks(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    runner.invoke(app, ["init", str(path)])
    text = path.read_text().replace("protocol: jsonrpc", "protocol: soap")
    path.write_text(text)
    result = runner.invoke(app, ["config", "check", str(path)])
    assert result.exit_code == 1
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "protocol: soap" in row)
    assert f"{path}:{line}:3: odoo.protocol" in result.output
    assert "Traceback" not in result.output
    absent = runner.invoke(app, ["config", "check", str(tmp_path / "absent.yaml")])
    assert absent.exit_code == 1 and "cannot read" in absent.output


def test_contracts_export_writes_one_schema_per_event_type(tmp_path: Path) -> None:
    target = tmp_path / "contracts"
    result = runner.invoke(app, ["contracts", "export", str(target)])
    assert result.exit_code == 0, result.output
    schemas = event_json_schemas()
    assert schemas, "the domain registers canonical events"
    assert sorted(p.name for p in target.iterdir()) == sorted(f"{name}.schema.json" for name in schemas)
    for name, schema in schemas.items():
        assert json.loads((target / f"{name}.schema.json").read_text()) == schema


@pytest.mark.parametrize("command", [["init"], ["config"], ["config", "check"], ["contracts", "export"], []])
def test_every_command_has_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert len(result.output.strip().splitlines()) > 3


def test_commands_default_to_channelhub_config_env(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.yaml"
    environ = {"CHANNELHUB_CONFIG": str(path)}
    assert runner.invoke(app, ["init"], env=environ).exit_code == 0
    assert path.exists()
    checked = runner.invoke(app, ["config", "check"], env=environ)
    assert checked.exit_code == 0, checked.output
    assert "elsewhere.yaml" in checked.output


def test_summary_shows_user_text_literally(tmp_path: Path) -> None:
    path = tmp_path / "channelhub.yaml"
    runner.invoke(app, ["init", str(path)])
    # Rich would read "[red]" as markup and swallow it; names must appear as written.
    path.write_text(
        path.read_text().replace("sku: WATER-1L", "sku: 'WATER[red]'").replace("Berlin store", "'[b]Berlin'")
    )
    result = runner.invoke(app, ["config", "check", str(path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "WATER[red]" in result.output and "[b]Berlin" in result.output
