"""OAuth 1.0a one-legged request signing, as WooCommerce verifies it over plain HTTP.

No token: the signing key is `consumer_secret&`; the signature base string is
`METHOD&rawurlencode(url)&rawurlencode(k=v)…` joined with `%26`, parameters sorted by key, each key
and value RFC 3986-encoded first (WooCommerce encodes the pair a second time, hence `%253D`-style
doubles for reserved characters). The OAuth parameters travel in the query string.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from urllib.parse import quote

SIGNATURE_METHOD = "HMAC-SHA256"


def rfc3986(value: str) -> str:
    return quote(value, safe="~")


def signature_base(method: str, url: str, params: Mapping[str, str]) -> str:
    pairs = [rfc3986(f"{rfc3986(key)}={rfc3986(params[key])}") for key in sorted(params, key=str.encode)]
    return f"{method.upper()}&{rfc3986(url)}&{'%26'.join(pairs)}"


def sign(method: str, url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    digest = hmac.new(
        f"{consumer_secret}&".encode(), signature_base(method, url, params).encode(), hashlib.sha256
    )
    return base64.b64encode(digest.digest()).decode()


def signed_query(
    method: str, url: str, params: Mapping[str, str], consumer_key: str, consumer_secret: str, timestamp: int
) -> dict[str, str]:
    """`params` plus the five OAuth parameters, ready to be sent as the query string of `url`."""
    query = dict(params)
    query.update(
        oauth_consumer_key=consumer_key,
        oauth_timestamp=str(timestamp),
        oauth_nonce=secrets.token_hex(16),
        oauth_signature_method=SIGNATURE_METHOD,
    )
    query["oauth_signature"] = sign(method, url, query, consumer_secret)
    return query
