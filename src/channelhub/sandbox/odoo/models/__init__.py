"""Retail models of the emulated Odoo, one module per business area."""
