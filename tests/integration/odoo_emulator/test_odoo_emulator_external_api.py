"""The examples of Odoo's external API documentation, run with the stdlib xmlrpc.client on every version."""

from __future__ import annotations

import xmlrpc.client

import httpx
import pytest

from tests.integration.odoo_emulator.conftest import API_KEY, LiveOdoo


def test_connection_version_and_login(odoo: LiveOdoo) -> None:
    version = odoo.common.version()
    assert version == {
        "server_version": odoo.version,
        "server_version_info": [int(odoo.version[:2]), 0, 0, "final", 0, ""],
        "server_serie": odoo.version,
        "protocol_version": 1,
    }
    assert odoo.common.authenticate(odoo.db, "admin", "admin", {}) == 2
    assert odoo.common.login(odoo.db, "admin", "admin") == 2
    assert odoo.common.authenticate(odoo.db, "admin", "wrong", {}) is False
    assert odoo.common.authenticate(odoo.db, "admin", API_KEY, {}) == 2
    assert odoo.common.authenticate(odoo.db, "admin", "f" * 40, {}) is False


def test_api_key_replaces_the_password_and_a_bad_one_is_refused(odoo: LiveOdoo) -> None:
    assert odoo.models.execute_kw(odoo.db, 2, API_KEY, "res.partner", "search_count", [[]]) > 0
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.models.execute_kw(odoo.db, 2, "f" * 40, "res.partner", "search_count", [[]])
    assert (caught.value.faultCode, caught.value.faultString) == (3, "Access Denied")


def test_search_count_read_fields_get_search_read(odoo: LiveOdoo) -> None:
    assert odoo.call("res.partner", "check_access_rights", ["read"], {"raise_exception": False}) is True
    companies = odoo.call("res.partner", "search", [[["is_company", "=", True]]])
    assert companies and all(isinstance(i, int) for i in companies)
    page = odoo.call("res.partner", "search", [[["is_company", "=", True]]], {"offset": 1, "limit": 2})
    assert page == companies[1:3]
    assert odoo.call("res.partner", "search_count", [[["is_company", "=", True]]]) == len(companies)
    [record] = odoo.call("res.partner", "read", [companies[:1]])
    assert record["id"] == companies[0] and "name" in record and "create_date" in record
    rows = odoo.call("res.partner", "read", [companies[:2]], {"fields": ["name", "country_id", "comment"]})
    assert [set(r) for r in rows] == [{"id", "name", "country_id", "comment"}] * 2
    assert all(isinstance(r["country_id"][0], int) and isinstance(r["country_id"][1], str) for r in rows)
    assert all(r["comment"] is False for r in rows)
    described = odoo.call("res.partner", "fields_get", [], {"attributes": ["string", "help", "type"]})
    assert described["name"] == {"string": "Name", "type": "char"}
    assert described["parent_id"]["type"] == "many2one"
    found = odoo.call(
        "res.partner",
        "search_read",
        [[["is_company", "=", True]]],
        {"fields": ["name", "country_id", "comment"], "limit": 5},
    )
    assert len(found) == min(5, len(companies)) and set(found[0]) == {"id", "name", "country_id", "comment"}


def test_create_write_unlink(odoo: LiveOdoo) -> None:
    new_id = odoo.call("res.partner", "create", [{"name": "New Partner"}])
    assert isinstance(new_id, int)
    assert odoo.call("res.partner", "create", [[{"name": "Batch A"}, {"name": "Batch B"}]]) == [
        new_id + 1,
        new_id + 2,
    ]
    assert odoo.call("res.partner", "write", [[new_id], {"name": "Newer partner"}]) is True
    assert odoo.call("res.partner", "read", [[new_id], ["display_name"]]) == [
        {"id": new_id, "display_name": "Newer partner"}
    ]
    assert odoo.call("res.partner", "unlink", [[new_id]]) is True
    assert odoo.call("res.partner", "search", [[["id", "=", new_id]]]) == []
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.call("res.partner", "read", [[new_id]])
    assert caught.value.faultCode == 2
    assert caught.value.faultString.startswith("Record does not exist or has been deleted.")


def test_many2one_and_x2many_read_shapes_and_name_search(odoo: LiveOdoo) -> None:
    parent = odoo.call(
        "res.partner",
        "create",
        [{"name": "Parent Co", "is_company": True, "child_ids": [[0, 0, {"name": "Kid"}]]}],
    )
    [row] = odoo.call("res.partner", "read", [[parent], ["child_ids"]])
    [kid] = row["child_ids"]
    assert odoo.call("res.partner", "read", [[kid], ["parent_id"]]) == [
        {"id": kid, "parent_id": [parent, "Parent Co"]}
    ]
    assert [parent, "Parent Co"] in odoo.call("res.partner", "name_search", ["Parent Co"])


