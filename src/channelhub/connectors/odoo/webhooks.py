"""Webhook notifications from Odoo 17+ automation rules ("Send Webhook Notification").

Odoo POSTs `json.dumps({"_model", "_id", "_action": "<name>(#<action id>)", "id", <fields>...})`
with `Content-Type: application/json`, once per record, fire-and-forget (1 s timeout, no retry).
Many2one fields arrive as bare ids (read with `load=None`).

**Odoo signs nothing and sends no secret**, so anybody who knows the URL could post. The deployer
configures a shared secret and puts it where Odoo can carry it:
- in the URL (Odoo's `webhook_url` is free text): `https://hub.example/webhooks/odoo?token=<secret>`
  or `.../webhooks/odoo/<secret>`; the ingress passes the token to `verify()`;
- or in a header added by a reverse proxy in front of channelhub (`X-Channelhub-Token`).
Because deliveries can be lost (no retry), webhooks only speed things up: `write_date` polling
(see `changes.py`) remains the source of truth.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channelhub.connectors.errors import ValidationFailed, WebhookVerificationError

TOKEN_HEADER = "x-channelhub-token"
_ACTION = re.compile(r"^(?P<name>.*)\(#(?P<id>\d+)\)$", re.DOTALL)


@dataclass(frozen=True)
class OdooNotification:
    """One record change announced by Odoo."""

    model: str
    record_id: int
    action_name: str
    action_id: int | None
    values: dict[str, Any]


class OdooWebhookReceiver:
    """Verifies the shared secret and parses the automation payload."""

    def __init__(self, secret: str, *, allowed_models: frozenset[str] | None = None) -> None:
        if len(secret) < 16:
            raise ValueError("the webhook secret must be at least 16 characters")
        self._secret = secret.encode("utf-8")
        self.allowed_models = allowed_models

    def verify(self, headers: Mapping[str, str], url_token: str | None = None) -> None:
        """Accept the delivery only if the token (URL or header) equals the secret."""
        lowered = {key.lower(): value for key, value in headers.items()}
        presented = url_token if url_token is not None else lowered.get(TOKEN_HEADER)
        if not presented:
            raise WebhookVerificationError(
                "Odoo webhook without token (URL ?token= or X-Channelhub-Token)", system="odoo"
            )
        if not hmac.compare_digest(presented.encode("utf-8"), self._secret):
            raise WebhookVerificationError("Odoo webhook token does not match", system="odoo")

    def parse(self, body: bytes) -> OdooNotification:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"Odoo webhook body is not JSON: {exc}", system="odoo") from exc
        if not isinstance(payload, dict):
            raise ValidationFailed("Odoo webhook body must be a JSON object", system="odoo")
        model = payload.get("_model")
        if not isinstance(model, str) or not model:
            raise ValidationFailed("Odoo webhook body has no _model", system="odoo")
        if self.allowed_models is not None and model not in self.allowed_models:
            raise ValidationFailed(f"Odoo webhook for unexpected model {model!r}", system="odoo")
        raw_id = payload.get("_id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not str(raw_id).isdigit():
            raise ValidationFailed(f"Odoo webhook _id must be a record id, got {raw_id!r}", system="odoo")
        action = str(payload.get("_action") or "")
        match = _ACTION.match(action)
        values = {key: value for key, value in payload.items() if not key.startswith("_")}
        return OdooNotification(
            model=model,
            record_id=int(raw_id),
            action_name=match.group("name").strip() if match else action,
            action_id=int(match.group("id")) if match else None,
            values=values,
        )

    def receive(
        self, headers: Mapping[str, str], body: bytes, url_token: str | None = None
    ) -> OdooNotification:
        self.verify(headers, url_token)
        return self.parse(body)
