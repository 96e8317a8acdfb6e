"""OAuth 1.0a and basic auth as WC_REST_Authentication checks them (no network)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlsplit

import pytest
from woocommerce.oauth import OAuth

from channelhub.connectors.woocommerce.oauth import signed_query
from channelhub.sandbox.woocommerce.auth import (
    ApiKey,
    Authenticator,
    AuthRequest,
    check_permission,
    php_params,
)
from channelhub.sandbox.woocommerce.errors import WPError

URL = "http://127.0.0.1:8081/wp-json/wc/v3/products"
NOW = 1_900_000_000.0


def authenticator(permissions: str = "read_write") -> Authenticator:
    return Authenticator([ApiKey("ck_good", "cs_good", permissions)], now=lambda: NOW)


def request_for(url: str, method: str = "GET", *, ssl: bool = False, authorization: str = "") -> AuthRequest:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    query = php_params(parse_qsl(parts.query, keep_blank_values=True))
    return AuthRequest(method, ssl, base, query, {}, authorization)


def official_client_url(secret: str = "cs_good", method: str = "GET", query: str = "per_page=20") -> str:
    signer = OAuth(
        f"{URL}?{query}", "ck_good", secret, version="wc/v3", method=method, oauth_timestamp=int(NOW)
    )
    return str(signer.get_oauth_url())


def test_the_official_clients_signature_is_accepted() -> None:
    key = authenticator().authenticate(request_for(official_client_url()))
    assert key is not None and key.consumer_key == "ck_good"


def test_the_connectors_signature_is_accepted_for_every_method() -> None:
    auth = authenticator()
    for method in ("GET", "POST", "PUT", "DELETE"):
        query = signed_query(
            method, URL, {"after": "2026-01-01T00:00:00", "status": "a,b"}, "ck_good", "cs_good", int(NOW)
        )
        request = AuthRequest(method, False, URL, query, {}, "")
        assert auth.authenticate(request) is not None


def test_hmac_sha1_signatures_are_accepted_too() -> None:
    from channelhub.sandbox.woocommerce.auth import oauth_signature

    params = {
        "oauth_consumer_key": "ck_good",
        "oauth_timestamp": str(int(NOW)),
        "oauth_nonce": "n1",
        "oauth_signature_method": "HMAC-SHA1",
    }
    params["oauth_signature"] = oauth_signature("GET", URL, params, "cs_good", "sha1")
    assert authenticator().authenticate(AuthRequest("GET", False, URL, params, {}, "")) is not None


def test_a_wrong_secret_fails_the_signature_check() -> None:
    with pytest.raises(WPError) as refused:
        authenticator().authenticate(request_for(official_client_url(secret="cs_bad")))
    assert (refused.value.code, refused.value.status) == ("woocommerce_rest_authentication_error", 401)
    assert refused.value.message == "Invalid signature - provided signature does not match."


def test_a_signature_for_another_method_is_refused() -> None:
    with pytest.raises(WPError, match="does not match"):
        authenticator().authenticate(request_for(official_client_url(method="GET"), method="DELETE"))


def test_a_replayed_nonce_is_refused() -> None:
    auth = authenticator()
    url = official_client_url()
    assert auth.authenticate(request_for(url)) is not None
    with pytest.raises(WPError, match="nonce has already been used"):
        auth.authenticate(request_for(url))


def test_a_stale_timestamp_is_refused() -> None:
    late = Authenticator([ApiKey("ck_good", "cs_good")], now=lambda: NOW + 16 * 60)
    with pytest.raises(WPError, match="Invalid timestamp"):
        late.authenticate(request_for(official_client_url()))


def test_missing_oauth_parameters_are_named() -> None:
    with pytest.raises(WPError) as refused:
        authenticator().authenticate(request_for(f"{URL}?oauth_consumer_key=ck_good&oauth_nonce=x"))
    assert refused.value.code == "woocommerce_rest_authentication_missing_parameter"
    assert "oauth_timestamp" in refused.value.message and "oauth_signature_method" in refused.value.message


def test_an_unknown_consumer_key_is_refused_under_oauth() -> None:
    signer = OAuth(URL, "ck_other", "cs_good", version="wc/v3", method="GET", oauth_timestamp=int(NOW))
    with pytest.raises(WPError, match="Consumer key is invalid"):
        authenticator().authenticate(request_for(signer.get_oauth_url()))


def test_basic_auth_works_only_over_https() -> None:
    header = "Basic " + base64.b64encode(b"ck_good:cs_good").decode()
    assert authenticator().authenticate(request_for(URL, ssl=True, authorization=header)) is not None
    assert authenticator().authenticate(request_for(URL, ssl=False, authorization=header)) is None


def test_query_string_credentials_work_only_over_https() -> None:
    url = f"{URL}?consumer_key=ck_good&consumer_secret=cs_good"
    assert authenticator().authenticate(request_for(url, ssl=True)) is not None
    assert authenticator().authenticate(request_for(url, ssl=False)) is None


def test_basic_auth_with_a_wrong_secret_names_the_secret_and_an_unknown_key_is_anonymous() -> None:
    wrong = "Basic " + base64.b64encode(b"ck_good:nope").decode()
    with pytest.raises(WPError, match="Consumer secret is invalid"):
        authenticator().authenticate(request_for(URL, ssl=True, authorization=wrong))
    unknown = "Basic " + base64.b64encode(b"ck_nobody:nope").decode()
    assert authenticator().authenticate(request_for(URL, ssl=True, authorization=unknown)) is None


def test_key_permissions_are_enforced_per_method() -> None:
    reader = ApiKey("ck", "cs", "read")
    check_permission(reader, "GET")
    with pytest.raises(WPError, match="does not have write permissions"):
        check_permission(reader, "POST")


def test_php_style_query_parsing() -> None:
    parsed = php_params([("a", "1"), ("a", "2"), ("s[]", "x"), ("s[]", "y"), ("f[k]", "v")])
    assert parsed == {"a": "2", "s": {"0": "x", "1": "y"}, "f": {"k": "v"}}
