"""Warehouses, locations, operation types and quants (stock on hand per product and location)."""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.api import api_model, api_records, model_of
from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env, RecordIds

LOCATION_USAGES = [
    ("supplier", "Vendor Location"),
    ("view", "View"),
    ("internal", "Internal Location"),
    ("customer", "Customer Location"),
    ("inventory", "Inventory Loss"),
    ("production", "Production"),
    ("transit", "Transit Location"),
]


COUNT_FIELDS = frozenset({"inventory_quantity", "inventory_quantity_auto_apply"})
#: what inventory mode lets a caller set (stock.quant._get_inventory_fields_create / _write)
INVENTORY_CREATE_FIELDS = frozenset(
    {
        "product_id",
        "location_id",
        "lot_id",
        "package_id",
        "owner_id",
        "user_id",
        "inventory_date",
        *COUNT_FIELDS,
    }
)
INVENTORY_WRITE_FIELDS = frozenset(
    {
        "inventory_quantity",
        "inventory_quantity_auto_apply",
        "inventory_date",
        "user_id",
        "inventory_quantity_set",
        "inventory_diff_quantity",
    }
)


class StockLocation(BaseModel):
    _name = "stock.location"
    _description = "Inventory Locations"
    _order = "complete_name, id"
    _parent_name = "location_id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Location Name", required=True),
            "complete_name": f.char("Full Location Name", index=True),
            "location_id": f.many2one("stock.location", "Parent Location", index=True),
            "child_ids": f.one2many("stock.location", "location_id", "Contains"),
            "usage": f.selection("Location Type", LOCATION_USAGES, required=True, default="internal"),
            "parent_path": f.char("Parent Path", index=True),
            "barcode": f.char("Barcode"),
            "active": f.boolean("Active", default=True),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "warehouse_id": f.many2one("stock.warehouse", "Warehouse", compute="_compute_warehouse"),
            "scrap_location": f.boolean("Is a Scrap Location?", default=False),
            "return_location": f.boolean("Is a Return Location?", default=False),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        parent = self.rows.get(vals.get("location_id") or 0)
        name = vals.get("name") or ""
        # Odoo: a non-view location with a parent is named after it ("WH/Stock"); views stand alone
        if parent and vals.get("usage", "internal") != "view":
            vals["complete_name"] = f"{parent['complete_name']}/{name}"
        else:
            vals["complete_name"] = name
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        parent = self.rows.get(self.rows[rid].get("location_id") or 0)
        path = f"{parent['parent_path']}{rid}/" if parent else f"{rid}/"
        self.update(env, rid, {"parent_path": path})

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        return {rid: str(self.rows[rid].get("complete_name") or "") for rid in ids if rid in self.rows}

    def _compute_warehouse(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        views = {row["view_location_id"]: wid for wid, row in env["stock.warehouse"].rows.items()}
        result: dict[int, Any] = {}
        for rid in ids:
            path = [int(p) for p in str(self.rows[rid].get("parent_path") or "").split("/") if p]
            result[rid] = next((views[p] for p in reversed(path) if p in views), False)
        return result

    def _name_search_domain(self, name: str, operator: str) -> list[Any]:
        return [("complete_name", operator, name)]


class StockPickingType(BaseModel):
    _name = "stock.picking.type"
    _description = "Picking Type"
    _order = "sequence, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Operation Type", required=True),
            "code": f.selection(
                "Type of Operation",
                [("incoming", "Receipt"), ("outgoing", "Delivery"), ("internal", "Internal Transfer")],
                required=True,
            ),
            "sequence": f.integer("Sequence", default=10),
            "sequence_code": f.char("Sequence Prefix", required=True),
            "warehouse_id": f.many2one("stock.warehouse", "Warehouse", ondelete="cascade"),
            "default_location_src_id": f.many2one("stock.location", "Default Source Location"),
            "default_location_dest_id": f.many2one("stock.location", "Default Destination Location"),
            "return_picking_type_id": f.many2one("stock.picking.type", "Operation Type for Returns"),
            "reservation_method": f.selection(
                "Reservation Method",
                [
                    ("at_confirm", "At Confirmation"),
                    ("manual", "Manually"),
                    ("by_date", "Before scheduled date"),
                ],
                default="at_confirm",
            ),
            "active": f.boolean("Active", default=True),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
        }

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        warehouses = env["stock.warehouse"].rows
        names = {}
        for rid in ids:
            row = self.rows.get(rid)
            if row is None:
                continue
            warehouse = warehouses.get(row.get("warehouse_id") or 0)
            names[rid] = f"{warehouse['name']}: {row['name']}" if warehouse else str(row["name"])
        return names


