"""The operations surface's admin API (`/api/v1/...`): readiness, queues per tier, dead letters,
business exceptions, channel sync status, reconciliation, endpoint protections, warehouses.
Every route declares its role (see `channelhub.api.security`).

    from channelhub.api.operations import OperationsContext, install_operations
    install_operations(app, OperationsContext.from_api_context(api_context))
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
