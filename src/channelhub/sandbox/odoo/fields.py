"""Field definitions of emulated models: type, label, constraints, how values convert and read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo.errors import value_error

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.orm import Env

RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
X2MANY = frozenset({"one2many", "many2many"})
NUMERIC = frozenset({"integer", "float", "monetary"})

Default = Callable[["Env"], Any] | Any


@dataclass
class Field:
    type: str
    string: str
    required: bool = False
    readonly: bool = False
    relation: str | None = None
    #: one2many: the many2one on the comodel pointing back
    inverse_name: str | None = None
    selection: list[tuple[str, str]] | None = None
    default: Default = None
    #: name of a model method ``(env, ids) -> {id: value}`` for computed (non-stored) fields
    compute: str | None = None
    #: "many2one_field.target_field": delegated value (product.product -> product.template)
    related: str | None = None
    index: bool = False
    ondelete: str = "set null"
    help: str = ""
    name: str = field(default="", init=False)
    model_name: str = field(default="", init=False)

    @property
    def store(self) -> bool:
        return self.compute is None and self.related is None and self.type != "one2many"

    def fields_get(self, all_attributes: bool = True) -> dict[str, Any]:
        """The attributes ``fields_get`` describes a field with."""
        description: dict[str, Any] = {
            "type": self.type,
            "string": self.string,
            "required": self.required,
            "readonly": self.readonly or (self.compute is not None and self.related is None),
            "store": self.store,
            "searchable": True,
            "sortable": self.store,
            "name": self.name,
            "manual": False,
            "company_dependent": False,
            "change_default": False,
            "depends": [],
            "exportable": True,
        }
        if self.help:
            description["help"] = self.help
        if self.relation:
            description["relation"] = self.relation
            description["context"] = {}
            description["domain"] = []
        if self.inverse_name:
            description["relation_field"] = self.inverse_name
        if self.selection is not None:
            description["selection"] = [list(option) for option in self.selection]
        if self.type in ("char", "text"):
            description["translate"] = False
            description["trim"] = True
        return description

    def convert(self, value: Any) -> Any:
        """Coerce a value sent over RPC to what the database column would hold (False = NULL)."""
        kind = self.type
        if kind in ("char", "text", "html"):
            return str(value) if value not in (None, False) else False
        if kind == "integer":
            return _coerce_number(int, value, self)
        if kind in ("float", "monetary"):
            return _coerce_number(float, value, self)
        if kind == "boolean":
            return bool(value)
        if kind == "selection":
            if value in (None, False, ""):
                return False
            allowed = {key for key, _ in self.selection or []}
            if value not in allowed:
                raise value_error(f"Wrong value for {self.model_name}.{self.name}: {value!r}")
            return value
        if kind == "many2one":
            if value in (None, False, 0):
                return False
            if isinstance(value, (list, tuple)) and value:
                value = value[0]
            if isinstance(value, bool) or not isinstance(value, int):
                raise value_error(f"Wrong value for {self.model_name}.{self.name}: {value!r}")
            return value
        if kind == "date":
            return _coerce_date(value, self, with_time=False)
        if kind == "datetime":
            return _coerce_date(value, self, with_time=True)
        if kind == "binary":
            return value if value else False
        return value


def _coerce_number(kind: type, value: Any, fld: Field) -> Any:
    if value in (None, False, ""):
        return kind(0)
    if isinstance(value, (int, float)):
        return kind(value)
    if isinstance(value, str):
        try:
            return kind(float(value)) if kind is int else kind(value)
        except ValueError:
            pass
    if kind is int:
        raise value_error(f"invalid literal for int() with base 10: {value!r}")
    raise value_error(f"could not convert string to float: {value!r}")


def _coerce_date(value: Any, fld: Field, *, with_time: bool) -> Any:
    if value in (None, False, ""):
        return False
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if with_time else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d") + (" 00:00:00" if with_time else "")
    if isinstance(value, str):
        text = value.strip()
        try:
            if with_time:
                if len(text) == 10:
                    return datetime.strptime(text, "%Y-%m-%d").strftime("%Y-%m-%d 00:00:00")
                return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S")
            return datetime.strptime(text[:10], "%Y-%m-%d").strftime("%Y-%m-%d")
        except ValueError:
            pass
    pattern = "%Y-%m-%d %H:%M:%S" if with_time else "%Y-%m-%d"
    raise value_error(f"time data {value!r} does not match format '{pattern}'")


# -- constructors used by model definitions (read like Odoo's ``fields.Char(...)``) ---------------
def char(string: str, **kw: Any) -> Field:
    return Field("char", string, **kw)


def text(string: str, **kw: Any) -> Field:
    return Field("text", string, **kw)


def integer(string: str, **kw: Any) -> Field:
    return Field("integer", string, **kw)


def floating(string: str, **kw: Any) -> Field:
    return Field("float", string, **kw)


def monetary(string: str, **kw: Any) -> Field:
    return Field("monetary", string, **kw)


def boolean(string: str, **kw: Any) -> Field:
    return Field("boolean", string, **kw)


def selection(string: str, options: list[tuple[str, str]], **kw: Any) -> Field:
    return Field("selection", string, selection=options, **kw)


def date_field(string: str, **kw: Any) -> Field:
    return Field("date", string, **kw)


def datetime_field(string: str, **kw: Any) -> Field:
    return Field("datetime", string, **kw)


def many2one(relation: str, string: str, **kw: Any) -> Field:
    return Field("many2one", string, relation=relation, **kw)


def one2many(relation: str, inverse_name: str, string: str, **kw: Any) -> Field:
    return Field("one2many", string, relation=relation, inverse_name=inverse_name, **kw)


def many2many(relation: str, string: str, **kw: Any) -> Field:
    return Field("many2many", string, relation=relation, **kw)
