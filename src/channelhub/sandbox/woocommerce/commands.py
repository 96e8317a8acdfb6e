"""`channelhub emulate woocommerce`: run the WooCommerce REST v3 emulator on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from channelhub.cli import CommandGroups


def register(groups: CommandGroups) -> None:
    """Add this area's commands to the CLI groups."""

    @groups.emulate.command("woocommerce")
    def emulate_woocommerce(
        port: int = typer.Option(8081, help="Port to listen on (127.0.0.1)."),
        seed: int = typer.Option(1, help="Seed for the catalog and for chaos randomness."),
        skus: int = typer.Option(200, help="Sellable SKUs to create (simple products and variations)."),
        consumer_key: str = typer.Option("", help="REST API consumer key (ck_…); generated when empty."),
        consumer_secret: str = typer.Option(
            "", help="REST API consumer secret (cs_…); generated when empty."
        ),
        tls: bool = typer.Option(
            False, help="Serve HTTPS with a self-signed certificate (enables basic auth)."
        ),
        cert_dir: Path = typer.Option(
            Path(".channelhub/woocommerce-tls"), help="Where --tls writes cert.pem/key.pem."
        ),
        latency_ms: float = typer.Option(0.0, help="Added latency per REST call, in milliseconds."),
        error_rate: float = typer.Option(0.0, help="Share of REST calls answered 500 (0-1)."),
        throttle_rate: float = typer.Option(
            0.0, help="Share of REST calls answered 429 with Retry-After (0-1)."
        ),
        rate_limit: float = typer.Option(0.0, help="Host request limit in requests/second (0: unlimited)."),
        rate_burst: float = typer.Option(0.0, help="Host limit burst size (0: same as --rate-limit)."),
        outage_after: float = typer.Option(0.0, help="Seconds after start when an outage begins."),
        outage_seconds: float = typer.Option(
            0.0, help="Length of that outage (503 maintenance page); 0: none."
        ),
        webhook_duplicate_rate: float = typer.Option(0.0, help="Share of webhook deliveries sent twice."),
        webhook_reorder_rate: float = typer.Option(
            0.0, help="Share of webhook deliveries held back behind the next."
        ),
        webhook_delay_s: float = typer.Option(0.0, help="Delay before each webhook delivery, in seconds."),
        webhook_drop_rate: float = typer.Option(0.0, help="Share of webhook deliveries lost in transit."),
        webhook_redeliver_after: float = typer.Option(
            0.0, help="Seconds after which a lost delivery arrives anyway, with its old payload (0: never)."
        ),
        webhook_bad_signature_rate: float = typer.Option(
            0.0, help="Share of deliveries signed with a wrong secret."
        ),
    ) -> None:
        """Run a WooCommerce (REST v3, webhooks, storefront) emulator until interrupted."""
        import uvicorn

        from channelhub.sandbox.woocommerce.app import WooCommerceSettings, create_app
        from channelhub.sandbox.woocommerce.chaos import Chaos

        chaos = Chaos()
        chaos.update(
            {
                "latency_ms": latency_ms,
                "error_rate": error_rate,
                "throttle_rate": throttle_rate,
                "rate_limit": rate_limit,
                "outage_after_s": outage_after,
                "outage_seconds": outage_seconds,
                "rate_burst": rate_burst,
                "webhook_duplicate_rate": webhook_duplicate_rate,
                "webhook_reorder_rate": webhook_reorder_rate,
                "webhook_delay_s": webhook_delay_s,
                "webhook_drop_rate": webhook_drop_rate,
                "webhook_redeliver_after_s": webhook_redeliver_after,
                "webhook_bad_signature_rate": webhook_bad_signature_rate,
            }
        )
        settings = WooCommerceSettings(
            seed=seed, skus=skus, consumer_key=consumer_key, consumer_secret=consumer_secret, chaos=chaos
        )
        app = create_app(settings)
        ssl: dict[str, str] = {}
        if tls:
            from channelhub.sandbox.woocommerce.tls import write_self_signed

            certfile, keyfile = write_self_signed(cert_dir)
            ssl = {"ssl_certfile": str(certfile), "ssl_keyfile": str(keyfile)}
        scheme = "https" if tls else "http"
        typer.echo(
            f"WooCommerce emulator on {scheme}://127.0.0.1:{port}/wp-json/wc/v3/ ({skus} SKUs, seed {seed})"
        )
        typer.echo(f"consumer key:    {settings.consumer_key}")
        typer.echo(f"consumer secret: {settings.consumer_secret}")
        typer.echo(
            "auth: "
            + ("HTTP Basic or ?consumer_key=&consumer_secret= (HTTPS)" if tls else "OAuth 1.0a (HTTP)")
        )
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", **ssl)  # type: ignore[arg-type]
