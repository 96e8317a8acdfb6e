"""channelhub: the control plane between Odoo ERP, sales channels and the 3PL warehouse."""

__version__ = "0.1.0"
