"""`channelhub bench publisher` at a small size: both ways of running the publisher finish the
rewrite, show every sold-out SKU, and the report carries what docs/benchmarks.md quotes."""

from __future__ import annotations

from pathlib import Path

import pytest

from channelhub.benchmarks.publisher import run_mode, run_publisher_bench


@pytest.mark.parametrize("mode", ["pipeline", "rounds"])
async def test_each_mode_rewrites_every_sku_and_shows_the_sale(mode: str, tmp_path: Path) -> None:
    result = await run_mode(mode, skus=600, latency_s=0.01, sale_interval_s=0.01, seed=2, directory=tmp_path)
    assert set(result["rewrite_done_s"]) == {"shop", "web"}  # both show every unsold SKU's new value
    assert result["sale_updates"] > 0 and result["sale_max_s"] is not None
    assert 0 < result["rewrite_p50_s"] <= result["rewrite_p99_s"]
    # 600 SKUs at 250 and 100 per call: at least 3 and 6 calls (the sale adds its own).
    assert result["calls"]["shop"] >= 3 and result["calls"]["web"] >= 6


def test_the_report_names_its_parameters_and_refuses_unknown_modes() -> None:
    report = run_publisher_bench(50, 0.0, 0.0, 1, ("pipeline",), progress=lambda _line: None)
    assert report["params"] == {"skus": 50, "latency_s": 0.0, "sale_interval_s": 0.0, "seed": 1}
    assert report["modes"]["pipeline"]["sale_updates"] == 0
    with pytest.raises(ValueError, match="mode must be one of"):
        run_publisher_bench(50, 0.0, 0.0, 1, ("fastest",), progress=lambda _line: None)
