"""Admin routes of the emulator (``/_sandbox/...``): chaos knobs, webhook rules, state summary,
and a raw read of one model's stored rows (``GET /_sandbox/records/<model>?fields=a,b``: every row's
``id`` and the named stored fields, as stored; for tests and benchmarks in another process).

Not part of Odoo: they let tests and the sandbox steer the emulator over HTTP. They bypass chaos.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from channelhub.sandbox.odoo.chaos import ChaosSettings
from channelhub.sandbox.odoo.webhooks import WebhookRule

if TYPE_CHECKING:
    from channelhub.sandbox.odoo.app import OdooEmulator


def routes(emulator: OdooEmulator) -> list[Route]:
    async def read_json(request: Request) -> Any:
        try:
            return json.loads(await request.body() or b"{}")
        except ValueError as exc:
            raise ValueError(f"body is not JSON: {exc}") from exc

    async def chaos(request: Request) -> Response:
        if request.method in ("PUT", "POST"):
            try:
                changes = await read_json(request)
                if not isinstance(changes, dict):
                    raise ValueError("expected a JSON object of chaos settings")
                base = None if request.method == "PUT" else emulator.chaos.settings
                emulator.chaos.apply(ChaosSettings.from_mapping(changes, base))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(emulator.chaos.settings.to_dict())

    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            try:
                spec = await read_json(request)
                if not isinstance(spec, dict) or not {"model", "url"} <= set(spec):
                    raise ValueError("expected {model, url, fields?, trigger?, trigger_fields?, name?}")
                allowed = {"model", "url", "fields", "trigger", "trigger_fields", "name"}
                if set(spec) - allowed:
                    raise ValueError(f"unknown keys {sorted(set(spec) - allowed)}")
                rule = emulator.webhooks.add_rule(WebhookRule(**spec))
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse({"id": rule.id, **emulator.webhooks.describe()[-1]}, status_code=201)
        return JSONResponse(emulator.webhooks.describe())

    async def webhook_delete(request: Request) -> Response:
        try:
            rule_id = int(request.path_params["rule_id"])
        except ValueError:
            return JSONResponse({"error": "rule id must be an integer"}, status_code=400)
        if not emulator.webhooks.remove_rule(rule_id):
            return JSONResponse({"error": f"no webhook rule {rule_id}"}, status_code=404)
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        return JSONResponse(list(emulator.webhooks.deliveries))

    async def state(request: Request) -> Response:
        database = emulator.database
        return JSONResponse({
            "version": database.version.serie,
            "db": database.name,
            "login": database.login,
            "records": {name: len(model.rows) for name, model in database.registry.models.items()},
            "calls": dict(emulator.services.calls.most_common()),
        })  # fmt: skip

    async def records(request: Request) -> Response:
        database = emulator.database
        name = request.path_params["model"]
        if name not in database.registry.models:
            return JSONResponse({"error": f"no model {name!r}"}, status_code=404)
        wanted = [f for f in request.query_params.get("fields", "").split(",") if f]
        with database.env():
            rows = [
                {"id": rid, **{f: row.get(f) for f in wanted}}
                for rid, row in database.model(name).rows.items()
            ]
        return Response(json.dumps(rows, default=str), media_type="application/json")

    return [
        Route("/_sandbox/records/{model}", records, methods=["GET"]),
        Route("/_sandbox/chaos", chaos, methods=["GET", "PUT", "POST"]),
        Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"]),
        Route("/_sandbox/webhooks/deliveries", deliveries, methods=["GET"]),
        Route("/_sandbox/webhooks/{rule_id}", webhook_delete, methods=["DELETE"]),
        Route("/_sandbox/state", state, methods=["GET"]),
    ]