@pytest.mark.parametrize(
    ("call", "code", "text"),
    [
        (("nope.model", "search", [[]]), 2, "Object nope.model doesn't exist"),
        (
            ("res.partner", "search", [[["nope", "=", 1]]]),
            1,
            "ValueError: Invalid field res.partner.nope in leaf",
        ),
        (
            ("res.partner", "search", [[["customer_rank", "=", "abc"]]]),
            1,
            'invalid input syntax for type integer: "abc"',
        ),
        (
            ("res.partner", "read", [[1]], {"fields": ["nope"]}),
            1,
            "ValueError: Invalid field 'nope' on model 'res.partner'",
        ),
        (
            ("res.partner", "_compute_display_name", [[1]]),
            4,
            "cannot be called remotely.",
        ),
        (
            ("res.partner", "fly", [[1]]),
            1,
            "AttributeError: ",
        ),
        (("res.partner", "read", [[1]], {"bogus": 1}), 1, "TypeError"),
        (("sale.order", "create", [{"client_order_ref": "x"}]), 2, "Field: Customer (partner_id)"),
        (("res.partner", "write", [[1], "not a dict"]), 1, "ValueError"),
    ],
)
def test_errors_are_odoo_shaped_faults(odoo: LiveOdoo, call: tuple, code: int, text: str) -> None:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.call(*call)
    assert caught.value.faultCode == code
    assert text in caught.value.faultString
    if code == 1:
        assert caught.value.faultString.startswith("Traceback (most recent call last):")


def test_none_result_cannot_be_marshalled_like_odoo(odoo: LiveOdoo) -> None:
    location = odoo.call("stock.warehouse", "read", [[1], ["lot_stock_id"]])[0]["lot_stock_id"][0]
    product = odoo.call("product.product", "search", [[]], {"limit": 1})[0]
    quant = odoo.call(
        "stock.quant", "create", [{"product_id": product, "location_id": location, "inventory_quantity": 3}]
    )
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.call("stock.quant", "action_apply_inventory", [[quant]])
    assert "cannot marshal None unless allow_none is enabled" in caught.value.faultString
    [row] = odoo.call("stock.quant", "read", [[quant], ["quantity", "inventory_quantity_set"]])
    assert row == {"id": quant, "quantity": 3.0, "inventory_quantity_set": False}


def test_legacy_xmlrpc_string_fault_codes(odoo: LiveOdoo) -> None:
    legacy = xmlrpc.client.ServerProxy(f"{odoo.url}/xmlrpc/object")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        legacy.execute_kw(odoo.db, 2, "admin", "res.partner", "read", [[999999]])
    assert str(caught.value.faultCode).startswith("warning -- MissingError\n\nRecord does not exist")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        legacy.execute_kw(odoo.db, 2, "bad", "res.partner", "read", [[1]])
    assert (caught.value.faultCode, caught.value.faultString) == ("AccessDenied", "Access Denied")
    with pytest.raises(xmlrpc.client.Fault) as caught:
        legacy.execute_kw(odoo.db, 2, "admin", "nope.model", "search", [[]])
    assert caught.value.faultCode == "warning -- UserError\n\nObject nope.model doesn't exist"


def test_garbage_body_gets_a_fault_not_a_500(odoo: LiveOdoo) -> None:
    response = httpx.post(
        f"{odoo.url}/xmlrpc/2/object", content=b"<not-xml", headers={"Content-Type": "text/xml"}
    )
    assert response.status_code == 200
    with pytest.raises(xmlrpc.client.Fault) as caught:
        xmlrpc.client.loads(response.content)
    assert caught.value.faultCode == 1
    assert odoo.common.version()["server_serie"] == odoo.version


def test_unknown_database_and_bad_authenticate_arguments(odoo: LiveOdoo) -> None:
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.common.authenticate("other", "admin", "admin", {})
    assert 'database "other" does not exist' in caught.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.common.authenticate(odoo.db, "admin", "admin", [])
    assert "'list' object is not a mapping" in caught.value.faultString


def test_inspection_and_introspection_custom_model(odoo: LiveOdoo) -> None:
    odoo.call("ir.model", "create", [{"name": "Custom Model", "model": "x_custom_model", "state": "manual"}])
    described = odoo.call("x_custom_model", "fields_get", [], {"attributes": ["string", "help", "type"]})
    assert {"id", "display_name", "create_date", "write_date"} <= set(described)
    model_id = odoo.call(
        "ir.model", "create", [{"name": "Custom Model", "model": "x_custom", "state": "manual"}]
    )
    odoo.call(
        "ir.model.fields",
        "create",
        [{"model_id": model_id, "name": "x_name", "ttype": "char", "state": "manual", "required": True}],
    )
    record_id = odoo.call("x_custom", "create", [{"x_name": "test record"}])
    [record] = odoo.call("x_custom", "read", [[record_id]])
    assert record["x_name"] == "test record" and record["display_name"] == "test record"
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.call("x_custom", "create", [{}])
    assert caught.value.faultCode == 2 and "Field: x_name (x_name)" in caught.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as caught:
        odoo.call("ir.model", "create", [{"name": "Bad", "model": "custom", "state": "manual"}])
    assert caught.value.faultString == "The model name must start with 'x_'."
