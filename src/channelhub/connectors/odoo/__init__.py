"""channelhub.connectors.odoo."""
