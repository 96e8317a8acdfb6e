"""The dashboard in a real browser: log in, see the overview, open a SKU's explanation and an
order's timeline, replay a dead letter and watch it succeed. Screenshots go to artifacts/browser/."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from channelhub.sandbox.server import serve_in_thread
from tests.integration.ops.ops_world import ORDER_KEY, PASSWORD, build_world


def test_operator_logs_in_explains_a_sku_and_replays_a_dead_letter(
    open_browser: Callable[[], AbstractContextManager[Any]], tmp_path: Path, artifacts: Path
) -> None:
    world = build_world(tmp_path)  # before Playwright's loop runs on this thread
    with serve_in_thread(world.app) as server, open_browser() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(10_000)
        console_errors: list[str] = []
        page.on(
            "console",
            lambda message: console_errors.append(message.text) if message.type == "error" else None,
        )

        page.goto(f"{server.url}/dashboard")
        assert "/dashboard/login" in page.url  # anonymous: sent to the login page
        page.fill("input[name=username]", "olivia")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/dashboard")

        assert page.text_content("[data-kpi=dead-letters]") == "3"
        assert page.text_content("[data-kpi=exceptions]") == "1"
        assert "shop" in page.text_content("[data-table=channels]")
        page.wait_for_selector("#overview[data-live-updated]")  # the live refresh ran in the browser
        page.screenshot(path=str(artifacts / "overview.png"), full_page=True)

        page.fill("input[name=sku]", "TEE-M")
        page.press("input[name=sku]", "Enter")
        page.wait_for_url(f"{server.url}/dashboard/skus/TEE-M")
        assert page.locator(".channel-card").count() == 2
        assert "SKU TEE-M on shop" in page.text_content(".channel-card[data-channel=shop] .explanation")
        page.screenshot(path=str(artifacts / "sku-explain.png"), full_page=True)

        page.goto(f"{server.url}/dashboard/orders/{ORDER_KEY}")
        assert "order_mapping_gap" in page.text_content("ol.timeline")
        page.screenshot(path=str(artifacts / "order-timeline.png"), full_page=True)

        world.partner_fixed["fixed"] = True  # the partner fixed their side: replaying will work now
        page.goto(f"{server.url}/dashboard/dead-letters")
        page.click("[data-table=dead-letters] tbody tr:first-child a")
        assert page.get_attribute("[data-event-state]", "data-event-state") == "dead"
        page.click("[data-action=replay]")
        page.wait_for_selector("p.notice")
        assert page.get_attribute("[data-event-state]", "data-event-state") == "pending"
        # The worker uses asyncio.run: give it a thread of its own while Playwright's loop runs here.
        with ThreadPoolExecutor(max_workers=1) as pool:
            assert pool.submit(world.run_worker).result(timeout=30) == 1
        page.wait_for_selector("[data-event-state=handled]")  # the page polls and shows success
        page.screenshot(path=str(artifacts / "dead-letter-replayed.png"), full_page=True)

        page.goto(f"{server.url}/dashboard")
        assert page.text_content("[data-kpi=dead-letters]") == "2"
        assert console_errors == []
        context.close()
    assert (artifacts / "overview.png").stat().st_size > 10_000
