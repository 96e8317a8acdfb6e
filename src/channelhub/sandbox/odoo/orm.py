"""The in-memory ORM core: registry of models, environments, transactions with rollback.

Every RPC call runs inside `Registry.transaction`: mutations are journaled and undone if the call
fails, exactly like Odoo rolls back the cursor of a failed request, so a create with a bad order
line leaves no half-made order behind. Change events (for webhooks) are only handed out after a
successful commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from channelhub.sandbox.odoo.errors import UserError
from channelhub.sandbox.odoo.versions import OdooVersion

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.model import BaseModel

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class RecordIds(list[int]):
    """A method result that is a recordset in Odoo: RPC sends its ids."""


@dataclass(frozen=True)
class ChangeEvent:
    """One committed change of one record, the raw material of webhook notifications."""

    model: str
    action: str  # "create" | "write" | "unlink"
    record_id: int
    fields: tuple[str, ...] = ()


@dataclass
class Transaction:
    undo: list[tuple[str, str, int, Any]] = field(default_factory=list)
    events: list[ChangeEvent] = field(default_factory=list)


class Env:
    """An Odoo-like environment: registry + user + context (+ the running transaction)."""

    def __init__(self, registry: Registry, uid: int, context: dict[str, Any], txn: Transaction) -> None:
        self.registry = registry
        self.uid = uid
        self.context = context
        self.txn = txn
        self.cache: dict[Any, Any] = {}

    @property
    def version(self) -> OdooVersion:
        return self.registry.version

    def __getitem__(self, model_name: str) -> BaseModel:
        model = self.registry.models.get(model_name)
        if model is None:
            raise UserError(f"Object {model_name} doesn't exist")
        return model

    def __contains__(self, model_name: str) -> bool:
        return model_name in self.registry.models

    def with_context(self, **overrides: Any) -> Env:
        env = Env(self.registry, self.uid, {**self.context, **overrides}, self.txn)
        return env

    def now(self) -> str:
        return self.registry.clock().strftime("%Y-%m-%d %H:%M:%S")

    def today(self) -> str:
        return self.registry.clock().strftime("%Y-%m-%d")


class Registry:
    """All models of one database and the sequences numbering their documents."""

    def __init__(self, version: OdooVersion, clock: Clock = utc_now) -> None:
        self.version = version
        self.clock = clock
        self.models: dict[str, BaseModel] = {}
        self.sequences: dict[str, int] = {}
        #: external ids of records the business logic needs ("stock.stock_location_customers" -> id)
        self.xmlids: dict[str, int] = {}
        #: bumped by every mutation, so cached computed values never outlive a change
        self.revision = 0
        self._listeners: list[Callable[[list[ChangeEvent]], None]] = []
        self.lock = threading.RLock()

    def register(self, model_cls: type[BaseModel]) -> BaseModel:
        model = model_cls(self)
        self.models[model._name] = model
        return model

    def finalize(self) -> None:
        """Index the many2one fields one2many fields read through (after all models exist)."""
        for model in self.models.values():
            for fld in model.fields.values():
                if fld.type == "one2many" and fld.relation in self.models and fld.inverse_name:
                    self.models[fld.relation].ensure_index(fld.inverse_name)

    def next_sequence(self, prefix: str, padding: int = 5) -> str:
        number = self.sequences.get(prefix, 0) + 1
        self.sequences[prefix] = number
        return f"{prefix}{number:0{padding}d}"

    def on_commit(self, listener: Callable[[list[ChangeEvent]], None]) -> None:
        self._listeners.append(listener)

    @contextmanager
    def transaction(self, uid: int, context: dict[str, Any] | None = None) -> Iterator[Env]:
        txn = Transaction()
        env = Env(self, uid, dict(context or {}), txn)
        # serializes the server's calls with code touching the state from other threads (tests, sandbox)
        with self.lock:
            try:
                yield env
            except BaseException:
                self._rollback(txn)
                raise
            if txn.events:
                for listener in self._listeners:
                    listener(list(txn.events))

    def _rollback(self, txn: Transaction) -> None:
        for kind, model_name, record_id, payload in reversed(txn.undo):
            self.models[model_name].undo(kind, record_id, payload)
        txn.undo.clear()
        txn.events.clear()
