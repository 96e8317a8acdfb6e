"""The `channelhub bench woocommerce` and `channelhub emulate woocommerce` commands."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from channelhub.cli import app


def test_bench_woocommerce_writes_its_json_report(tmp_path: Path) -> None:
    report_path = tmp_path / "woocommerce.json"
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "woocommerce",
            "--skus",
            "40",
            "--rounds",
            "1",
            "--latency-ms",
            "0",
            "--host-rate-limit",
            "0",
            "--json",
            str(report_path),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    loopback = report["results"][0]
    assert report["ok"] is True and loopback["scenario"] == "loopback"
    assert (
        loopback["updates"] == 40 and loopback["readback_mismatches"] == 0 and loopback["updates_per_s"] > 0
    )
    assert "SKU updates/s" in result.output


def test_emulate_woocommerce_documents_its_options() -> None:
    result = CliRunner().invoke(app, ["emulate", "woocommerce", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--consumer-key", "--consumer-secret", "--tls", "--rate-limit", "--webhook-reorder-rate"):
        assert option in result.output
