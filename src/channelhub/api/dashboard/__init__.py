"""The operations dashboard (server-rendered, `/dashboard`), mounted by `install_operations`."""

from channelhub.api.dashboard.controls import controls_router
from channelhub.api.dashboard.pages import dashboard_router
from channelhub.api.dashboard.rendering import STATIC_DIR, STATIC_URL

__all__ = ["STATIC_DIR", "STATIC_URL", "controls_router", "dashboard_router"]
