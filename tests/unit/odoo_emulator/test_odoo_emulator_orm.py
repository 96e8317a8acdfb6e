"""ORM semantics of the Odoo emulator: create/write/unlink, x2many commands, integrity, rollback, reads."""

from __future__ import annotations

import pytest

from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.errors import AccessError, MissingError, PythonError, UserError, ValidationError
from channelhub.sandbox.odoo.orm import RecordIds


@pytest.fixture
def database() -> OdooDatabase:
    return OdooDatabase("17.0", api_key="k" * 40)


def test_create_single_and_batch_and_read_shapes(database: OdooDatabase) -> None:
    with database.env() as env:
        partners = env["res.partner"]
        [company] = partners.create(env, {"name": "Acme", "is_company": True})
        batch = partners.create(env, [{"name": "Ann", "parent_id": company}, {"name": "Ben"}])
        assert isinstance(batch, RecordIds) and len(batch) == 2
        [ann] = partners.read(env, [batch[0]], ["parent_id", "child_ids", "email", "create_date"])
        assert ann["parent_id"] == [company, "Acme"]
        assert ann["email"] is False
        assert len(ann["create_date"]) == 19
        [acme] = partners.read(env, [company], ["child_ids", "display_name"])
        assert acme == {"id": company, "child_ids": [batch[0]], "display_name": "Acme"}
        [raw] = partners.read(env, [batch[0]], ["parent_id"], load="_classic_write")
        assert raw["parent_id"] == company


def test_write_maintains_write_date(database: OdooDatabase) -> None:
    moments = iter(["2026-01-01 10:00:00", "2026-01-02 11:00:00"])
    from datetime import datetime

    database.registry.clock = lambda: datetime.strptime(next(moments), "%Y-%m-%d %H:%M:%S")
    with database.env() as env:
        [pid] = env["res.partner"].create(env, {"name": "Ann"})
        env["res.partner"].write(env, [pid], {"name": "Anna"})
        [row] = env["res.partner"].read(env, [pid], ["create_date", "write_date", "display_name"])
    assert row == {
        "id": pid,
        "create_date": "2026-01-01 10:00:00",
        "write_date": "2026-01-02 11:00:00",
        "display_name": "Anna",
    }


def test_one2many_commands(database: OdooDatabase) -> None:
    with database.env() as env:
        partners = env["res.partner"]
        [company] = partners.create(
            env, {"name": "Acme", "child_ids": [(0, 0, {"name": "A"}), (0, 0, {"name": "B"})]}
        )
        first, second = partners.values_of(env, [company], "child_ids")[company]
        [other] = partners.create(env, {"name": "C"})
        partners.write(env, [company], {"child_ids": [(1, first, {"name": "A2"}), (4, other), (3, second)]})
        assert partners.values_of(env, [company], "child_ids")[company] == [first, other]
        assert partners.rows[first]["name"] == "A2"
        assert partners.rows[second]["parent_id"] is False
        partners.write(env, [company], {"child_ids": [(6, 0, [second])]})
        assert partners.values_of(env, [company], "child_ids")[company] == [second]
        partners.write(env, [company], {"child_ids": [(2, second, 0)]})
        assert second not in partners.rows


def test_many2many_commands(database: OdooDatabase) -> None:
    with database.env() as env:
        products = env["product.product"]
        [pid] = products.create(env, {"name": "Shirt"})
        values = env["product.template.attribute.value"]
        attribute = env["product.attribute"].create_record(env, {"name": "Size"})
        template = products.rows[pid]["product_tmpl_id"]
        small, large = (
            values.create_record(env, {"name": n, "attribute_id": attribute, "product_tmpl_id": template})
            for n in "SL"
        )
        products.write(env, [pid], {"product_template_attribute_value_ids": [(6, 0, [small])]})
        products.write(env, [pid], {"product_template_attribute_value_ids": [(4, large), (3, small)]})
        assert products.rows[pid]["product_template_attribute_value_ids"] == [large]
        products.write(env, [pid], {"product_template_attribute_value_ids": [(5, 0, 0)]})
        assert products.rows[pid]["product_template_attribute_value_ids"] == []
        assert products.display_names(env, [pid])[pid] == "Shirt"


def test_failed_call_rolls_back_everything(database: OdooDatabase) -> None:
    orders = database.model("sale.order")
    with pytest.raises(ValidationError, match="sale_order_line_product_id_fkey"), database.env() as env:
        env["sale.order"].create(env, {"partner_id": 3, "order_line": [(0, 0, {"product_id": 99999})]})
    assert orders.rows == {}
    assert database.model("sale.order.line").rows == {}
    assert (
        database.registry.sequences.get("S") == 1
    )  # like a PostgreSQL sequence, numbering is not rolled back
    with pytest.raises(ValidationError, match="Field: Customer \\(partner_id\\)"), database.env() as env:
        env["sale.order"].create(env, {"client_order_ref": "no partner"})


