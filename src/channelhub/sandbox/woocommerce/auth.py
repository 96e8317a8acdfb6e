"""Consumer key/secret authentication exactly as `WC_REST_Authentication` performs it.

- Over HTTPS: HTTP Basic (key as user, secret as password) or `consumer_key`/`consumer_secret` in
  the query string (the query string wins). An unknown key is *not* an error at this step: the
  request falls through to OAuth and, without OAuth parameters, ends up anonymous (then the route's
  permission check answers `woocommerce_rest_cannot_view`, 401). A known key with a wrong secret
  is `woocommerce_rest_authentication_error` "Consumer secret is invalid.".
- Over plain HTTP (and as the fallback over HTTPS): OAuth 1.0a "one-legged" — no token, HMAC-SHA1
  or HMAC-SHA256 over `METHOD&rawurlencode(url)&params`, signing key `secret&`, the parameters
  taken from the query string, a form-encoded body and an `Authorization: OAuth` header; timestamp
  within 15 minutes; a nonce may not be reused within 15 minutes.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from channelhub.sandbox.woocommerce.errors import WPError

NONCE_WINDOW_S = 15 * 60
OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)


@dataclass
class ApiKey:
    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"  # read | write | read_write
    nonces: dict[str, float] = field(default_factory=dict)  # nonce -> timestamp it was used with


@dataclass(frozen=True)
class AuthRequest:
    """What authentication looks at, already parsed the way PHP fills `$_GET`/`$_POST`."""

    method: str
    is_ssl: bool
    base_url: str  # scheme://host[:port]/path exactly as the client addressed it, without query
    query: Mapping[str, Any]
    form: Mapping[str, Any]
    authorization: str


def rawurlencode(value: str) -> str:
    """PHP's rawurlencode (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay as they are)."""
    return quote(value, safe="~")


def php_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Fold query pairs the way PHP builds `$_GET`: `a=1&a=2` keeps the last, `a[]=` appends,
    `a[k]=` nests one level."""
    params: dict[str, Any] = {}
    for key, value in pairs:
        match = re.fullmatch(r"([^\[\]]+)\[([^\[\]]*)\]", key)
        if not match:
            params[key] = value
            continue
        base, sub = match.groups()
        container = params.get(base)
        if not isinstance(container, dict):
            container = {}
            params[base] = container
        container[str(len(container)) if sub == "" else sub] = value
    return params


def _signature_pieces(params: Mapping[str, Any]) -> list[str]:
    pieces: list[str] = []
    for key in sorted(params, key=lambda k: k.encode()):  # uksort(strcmp): byte order
        value = params[key]
        encoded_key = rawurlencode(key)
        if isinstance(value, dict):
            for sub_key, sub_value in value.items():
                pieces.append(rawurlencode(f"{encoded_key}%5B{sub_key}%5D={rawurlencode(str(sub_value))}"))
        else:
            pieces.append(rawurlencode(f"{encoded_key}={rawurlencode(str(value))}"))
    return pieces


def oauth_signature(
    method: str, base_url: str, params: Mapping[str, Any], secret: str, algorithm: str
) -> str:
    """The signature WooCommerce computes for a request (oauth_signature excluded from params)."""
    signed = {k: v for k, v in params.items() if k != "oauth_signature"}
    string_to_sign = f"{method.upper()}&{rawurlencode(base_url)}&{'%26'.join(_signature_pieces(signed))}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), algorithm).digest()
    return base64.b64encode(digest).decode()


def parse_oauth_header(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        return {}
    found = re.findall(r'(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))', header)
    return {name: unquote(quoted or bare) for name, quoted, bare in found}


def _auth_error(message: str) -> WPError:
    return WPError("woocommerce_rest_authentication_error", message, 401)


class Authenticator:
    """Resolves a request to an `ApiKey`, to anonymous (None), or raises the WooCommerce error."""

    def __init__(self, keys: list[ApiKey], now: Callable[[], float]) -> None:
        self._keys = {key.consumer_key: key for key in keys}
        self._now = now

    def authenticate(self, request: AuthRequest) -> ApiKey | None:
        if request.is_ssl:
            key = self._basic(request)
            if key is not None:
                return key
        return self._oauth(request)

    def _basic(self, request: AuthRequest) -> ApiKey | None:
        consumer_key = consumer_secret = ""
        query_key, query_secret = request.query.get("consumer_key"), request.query.get("consumer_secret")
        if isinstance(query_key, str) and isinstance(query_secret, str) and query_key and query_secret:
            consumer_key, consumer_secret = query_key, query_secret
        elif request.authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(request.authorization[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return None
            consumer_key, _, consumer_secret = decoded.partition(":")
        if not consumer_key or not consumer_secret:
            return None
        key = self._keys.get(consumer_key)
        if key is None:
            return None
        if not hmac.compare_digest(key.consumer_secret.encode(), consumer_secret.encode()):
            raise _auth_error("Consumer secret is invalid.")
        return key

    def _oauth(self, request: AuthRequest) -> ApiKey | None:
        params: dict[str, Any] = {**request.query, **request.form}
        params.update(parse_oauth_header(request.authorization.strip()))
        present = [name for name in OAUTH_PARAMS if params.get(name)]
        if not present:
            return None
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            raise WPError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth {noun} {', '.join(missing)}",
                401,
            )
        key = self._keys.get(str(params["oauth_consumer_key"]))
        if key is None:
            raise _auth_error("Consumer key is invalid.")
        self._check_signature(request, key, params)
        self._check_timestamp_and_nonce(key, params)
        return key

    def _check_signature(self, request: AuthRequest, key: ApiKey, params: dict[str, Any]) -> None:
        method = params.get("oauth_signature_method")
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            raise _auth_error("Invalid signature - signature method is invalid.")
        algorithm = "sha1" if method == "HMAC-SHA1" else "sha256"
        expected = oauth_signature(request.method, request.base_url, params, key.consumer_secret, algorithm)
        provided = unquote(str(params["oauth_signature"]).replace(" ", "+"))
        if not hmac.compare_digest(expected.encode(), provided.encode()):
            raise _auth_error("Invalid signature - provided signature does not match.")

    def _check_timestamp_and_nonce(self, key: ApiKey, params: dict[str, Any]) -> None:
        now = self._now()
        try:
            timestamp = float(str(params["oauth_timestamp"]))
        except ValueError:
            timestamp = 0.0
        if not now - NONCE_WINDOW_S <= timestamp <= now + NONCE_WINDOW_S:
            raise _auth_error("Invalid timestamp.")
        nonce = str(params["oauth_nonce"])
        if nonce in key.nonces:
            raise _auth_error("Invalid nonce - nonce has already been used.")
        key.nonces = {n: t for n, t in key.nonces.items() if t >= now - NONCE_WINDOW_S}
        key.nonces[nonce] = timestamp


def check_permission(key: ApiKey, method: str) -> None:
    """The key's own read/write permission, checked before the route runs."""
    if method in ("GET", "HEAD") and key.permissions not in ("read", "read_write"):
        raise _auth_error("The API key provided does not have read permissions.")
    if method in ("POST", "PUT", "PATCH", "DELETE") and key.permissions not in ("write", "read_write"):
        raise _auth_error("The API key provided does not have write permissions.")
