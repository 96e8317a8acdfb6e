"""The `channelhub` command line.

Each area of the code base contributes its commands through a `register(groups)` function in its own
`commands` module, so this root stays small and areas never edit each other's command files.
Command modules must import heavy dependencies inside the command functions: `channelhub --help`
should stay fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer

app = typer.Typer(
    name="channelhub",
    help="Keeps Odoo ERP, your sales channels and your 3PL warehouse in sync.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


@dataclass(frozen=True)
class CommandGroups:
    """The command groups every area can add commands to."""

    root: typer.Typer
    bench: typer.Typer
    selftest: typer.Typer
    emulate: typer.Typer
    contracts: typer.Typer


groups = CommandGroups(
    root=app,
    bench=typer.Typer(
        help="Measure throughput and latency; results are written as JSON.", no_args_is_help=True
    ),
    selftest=typer.Typer(
        help="Prove durability properties by running them (crash tests).", no_args_is_help=True
    ),
    emulate=typer.Typer(
        help="Run one emulator of an external system (Odoo, Shopify, WooCommerce) on loopback.",
        no_args_is_help=True,
    ),
    contracts=typer.Typer(help="Canonical event contracts (JSON Schema).", no_args_is_help=True),
)
app.add_typer(groups.bench, name="bench")
app.add_typer(groups.selftest, name="selftest")
app.add_typer(groups.emulate, name="emulate")
app.add_typer(groups.contracts, name="contracts")

# Every module here exposes `register(groups: CommandGroups) -> None`.
COMMAND_MODULES = (
    "channelhub.commands",
    "channelhub.engine.commands",
    "channelhub.sandbox.odoo.commands",
    "channelhub.sandbox.shopify.commands",
    "channelhub.sandbox.woocommerce.commands",
    "channelhub.connectors.odoo.commands",
    "channelhub.connectors.shopify.commands",
    "channelhub.connectors.woocommerce.commands",
    "channelhub.pricing_commands",
    "channelhub.sandbox.commands",
    "channelhub.app_commands",
    "channelhub.benchmarks.commands",
    "channelhub.ops_commands",
)

for _module_name in COMMAND_MODULES:
    importlib.import_module(_module_name).register(groups)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
