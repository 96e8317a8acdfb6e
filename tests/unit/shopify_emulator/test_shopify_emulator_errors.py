"""Bad requests get Shopify's error shapes and statuses, never a traceback."""

from __future__ import annotations

import json

import pytest

from channelhub.sandbox.shopify.app import ShopifyEmulator
from channelhub.sandbox.shopify.graphql_api import INVALID_TOKEN

from .conftest import TOKEN, Gql


@pytest.mark.parametrize("token", [None, "", "shpat_wrong"])
def test_bad_token_is_401_with_a_string_error(token: str | None, gql: Gql) -> None:
    status, body = gql("{ shop { id } }", token=token)
    assert status == 401
    assert body == {"errors": INVALID_TOKEN}


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[]", b'{"query": 5}', b'{"query": "   "}'])
def test_malformed_body_is_400(raw: bytes, emulator: ShopifyEmulator) -> None:
    reply = emulator.endpoint.handle("2025-10", TOKEN, raw, "http://x")
    assert reply.status == 400
    assert reply.body == {"errors": {"query": "Required parameter missing or invalid"}}


def test_syntax_error(gql: Gql) -> None:
    status, body = gql("{ shop { id ")
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "syntaxError"
    assert body["errors"][0]["locations"][0]["line"] == 1
    assert "data" not in body


def test_unknown_field_uses_shopify_wording(gql: Gql) -> None:
    _, body = gql("{ shop { id inventoryPolicy } }")
    assert body["errors"] == [
        {
            "message": "Field 'inventoryPolicy' doesn't exist on type 'Shop'",
            "locations": [{"line": 1, "column": 13}],
            "extensions": {"code": "undefinedField", "typeName": "Shop", "fieldName": "inventoryPolicy"},
        }
    ]


def test_unknown_argument(gql: Gql) -> None:
    _, body = gql('{ products(first: 1, sku: "A") { nodes { id } } }')
    assert body["errors"][0]["extensions"]["code"] == "argumentNotAccepted"


def test_wrong_literal_type(gql: Gql) -> None:
    _, body = gql('{ products(first: "ten") { nodes { id } } }')
    assert "errors" in body and "data" not in body


def test_wrong_variable_type_is_refused_before_charging(gql: Gql, emulator: ShopifyEmulator) -> None:
    _, body = gql("query($n: Int!) { products(first: $n) { nodes { id } } }", {"n": "many"})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_VARIABLE"
    assert emulator.bucket.status().currently_available == 2000


def test_variables_must_be_an_object(emulator: ShopifyEmulator) -> None:
    raw = json.dumps({"query": "{ shop { id } }", "variables": [1]}).encode()
    reply = emulator.endpoint.handle("2025-10", TOKEN, raw, "http://x")
    assert reply.status == 400


def test_more_than_250_inputs_is_refused(gql: Gql, emulator: ShopifyEmulator) -> None:
    item = next(iter(emulator.shop.inventory_items))
    location = emulator.shop.primary_location.id
    quantities = [
        {
            "inventoryItemId": f"gid://shopify/InventoryItem/{item}",
            "locationId": f"gid://shopify/Location/{location}",
            "quantity": 1,
        }
    ] * 251
    mutation = (
        "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
        "{ userErrors { code } } }"
    )
    _, body = gql(
        mutation,
        {
            "input": {
                "name": "available",
                "reason": "correction",
                "ignoreCompareQuantity": True,
                "quantities": quantities,
            }
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert (
        body["errors"][0]["message"]
        == "The input array size of 251 is greater than the maximum allowed of 250."
    )
    assert body["errors"][0]["path"] == ["input", "quantities"]
    assert "data" not in body


def test_several_operations_need_a_name(gql: Gql) -> None:
    _, body = gql("query A { shop { id } } query B { shop { name } }")
    assert body["errors"][0]["message"] == "An operation name is required when sending multiple operations."


def test_user_errors_for_unknown_ids(gql: Gql) -> None:
    mutation = (
        "mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) "
        "{ inventoryAdjustmentGroup { id } userErrors { code field message } } }"
    )
    variables = {
        "input": {
            "name": "committed",
            "reason": "because",
            "ignoreCompareQuantity": True,
            "quantities": [
                {
                    "inventoryItemId": "gid://shopify/InventoryItem/1",
                    "locationId": "gid://shopify/Location/1",
                    "quantity": 1,
                }
            ],
        }
    }
    _, body = gql(mutation, variables)
    payload = body["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [e["code"] for e in payload["userErrors"]] == [
        "INVALID_NAME",
        "INVALID_REASON",
        "INVALID_INVENTORY_ITEM",
    ]


def test_emulator_bug_becomes_shopify_internal_error(
    emulator: ShopifyEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(emulator.endpoint, "_handle", explode)
    reply = emulator.endpoint.handle("2025-10", TOKEN, b'{"query": "{ shop { id } }"}', "http://x")
    assert reply.status == 500
    assert reply.body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "boom" not in json.dumps(reply.body)


async def test_graphql_content_type_takes_the_bare_document(emulator: ShopifyEmulator) -> None:
    import httpx

    transport = httpx.ASGITransport(app=emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
        response = await client.post(
            "/admin/api/2025-10/graphql.json",
            content=b"{ shop { name } }",
            headers={"X-Shopify-Access-Token": TOKEN, "Content-Type": "application/graphql"},
        )
    assert response.status_code == 200
    assert response.json()["data"]["shop"]["name"] == emulator.shop.shop.name
    assert response.headers["x-shopify-api-version"] == "2025-10"
    assert response.headers["x-request-id"]
