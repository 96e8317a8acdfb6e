"""`OdooDatabase`: one emulated Odoo database — models, base data, users and their credentials.

This is the programmatic handle tests and the sandbox use to seed and inspect the emulator's state
without going through RPC: ``db.env()`` gives an environment, ``db.registry.models[...]`` the rows.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.models import (
    account,
    base,
    custom,
    mail,
    move_lines,
    picking,
    pricelist,
    product,
    references,
    returns,
    sale,
    stock,
    validation,
)
from channelhub.sandbox.odoo.orm import Clock, Env, Registry, utc_now
from channelhub.sandbox.odoo.versions import OdooVersion

MODEL_CLASSES: tuple[type[BaseModel], ...] = (
    base.ResCurrency,
    base.ResCountry,
    base.ResCountryState,
    base.ResPartner,
    base.ResCompany,
    base.ResUsers,
    base.UomCategory,
    base.UomUom,
    custom.IrModel,
    custom.IrModelFields,
    base.IrModelData,
    product.ProductCategory,
    product.ProductAttribute,
    product.ProductTemplate,
    product.ProductTemplateAttributeValue,
    product.ProductProduct,
    pricelist.ProductPricelist,
    pricelist.ProductPricelistItem,
    stock.StockLocation,
    stock.StockWarehouse,
    stock.StockPickingType,
    stock.StockLot,
    stock.StockQuantPackage,
    stock.StockQuant,
    picking.StockPicking,
    picking.StockMove,
    move_lines.StockMoveLine,
    validation.StockBackorderConfirmation,
    returns.StockReturnPicking,
    returns.StockReturnPickingLine,
    references.AccountTax,
    references.AccountPaymentTerm,
    references.AccountFiscalPosition,
    references.CrmTeam,
    references.CrmTag,
    sale.SaleOrder,
    sale.SaleOrderLine,
    sale.SaleOrderCancel,
    mail.MailMessage,
    account.AccountJournal,
    account.AccountMove,
    account.AccountMoveLine,
    account.AccountMoveReversal,
    account.SaleAdvancePaymentInv,
)


COUNTRIES = (
    ("BE", "Belgium", 32), ("CA", "Canada", 1), ("DE", "Germany", 49), ("ES", "Spain", 34), ("FR", "France", 33),
    ("GB", "United Kingdom", 44), ("IT", "Italy", 39), ("JP", "Japan", 81), ("NL", "Netherlands", 31),
    ("PT", "Portugal", 351), ("US", "United States", 1),
)  # fmt: skip


class OdooDatabase:
    """An Odoo database in memory, with the admin user the emulator serves."""

    def __init__(
        self,
        version: str = "17.0",
        *,
        name: str = "retail",
        login: str = "admin",
        password: str = "admin",
        api_key: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.version = OdooVersion(version)
        self.name = name
        self.login = login
        self.password = password
        self.api_key = api_key or secrets.token_hex(20)
        self.registry = Registry(self.version, clock)
        classes = list(MODEL_CLASSES)
        if self.version.has_immediate_transfer:
            classes.append(validation.StockImmediateTransfer)
        if self.version.has_packaging:
            classes.append(product.ProductPackaging)
        for model_cls in classes:
            self.registry.register(model_cls)
        self.registry.finalize()
        self.admin_uid = base.ADMIN_UID
        with self.env() as env:
            self._install_base_data(env)

    @contextmanager
    def env(self, context: dict[str, Any] | None = None, uid: int | None = None) -> Iterator[Env]:
        """A transaction as the admin user: rolled back if the block raises."""
        with self.registry.transaction(uid or self.admin_uid, context) as env:
            yield env

    def model(self, name: str) -> BaseModel:
        return self.registry.models[name]

    # -- authentication -------------------------------------------------------------------------
    def check_credentials(self, uid: Any, secret: Any) -> bool:
        """Password or API key of the user (Odoo accepts an API key wherever a password goes)."""
        users = self.registry.models["res.users"].rows
        if not isinstance(uid, int) or uid not in users or not isinstance(secret, str):
            return False
        return hmac.compare_digest(secret, self.password) or hmac.compare_digest(secret, self.api_key)

    def uid_for(self, login: Any, secret: Any) -> int | None:
        users = self.registry.models["res.users"]
        for uid in users.indexes["login"].get(login, ()):
            if users.rows[uid].get("active") and self.check_credentials(uid, secret):
                return uid
        return None

    def uid_for_api_key(self, key: str) -> int | None:
        return self.admin_uid if hmac.compare_digest(key, self.api_key) else None

    # -- base data ------------------------------------------------------------------------------
    def _install_base_data(self, env: Env) -> None:
        models = self.registry.models
        xmlids = self.registry.xmlids
        for name, model in models.items():
            model_rows = models["ir.model"]
            model_rows.create_record(
                env,
                {"name": model._description, "model": name, "transient": model._transient, "state": "base"},
            )
        for code, name, phone in COUNTRIES:
            models["res.country"].create_record(env, {"code": code, "name": name, "phone_code": phone})
        usd = models["res.currency"].create_record(env, {"name": "USD", "symbol": "$", "position": "before"})
        models["res.currency"].create_record(env, {"name": "EUR", "symbol": "€", "position": "after"})
        partners = models["res.partner"]
        company_partner = partners.create_record(
            env,
            {"name": "YourCompany", "is_company": True, "email": "info@yourcompany.com", "country_id": 11},
        )
        partners.create_record(env, {"name": "OdooBot", "active": False})
        admin_partner = partners.create_record(
            env, {"name": "Mitchell Admin", "email": "admin@yourcompany.example.com"}
        )
        models["res.company"].create_record(
            env, {"name": "YourCompany", "currency_id": usd, "partner_id": company_partner}
        )
        users = models["res.users"]
        users.create_record(env, {"login": "__system__", "partner_id": 2, "active": False})
        users.create_record(env, {"login": self.login, "partner_id": admin_partner})
        unit_category = models["uom.category"].create_record(env, {"name": "Unit"})
        models["uom.uom"].create_record(env, {"name": "Units", "category_id": unit_category})
        models["uom.uom"].create_record(
            env, {"name": "Dozens", "category_id": unit_category, "factor": 1 / 12, "uom_type": "bigger"}
        )
        categories = models["product.category"]
        all_products = categories.create_record(env, {"name": "All"})
        categories.create_record(env, {"name": "Saleable", "parent_id": all_products})
        locations = models["stock.location"]
        physical = locations.create_record(env, {"name": "Physical Locations", "usage": "view"})
        partner_locations = locations.create_record(env, {"name": "Partners", "usage": "view"})
        virtual = locations.create_record(env, {"name": "Virtual Locations", "usage": "view"})
        xmlids["stock.stock_location_locations"] = physical
        xmlids["stock.stock_location_suppliers"] = locations.create_record(
            env, {"name": "Vendors", "usage": "supplier", "location_id": partner_locations}
        )
        xmlids["stock.stock_location_customers"] = locations.create_record(
            env, {"name": "Customers", "usage": "customer", "location_id": partner_locations}
        )
        xmlids["stock.stock_location_inventory"] = locations.create_record(
            env, {"name": "Inventory adjustment", "usage": "inventory", "location_id": virtual}
        )
        warehouse = models["stock.warehouse"].create_record(
            env, {"name": "YourCompany", "code": "WH", "partner_id": company_partner}
        )
        xmlids["stock.warehouse0"] = warehouse
        models["account.journal"].create_record(
            env, {"name": "Customer Invoices", "code": "INV", "type": "sale"}
        )
        xmlids["product.list0"] = models["product.pricelist"].create_record(
            env, {"name": "Public Pricelist", "currency_id": usd, "sequence": 1}
        )
        models["account.tax"].create_record(env, {"name": "15%", "amount": 15.0, "type_tax_use": "sale"})
        for term in ("Immediate Payment", "15 Days", "30 Days"):
            models["account.payment.term"].create_record(env, {"name": term})
        for team in ("Sales", "Website", "Point of Sale"):
            models["crm.team"].create_record(env, {"name": team})
        self._install_external_ids(env, warehouse)

    def _install_external_ids(self, env: Env, warehouse_id: int) -> None:
        models = self.registry.models
        xmlids = self.registry.xmlids
        warehouse = models["stock.warehouse"].rows[warehouse_id]
        xmlids.update({
            "stock.stock_location_stock": warehouse["lot_stock_id"], "stock.picking_type_out": warehouse["out_type_id"],
            "stock.picking_type_in": warehouse["in_type_id"], "base.main_company": 1, "base.main_partner": 1,
            "base.partner_admin": 3, "base.user_admin": self.admin_uid, "base.USD": 1,
            "uom.product_uom_unit": 1, "product.product_category_all": 1,
        })  # fmt: skip
        xmlid_models = {
            "stock.stock_location_locations": "stock.location", "stock.stock_location_suppliers": "stock.location",
            "stock.stock_location_customers": "stock.location", "stock.stock_location_inventory": "stock.location",
            "stock.stock_location_stock": "stock.location", "stock.warehouse0": "stock.warehouse",
            "stock.picking_type_out": "stock.picking.type", "stock.picking_type_in": "stock.picking.type",
            "product.list0": "product.pricelist", "base.main_company": "res.company", "base.main_partner": "res.partner",
            "base.partner_admin": "res.partner", "base.user_admin": "res.users", "base.USD": "res.currency",
            "uom.product_uom_unit": "uom.uom", "product.product_category_all": "product.category",
        }  # fmt: skip
        for xmlid, model_name in xmlid_models.items():
            module, _, name = xmlid.partition(".")
            values = {
                "module": module,
                "name": name,
                "model": model_name,
                "res_id": xmlids[xmlid],
                "noupdate": True,
            }
            models["ir.model.data"].create_record(env, values)
