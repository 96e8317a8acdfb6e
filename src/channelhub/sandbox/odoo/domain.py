"""Domain evaluation (Polish-notation ``&``/``|``/``!`` over leaves), ordering and paging.

Evaluation is set-based: each node narrows a set of candidate ids, so indexed leaves (``=``/``in`` on
indexed fields, ``id``) answer from the index and the rest only scan what earlier leaves left.
Computed fields are evaluated in one batch over the candidates, as Odoo's ``_search`` methods do.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo.errors import value_error
from channelhub.sandbox.odoo.matching import COMPARATORS, NEGATIVE, as_list, normalize_key, value_matcher

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.model import BaseModel
    from channelhub.sandbox.odoo.orm import Env

BASE_OPERATORS = (
    "=", "!=", "<=", "<", ">", ">=", "=?", "=like", "=ilike", "like", "not like",
    "ilike", "not ilike", "in", "not in", "child_of", "parent_of",
)  # fmt: skip
ANY_OPERATORS = ("any", "not any")
TRUE_LEAF = (1, "=", 1)
FALSE_LEAF = (0, "=", 1)

Node = tuple[str, Any]


def search_ids(
    model: BaseModel,
    env: Env,
    domain: Any,
    *,
    order: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[int]:
    tree = parse_domain(model, env, domain)
    if _applies_active_test(model, env, domain):
        tree = ("and", [tree, ("leaf", ("active", "=", True))])
    if not isinstance(offset, int) or (
        limit is not None and limit is not False and not isinstance(limit, int)
    ):
        raise value_error(f"Invalid offset/limit: {offset!r}/{limit!r}")
    found = evaluate(model, env, tree, set(model.rows))
    start = offset or 0
    if limit and parse_order(model, order or model._order) == [("id", False)]:
        return heapq.nsmallest(start + limit, found)[start:]  # a page by id needs no full sort
    ordered = order_ids(model, env, found, order or model._order)
    return ordered[start : start + limit] if limit else ordered[start:]


def _applies_active_test(model: BaseModel, env: Env, domain: Any) -> bool:
    if "active" not in model.fields or not env.context.get("active_test", True):
        return False
    return not any(
        isinstance(term, (list, tuple)) and len(term) == 3 and term[0] == "active" for term in domain
    )


# -- parsing -------------------------------------------------------------------------------------
def parse_domain(model: BaseModel, env: Env, domain: Any) -> Node:
    if not isinstance(domain, (list, tuple)):
        raise value_error(f"Invalid domain {domain!r}: expected a list")
    items = list(domain)
    position = 0
    parts: list[Node] = []
    while position < len(items):
        node, position = _parse_one(model, env, items, position, domain)
        parts.append(node)
    return ("and", parts) if parts else ("true", None)


def _parse_one(model: BaseModel, env: Env, items: list[Any], position: int, domain: Any) -> tuple[Node, int]:
    if position >= len(items):
        raise value_error(f"Invalid domain {domain!r}: an operator is missing its operands")
    item = items[position]
    if item in ("&", "|"):
        left, position = _parse_one(model, env, items, position + 1, domain)
        right, position = _parse_one(model, env, items, position, domain)
        return ("and" if item == "&" else "or", [left, right]), position
    if item == "!":
        operand, position = _parse_one(model, env, items, position + 1, domain)
        return ("not", operand), position
    return ("leaf", _check_leaf(model, env, item)), position + 1


def _check_leaf(model: BaseModel, env: Env, leaf: Any) -> tuple[Any, str, Any]:
    if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
        raise value_error(f"Invalid leaf {leaf!r}")
    path, operator, value = leaf
    if tuple(leaf) in (TRUE_LEAF, FALSE_LEAF):
        return (path, operator, value)
    if operator == "<>":
        operator = "!="
    allowed = BASE_OPERATORS + (ANY_OPERATORS if env.version.has_any_operator else ())
    if not isinstance(operator, str) or operator.lower() not in allowed:
        raise value_error(f"Invalid leaf {tuple(leaf)!r}")
    if not isinstance(path, str) or not path:
        raise value_error(f"Invalid leaf {tuple(leaf)!r}")
    first = path.split(".", 1)[0]
    if first not in model.fields:
        shown = repr(tuple(leaf))
        if env.version.major <= 16:  # 16.0 still wrapped leaves in ExtendedLeaf (removed in 17.0)
            shown = f"<osv.ExtendedLeaf: {shown} on {model._name.replace('.', '_')} (ctx: )>"
        raise value_error(f"Invalid field {model._name}.{first} in leaf {shown}")
    return (path, operator.lower(), value)


# -- evaluation ----------------------------------------------------------------------------------
def evaluate(model: BaseModel, env: Env, node: Node, universe: set[int]) -> set[int]:
    kind, payload = node
    if kind == "true":
        return universe
    if kind == "and":
        current = universe
        for child in sorted(payload, key=lambda n: 0 if _is_indexed(model, n) else 1):
            if not current:
                break
            current = evaluate(model, env, child, current)
        return current
    if kind == "or":
        found: set[int] = set()
        for child in payload:
            found |= evaluate(model, env, child, universe - found)
        return found
    if kind == "not":
        return universe - evaluate(model, env, payload, universe)
    return _evaluate_leaf(model, env, payload, universe)


def _is_indexed(model: BaseModel, node: Node) -> bool:
    if node[0] != "leaf":
        return False
    path, operator, value = node[1]
    if path == "id" and operator in COMPARATORS:
        return True  # paging by id narrows without touching rows: do it first
    return operator in ("=", "in") and (path == "id" or path in model.indexes) and value is not False


def _evaluate_leaf(model: BaseModel, env: Env, leaf: tuple[Any, str, Any], universe: set[int]) -> set[int]:
    path, operator, value = leaf
    if (path, operator, value) == TRUE_LEAF:
        return universe
    if (path, operator, value) == FALSE_LEAF:
        return set()
    if operator in NEGATIVE and (
        operator == "not any"
        or "." in path
        or _is_relational(model, path)
        or _is_name_leaf(model, path, value)
    ):
        positive = _evaluate_leaf(model, env, (path, NEGATIVE[operator], value), universe)
        return universe - positive
    name, _, rest = path.partition(".")
    fld = model.fields[name]
    if rest:
        return _match_related(model, env, name, [(rest, operator, value)], universe, active_test=False)
    if operator == "any":
        if fld.type not in ("many2one", "one2many", "many2many"):
            raise value_error(f"Invalid leaf {leaf!r}: 'any' needs a relational field")
        return _match_related(model, env, name, value, universe, active_test=True)
    if operator in ("child_of", "parent_of"):
        return _match_hierarchy(model, env, name, operator, value, universe)
    if fld.type in ("many2one", "one2many", "many2many") and _is_name_value(value):
        ids = _name_ids(env[fld.relation or ""], env, operator, value)
        return _match_related_ids(model, env, name, ids, universe)
    if fld.type in ("one2many", "many2many"):
        return _match_x2many_ids(model, env, name, operator, value, universe)
    if operator == "=?":
        if value is None or value is False:
            return universe
        operator = "="
    if name == "id" and operator in ("=", "in"):
        wanted = as_list(value) if operator == "in" else [value]
        return universe & {v for v in wanted if isinstance(v, int)}
    if name == "id" and operator in COMPARATORS and isinstance(value, int) and not isinstance(value, bool):
        compare = COMPARATORS[operator]
        return {rid for rid in universe if compare(rid, value)}  # paging by id: no row lookups
    index = model.indexes.get(name)
    if index is not None and operator in ("=", "in") and value is not False:
        wanted = as_list(value) if operator == "in" else [value]
        found: set[int] = set()
        for candidate in wanted:
            bucket = index.get(normalize_key(fld.type, candidate))
            if bucket:
                found |= bucket
        if operator == "in" and False in wanted:
            found |= index.get(False, set())
        return universe & found if len(found) < len(universe) else {i for i in found if i in universe}
    matcher = value_matcher(fld.type, operator, value)
    if fld.store:
        rows = model.rows
        return {rid for rid in universe if matcher(rows[rid].get(name, False))}
    values = model.values_of(env, sorted(universe), name)
    return {rid for rid, v in values.items() if matcher(v)}


def _is_relational(model: BaseModel, path: str) -> bool:
    fld = model.fields.get(path)
    return fld is not None and fld.type in ("one2many", "many2many")


def _is_name_leaf(model: BaseModel, path: str, value: Any) -> bool:
    fld = model.fields.get(path)
    return fld is not None and fld.type == "many2one" and _is_name_value(value)


def _is_name_value(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, str) for v in value)


def _name_ids(comodel: BaseModel, env: Env, operator: str, value: Any) -> set[int]:
    if operator in ("in", "not in"):
        names = {v for v in as_list(value)}
        return {rid for rid, label in comodel.display_names(env, comodel.rows).items() if label in names}
    text_operator = {"=": "=", "!=": "=", "not like": "like", "not ilike": "ilike"}.get(operator, operator)
    matcher = value_matcher("char", text_operator, value)
    return {rid for rid, label in comodel.display_names(env, comodel.rows).items() if matcher(label)}


def _match_related(
    model: BaseModel, env: Env, name: str, subdomain: Any, universe: set[int], *, active_test: bool
) -> set[int]:
    comodel = env[model.fields[name].relation or ""]
    sub_env = env if active_test else env.with_context(active_test=False)
    ids = set(search_ids(comodel, sub_env, subdomain, order="id"))
    return _match_related_ids(model, env, name, ids, universe)


def _match_related_ids(model: BaseModel, env: Env, name: str, ids: set[int], universe: set[int]) -> set[int]:
    fld = model.fields[name]
    if fld.type == "one2many":
        comodel = env[fld.relation or ""]
        inverse = fld.inverse_name or ""
        return {comodel.rows[c][inverse] for c in ids if comodel.rows[c].get(inverse)} & universe
    values = model.values_of(env, sorted(universe), name) if not fld.store else None
    rows = model.rows
    if fld.type == "many2many":
        return {rid for rid in universe if ids.intersection(rows[rid].get(name) or ())}
    if values is not None:
        return {rid for rid, v in values.items() if v in ids}
    index = model.indexes.get(name)
    if index is not None and len(ids) < len(universe):
        found: set[int] = set()
        for target in ids:
            found |= index.get(target, set())
        return found & universe
    return {rid for rid in universe if rows[rid].get(name) in ids}


def _match_x2many_ids(
    model: BaseModel, env: Env, name: str, operator: str, value: Any, universe: set[int]
) -> set[int]:
    if operator not in ("=", "in"):
        raise value_error(f"Invalid leaf {(name, operator, value)!r}")
    wanted = as_list(value) if operator == "in" else [value]
    ids = {v for v in wanted if isinstance(v, int) and not isinstance(v, bool)}
    having = _match_related_ids(model, env, name, ids, universe) if ids else set()
    if False in wanted or value is False:
        every = model.values_of(env, sorted(universe), name)
        having |= {rid for rid, children in every.items() if not children}
    return having


def _match_hierarchy(
    model: BaseModel, env: Env, name: str, operator: str, value: Any, universe: set[int]
) -> set[int]:
    fld = model.fields[name]
    target = env[fld.relation or ""] if fld.type in ("many2one", "one2many", "many2many") else model
    if _is_name_value(value):
        start = _name_ids(target, env, "ilike" if isinstance(value, str) else "in", value)
    else:
        start = {v for v in as_list(value) if isinstance(v, int) and not isinstance(v, bool)}
    related = descendants(target, start) if operator == "child_of" else ancestors(target, start)
    if target is model and fld.type not in ("many2one", "one2many", "many2many"):
        return universe & related
    return _match_related_ids(model, env, name, related, universe)


def descendants(model: BaseModel, roots: set[int]) -> set[int]:
    parent = model._parent_name
    if parent not in model.fields:
        return set(roots) & set(model.rows)
    model.ensure_index(parent)
    found = {r for r in roots if r in model.rows}
    frontier = list(found)
    while frontier:
        children = set()
        for rid in frontier:
            children |= model.indexes[parent].get(rid, set())
        frontier = [c for c in children if c not in found]
        found.update(frontier)
    return found


def ancestors(model: BaseModel, leaves: set[int]) -> set[int]:
    parent = model._parent_name
    found: set[int] = set()
    for rid in leaves:
        while rid and rid in model.rows and rid not in found:
            found.add(rid)
            rid = model.rows[rid].get(parent) or 0 if parent in model.fields else 0
    return found


# -- ordering ------------------------------------------------------------------------------------
def order_ids(model: BaseModel, env: Env, ids: set[int], order: str) -> list[int]:
    terms = parse_order(model, order)
    ordered = sorted(ids)
    if terms == [("id", False)]:
        return ordered
    for name, descending in reversed(terms):
        if name == "id":
            ordered.sort(reverse=descending)
            continue
        fld = model.fields[name]
        values = model.values_of(env, ordered, name)
        if fld.type == "many2one":
            labels = env[fld.relation or ""].display_names(env, {v for v in values.values() if v})
            values = {rid: labels.get(v, "").casefold() if v else False for rid, v in values.items()}
        ordered.sort(key=lambda rid: _sort_key(values[rid]), reverse=descending)
    return ordered


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is False or value is None:
        return (1, 0)
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


def parse_order(model: BaseModel, order: str) -> list[tuple[str, bool]]:
    if not isinstance(order, str):
        raise value_error(f"Invalid order {order!r}")
    terms: list[tuple[str, bool]] = []
    for raw in order.split(","):
        words = raw.strip().split()
        if not words:
            continue
        name = words[0].strip('"')
        direction = words[1].lower() if len(words) > 1 else "asc"
        if len(words) > 3 or direction not in ("asc", "desc") or name not in model.fields:
            raise value_error(f"Invalid order {order!r} for model {model._name!r}")
        terms.append((name, direction == "desc"))
    return terms or [("id", False)]
