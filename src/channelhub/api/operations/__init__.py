"""The operations surface's admin API (`/api/v1/...`): readiness, queues per tier, dead letters,
business exceptions, channel sync status, reconciliation, endpoint protections, warehouses.
Every route declares its role (see `channelhub.api.security`); `/docs` shows it per route.

    from channelhub.api.operations import OperationsContext, install_operations
    install_operations(app, OperationsContext.from_api_context(api_context))

That also mounts the dashboard (`/dashboard`, log in with a user from `channelhub user create`),
the token and user API, and `/metrics`. Getting started:

    channelhub user create ana --role operator              # asks for a password
    channelhub token create --role viewer --name prometheus > prometheus.token

Prometheus scrape config (the token has the viewer role):

    scrape_configs:
      - job_name: channelhub
        metrics_path: /metrics
        authorization: {type: Bearer, credentials_file: /etc/prometheus/channelhub.token}
        static_configs: [{targets: ["channelhub:8080"]}]

Grafana: import `docs/grafana-dashboard.json`. Alerts: `channelhub.alerts.AlertRules.from_mapping`
of the landscape's `alerts:` mapping, run by `channelhub.alerts.run_alerts`.
"""

from channelhub.api.operations.context import OperationsContext, ReconcileRunner
from channelhub.api.operations.endpoints import EndpointRegistry
from channelhub.api.operations.install import install_operations
from channelhub.api.operations.reconciliation_history import ReconciliationHistory

__all__ = [
    "EndpointRegistry",
    "OperationsContext",
    "ReconcileRunner",
    "ReconciliationHistory",
    "install_operations",
]
