from __future__ import annotations

import pytest

from channelhub.api.errors import ApiError
from channelhub.api.operations.masking import MASK, mask_personal
from channelhub.api.operations.pagination import decode_cursor, encode_cursor, page
from channelhub.api.security.credentials import check_password, hash_password, new_token, split_token
from channelhub.api.security.roles import Role, parse_role, sees_personal_data


def test_personal_fields_are_masked_whole_and_inside_text() -> None:
    payload = {
        "order": {"name": "#1001", "customer": {"first_name": "Jane", "email": "jane@example.com"}},
        "shipping_address": {"address1": "1 Main St", "city": "Lyon"},
        "lines": [{"sku": "TEE-M", "quantity": 2}],
        "error": "refused for jane@example.com, call +33 6 12 34 56 78",
        "placed_at": "2026-11-23T15:34:17+00:00",
        "phone": "",
    }
    masked = mask_personal(payload)
    assert masked["order"]["customer"] == MASK and masked["order"]["name"] == "#1001"
    assert masked["shipping_address"] == MASK
    assert masked["lines"] == [{"sku": "TEE-M", "quantity": 2}]
    assert "jane@example.com" not in masked["error"] and "+33" not in masked["error"]
    assert masked["placed_at"] == payload["placed_at"]  # dates are not phone numbers
    assert masked["phone"] == ""  # nothing to hide
    assert payload["order"]["customer"]["first_name"] == "Jane"  # the original is untouched


def test_cursors_round_trip_and_refuse_foreign_values() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor(encode_cursor(["shop", "TEE-M"]), tuple) == ("shop", "TEE-M")
    assert decode_cursor(None) is None
    for bad in ("%%%", encode_cursor("text"), encode_cursor(True), encode_cursor(-1), encode_cursor(2**64)):
        with pytest.raises(ApiError) as raised:
            decode_cursor(bad)
        assert raised.value.code == "invalid_cursor"


def test_a_page_only_points_further_when_there_is_more() -> None:
    rows = [{"id": n} for n in range(1, 5)]
    first = page(rows, 3, lambda item: item["id"])
    assert [r["id"] for r in first["items"]] == [1, 2, 3] and decode_cursor(first["next_cursor"]) == 3
    last = page(rows[:2], 3, lambda item: item["id"])
    assert last["next_cursor"] is None


def test_tokens_and_passwords() -> None:
    token_id, secret, token = new_token()
    parts = split_token(token)
    assert parts is not None and (parts.token_id, parts.secret) == (token_id, secret)
    assert split_token("Bearer xyz") is None and split_token("chub__x") is None
    stored = hash_password("a-long-password")
    assert check_password("a-long-password", stored) and not check_password("a-long-passwor", stored)
    assert not check_password("x", "not-a-hash")
    with pytest.raises(ValueError):
        hash_password("short")


def test_roles_parse_and_personal_data() -> None:
    assert parse_role(" Operator ") is Role.OPERATOR
    with pytest.raises(ValueError, match="roles: viewer"):
        parse_role("root")
    assert [sees_personal_data(r) for r in Role] == [False, True, False, True]