class StockWarehouse(BaseModel):
    _name = "stock.warehouse"
    _description = "Warehouse"
    _order = "sequence, id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Warehouse", required=True),
            "code": f.char("Short Name", required=True),
            "sequence": f.integer("Sequence", default=10),
            "active": f.boolean("Active", default=True),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "partner_id": f.many2one("res.partner", "Address"),
            "view_location_id": f.many2one("stock.location", "View Location"),
            "lot_stock_id": f.many2one("stock.location", "Location Stock"),
            "wh_input_stock_loc_id": f.many2one("stock.location", "Input Location"),
            "wh_output_stock_loc_id": f.many2one("stock.location", "Output Location"),
            "in_type_id": f.many2one("stock.picking.type", "In Type"),
            "out_type_id": f.many2one("stock.picking.type", "Out Type"),
            "int_type_id": f.many2one("stock.picking.type", "Internal Type"),
        }

    def _after_create(self, env: Env, rid: int) -> None:
        """Create the warehouse's locations and operation types, as Odoo does."""
        row = self.rows[rid]
        if row.get("view_location_id"):
            return
        code = row["code"]
        locations = env["stock.location"]
        physical = env.registry.xmlids.get("stock.stock_location_locations")
        view = locations.create_record(env, {"name": code, "usage": "view", "location_id": physical})
        stock = locations.create_record(env, {"name": "Stock", "usage": "internal", "location_id": view})
        incoming = locations.create_record(
            env, {"name": "Input", "usage": "internal", "location_id": view, "active": False}
        )
        output = locations.create_record(
            env, {"name": "Output", "usage": "internal", "location_id": view, "active": False}
        )
        customers = env.registry.xmlids.get("stock.stock_location_customers")
        suppliers = env.registry.xmlids.get("stock.stock_location_suppliers")
        types = env["stock.picking.type"]
        in_type = types.create_record(
            env,
            {
                "name": "Receipts",
                "code": "incoming",
                "sequence_code": "IN",
                "warehouse_id": rid,
                "default_location_src_id": suppliers,
                "default_location_dest_id": stock,
                "sequence": 1,
            },
        )
        out_type = types.create_record(
            env,
            {
                "name": "Delivery Orders",
                "code": "outgoing",
                "sequence_code": "OUT",
                "warehouse_id": rid,
                "default_location_src_id": stock,
                "default_location_dest_id": customers,
                "sequence": 5,
            },
        )
        int_type = types.create_record(
            env,
            {
                "name": "Internal Transfers",
                "code": "internal",
                "sequence_code": "INT",
                "warehouse_id": rid,
                "default_location_src_id": stock,
                "default_location_dest_id": stock,
                "sequence": 2,
            },
        )
        types.update(env, out_type, {"return_picking_type_id": in_type})
        types.update(env, in_type, {"return_picking_type_id": out_type})
        self.update(env, rid, {
            "view_location_id": view, "lot_stock_id": stock, "wh_input_stock_loc_id": incoming,
            "wh_output_stock_loc_id": output, "in_type_id": in_type, "out_type_id": out_type, "int_type_id": int_type,
        })  # fmt: skip


