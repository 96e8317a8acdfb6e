"""The `/wp-json/wc/v3/` router: matches a route, authenticates, dispatches, renders errors.

WordPress answers an unknown route *and* a known route with an unsupported method with
`rest_no_route` (404); editable routes accept POST, PUT and PATCH alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from channelhub.sandbox.woocommerce.errors import WPError, no_route, not_allowed
from channelhub.sandbox.woocommerce.webhooks import WebhookDispatcher


@dataclass
class Call:
    """One REST request as the handlers see it."""

    method: str
    query: dict[str, Any]
    body: dict[str, Any]
    home: str  # site home URL with trailing slash, e.g. http://127.0.0.1:8080/
    authenticated: bool
    ids: dict[str, int] = field(default_factory=dict)
    events: list[tuple[str, int]] = field(default_factory=list)

    def emit(self, topic: str, resource_id: int) -> None:
        # WooCommerce delivers one webhook per resource and topic per request.
        if (topic, resource_id) not in self.events:
            self.events.append((topic, resource_id))


@dataclass
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]

EDITABLE = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    handlers: dict[str, tuple[str, Handler]]  # method -> (permission action, handler)


def requested_fields(value: Any) -> list[str]:
    """WordPress's `_fields` global parameter (`wp_parse_list`): a comma-separated string or a
    `_fields[]` array (a dict once folded by `php_params`); empty entries dropped."""
    items = (
        list(value.values())
        if isinstance(value, dict)
        else value
        if isinstance(value, list)
        else str(value).split(",")
    )
    return [str(item).strip() for item in items if str(item).strip()]


def filter_fields(data: Any, fields: list[str]) -> Any:
    """`rest_filter_response_fields`: keep only the requested top-level keys (`a.b` keeps `b` of
    object `a`); a list response (a collection) is filtered item by item. WordPress documents the
    parameter for every REST response, WooCommerce's included."""
    wanted: dict[str, Any] = {}
    for path in fields:
        node = wanted
        *parents, last = path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if child is True:  # the parent is wanted whole
                break
            node = child
        else:
            node[last] = True

    def keep(item: Any, tree: dict[str, Any]) -> Any:
        if isinstance(item, list):  # PHP intersects a list's keys 0, 1, ... with the names: none
            return []
        if not isinstance(item, dict):
            return item
        return {
            key: value if tree[key] is True else keep(value, tree[key])
            for key, value in item.items()
            if key in tree
        }

    if isinstance(data, list):
        return [keep(item, wanted) for item in data]
    return keep(data, wanted)


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, path: str, **by_method: tuple[str, Handler]) -> None:
        """`path` like `products/(?P<id>\\d+)`; keywords GET, POST, DELETE, EDIT (POST/PUT/PATCH)."""
        handlers: dict[str, tuple[str, Handler]] = {}
        for method, entry in by_method.items():
            for verb in EDITABLE if method == "EDIT" else (method,):
                handlers[verb] = entry
        self._routes.append(Route(re.compile(path + r"/?"), handlers))

    def match(self, method: str, route: str) -> tuple[tuple[str, Handler], dict[str, int]]:
        for candidate in self._routes:
            found = candidate.pattern.fullmatch(route)
            if found and method in candidate.handlers:
                return candidate.handlers[method], {k: int(v) for k, v in found.groupdict().items()}
            if found and method == "HEAD" and "GET" in candidate.handlers:
                return candidate.handlers["GET"], {k: int(v) for k, v in found.groupdict().items()}
        raise no_route()

    def methods_for(self, route: str) -> list[str] | None:
        """The methods a route answers (for OPTIONS), or None when no route matches."""
        for candidate in self._routes:
            if candidate.pattern.fullmatch(route):
                return sorted(candidate.handlers)
        return None


def options_reply(router: Router, route: str) -> Reply:
    """`rest_handle_options_request`: the route's methods, no authentication needed."""
    methods = router.methods_for(route)
    if methods is None:
        raise no_route()
    body = {"namespace": "wc/v3", "methods": methods, "endpoints": [{"methods": methods, "args": {}}]}
    return Reply(200, body, {"Allow": ", ".join(methods)})


def dispatch(router: Router, dispatcher: WebhookDispatcher, call: Call, route: str) -> Reply:
    if call.method == "OPTIONS":
        return options_reply(router, route)
    (action, handler), ids = router.match(call.method, route)
    if not call.authenticated:
        raise not_allowed(action)
    call.ids = ids
    try:
        reply = handler(call)
    finally:
        for topic, resource_id in call.events:
            dispatcher.emit(topic, resource_id)
    return reply


def paged(call: Call, path: str, items: list[Any], total: int, pages: int, page: int) -> Reply:
    """A collection page with `X-WP-Total`, `X-WP-TotalPages` and `Link` rel prev/next."""
    base = f"{call.home}wp-json/wc/v3/{path}"
    query = {
        k: v
        for k, v in call.query.items()
        if isinstance(v, str) and not k.startswith("oauth_") and k not in ("consumer_key", "consumer_secret")
    }
    links: list[str] = []
    if page > 1:
        links.append(
            f'<{base}?{urlencode({**query, "page": min(page - 1, max(pages, 1))}, doseq=True)}>; rel="prev"'
        )
    if pages > page:
        links.append(f'<{base}?{urlencode({**query, "page": page + 1}, doseq=True)}>; rel="next"')
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    if links:
        headers["Link"] = ", ".join(links)
    return Reply(200, items, headers)


def require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise WPError("rest_invalid_json", "Invalid JSON body passed.", 400)
    return body
