"""Remote-method markers and small helpers shared by every emulated model."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from channelhub.sandbox.odoo.errors import PythonError, value_error
from channelhub.sandbox.odoo.versions import OdooVersion

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.model import BaseModel
    from channelhub.sandbox.odoo.orm import Env

F = TypeVar("F", bound=Callable[..., Any])


def api_model(fn: F) -> F:
    fn._rpc = "model"  # type: ignore[attr-defined]
    return fn


def api_records(fn: F) -> F:
    fn._rpc = "records"  # type: ignore[attr-defined]
    return fn


def available(condition: Callable[[OdooVersion], bool]) -> Callable[[F], F]:
    """Mark a remote method as existing only in some versions (others answer "does not exist")."""

    def mark(fn: F) -> F:
        fn._available = condition  # type: ignore[attr-defined]
        return fn

    return mark


ModelT = TypeVar("ModelT", bound="BaseModel")


def model_of(env: Env, cls: type[ModelT]) -> ModelT:
    """``env[cls._name]`` typed as its class, for business code calling model-specific helpers."""
    model = env[cls._name]
    if not isinstance(model, cls):
        raise TypeError(f"{cls._name} is a {type(model).__name__}, not a {cls.__name__}")
    return model


def raise_missing_method(model: BaseModel, method: str) -> None:
    if model.version.major >= 18:
        raise PythonError("AttributeError", f"The method '{model._name}.{method}' does not exist")
    raise PythonError("AttributeError", f"type object '{model._name}' has no attribute '{method}'")


def normalize_ids(ids: Any) -> list[int]:
    if ids is None or ids is False:
        return []
    if isinstance(ids, bool):
        raise value_error(f"Invalid ids {ids!r}")
    if isinstance(ids, int):
        return [ids]
    if isinstance(ids, (list, tuple)) and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return list(ids)
    raise value_error(f"Invalid ids {ids!r}: expected a list of integers")