def test_integrity_and_value_errors(database: OdooDatabase) -> None:
    with database.env() as env:
        partners = env["res.partner"]
        with pytest.raises(ValidationError, match="res_partner_parent_id_fkey"):
            partners.create(env, {"name": "X", "parent_id": 999})
        with pytest.raises(PythonError, match=r"Invalid field 'nope' on model 'res\.partner'"):
            partners.create(env, {"name": "X", "nope": 1})
        with pytest.raises(PythonError, match=r"Wrong value for res\.partner\.type"):
            partners.create(env, {"name": "X", "type": "alien"})
        with pytest.raises(PythonError, match="could not convert string to float"):
            env["product.product"].create(env, {"name": "X", "standard_price": "cheap"})
        with pytest.raises(
            MissingError, match=r"Record does not exist or has been deleted.\n\(Record: res.partner\(999,\)"
        ):
            partners.read(env, [999], ["name"])


@pytest.mark.parametrize(
    ("version", "private", "unknown"),
    [
        (
            "17.0",
            "Private methods (such as _check_unlink) cannot be called remotely.",
            "type object 'res.partner' has no attribute 'fly'",
        ),
        (
            "18.0",
            "Private methods (such as 'res.partner._check_unlink') cannot be called remotely.",
            "The method 'res.partner.fly' does not exist",
        ),
    ],
)
def test_private_and_unknown_methods_are_refused(version: str, private: str, unknown: str) -> None:
    partners = OdooDatabase(version).model("res.partner")
    with pytest.raises(AccessError) as refused:
        partners.rpc_method("_check_unlink")
    assert str(refused.value) == private
    with pytest.raises(PythonError) as missing:
        partners.rpc_method("fly")
    assert (missing.value.qualified_name, str(missing.value)) == ("builtins.AttributeError", unknown)
    with pytest.raises(PythonError):
        partners.rpc_method("button_validate")


def test_fields_get_default_get_name_search(database: OdooDatabase) -> None:
    with database.env(context={"default_city": "Lyon"}) as env:
        partners = env["res.partner"]
        described = partners.fields_get(env, attributes=["type", "string", "relation"])
        assert described["parent_id"] == {
            "type": "many2one",
            "string": "Related Company",
            "relation": "res.partner",
        }
        assert partners.default_get(env, ["city", "active", "is_company"]) == {
            "city": "Lyon",
            "active": True,
            "is_company": False,
        }
        [pid] = partners.create(env, {"name": "Zed Shop"})
        assert partners.rows[pid]["city"] == "Lyon"
        assert partners.name_search(env, "zed") == [[pid, "Zed Shop"]]
        assert partners.check_access_rights(env, "read") is True


def test_sale_order_unlink_rules(database: OdooDatabase) -> None:
    with database.env() as env:
        orders = env["sale.order"]
        [draft] = orders.create(env, {"partner_id": 3})
        [confirmed] = orders.create(env, {"partner_id": 3})
        orders.action_confirm(env, [confirmed])
        with pytest.raises(UserError, match="You must first cancel it"):
            orders.unlink(env, [confirmed])
        assert orders.unlink(env, [draft]) is True


def test_read_group_sums_per_location(database: OdooDatabase) -> None:
    with database.env() as env:
        [pid] = env["product.product"].create(env, {"name": "Bolt", "type": "product"})
        warehouse = env["stock.warehouse"].rows[1]
        quants = env["stock.quant"]
        quants.create(env.with_context(inventory_mode=True), [
            {"product_id": pid, "location_id": warehouse["lot_stock_id"], "quantity": 5},
            {"product_id": pid, "location_id": warehouse["wh_output_stock_loc_id"], "quantity": 2},
        ])  # fmt: skip
        groups = quants.read_group(env, [("product_id", "=", pid)], ["quantity:sum"], ["location_id"])
        assert [(g["location_id"][1], g["location_id_count"], g["quantity"]) for g in groups] == [
            ("WH/Output", 1, 2.0),
            ("WH/Stock", 1, 5.0),
        ]
        [total] = quants.read_group(
            env, [("product_id", "=", pid)], ["total:sum(quantity)"], ["product_id"], lazy=False
        )
        assert (total["__count"], total["total"]) == (2, 7.0)


def test_company_type_follows_is_company(database: OdooDatabase) -> None:
    with database.env() as env:
        partners = env["res.partner"]
        [shop] = partners.create(env, {"name": "Shop", "company_type": "company"})
        assert partners.rows[shop]["is_company"] is True
        partners.write(env, [shop], {"is_company": False})
        assert partners.rows[shop]["company_type"] == "person"
