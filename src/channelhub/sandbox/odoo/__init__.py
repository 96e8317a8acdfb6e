"""A protocol-faithful Odoo 16/17/18/19 emulator (XML-RPC, JSON-RPC, odoorpc's web routes, JSON-2).

Public surface::

    from channelhub.sandbox.odoo import EmulatorSettings, create_emulator
    emulator = create_emulator(EmulatorSettings(version="17.0", skus=1000, seed=7))
    emulator.app                      # the ASGI app (serve it with channelhub.sandbox.server.serve_in_thread)
    emulator.database                 # OdooDatabase: .env() transactions, .model(name).rows, credentials, api_key
    emulator.chaos.apply(ChaosSettings(error_rate=0.3, seed=1))
    emulator.webhooks.add_rule(WebhookRule(model="stock.quant", url="http://...", fields=["quantity"]))

Over HTTP the same knobs are at ``/_sandbox/chaos`` and ``/_sandbox/webhooks``.
"""

from channelhub.sandbox.odoo.app import EmulatorSettings, OdooEmulator, create_app, create_emulator
from channelhub.sandbox.odoo.chaos import ChaosSettings
from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.webhooks import WebhookRule

__all__ = [
    "ChaosSettings",
    "EmulatorSettings",
    "OdooDatabase",
    "OdooEmulator",
    "WebhookRule",
    "create_app",
    "create_emulator",
]
