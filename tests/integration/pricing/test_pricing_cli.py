"""`channelhub price …` and `channelhub audit …` against a store prepared with fake channels."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from channelhub.cli import app
from channelhub.service.pricing import PricelistChange, SourcePrice
from channelhub.store.pricing_tables import audit_log
from tests.integration.pricing.conftest import PRICING_YAML, build_desk, d


def test_review_commands_and_audit_verify(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    pricing = tmp_path / "pricing.yaml"
    pricing.write_text(PRICING_YAML, encoding="utf-8")
    desk = build_desk(url)
    for n, amount in enumerate(("50.00", "40.00")):
        desk.source.push(
            PricelistChange(1, (SourcePrice("A-1", d(amount), "EUR", ref=f"r{n}"),), f"t{n}", "maria")
        )
    pending, rejected = asyncio.run(desk.service.capture.poll())
    desk.engine.dispose()
    runner = CliRunner()
    common = ["--database", url, "--pricing", str(pricing)]

    listed = runner.invoke(app, ["price", "list", "--status", "pending_approval", "--json", *common])
    assert listed.exit_code == 0, listed.output
    assert [c["id"] for c in json.loads(listed.stdout)] == [pending.id]
    shown = json.loads(runner.invoke(app, ["price", "show", str(rejected.id), *common]).stdout)
    assert shown["status"] == "rejected" and shown["decision"]["rule"] == "below_margin_floor"
    assert {"sku", "channel", "old_price", "new_price"} <= set(shown["items"][0])
    assert [row["action"] for row in shown["audit"]] == ["captured", "proposed", "decided"]

    mine = runner.invoke(app, ["price", "approve", str(pending.id), "--as", "maria", *common])
    assert mine.exit_code == 2 and "proposed this change set" in mine.output
    no_role = runner.invoke(app, ["price", "approve", str(pending.id), "--as", "carol", *common])
    assert no_role.exit_code == 2 and "price_approver" in no_role.output
    approved = runner.invoke(
        app, ["price", "approve", str(pending.id), "--as", "alice", "--comment", "ok", *common]
    )
    assert approved.exit_code == 0 and "scheduled" in approved.output
    missing = runner.invoke(app, ["price", "show", "999", *common])
    assert missing.exit_code == 2 and "999" in missing.output

    preview = json.loads(runner.invoke(app, ["price", "preview", str(pending.id), *common]).stdout)
    assert preview["skus"] == 1 and preview["channels"] == ["shop", "web"]
    history = json.loads(runner.invoke(app, ["price", "history", "A-1", "--channel", "shop", *common]).stdout)
    assert [v["cause"] for v in history] == ["baseline"]

    exported = tmp_path / "audit.csv"
    runner.invoke(app, ["audit", "export", "--format", "csv", "-o", str(exported), *common])
    assert exported.read_text().count("\n") == 1 + 8
    assert runner.invoke(app, ["audit", "verify", *common]).exit_code == 0
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 5).values(actor="mallory"))
    engine.dispose()
    tampered = runner.invoke(app, ["audit", "verify", *common])
    assert tampered.exit_code == 1 and "row 5" in tampered.output
