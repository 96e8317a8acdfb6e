"""channelhub.sandbox.odoo."""
