"""`channelhub bench odoo-stock` end to end on a small catalog (wiring and correctness, no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from channelhub.cli import app


def test_bench_odoo_stock_writes_a_verified_report(tmp_path: Path) -> None:
    target = tmp_path / "odoo-stock.json"
    result = CliRunner().invoke(
        app,
        ["bench", "odoo-stock", "--skus", "300", "--rounds", "1", "--version", "18.0", "--json", str(target)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(target.read_text())
    assert report["ok"] and report["seeded_skus"] == 300 and report["unknown_skus"] == 0
    assert report["on_hand_by_warehouse"] == report["expected_on_hand_by_warehouse"]
    assert report["best"]["quant_records"] == report["raw_quant_pages"]["records"] > 0
    assert "SKUs/s" in result.output


def test_bench_odoo_stock_refuses_bad_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["bench", "odoo-stock", "--skus", "10", "--protocol", "json2", "--json", str(tmp_path / "x.json")],
    )
    assert result.exit_code == 2 and "json2 needs --version 19.0" in result.output
    assert not (tmp_path / "x.json").exists()