class StockQuant(BaseModel):
    _name = "stock.quant"
    _description = "Quants"
    _rec_name = "product_id"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "product_id": f.many2one(
                "product.product", "Product", required=True, index=True, ondelete="restrict"
            ),
            "location_id": f.many2one(
                "stock.location", "Location", required=True, index=True, ondelete="restrict"
            ),
            "quantity": f.floating("Quantity", readonly=True, default=0.0),
            "reserved_quantity": f.floating("Reserved Quantity", readonly=True, default=0.0),
            "available_quantity": f.floating("Available Quantity", compute="_compute_available"),
            "inventory_quantity": f.floating("Counted Quantity", default=0.0),
            "inventory_diff_quantity": f.floating("Difference", compute="_compute_diff"),
            "inventory_quantity_set": f.boolean("Inventory Quantity Set", default=False),
            "inventory_quantity_auto_apply": f.floating(
                "Inventoried Quantity", compute="_compute_auto_apply"
            ),
            "inventory_date": f.date_field("Scheduled Date"),
            "in_date": f.datetime_field("Incoming Date"),
            "product_uom_id": f.many2one("uom.uom", "Unit of Measure", related="product_id.uom_id"),
            "product_tmpl_id": f.many2one(
                "product.template", "Product Template", related="product_id.product_tmpl_id"
            ),
            "warehouse_id": f.many2one("stock.warehouse", "Warehouse", related="location_id.warehouse_id"),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
            "lot_id": f.many2one("stock.lot", "Lot/Serial Number"),
            "package_id": f.many2one("stock.quant.package", "Package"),
            "owner_id": f.many2one("res.partner", "Owner"),
        }

    def display_names(self, env: Env, ids: Any) -> dict[int, str]:
        products = env["product.product"]
        labels = products.display_names(
            env, {self.rows[rid]["product_id"] for rid in ids if rid in self.rows}
        )
        return {rid: labels.get(self.rows[rid]["product_id"], "") for rid in ids if rid in self.rows}

    def _compute_available(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {
            rid: (self.rows[rid]["quantity"] or 0.0) - (self.rows[rid]["reserved_quantity"] or 0.0)
            for rid in ids
        }

    def _compute_diff(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {
            rid: (row["inventory_quantity"] or 0.0) - (row["quantity"] or 0.0)
            if row.get("inventory_quantity_set")
            else 0.0
            for rid in ids
            for row in (self.rows[rid],)
        }

    def find(self, product_id: int, location_id: int) -> int | None:
        for qid in self.indexes["product_id"].get(product_id, ()):
            if self.rows[qid]["location_id"] == location_id:
                return qid
        return None

    def change(self, env: Env, qid: int, values: dict[str, Any]) -> None:
        """Stock bookkeeping on one quant: bumps write_date (so polling sees it) and notifies webhooks."""
        self.update(env, qid, {**values, "write_date": env.now(), "write_uid": env.uid})
        self.emit(env, "write", qid, tuple(values))

    def add_quantity(self, env: Env, product_id: int, location_id: int, quantity: float) -> int:
        """``_update_available_quantity``: move stock into (or out of, if negative) one location."""
        qid = self.find(product_id, location_id)
        if qid is None:
            qid = self.insert(env, {
                "product_id": product_id, "location_id": location_id, "quantity": quantity,
                "reserved_quantity": 0.0, "inventory_quantity": 0.0, "inventory_quantity_set": False,
                "in_date": env.now(), "company_id": 1, "create_date": env.now(), "write_date": env.now(),
                "create_uid": env.uid, "write_uid": env.uid,
            })  # fmt: skip
            self.emit(env, "create", qid, ("quantity",))
            return qid
        self.change(env, qid, {"quantity": (self.rows[qid]["quantity"] or 0.0) + quantity})
        return qid

    @api_model
    def create(self, env: Env, vals_list: Any) -> RecordIds:
        """``stock.quant.create``: counting (``inventory_quantity[_auto_apply]``) lands on the existing
        quant of that product and location; in inventory mode nothing else may be set."""
        batch = vals_list if isinstance(vals_list, list) else [vals_list]
        created = RecordIds()
        for vals in batch:
            counting = isinstance(vals, dict) and bool(COUNT_FIELDS & set(vals))
            if counting and env.context.get("inventory_mode") and set(vals) - INVENTORY_CREATE_FIELDS:
                raise UserError("Quant's creation is restricted, you can't do this operation.")
            if counting and vals.get("product_id") and vals.get("location_id"):
                existing = self.find(vals["product_id"], vals["location_id"])
                if existing is not None:
                    self.write(env, [existing], {k: v for k, v in vals.items() if k in COUNT_FIELDS})
                    created.append(existing)
                    continue
                auto_apply = vals.get("inventory_quantity_auto_apply")
                base = {k: v for k, v in vals.items() if k != "inventory_quantity_auto_apply"}
                [qid] = super().create(env, base)
                if auto_apply is not None:
                    self.write(env, [qid], {"inventory_quantity_auto_apply": auto_apply})
                created.append(qid)
                continue
            created.extend(super().create(env, vals))
        return created

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        if "inventory_quantity" in vals:
            vals["inventory_quantity_set"] = True
            vals["inventory_date"] = env.today()
        vals.setdefault("in_date", env.now())
        return vals

    def _check_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if env.context.get("inventory_mode") and set(vals) - INVENTORY_WRITE_FIELDS:
            raise UserError("Quant's editing is restricted, you can't do this operation.")
        if "inventory_quantity" in vals:
            vals["inventory_quantity_set"] = True

    def _after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        if "inventory_quantity_auto_apply" in vals:  # its inverse applies the count right away
            for qid in ids:
                self.update(
                    env,
                    qid,
                    {
                        "inventory_quantity": vals["inventory_quantity_auto_apply"],
                        "inventory_quantity_set": True,
                    },
                )
            self.action_apply_inventory(env, ids)

    def _compute_auto_apply(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {rid: self.rows[rid]["quantity"] for rid in ids}

    @api_records
    def action_apply_inventory(self, env: Env, ids: Any) -> None:
        """Apply counted quantities: the difference moves from/to the inventory-loss location."""
        from channelhub.sandbox.odoo.models.picking import StockMove  # picking imports this module

        inventory_loss = env.registry.xmlids["stock.stock_location_inventory"]
        moves = model_of(env, StockMove)
        for qid in self.existing(ids):
            row = self.rows[qid]
            if not row.get("inventory_quantity_set"):
                continue
            difference = (row["inventory_quantity"] or 0.0) - (row["quantity"] or 0.0)
            if difference:
                source, destination = (
                    (inventory_loss, row["location_id"])
                    if difference > 0
                    else (row["location_id"], inventory_loss)
                )
                moves.record_done_move(
                    env,
                    row["product_id"],
                    abs(difference),
                    source,
                    destination,
                    "Product Quantity Updated",
                    is_inventory=True,
                )
            self.change(
                env,
                qid,
                {"inventory_quantity": 0.0, "inventory_quantity_set": False, "inventory_date": env.today()},
            )
        return None

    @api_records
    def action_set_inventory_quantity_to_zero(self, env: Env, ids: Any) -> None:
        for qid in self.existing(ids):
            self.update(env, qid, {"inventory_quantity": 0.0, "inventory_quantity_set": False})
        return None


class StockLot(BaseModel):
    _name = "stock.lot"
    _description = "Lot/Serial"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Lot/Serial Number", required=True),
            "product_id": f.many2one("product.product", "Product", required=True, index=True),
            "company_id": f.many2one("res.company", "Company", default=lambda env: 1),
        }


class StockQuantPackage(BaseModel):
    _name = "stock.quant.package"
    _description = "Packages"

    def _define_fields(self) -> dict[str, Field]:
        return {"name": f.char("Package Reference", required=True)}
