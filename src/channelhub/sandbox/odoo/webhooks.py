"""Outgoing webhooks as Odoo 17+ automation rules send them ("Send Webhook Notification").

Odoo's ``ir.actions.server._run_action_webhook`` posts, once per record,
``{"_model", "_id", "_action": "<name>(#<id>)"} + record.read(fields, load=None)[0]`` serialized with
``json.dumps(..., sort_keys=True, default=str)``, ``Content-Type: application/json``, a 1 second
timeout, no retry and no signature: send and forget. Here a rule fires after the transaction that
changed the record commits.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import ssl
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from channelhub.sandbox.odoo.chaos import Chaos
from channelhub.sandbox.odoo.database import OdooDatabase
from channelhub.sandbox.odoo.orm import ChangeEvent

TRIGGERS = ("on_create", "on_write", "on_create_or_write", "on_unlink")
#: Odoo posts with `requests`; the header is part of what a receiver sees
USER_AGENT = "python-requests/2.31.0"


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every post. Like `requests.post`, each post gets a client (and a
    connection) of its own, but building httpx's default context loads the CA bundle: done per
    post it cost the emulator most of its CPU when notifications came by the hundred."""
    return ssl.create_default_context()


@dataclass
class WebhookRule:
    model: str
    url: str
    fields: list[str] = field(default_factory=list)
    trigger: str = "on_create_or_write"
    #: on_write only fires when one of these changed (empty: any change)
    trigger_fields: list[str] = field(default_factory=list)
    name: str = "Send Webhook Notification"
    id: int = 0

    def matches(self, event: ChangeEvent) -> bool:
        if event.model != self.model:
            return False
        if event.action == "unlink":
            return self.trigger == "on_unlink"
        if event.action == "create":
            return self.trigger in ("on_create", "on_create_or_write")
        if self.trigger not in ("on_write", "on_create_or_write"):
            return False
        return not self.trigger_fields or bool(set(self.trigger_fields) & set(event.fields))


class WebhookHub:
    """Rules per model and the log of what was sent (newest last, bounded)."""

    def __init__(self, database: OdooDatabase, chaos: Chaos | None = None, timeout_s: float = 1.0) -> None:
        self.database = database
        #: chaos may delay (reorder) or duplicate deliveries; Odoo itself sends each notification once
        self.chaos = chaos or Chaos()
        self.timeout_s = timeout_s
        self.rules: list[WebhookRule] = []
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=1000)
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        database.registry.on_commit(self._on_commit)

    def add_rule(self, rule: WebhookRule) -> WebhookRule:
        if self.database.version.major < 17:
            raise ValueError("webhook notifications of automation rules exist from Odoo 17.0 on")
        if rule.trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {TRIGGERS}, got {rule.trigger!r}")
        model = self.database.registry.models.get(rule.model)
        if model is None:
            raise ValueError(f"unknown model {rule.model!r}")
        for name in [*rule.fields, *rule.trigger_fields]:
            if name not in model.fields:
                raise ValueError(f"unknown field {name!r} on {rule.model}")
        if not rule.url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url must be http(s), got {rule.url!r}")
        rule.id = next(self._ids)
        self.rules.append(rule)
        return rule

    def remove_rule(self, rule_id: int) -> bool:
        before = len(self.rules)
        self.rules = [rule for rule in self.rules if rule.id != rule_id]
        return len(self.rules) != before

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(rule) for rule in self.rules]

    def payload(self, rule: WebhookRule, event: ChangeEvent) -> dict[str, Any]:
        values: dict[str, Any] = {
            "_action": f"{rule.name}(#{rule.id})",
            "_id": event.record_id,
            "_model": event.model,
        }
        model = self.database.registry.models[event.model]
        if rule.fields and event.action != "unlink" and event.record_id in model.rows:
            with self.database.env() as env:
                values.update(model.read_rows(env, [event.record_id], list(rule.fields), load="")[0])
        return values

    def _on_commit(self, events: list[ChangeEvent]) -> None:
        if not self.rules:
            return
        seen: set[tuple[int, str, int]] = set()
        for event in events:
            for rule in self.rules:
                key = (rule.id, event.model, event.record_id)
                if key in seen or not rule.matches(event):
                    continue
                seen.add(key)  # one notification per record and rule per transaction
                body = json.dumps(self.payload(rule, event), sort_keys=True, default=str)
                self._send(rule.url, body)

    def _send(self, url: str, body: str) -> None:
        for delay_s in self.chaos.webhook_delays():
            record: dict[str, Any] = {"url": url, "body": body, "status": None, "error": None}
            self.deliveries.append(record)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                threading.Thread(target=self._post_blocking, args=(record, delay_s), daemon=True).start()
                continue
            task = loop.create_task(self._post(record, delay_s))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "User-Agent": USER_AGENT}

    async def _post(self, record: dict[str, Any], delay_s: float = 0.0) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s, verify=_tls()) as client:
                response = await client.post(record["url"], content=record["body"], headers=self._headers())
            record["status"] = response.status_code
        except httpx.HTTPError as exc:  # Odoo only logs: send and forget
            record["error"] = f"{type(exc).__name__}: {exc}"

    def _post_blocking(self, record: dict[str, Any], delay_s: float = 0.0) -> None:
        if delay_s:
            time.sleep(delay_s)
        try:
            with httpx.Client(timeout=self.timeout_s, verify=_tls()) as client:
                record["status"] = client.post(
                    record["url"], content=record["body"], headers=self._headers()
                ).status_code
        except httpx.HTTPError as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
