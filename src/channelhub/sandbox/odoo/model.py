"""`BaseModel`: rows, indexes and the public ORM methods every emulated model answers over RPC.

Methods callable remotely are marked with `api_model` (no ids, like ``@api.model``) or
`api_records` (first positional argument is the ids, like a recordset method). Anything else,
in particular ``_``-prefixed helpers, is refused the way Odoo refuses private methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from channelhub.sandbox.odoo import fields as f
from channelhub.sandbox.odoo import writes
from channelhub.sandbox.odoo.api import (
    api_model,
    api_records,
    available,
    normalize_ids,
    raise_missing_method,
)
from channelhub.sandbox.odoo.domain import search_ids
from channelhub.sandbox.odoo.errors import (
    AccessError,
    MissingError,
    value_error,
)
from channelhub.sandbox.odoo.fields import X2MANY, Field
from channelhub.sandbox.odoo.orm import ChangeEvent, Env, RecordIds, Registry
from channelhub.sandbox.odoo.versions import OdooVersion

MAGIC_FIELDS = ("id", "display_name", "create_date", "create_uid", "write_date", "write_uid")


class BaseModel:
    _name = "base"
    _description = "Base"
    _order = "id"
    _rec_name = "name"
    _parent_name = "parent_id"
    _transient = False
    #: {"product.template": "product_tmpl_id"}: fields of the parent read/written through the link
    _inherits: dict[str, str] = {}
    #: inherits ``mail.thread``: has a chatter (``message_ids``, ``message_post``)
    _mail_thread = False

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.rows: dict[int, dict[str, Any]] = {}
        self.next_id = 1
        self.indexes: dict[str, dict[Any, set[int]]] = {}
        self.fields: dict[str, Field] = {}
        self._add_magic_fields()
        for name, fld in self._define_fields().items():
            self._add_field(name, fld)
        for parent_model, link in self._inherits.items():
            self._delegate_fields(parent_model, link)
        if self._mail_thread:
            self._add_field(
                "message_ids",
                f.one2many("mail.message", "res_id", "Messages", compute="_compute_message_ids"),
            )
        for name, fld in self.fields.items():
            if fld.index or (fld.type == "many2one" and fld.ondelete == "cascade"):
                self.ensure_index(name)

    # -- definition -----------------------------------------------------------------------------
    @property
    def version(self) -> OdooVersion:
        return self.registry.version

    def _define_fields(self) -> dict[str, Field]:
        return {}

    def _add_field(self, name: str, fld: Field) -> None:
        fld.name = name
        fld.model_name = self._name
        self.fields[name] = fld

    def _add_magic_fields(self) -> None:
        self._add_field("id", f.integer("ID", readonly=True))
        self._add_field("display_name", f.char("Display Name", compute="_compute_display_name"))
        self._add_field("create_date", f.datetime_field("Created on", readonly=True))
        self._add_field("create_uid", f.many2one("res.users", "Created by", readonly=True))
        self._add_field("write_date", f.datetime_field("Last Updated on", readonly=True))
        self._add_field("write_uid", f.many2one("res.users", "Last Updated by", readonly=True))
        if self.registry.version.has_last_update_field:
            self._add_field(
                "__last_update", f.datetime_field("Last Modified on", compute="_compute_last_update")
            )

    def _delegate_fields(self, parent_model: str, link: str) -> None:
        parent_cls = self.registry.models.get(parent_model)
        if parent_cls is None:
            raise RuntimeError(f"{self._name} inherits {parent_model}, register it first")
        for name, fld in parent_cls.fields.items():
            if name in self.fields or name in MAGIC_FIELDS or name.startswith("__"):
                continue
            if fld.type == "one2many":
                continue
            delegated = Field(
                fld.type,
                fld.string,
                required=False,
                readonly=fld.readonly,
                relation=fld.relation,
                selection=fld.selection,
                related=f"{link}.{name}",
                help=fld.help,
            )
            self._add_field(name, delegated)

    def ensure_index(self, name: str) -> None:
        if name in self.indexes:
            return
        index: dict[Any, set[int]] = {}
        for rid, row in self.rows.items():
            index.setdefault(row.get(name, False), set()).add(rid)
        self.indexes[name] = index

    # -- storage primitives (journaled for rollback) ----------------------------------------------
    def insert(self, env: Env | None, values: dict[str, Any]) -> int:
        self.registry.revision += 1
        rid = self.next_id
        self.next_id += 1
        row = dict(values)
        row["id"] = rid
        self.rows[rid] = row
        for name, index in self.indexes.items():
            index.setdefault(row.get(name, False), set()).add(rid)
        if env is not None:
            env.txn.undo.append(("insert", self._name, rid, None))
        return rid

    def update(self, env: Env | None, rid: int, changes: dict[str, Any]) -> None:
        self.registry.revision += 1
        row = self.rows[rid]
        old = {name: row.get(name, False) for name in changes}
        for name, value in changes.items():
            index = self.indexes.get(name)
            if index is not None:
                previous = row.get(name, False)
                if previous != value:
                    bucket = index.get(previous)
                    if bucket is not None:
                        bucket.discard(rid)
                    index.setdefault(value, set()).add(rid)
            row[name] = value
        if env is not None:
            env.txn.undo.append(("update", self._name, rid, old))

    def remove(self, env: Env | None, rid: int) -> None:
        self.registry.revision += 1
        row = self.rows.pop(rid)
        for name, index in self.indexes.items():
            bucket = index.get(row.get(name, False))
            if bucket is not None:
                bucket.discard(rid)
        if env is not None:
            env.txn.undo.append(("remove", self._name, rid, row))

    def undo(self, kind: str, rid: int, payload: Any) -> None:
        if kind == "insert":
            self.remove(None, rid)
        elif kind == "update":
            self.update(None, rid, payload)
        elif kind == "remove":
            self.rows[rid] = payload
            for name, index in self.indexes.items():
                index.setdefault(payload.get(name, False), set()).add(rid)

    def emit(self, env: Env, action: str, rid: int, names: Iterable[str] = ()) -> None:
        env.txn.events.append(ChangeEvent(self._name, action, rid, tuple(names)))

    # -- value access ---------------------------------------------------------------------------
    def field(self, name: str) -> Field:
        fld = self.fields.get(name)
        if fld is None:
            raise value_error(f"Invalid field {name!r} on model {self._name!r}")
        return fld

    def existing(self, ids: Any) -> list[int]:
        """Normalize the ids argument of a record method and insist they all exist."""
        record_ids = normalize_ids(ids)
        missing = [rid for rid in record_ids if rid not in self.rows]
        if missing:
            shown = ", ".join(str(rid) for rid in missing)
            raise MissingError(
                f"Record does not exist or has been deleted.\n(Record: {self._name}({shown},), User: 2)"
            )
        return record_ids

    def values_of(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        """Raw values (many2one as id, x2many as id list) of one field, stored or computed."""
        fld = self.field(name)
        if fld.related:
            return self._related_values(env, ids, fld.related)
        if fld.compute:
            cache_key = (self._name, name, tuple(ids), id(env.context), self.registry.revision)
            cached = env.cache.get(cache_key)
            if cached is None:
                cached = getattr(self, fld.compute)(env, ids, name)
                env.cache[cache_key] = cached
            return cached  # type: ignore[no-any-return]
        if fld.type == "one2many":
            comodel = env[fld.relation or ""]
            index = comodel.indexes[fld.inverse_name or ""]
            return {rid: sorted(index.get(rid, ())) for rid in ids}
        rows = self.rows
        if fld.type == "many2many":
            return {rid: list(rows[rid].get(name) or []) for rid in ids}
        return {rid: rows[rid].get(name, False) for rid in ids}

    def _related_values(self, env: Env, ids: list[int], path: str) -> dict[int, Any]:
        link, _, target = path.partition(".")
        links = self.values_of(env, ids, link)
        comodel = env[self.field(link).relation or ""]
        parent_ids = sorted({pid for pid in links.values() if pid})
        parent_values = comodel.values_of(env, parent_ids, target) if parent_ids else {}
        target_fld = comodel.field(target)
        empty: Any = [] if target_fld.type in X2MANY else False
        return {rid: parent_values.get(links[rid], empty) if links[rid] else empty for rid in ids}

    def display_names(self, env: Env, ids: Iterable[int]) -> dict[int, str]:
        rows = self.rows
        rec_name = self._rec_name
        return {rid: str(rows[rid].get(rec_name) or f"{self._name},{rid}") for rid in ids if rid in rows}

    def _compute_display_name(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return dict(self.display_names(env, ids))

    def _compute_last_update(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        return {rid: self.rows[rid].get("write_date") or self.rows[rid].get("create_date") for rid in ids}

    # -- public ORM methods -----------------------------------------------------------------------
    @api_model
    def search(
        self,
        env: Env,
        domain: Any = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        count: bool = False,
    ) -> Any:
        ids = search_ids(self, env, domain or [], order=order, offset=offset, limit=limit)
        return len(ids) if count else RecordIds(ids)

    @api_model
    def search_count(self, env: Env, domain: Any = None, limit: int | None = None) -> int:
        return len(search_ids(self, env, domain or [], order="id", limit=limit))

    @api_model
    def search_read(
        self,
        env: Env,
        domain: Any = None,
        fields: list[str] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        load: str = "_classic_read",
    ) -> list[dict[str, Any]]:
        ids = search_ids(self, env, domain or [], order=order, offset=offset, limit=limit)
        return self.read_rows(env, ids, fields, load)

    @api_records
    def read(
        self, env: Env, ids: Any, fields: list[str] | None = None, load: str = "_classic_read"
    ) -> list[dict[str, Any]]:
        return self.read_rows(env, self.existing(ids), fields, load)

    def read_rows(
        self, env: Env, ids: list[int], names: list[str] | None, load: str = "_classic_read"
    ) -> list[dict[str, Any]]:
        if names is not None and not isinstance(names, (list, tuple)):
            raise value_error(f"Invalid fields {names!r}: expected a list of field names")
        wanted = [n for n in (names or self.fields) if n != "id"]
        for name in wanted:
            self.field(name)
        columns: dict[str, dict[int, Any]] = {}
        for name in wanted:
            columns[name] = self._output_column(env, ids, name, load)
        return [{"id": rid, **{name: columns[name][rid] for name in wanted}} for rid in ids]

    def _output_column(self, env: Env, ids: list[int], name: str, load: str) -> dict[int, Any]:
        fld = self.fields[name]
        raw = self.values_of(env, ids, name)
        if fld.type == "many2one" and load == "_classic_read":
            comodel = env[fld.relation or ""]
            names = comodel.display_names(env, {v for v in raw.values() if v})
            return {rid: [v, names.get(v, "")] if v else False for rid, v in raw.items()}
        if fld.type in X2MANY:
            return raw
        return {rid: (False if v is None else v) for rid, v in raw.items()}

    @api_model
    def read_group(
        self,
        env: Env,
        domain: Any,
        fields: list[str],
        groupby: Any,
        offset: int = 0,
        limit: int | None = None,
        orderby: str | bool = False,
        lazy: bool = True,
    ) -> list[dict[str, Any]]:
        from channelhub.sandbox.odoo.grouping import read_group

        return read_group(self, env, domain, fields, groupby, offset, limit, orderby, lazy)

    @api_model
    def fields_get(
        self, env: Env, allfields: list[str] | None = None, attributes: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        result: dict[str, dict[str, Any]] = {}
        for name, fld in self.fields.items():
            if allfields and name not in allfields:
                continue
            description = fld.fields_get()
            if attributes:
                description = {k: v for k, v in description.items() if k in attributes}
            result[name] = description
        return result

    @api_model
    def default_get(self, env: Env, fields_list: list[str]) -> dict[str, Any]:
        defaults: dict[str, Any] = {}
        for name in fields_list:
            fld = self.fields.get(name)
            if fld is None:
                continue
            key = f"default_{name}"
            if key in env.context:
                defaults[name] = env.context[key]
            elif fld.default is not None:
                defaults[name] = fld.default(env) if callable(fld.default) else fld.default
        return defaults

    @api_model
    def name_search(
        self,
        env: Env,
        name: str = "",
        args: Any = None,
        operator: str = "ilike",
        limit: int = 100,
        domain: Any = None,
    ) -> list[list[Any]]:
        base = list(domain or args or [])
        # Odoo skips the name condition only for an empty "ilike" search (list everything)
        if name or operator != "ilike":
            base = (
                ["&", *self._name_search_domain(name, operator), *base]
                if base
                else self._name_search_domain(name, operator)
            )
        ids = search_ids(self, env, base, limit=limit)
        names = self.display_names(env, ids)
        return [[rid, names[rid]] for rid in ids]

    def _name_search_domain(self, name: str, operator: str) -> list[Any]:
        return [(self._rec_name, operator, name)]

    @api_model
    def check_access_rights(self, env: Env, operation: str, raise_exception: bool = True) -> bool:
        if operation not in ("read", "write", "create", "unlink"):
            raise value_error(f"Invalid access mode {operation!r}")
        return True

    @available(lambda version: version.major >= 18)
    @api_model
    def has_access(self, env: Env, operation: str) -> bool:
        self.check_access_rights(env, operation)
        return True

    @available(lambda version: version.major >= 18)
    @api_model
    def check_access(self, env: Env, operation: str) -> None:
        self.check_access_rights(env, operation)

    @api_records
    def exists(self, env: Env, ids: Any) -> RecordIds:
        return RecordIds(rid for rid in normalize_ids(ids) if rid in self.rows)

    @available(lambda version: version.has_name_get)
    @api_records
    def name_get(self, env: Env, ids: Any) -> list[list[Any]]:
        record_ids = self.existing(ids)
        names = self.display_names(env, record_ids)
        return [[rid, names[rid]] for rid in record_ids]

    # create / write / unlink: the logic lives in `writes.py` to keep this module readable
    @api_model
    def create(self, env: Env, vals_list: Any) -> RecordIds:
        return writes.create(self, env, vals_list)

    @api_records
    def write(self, env: Env, ids: Any, vals: Any) -> bool:
        return writes.write(self, env, self.existing(ids), vals)

    @api_records
    def unlink(self, env: Env, ids: Any) -> bool:
        return writes.unlink(self, env, self.existing(ids))

    def create_record(self, env: Env, vals: dict[str, Any]) -> int:
        """Create one record from emulator code (same rules as RPC create, single id back)."""
        return writes.create_one(self, env, dict(vals))

    @api_records
    def action_archive(self, env: Env, ids: Any) -> bool:
        return writes.write(self, env, self.existing(ids), {"active": False})

    @api_records
    def action_unarchive(self, env: Env, ids: Any) -> bool:
        return writes.write(self, env, self.existing(ids), {"active": True})

    # chatter (models with _mail_thread) ---------------------------------------------------------
    def _compute_message_ids(self, env: Env, ids: list[int], name: str) -> dict[int, Any]:
        from channelhub.sandbox.odoo.models.mail import message_ids

        return message_ids(env, self._name, ids)

    @api_records
    def message_post(
        self,
        env: Env,
        ids: Any,
        body: str = "",
        subject: str | None = None,
        message_type: str = "notification",
        subtype_xmlid: str | None = None,
        partner_ids: list[int] | None = None,
        **kwargs: Any,
    ) -> int:
        from channelhub.sandbox.odoo.models.mail import post_message

        record_ids = self.existing(ids)
        if len(record_ids) != 1:
            raise value_error(
                f"Expected singleton: {self._name}({', '.join(map(str, record_ids))}{',' if len(record_ids) == 1 else ''})"
            )
        values: dict[str, Any] = {
            "body": body or "",
            "subject": subject or False,
            "message_type": message_type,
        }
        if partner_ids:
            values["partner_ids"] = [(6, 0, list(partner_ids))]
        return post_message(self, env, record_ids[0], values)

    message_post._mail_thread_only = True  # type: ignore[attr-defined]

    # hooks models override ---------------------------------------------------------------------
    def _prepare_create(self, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
        return vals

    def _after_create(self, env: Env, rid: int) -> None:
        return None

    def _check_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        return None

    def _after_write(self, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
        return None

    def _check_unlink(self, env: Env, ids: list[int]) -> None:
        return None

    def rpc_method(self, name: str) -> tuple[str, Callable[..., Any]]:
        """Find a remotely callable method, refusing private and unknown ones like Odoo.

        Up to 17.0 ``check_method_name`` + ``getattr(type(model), name)`` decide; from 18.0
        ``get_public_method`` does, with model-qualified messages.
        """
        qualified = self.version.major >= 18
        if name.startswith("_"):
            shown = f"'{self._name}.{name}'" if qualified else name
            raise AccessError(f"Private methods (such as {shown}) cannot be called remotely.")
        fn = getattr(self, name, None)
        kind = getattr(fn, "_rpc", None)
        condition = getattr(fn, "_available", None)
        hidden = getattr(fn, "_mail_thread_only", False) and not self._mail_thread
        if fn is None or kind is None or hidden or (condition is not None and not condition(self.version)):
            raise_missing_method(self, name)
        return kind, fn  # type: ignore[return-value]


__all__ = ["MAGIC_FIELDS", "BaseModel", "Env", "RecordIds"]
