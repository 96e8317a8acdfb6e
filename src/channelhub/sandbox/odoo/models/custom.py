"""Custom models and fields created over RPC (``ir.model`` / ``ir.model.fields`` with ``state='manual'``).

This is the "Inspection and introspection" part of Odoo's external API documentation: create
``x_custom_model``, add ``x_name``, then use the new model like any other.
"""

from __future__ import annotations

from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo.errors import ValidationError
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.model import BaseModel
from channelhub.sandbox.odoo.orm import Env

FIELD_TYPES = [
    (kind, kind)
    for kind in ("char", "text", "html", "integer", "float", "monetary", "boolean", "date", "datetime", "selection", "many2one", "one2many", "many2many", "binary")
]  # fmt: skip


class IrModel(BaseModel):
    """The model catalogue: odoorpc checks ``ir.model`` before it builds a model proxy."""

    _name = "ir.model"
    _description = "Models"
    _order = "model"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Model Description", required=True),
            "model": f.char("Model", required=True, index=True),
            "transient": f.boolean("Transient Model"),
            "state": f.selection(
                "Type", [("manual", "Custom Object"), ("base", "Base Object")], default="manual"
            ),
            "field_id": f.one2many("ir.model.fields", "model_id", "Fields"),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        name = vals.get("model") or ""
        if vals.get("state", "manual") == "manual":
            if not str(name).startswith("x_"):
                raise ValidationError("The model name must start with 'x_'.")
            if name in env.registry.models:
                raise ValidationError(f"The model name {name!r} is already used.")
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        row = self.rows[rid]
        if row.get("state") != "manual":
            return
        custom = type(
            row["model"].replace(".", "_"),
            (BaseModel,),
            {"_name": row["model"], "_description": row["name"], "_rec_name": "x_name", "_order": "id"},
        )
        env.registry.register(custom)


class IrModelFields(BaseModel):
    _name = "ir.model.fields"
    _description = "Fields"
    _order = "name"

    def _define_fields(self) -> dict[str, Field]:
        return {
            "name": f.char("Field Name", required=True, index=True),
            "model": f.char("Model Name"),
            "model_id": f.many2one("ir.model", "Model", required=True, index=True, ondelete="cascade"),
            "field_description": f.char("Field Label"),
            "ttype": f.selection("Field Type", FIELD_TYPES, required=True),
            "relation": f.char("Related Model"),
            "relation_field": f.char("Relation Field"),
            "required": f.boolean("Required", default=False),
            "readonly": f.boolean("Readonly", default=False),
            "state": f.selection(
                "Type", [("manual", "Custom Field"), ("base", "Base Field")], default="manual"
            ),
        }

    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        owner = env["ir.model"].rows.get(vals.get("model_id") or 0)
        if owner is not None:
            vals["model"] = owner["model"]
        if vals.get("state", "manual") == "manual" and not str(vals.get("name") or "").startswith("x_"):
            raise ValidationError("Custom fields must have a name that starts with 'x_' !")
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        row = self.rows[rid]
        model = env.registry.models.get(row["model"])
        if model is None or row.get("state") != "manual":
            return
        fld = Field(
            row["ttype"],
            row.get("field_description") or row["name"],
            required=bool(row.get("required")),
            readonly=bool(row.get("readonly")),
            relation=row.get("relation") or None,
            inverse_name=row.get("relation_field") or None,
        )
        model._add_field(row["name"], fld)
        if fld.store:
            for record_id in model.rows:
                model.update(env, record_id, {row["name"]: [] if fld.type == "many2many" else False})
