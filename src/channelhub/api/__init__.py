"""The HTTP API: webhook ingress (`/webhooks/...`) and the admin API (`/api/v1/...`).

app = create_api(ApiContext(engine, channels, erp, availability, api_token))
"""

from channelhub.api.app import create_api
from channelhub.api.context import ODOO_CHANNEL, ApiContext
from channelhub.api.errors import ApiError

__all__ = ["ODOO_CHANNEL", "ApiContext", "ApiError", "create_api"]
