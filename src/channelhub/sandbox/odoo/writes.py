"""create / write / unlink with Odoo's value rules: defaults, required fields, foreign keys, x2many commands.

Integrity errors are reported the way Odoo's RPC layer turns a psycopg2 ``IntegrityError`` into a
``ValidationError`` (``odoo.service.model._as_validation_error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo.errors import ValidationError, value_error
from channelhub.sandbox.odoo.fields import Field
from channelhub.sandbox.odoo.orm import Env, RecordIds

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.model import BaseModel

NOT_NULL_MESSAGE = (
    "The operation cannot be completed:\n"
    "- Create/update: a mandatory field is not set.\n"
    "- Delete: another model requires the record being deleted. If possible, archive it instead.\n\n"
    "Model: {model_string} ({model})\n"
    "Field: {field_string} ({field})\n"
)
FOREIGN_KEY_MESSAGE = (
    "The operation cannot be completed: another model requires the record being deleted. "
    "If possible, archive it instead.\n\n"
    "Model: {model_string} ({model})\n"
    "Constraint: {constraint}\n"
)


def not_null_error(model: BaseModel, fld: Field) -> ValidationError:
    return ValidationError(
        NOT_NULL_MESSAGE.format(
            model_string=model._description, model=model._name, field_string=fld.string, field=fld.name
        )
    )


def foreign_key_error(model: BaseModel, fld: Field) -> ValidationError:
    table = model._name.replace(".", "_")
    return ValidationError(
        FOREIGN_KEY_MESSAGE.format(
            model_string=model._description, model=model._name, constraint=f"{table}_{fld.name}_fkey"
        )
    )


def _is_empty(fld: Field, value: Any) -> bool:
    if fld.type in ("boolean", "integer", "float", "monetary"):
        return False
    return value is None or value is False or value == ""


def create(model: BaseModel, env: Env, vals_list: Any) -> RecordIds:
    if isinstance(vals_list, Mapping):
        batch = [vals_list]
    elif isinstance(vals_list, (list, tuple)) and all(isinstance(v, Mapping) for v in vals_list):
        batch = list(vals_list)
    else:
        raise value_error(f"Invalid create values {vals_list!r}: expected a dict or a list of dicts")
    return RecordIds(create_one(model, env, dict(vals)) for vals in batch)


def create_one(model: BaseModel, env: Env, vals: dict[str, Any]) -> int:
    for name in vals:
        model.field(name)
    # business hooks see what the caller sent (like Odoo computes), defaults fill the rest
    vals = model._prepare_create(env, vals)
    missing = [name for name in model.fields if name not in vals]
    vals = {**model.default_get(env, missing), **vals}
    parents = _create_delegated_parents(model, env, vals)
    stored: dict[str, Any] = {}
    deferred: dict[str, Any] = {}
    for name, value in vals.items():
        fld = model.fields[name]
        if fld.type in ("one2many", "many2many"):
            deferred[name] = value
        elif fld.store and name not in ("id", "create_date", "write_date", "create_uid", "write_uid"):
            stored[name] = _convert_checked(model, env, fld, value)
    stored.update(parents)
    for name, fld in model.fields.items():
        if fld.store and fld.required and _is_empty(fld, stored.get(name, False)):
            raise not_null_error(model, fld)
    now = env.now()
    stored.update(create_date=now, write_date=now, create_uid=env.uid, write_uid=env.uid)
    for name, fld in model.fields.items():
        if fld.type == "many2many":
            stored.setdefault(name, [])
    rid = model.insert(env, stored)
    for name, commands in deferred.items():
        apply_commands(model, env, rid, model.fields[name], commands)
    model._after_create(env, rid)
    model.emit(env, "create", rid, vals.keys())
    return rid


def _create_delegated_parents(model: BaseModel, env: Env, vals: dict[str, Any]) -> dict[str, Any]:
    """``_inherits``: values of parent fields go to the parent record (created when not linked)."""
    links: dict[str, Any] = {}
    for parent_model, link in model._inherits.items():
        parent = env[parent_model]
        parent_vals = {
            name: vals.pop(name)
            for name in list(vals)
            if (model.fields[name].related or "").startswith(f"{link}.")
        }
        if vals.get(link):
            if parent_vals:
                parent.write(env, [vals[link]], parent_vals)
            continue
        # like Odoo, a template created for a new variant must not get its own default variant
        links[link] = create_one(parent, env.with_context(create_product_product=False), parent_vals)
    return links


def _convert_checked(model: BaseModel, env: Env, fld: Field, value: Any) -> Any:
    converted = fld.convert(value)
    if fld.type == "many2one" and converted and converted not in env[fld.relation or ""].rows:
        raise foreign_key_error(model, fld)
    return converted


def write(model: BaseModel, env: Env, ids: list[int], vals: Any) -> bool:
    if not isinstance(vals, Mapping):
        raise value_error(f"Invalid write values {vals!r}: expected a dict")
    vals = dict(vals)
    for name in vals:
        model.field(name)
    model._check_write(env, ids, vals)
    write_rows(model, env, ids, vals)
    model._after_write(env, ids, vals)
    return True


def write_rows(model: BaseModel, env: Env, ids: list[int], vals: dict[str, Any]) -> None:
    """Store values without business hooks (used by hooks themselves)."""
    stored: dict[str, Any] = {}
    deferred: dict[str, Any] = {}
    delegated: dict[str, dict[str, Any]] = {}
    for name, value in vals.items():
        fld = model.fields[name]
        if fld.related and model._inherits:
            link, _, target = fld.related.partition(".")
            delegated.setdefault(link, {})[target] = value
        elif fld.type in ("one2many", "many2many"):
            deferred[name] = value
        elif fld.store and name not in ("id", "create_date", "create_uid", "write_date", "write_uid"):
            converted = _convert_checked(model, env, fld, value)
            if fld.required and _is_empty(fld, converted):
                raise not_null_error(model, fld)
            stored[name] = converted
    stored["write_date"] = env.now()
    stored["write_uid"] = env.uid
    for rid in ids:
        model.update(env, rid, stored)
        for name, commands in deferred.items():
            apply_commands(model, env, rid, model.fields[name], commands)
        model.emit(env, "write", rid, vals.keys())
    for link, parent_vals in delegated.items():
        parent = env[model.fields[link].relation or ""]
        parent_ids = sorted({model.rows[rid][link] for rid in ids if model.rows[rid].get(link)})
        write(parent, env, parent_ids, parent_vals)


def unlink(model: BaseModel, env: Env, ids: list[int]) -> bool:
    model._check_unlink(env, ids)
    doomed = set(ids)
    for other in env.registry.models.values():
        for fld in other.fields.values():
            if fld.type != "many2one" or fld.relation != model._name or not fld.store:
                continue
            referencing = _referencing(other, fld.name, doomed)
            if not referencing:
                continue
            if fld.ondelete == "cascade":
                unlink(other, env, sorted(referencing))
            elif fld.ondelete == "restrict":
                raise foreign_key_error(other, fld)
            else:
                for rid in referencing:
                    other.update(env, rid, {fld.name: False})
    for rid in ids:
        if rid in model.rows:
            model.remove(env, rid)
            model.emit(env, "unlink", rid)
    return True


def _referencing(model: BaseModel, name: str, targets: set[int]) -> set[int]:
    index = model.indexes.get(name)
    if index is not None:
        found: set[int] = set()
        for target in targets:
            found |= index.get(target, set())
        return found
    return {rid for rid, row in model.rows.items() if row.get(name) in targets}


def apply_commands(model: BaseModel, env: Env, rid: int, fld: Field, commands: Any) -> None:
    """x2many commands (0 create, 1 update, 2 delete, 3 unlink, 4 link, 5 clear, 6 set)."""
    comodel = env[fld.relation or ""]
    if commands in (False, None):
        commands = [(5, 0, 0)]
    if not isinstance(commands, (list, tuple)):
        raise value_error(f"Invalid value for {model._name}.{fld.name}: {commands!r}")
    if commands and all(isinstance(c, int) and not isinstance(c, bool) for c in commands):
        commands = [(6, 0, list(commands))]
    for command in commands:
        if not isinstance(command, (list, tuple)) or not command or command[0] not in range(7):
            raise value_error(f"Invalid command {command!r} for {model._name}.{fld.name}")
        code = command[0]
        arg_id = command[1] if len(command) > 1 else 0
        arg_vals = command[2] if len(command) > 2 else 0
        if fld.type == "one2many":
            _one2many_command(env, comodel, fld, rid, code, arg_id, arg_vals)
        else:
            _many2many_command(model, env, comodel, fld, rid, code, arg_id, arg_vals)


def _one2many_command(
    env: Env, comodel: BaseModel, fld: Field, rid: int, code: int, arg_id: Any, arg_vals: Any
) -> None:
    inverse = fld.inverse_name or ""
    inverse_required = comodel.fields[inverse].required
    if code == 0:
        if not isinstance(arg_vals, Mapping):
            raise value_error(f"Invalid values {arg_vals!r} for {comodel._name}")
        create_one(comodel, env, {**arg_vals, inverse: rid})
    elif code == 1:
        comodel.write(env, [arg_id], arg_vals)
    elif code == 2:
        comodel.unlink(env, [arg_id])
    elif code in (3, 5, 6):
        current = set(comodel.indexes[inverse].get(rid, set()))
        keep = set(arg_vals or []) if code == 6 else set()
        targets = {arg_id} if code == 3 else current - keep
        for child in sorted(targets & current):
            if inverse_required:
                comodel.unlink(env, [child])
            else:
                comodel.write(env, [child], {inverse: False})
        if code == 6:
            for child in sorted(keep - current):
                comodel.write(env, [child], {inverse: rid})
    elif code == 4:
        comodel.write(env, [arg_id], {inverse: rid})


def _many2many_command(
    model: BaseModel,
    env: Env,
    comodel: BaseModel,
    fld: Field,
    rid: int,
    code: int,
    arg_id: Any,
    arg_vals: Any,
) -> None:
    current = list(model.rows[rid].get(fld.name) or [])
    if code == 0:
        current.append(create_one(comodel, env, dict(arg_vals)))
    elif code == 1:
        comodel.write(env, [arg_id], arg_vals)
    elif code == 2:
        comodel.unlink(env, [arg_id])
        current = [i for i in current if i != arg_id]
    elif code == 3:
        current = [i for i in current if i != arg_id]
    elif code == 4:
        if arg_id not in comodel.rows:
            raise foreign_key_error(model, fld)
        if arg_id not in current:
            current.append(arg_id)
    elif code == 5:
        current = []
    elif code == 6:
        ids = list(arg_vals or [])
        for target in ids:
            if target not in comodel.rows:
                raise foreign_key_error(model, fld)
        current = ids
    model.update(env, rid, {fld.name: current})
