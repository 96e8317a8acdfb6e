"""The RPC services (``common``, ``object``, ``db``) and ``call_kw``, shared by every wire protocol.

Mirrors ``odoo.service.dispatch_rpc`` and ``odoo.api.call_kw``: record methods take their ids from
the first positional argument, the context only comes from the ``context`` keyword, a recordset
result goes out as its ids, and ``create`` called with one dict answers one id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.errors import (
    AccessDenied,
    PythonError,
    type_error,
    unknown_database,
)
from channelhub.sandbox.odoo.orm import RecordIds

#: methods that change data: candidates for injected serialization failures
WRITE_METHODS = frozenset({"create", "write", "unlink"})


def is_write_method(method: str) -> bool:
    return method in WRITE_METHODS or method.startswith(("action_", "button_", "process", "create_"))


def call_kw(
    database: OdooDatabase,
    uid: int,
    model_name: str,
    method: str,
    args: Any,
    kwargs: Any,
    *,
    single_create_returns_id: bool = True,
) -> Any:
    """Run one model method in its own transaction, as Odoo runs one RPC call per cursor."""
    if not isinstance(args, (list, tuple)):
        raise type_error(f"args must be a list, not {type(args).__name__}")
    if kwargs is None or kwargs is False:
        kwargs = {}
    if not isinstance(kwargs, Mapping):
        raise type_error(f"kwargs must be a dict, not {type(kwargs).__name__}")
    kwargs = dict(kwargs)
    context = kwargs.pop("context", None) or {}
    if not isinstance(context, Mapping):
        raise type_error(f"context must be a dict, not {type(context).__name__}")
    with database.registry.transaction(uid, dict(context)) as env:
        model = env[model_name]
        kind, fn = model.rpc_method(method)
        positional = list(args)
        if kind == "records":
            if not positional and "ids" not in kwargs:
                raise type_error(f"{method}() missing 1 required positional argument: 'ids'")
            ids = positional.pop(0) if positional else kwargs.pop("ids")
            result = _invoke(fn, env, [ids, *positional], kwargs)
        else:
            result = _invoke(fn, env, positional, kwargs)
    if method == "create" and single_create_returns_id and args and isinstance(args[0], Mapping):
        return result[0] if result else False
    if isinstance(result, RecordIds):
        return list(result)
    return result


def _invoke(fn: Any, env: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    try:
        return fn(env, *args, **kwargs)
    except TypeError as exc:
        # signature mismatches surface as Odoo's TypeError ("read() got an unexpected keyword ...")
        raise PythonError("TypeError", str(exc)) from exc


class RpcServices:
    """``dispatch_rpc(service, method, params)`` for one emulated server (one database)."""

    def __init__(self, database: OdooDatabase) -> None:
        self.database = database
        # `model.method` -> calls answered (authenticated ones): what a client costs this server.
        self.calls: Counter[str] = Counter()

    def dispatch(self, service: Any, method: Any, params: Any) -> Any:
        if not isinstance(params, (list, tuple)):
            raise type_error(f"params must be a list, not {type(params).__name__}")
        handler = {"common": self._common, "object": self._object, "db": self._db}.get(service)
        if handler is None:
            raise KeyError(service)  # Odoo indexes its service table: an unknown name is a KeyError
        return handler(method, list(params))

    # -- common ---------------------------------------------------------------------------------
    def _common(self, method: str, params: list[Any]) -> Any:
        version = self.database.version
        if method == "version":
            return version.common_version()
        if method == "about":
            info = "See http://openerp.com"
            return [info, version.serie] if params and params[0] else info
        if method in ("login", "authenticate"):
            expected = 3 if method == "login" else 4
            if len(params) != expected:
                raise type_error(
                    f"exp_{method}() takes {expected} positional arguments but {len(params)} were given"
                )
            db, login, password = params[:3]
            if method == "authenticate" and not isinstance(params[3], Mapping):
                raise type_error(f"'{type(params[3]).__name__}' object is not a mapping")
            self.check_db(db)
            uid = self.database.uid_for(login, password)
            return uid if uid is not None else False
        raise PythonError("Exception", f"Method not found: {method}")

    # -- object ---------------------------------------------------------------------------------
    def _object(self, method: str, params: list[Any]) -> Any:
        if method not in ("execute", "execute_kw"):
            raise NameError(f"Method not available {method}")
        if len(params) < 5:
            raise type_error(f"{method}() missing required arguments (db, uid, password, model, method)")
        db, uid, password, model, model_method = params[:5]
        self.check_db(db)
        if not self.database.check_credentials(uid, password):
            raise AccessDenied()
        self.calls[f"{model}.{model_method}"] += 1
        if method == "execute":
            return call_kw(self.database, uid, model, model_method, params[5:], {})
        args = params[5] if len(params) > 5 else []
        kwargs = params[6] if len(params) > 6 else {}
        return call_kw(self.database, uid, model, model_method, args, kwargs)

    # -- db -------------------------------------------------------------------------------------
    def _db(self, method: str, params: list[Any]) -> Any:
        if method == "list":
            return [self.database.name]
        if method == "server_version":
            return self.database.version.serie
        if method == "db_exist":
            return bool(params) and params[0] == self.database.name
        if method == "list_lang":
            return [["en_US", "English (US)"]]
        if method in (
            "create_database",
            "drop",
            "dump",
            "restore",
            "rename",
            "duplicate_database",
            "change_admin_password",
        ):
            raise AccessDenied()
        raise KeyError(f"Method not found: {method}")

    def check_db(self, db: Any) -> None:
        if db != self.database.name:
            raise unknown_database(db)
