"""`channelhub emulate shopify`: run the Shopify emulator on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add `emulate shopify` to the CLI."""

    @groups.emulate.command("shopify")
    def emulate_shopify(
        port: int = typer.Option(8081, "--port", help="TCP port on 127.0.0.1."),
        seed: int = typer.Option(1, "--seed", help="Seed for the catalog, stock levels and chaos decisions."),
        skus: int = typer.Option(100, "--skus", min=1, help="How many SKUs (variants) the shop sells."),
        plan: str = typer.Option(
            "basic", "--plan", help="Shop plan: basic, advanced or plus (sets the cost bucket)."
        ),
        shop_name: str = typer.Option(
            "channelhub-emulator", "--shop-name", help="Shop handle; the domain is <name>.myshopify.com."
        ),
        locations: int = typer.Option(
            2, "--locations", min=1, help="How many stocked locations the shop has."
        ),
        access_token: str | None = typer.Option(
            None,
            "--access-token",
            help="Admin API access token to accept (generated and printed when omitted).",
        ),
        api_secret: str | None = typer.Option(
            None, "--api-secret", help="App secret that signs webhooks (generated and printed when omitted)."
        ),
        bucket_size: float | None = typer.Option(
            None, "--bucket-size", help="Override the plan's cost bucket size (points)."
        ),
        restore_rate: float | None = typer.Option(
            None, "--restore-rate", help="Override the plan's restore rate (points per second)."
        ),
        webhook_time_scale: float = typer.Option(
            1.0, "--webhook-time-scale", help="Multiply webhook retry delays (e.g. 0.001 for tests)."
        ),
        webhook: list[str] = typer.Option(
            [],
            "--webhook",
            help="Configured subscription TOPIC=URL, e.g. orders/create=http://127.0.0.1:9000/hooks.",
        ),
        latency_ms: float = typer.Option(0.0, "--latency-ms", help="Chaos: added latency per API request."),
        error_rate: float = typer.Option(
            0.0, "--error-rate", help="Chaos: share of API requests answered 5xx."
        ),
        throttle_rate: float = typer.Option(
            0.0, "--throttle-rate", help="Chaos: share of requests forced THROTTLED."
        ),
        outage: list[str] = typer.Option(
            [], "--outage", help="Chaos: outage window START:END in seconds after start (503s)."
        ),
        webhook_duplicate_rate: float = typer.Option(
            0.0, "--webhook-duplicate-rate", help="Chaos: duplicate deliveries."
        ),
        webhook_reorder_window: float = typer.Option(
            0.0,
            "--webhook-reorder-window",
            help="Chaos: hold deliveries up to this many seconds, shuffling order.",
        ),
        webhook_reorder_rate: float = typer.Option(
            0.0,
            "--webhook-reorder-rate",
            help="Chaos: share of deliveries held back until the next one to the same endpoint overtakes them.",
        ),
        webhook_delay: float = typer.Option(
            0.0, "--webhook-delay", help="Chaos: delay every delivery (seconds)."
        ),
        webhook_drop_rate: float = typer.Option(
            0.0, "--webhook-drop-rate", help="Chaos: drop first attempts (redelivered later as retries)."
        ),
        webhook_bad_signature_rate: float = typer.Option(
            0.0,
            "--webhook-bad-signature-rate",
            help="Chaos: corrupt the HMAC header on this share of attempts.",
        ),
        orders_per_second: float = typer.Option(
            0.0, "--orders-per-second", help="Scenario: simulated shoppers place this many orders per second."
        ),
    ) -> None:
        """Run an emulated Shopify shop (Admin GraphQL, webhooks, storefront) until interrupted."""
        import uvicorn

        from channelhub.sandbox.shopify.app import ShopifyEmulator
        from channelhub.sandbox.shopify.chaos import ChaosSettings
        from channelhub.sandbox.shopify.schema import SUPPORTED_VERSIONS
        from channelhub.sandbox.shopify.settings import (
            ConfiguredWebhook,
            EmulatorSettings,
            new_access_token,
            new_api_secret,
        )
        from channelhub.sandbox.shopify.throttle import PLAN_LIMITS

        if plan not in PLAN_LIMITS:
            raise typer.BadParameter(f"choose one of {', '.join(PLAN_LIMITS)}", param_hint="--plan")
        configured = []
        for spec in webhook:
            topic, sep, url = spec.partition("=")
            if not sep or not url:
                raise typer.BadParameter("expected TOPIC=URL", param_hint="--webhook")
            configured.append(ConfiguredWebhook(topic=topic, uri=url))
        windows = []
        for spec in outage:
            start, sep, end = spec.partition(":")
            try:
                windows.append((float(start), float(end)))
            except ValueError as exc:
                raise typer.BadParameter("expected START:END seconds", param_hint="--outage") from exc
        chaos = ChaosSettings(
            latency_ms=latency_ms,
            error_rate=error_rate,
            throttle_rate=throttle_rate,
            outages=windows,
            webhook_duplicate_rate=webhook_duplicate_rate,
            webhook_reorder_window_s=webhook_reorder_window,
            webhook_reorder_rate=webhook_reorder_rate,
            webhook_delay_s=webhook_delay,
            webhook_drop_rate=webhook_drop_rate,
            webhook_bad_signature_rate=webhook_bad_signature_rate,
        )
        settings = EmulatorSettings(
            seed=seed,
            skus=skus,
            plan=plan,
            shop_name=shop_name,
            locations=locations,
            access_token=access_token or new_access_token(),
            api_secret=api_secret or new_api_secret(),
            bucket_size=bucket_size,
            restore_rate=restore_rate,
            webhook_time_scale=webhook_time_scale,
            webhooks=configured,
            chaos=chaos,
        )
        emulator = ShopifyEmulator(settings)
        limits = settings.plan_limits()
        url = f"http://127.0.0.1:{port}"
        typer.echo(f"Shopify emulator   {url}")
        typer.echo(f"shop domain        {emulator.shop_domain}")
        typer.echo(f"access token       {settings.access_token}")
        typer.echo(f"api secret         {settings.api_secret}")
        typer.echo(f"api versions       {', '.join(SUPPORTED_VERSIONS)}")
        typer.echo(f"graphql            {url}/admin/api/{SUPPORTED_VERSIONS[-1]}/graphql.json")
        typer.echo(
            f"plan               {plan} (bucket {limits.bucket_size:g} points, restore {limits.restore_rate:g}/s)"
        )
        typer.echo(f"storefront         POST {url}/_sandbox/orders, GET {url}/_sandbox/stats")
        traffic = None
        if orders_per_second > 0:
            from channelhub.sandbox.shopify.shoppers import ShopperTraffic

            traffic = ShopperTraffic(emulator.shop, orders_per_second, seed=seed)
            traffic.start()
            typer.echo(f"shoppers           {orders_per_second:g} orders/s")
        try:
            uvicorn.run(emulator.app, host="127.0.0.1", port=port, log_level="warning")
        finally:
            if traffic is not None:
                traffic.stop()
