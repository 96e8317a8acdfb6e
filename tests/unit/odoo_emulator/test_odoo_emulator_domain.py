"""Domain evaluation of the Odoo emulator: operators, prefix logic, paths, hierarchy, active filtering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.errors import DatabaseError, PythonError
from channelhub.sandbox.odoo.orm import Env


@pytest.fixture(scope="module")
def database() -> OdooDatabase:
    db = OdooDatabase("17.0", api_key="k" * 40)
    with db.env() as env:
        partners = db.model("res.partner")
        acme = partners.create_record(
            env, {"name": "Acme Corp", "is_company": True, "city": "Lyon", "customer_rank": 5}
        )
        partners.create_record(
            env, {"name": "Alice", "parent_id": acme, "email": "alice@acme.test", "customer_rank": 1}
        )
        partners.create_record(env, {"name": "Bob_Smith", "city": "Berlin", "customer_rank": 0})
        partners.create_record(env, {"name": "Archived Carl", "active": False, "city": "Lyon"})
        products = db.model("product.product")
        for code, price in (("CHAIR-1", 10.0), ("CHAIR-2", 20.0), ("DESK-1", 150.0)):
            products.create_record(
                env, {"name": f"Item {code}", "default_code": code, "list_price": price, "type": "product"}
            )
    return db


@pytest.fixture
def env(database: OdooDatabase) -> Iterator[Env]:
    with database.env() as env:
        yield env


def names(env: Env, model: str, domain: list[Any], **context: Any) -> list[str]:
    scoped = env.with_context(**context) if context else env
    records = env[model].search_read(scoped, domain, ["name"], order="id")
    return [r["name"] for r in records]


def test_implicit_and_between_leaves(env: Env) -> None:
    assert names(env, "res.partner", [("city", "=", "Lyon"), ("is_company", "=", True)]) == ["Acme Corp"]


def test_prefix_or_and_not(env: Env) -> None:
    assert names(env, "res.partner", ["|", ("city", "=", "Berlin"), ("name", "=", "Alice")]) == [
        "Alice",
        "Bob_Smith",
    ]
    assert "Acme Corp" not in names(env, "res.partner", ["!", ("city", "=", "Lyon")])
    nested = ["&", "|", ("city", "=", "Lyon"), ("city", "=", "Berlin"), "!", ("is_company", "=", True)]
    assert names(env, "res.partner", nested) == ["Bob_Smith"]


def test_comparison_operators_on_numbers(env: Env) -> None:
    assert names(env, "res.partner", [("customer_rank", ">", 0)]) == ["Acme Corp", "Alice"]
    assert names(env, "res.partner", [("customer_rank", ">=", 1), ("customer_rank", "<", 5)]) == ["Alice"]
    assert names(env, "res.partner", [("customer_rank", "<=", 0), ("city", "!=", False)]) == ["Bob_Smith"]


def test_like_family(env: Env) -> None:
    assert names(env, "res.partner", [("name", "like", "Acme")]) == ["Acme Corp"]
    assert names(env, "res.partner", [("name", "like", "acme")]) == []
    assert names(env, "res.partner", [("name", "ilike", "acme")]) == ["Acme Corp"]
    assert names(env, "res.partner", [("name", "=like", "A%")]) == ["Acme Corp", "Alice"]
    assert names(env, "res.partner", [("name", "=ilike", "bob\\_smith")]) == []
    assert names(env, "res.partner", [("name", "=ilike", "bob_smith")]) == ["Bob_Smith"]
    assert "Alice" not in names(env, "res.partner", [("name", "not ilike", "ali")])
    assert "Alice" in names(env, "res.partner", [("name", "not like", "ali")])


def test_equal_false_matches_empty_values(env: Env) -> None:
    assert "Alice" in names(env, "res.partner", [("city", "=", False)])
    assert "Alice" not in names(env, "res.partner", [("city", "!=", False)])


def test_in_and_not_in(env: Env) -> None:
    assert names(env, "res.partner", [("city", "in", ["Berlin", "Paris"])]) == ["Bob_Smith"]
    assert "Alice" in names(env, "res.partner", [("city", "not in", ["Lyon"])])
    assert "Alice" in names(env, "res.partner", [("city", "in", [False])])


def test_optional_equal(env: Env) -> None:
    everyone = names(env, "res.partner", [])
    assert names(env, "res.partner", [("city", "=?", False)]) == everyone
    assert names(env, "res.partner", [("city", "=?", "Berlin")]) == ["Bob_Smith"]


def test_active_records_only_unless_asked(env: Env) -> None:
    assert "Archived Carl" not in names(env, "res.partner", [("city", "=", "Lyon")])
    assert "Archived Carl" in names(env, "res.partner", [("city", "=", "Lyon")], active_test=False)
    assert names(env, "res.partner", [("active", "=", False)]) == ["OdooBot", "Archived Carl"]


def test_dotted_path_and_many2one_by_name(env: Env) -> None:
    assert names(env, "res.partner", [("parent_id.city", "=", "Lyon")]) == ["Alice"]
    assert names(env, "res.partner", [("parent_id", "ilike", "acme")]) == ["Alice"]
    codes = env["product.product"].search_read(
        env, [("product_tmpl_id.list_price", ">", 15)], ["default_code"], order="id"
    )
    assert [c["default_code"] for c in codes] == ["CHAIR-2", "DESK-1"]


def test_any_on_one2many_and_many2one(env: Env) -> None:
    assert names(env, "res.partner", [("child_ids", "any", [("email", "ilike", "acme.test")])]) == [
        "Acme Corp"
    ]
    assert names(env, "res.partner", [("parent_id", "any", [("is_company", "=", True)])]) == ["Alice"]
    assert "Acme Corp" not in names(env, "res.partner", [("child_ids", "not any", [("name", "=", "Alice")])])


def test_any_is_refused_before_17() -> None:
    db = OdooDatabase("16.0")
    with db.env() as env, pytest.raises(PythonError, match="Invalid leaf"):
        env["res.partner"].search(env, [("child_ids", "any", [])])


def test_child_of_and_parent_of_follow_the_location_tree(env: Env) -> None:
    warehouse = env["stock.warehouse"].rows[1]
    below = env["stock.location"].search_read(
        env, [("id", "child_of", warehouse["view_location_id"])], ["complete_name"]
    )
    assert {r["complete_name"] for r in below} >= {"WH", "WH/Stock"}
    above = env["stock.location"].search_read(
        env, [("id", "parent_of", warehouse["lot_stock_id"])], ["complete_name"]
    )
    assert {r["complete_name"] for r in above} == {"Physical Locations", "WH", "WH/Stock"}


def test_computed_field_in_domain(env: Env) -> None:
    codes = env["product.product"].search_read(env, [("display_name", "ilike", "[DESK")], ["default_code"])
    assert [c["default_code"] for c in codes] == ["DESK-1"]


def test_order_offset_limit(env: Env) -> None:
    products = env["product.product"]
    ids = products.search(env, [], order="default_code desc")
    codes = [products.rows[i]["default_code"] for i in ids]
    assert codes == ["DESK-1", "CHAIR-2", "CHAIR-1"]
    assert products.search(env, [], order="default_code desc", offset=1, limit=1) == ids[1:2]


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ([("nope", "=", 1)], "Invalid field res.partner.nope"),
        ([("name", "bogus", 1)], "Invalid leaf"),
        ([("name", "=")], "Invalid leaf"),
        (["|", ("name", "=", "x")], "missing its operands"),
        ("name = x", "expected a list"),
    ],
)
def test_malformed_domains_raise_value_errors(env: Env, domain: Any, message: str) -> None:
    with pytest.raises(PythonError, match=message) as caught:
        env["res.partner"].search(env, domain)
    assert caught.value.qualified_name == "builtins.ValueError"


def test_wrong_value_type_is_a_database_error(env: Env) -> None:
    with pytest.raises(DatabaseError, match='invalid input syntax for type integer: "abc"') as caught:
        env["res.partner"].search(env, [("customer_rank", "=", "abc")])
    assert caught.value.qualified_name == "psycopg2.errors.InvalidTextRepresentation"


def test_datetime_comparisons_cast_dates_to_midnight(env: Env) -> None:
    partners = env["res.partner"]
    [pid] = partners.create(env, {"name": "Timed"})
    partners.update(env, pid, {"write_date": "2026-11-23 10:00:00"})
    matching = lambda domain: pid in partners.search(env, domain)  # noqa: E731
    assert matching([("write_date", ">", "2026-11-23")])
    assert not matching([("write_date", "=", "2026-11-23")])
    assert matching([("write_date", ">=", "2026-11-23 10:00")])
    assert not matching([("write_date", ">", "2026-11-23 10:00:00")])


def test_multi_key_order_with_nulls_like_postgresql(env: Env) -> None:
    partners = env["res.partner"]
    rows = [partners.rows[i] for i in partners.search(env, [], order="city desc, name")]
    cities = [r.get("city") for r in rows]
    nulls = [c for c in cities if not c]
    assert nulls and cities[: len(nulls)] == nulls  # DESC puts NULLs first
    named = [(r["city"], r["name"]) for r in rows if r.get("city")]
    assert [c for c, _ in named] == sorted((c for c, _ in named), reverse=True)
    for city in {c for c, _ in named}:
        names_in_city = [n for c, n in named if c == city]
        assert names_in_city == sorted(names_in_city, key=str.casefold)
