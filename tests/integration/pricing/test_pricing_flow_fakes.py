"""The change-set journey on SQLite with a fake source and fake channels."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from channelhub.domain import ApprovalRefused, InvalidTransition, MissingApproverRole, SelfApprovalForbidden
from channelhub.service.pricing import ChangeSetStatus, PricelistChange, PricingError, SourcePrice
from channelhub.store.pricing_tables import audit_log
from channelhub.store.repositories import StateRepositories
from tests.integration.pricing.conftest import T0, Desk, d


def change(*prices: tuple[str, str], stamp: str = "2026-03-02 08:59:00", **window: object) -> PricelistChange:
    return PricelistChange(
        1,
        tuple(SourcePrice(sku, d(amount), "EUR", **window) for sku, amount in prices),  # type: ignore[arg-type]
        stamp,
        "maria",
    )


async def test_big_cut_waits_for_a_price_approver_who_is_not_the_proposer(desk: Desk) -> None:
    desk.source.push(change(("A-1", "50.00")))
    [created] = await desk.service.capture.poll()
    assert created.status is ChangeSetStatus.PENDING_APPROVAL
    assert created.rule == "drop_above_threshold" and created.proposed_by == "maria"
    shop_item = next(i for i in created.items if i.channel == "shop")
    assert (shop_item.old_price, shop_item.new_price) == (d("99.99"), d("49.99"))  # .99 rounding
    assert (await desk.service.release.run_due()).published == [] and desk.shop.prices["A-1"] == d("99.99")

    governance = desk.service.governance
    with pytest.raises(SelfApprovalForbidden):
        governance.approve(created.id, desk.service.context.approver("maria"), "mine")
    with pytest.raises(MissingApproverRole):
        governance.approve(created.id, desk.service.context.approver("carol"), "ok")
    approved = governance.approve(created.id, desk.service.context.approver("alice"), "summer sale")
    assert approved.status is ChangeSetStatus.SCHEDULED

    report = await desk.service.release.run_due()
    assert report.published == [created.id]
    assert desk.shop.prices["A-1"] == d("49.99") and desk.web.prices["A-1"] == d("50.00")
    history = governance.history("A-1", "shop")
    assert [(v["cause"], v["price"]) for v in history] == [("baseline", "99.99"), ("release", "49.99")]

    desk.clock.advance(60)
    rolled = await desk.service.release.rollback(
        created.id, desk.service.context.approver("bob"), "wrong promo"
    )
    assert rolled.rolled_back == {created.id: "wrong promo"}
    assert desk.shop.prices["A-1"] == d("99.99") and desk.web.prices["A-1"] == d("100.00")
    assert governance.get(created.id).status is ChangeSetStatus.ROLLED_BACK
    actions = [row["action"] for row in desk.service.audit_trail(f"price-change:{created.id}")]
    assert actions == [
        "captured", "proposed", "decided", "approved", "scheduled", "released", "verified", "released",
        "verified", "published", "rollback_verified", "rollback_verified", "rolled_back",
    ]  # fmt: skip
    assert desk.service.audit_verify().ok


async def test_small_change_is_auto_approved_and_the_same_capture_is_not_proposed_twice(desk: Desk) -> None:
    desk.source.push(change(("A-2", "82.00")))
    [created] = await desk.service.capture.poll()
    assert created.status is ChangeSetStatus.SCHEDULED and created.rule == "within_threshold"
    desk.source.pending.append(desk.source.pending[0])  # re-delivered by the poll overlap
    assert await desk.service.capture.poll() == []
    await desk.service.release.run_due()
    assert desk.web.prices["A-2"] == d("82.00") and desk.shop.prices["A-2"] == d("81.99")


async def test_below_cost_and_below_map_are_rejected_naming_the_rule(desk: Desk) -> None:
    desk.source.push(change(("A-1", "41.00")))
    desk.source.push(change(("MAP-1", "45.00"), stamp="2026-03-02 08:59:30"))
    below_cost, below_map = await desk.service.capture.poll()
    assert below_cost.status is ChangeSetStatus.REJECTED and below_cost.rule == "below_margin_floor"
    assert below_map.status is ChangeSetStatus.REJECTED and below_map.rule == "below_map"
    assert "MAP floor" in below_map.reason
    with pytest.raises(InvalidTransition):
        desk.service.governance.approve(below_cost.id, desk.service.context.approver("alice"), "")


async def test_future_window_publishes_at_date_start_and_reverts_at_date_end(desk: Desk) -> None:
    starts, ends = T0 + timedelta(hours=2), T0 + timedelta(hours=5)
    desk.source.push(change(("A-2", "79.00"), starts=starts, ends=ends))
    [created] = await desk.service.capture.poll()
    assert created.effective_from == starts and created.status is ChangeSetStatus.SCHEDULED
    await desk.service.release.run_due()
    assert desk.web.prices["A-2"] == d("80.00")  # not yet
    desk.clock.advance(2 * 3600)
    assert (await desk.service.release.run_due()).published == [created.id]
    assert desk.web.prices["A-2"] == d("79.00")
    desk.clock.advance(3 * 3600)
    assert (await desk.service.release.run_due()).reverted == [created.id]
    assert desk.web.prices["A-2"] == d("80.00") and desk.shop.prices["A-2"] == d("79.99")
    assert desk.service.governance.get(created.id).status is ChangeSetStatus.REVERTED


async def test_two_approvers_above_the_revenue_at_risk_threshold(desk: Desk) -> None:
    desk.velocity.units[("shop", "A-1")] = d("100")
    desk.source.push(change(("A-1", "70.00")))
    [created] = await desk.service.capture.poll()
    assert created.approvals_required == 2 and created.revenue_at_risk > d("5000")
    governance, approver = desk.service.governance, desk.service.context.approver
    first = governance.approve(created.id, approver("alice"), "ok")
    assert first.status is ChangeSetStatus.PENDING_APPROVAL
    with pytest.raises(ApprovalRefused):
        governance.approve(created.id, approver("alice"), "again")
    assert governance.approve(created.id, approver("bob"), "ok").status is ChangeSetStatus.SCHEDULED
    preview = await governance.preview(created.id)
    assert preview["skus"] == 1 and preview["channels"] == ["shop", "web"]
    assert preview["revenue_delta"] == str((d("69.99") - d("99.99")) * 100 * 7 + (d("70") - d("100")) * 2 * 7)


async def test_a_failing_channel_is_retried_then_held_without_half_publishing(desk: Desk) -> None:
    desk.source.push(change(("A-1", "98.00"), ("A-2", "79.00")))
    [created] = await desk.service.capture.poll()
    desk.web.refuse.add("A-2")
    report = await desk.service.release.run_due()
    assert created.id in report.held and "refused" in report.held[created.id]
    assert desk.web.prices == {"A-1": d("100.00"), "A-2": d("80.00"), "MAP-1": d("60.00")}  # compensated
    held = desk.service.governance.get(created.id)
    assert held.status is ChangeSetStatus.HELD and "web" in held.hold_reason
    with desk.engine.connect() as connection:
        [exception] = StateRepositories.on(connection).exceptions.open()
    assert exception.kind == "price_release_held" and exception.subject == f"price-change:{created.id}:web"

    desk.web.refuse.clear()
    retried = await desk.service.release.retry(created.id, "alice")
    assert retried.published == [created.id] and desk.web.prices["A-2"] == d("79.00")


async def test_transient_failures_are_retried_until_verified(desk: Desk) -> None:
    desk.source.push(change(("A-2", "79.00")))
    [created] = await desk.service.capture.poll()
    desk.shop.fail_calls = 2
    assert (await desk.service.release.run_due()).published == [created.id]
    assert desk.shop.prices["A-2"] == d("78.99") and desk.shop.calls == 3


async def test_tampering_with_an_audit_row_is_named_by_verify(desk: Desk) -> None:
    desk.source.push(change(("A-1", "50.00")))
    [created] = await desk.service.capture.poll()
    desk.service.governance.reject(created.id, desk.service.context.approver("alice"), "too deep")
    assert desk.service.audit_verify().ok and desk.service.audit_verify().count == 4
    with desk.engine.begin() as connection:
        connection.execute(sa.update(audit_log).where(audit_log.c.seq == 2).values(actor="mallory"))
    report = desk.service.audit_verify()
    assert not report.ok and report.first_bad_seq == 2 and "changed" in (report.problem or "")
    exported = desk.service.audit_export("csv")
    assert exported.splitlines()[0].startswith("seq,at,actor") and "mallory" in exported


async def test_rejection_needs_a_comment_and_rollback_needs_the_role(desk: Desk) -> None:
    desk.source.push(change(("A-1", "50.00")))
    [created] = await desk.service.capture.poll()
    with pytest.raises(PricingError):
        desk.service.governance.reject(created.id, desk.service.context.approver("alice"), " ")
    with pytest.raises(MissingApproverRole):
        await desk.service.release.rollback(created.id, desk.service.context.approver("carol"), "why")


async def test_a_sku_a_channel_does_not_list_is_left_out_for_that_channel(desk: Desk) -> None:
    desk.shop.prices["ONLY-SHOP"] = d("20.00")
    desk.source.push(change(("ONLY-SHOP", "20.50")))
    [created] = await desk.service.capture.poll()
    assert [(i.sku, i.channel) for i in created.items] == [("ONLY-SHOP", "shop")]
    [proposed] = [
        r for r in desk.service.audit_trail(f"price-change:{created.id}") if r["action"] == "proposed"
    ]
    assert proposed["after"]["not_listed"] == ["ONLY-SHOP@web"]
    assert (await desk.service.release.run_due()).published == [created.id]


async def test_two_schedulers_at_once_publish_each_channel_once(desk: Desk) -> None:
    desk.source.push(change(("A-2", "79.00")))
    [created] = await desk.service.capture.poll()
    first, second = await asyncio.gather(desk.service.release.run_due(), desk.service.release.run_due())
    assert sorted(first.published + second.published) == [created.id]
    assert (desk.shop.calls, desk.web.calls) == (1, 1)
    history = desk.service.governance.history("A-2", "web")
    assert [v["cause"] for v in history] == ["baseline", "release"]
