"""Deliveries, returns and credit notes: the Odoo wizards driven headlessly, safe to retry.

- `validate_picking`: record processed quantities per SKU the way the server version expects
  (`quantity_done` ≤16, `quantity` + `picked` 17+), then `button_validate` with the context keys
  Odoo's own wizard buttons set (`skip_backorder`, `picking_ids_not_to_backorder`, `skip_immediate`),
  so a partial delivery leaves a backorder without any dialog. If a server still answers with a
  wizard action, the wizard is created and processed like its button would.
- `create_return`: the `stock.return.picking` wizard (`create_returns` ≤17, `action_create_returns`
  18+); the new return picking is tagged `[reference]` in its origin so a retry finds it.
- `create_credit_note`: the `account.move.reversal` wizard (`refund_method='refund'` +
  `reverse_moves` ≤16, `refund_moves` 17+); the reference travels in the reason, which Odoo copies
  into the credit note's `ref`, so a retry finds it.

Each operation re-reads Odoo's state before every attempt: done work is never done twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from channelhub.connectors.odoo.client import OdooClient
from channelhub.connectors.odoo.errors import OdooMissingError, OdooProtocolError, OdooUserError
from channelhub.connectors.odoo.values import decimal, many2one_id, text

T = TypeVar("T")


@dataclass(frozen=True)
class PickingResult:
    picking_id: int
    name: str
    state: str
    backorder_ids: tuple[int, ...]


@dataclass(frozen=True)
class ReturnResult:
    picking_id: int
    name: str
    state: str
    created: bool


@dataclass(frozen=True)
class CreditNoteResult:
    move_id: int
    name: str
    state: str
    amount_total: Decimal
    created: bool


async def _reconciling(
    client: OdooClient,
    what: str,
    find: Callable[[bool], Awaitable[T | None]],
    act: Callable[[], Awaitable[None]],
) -> T:
    """Look for the outcome; if absent, act once; repeat. Transient failures (of either step) are
    retried after the policy's backoff, and an action whose outcome cannot be found afterwards is
    an error, never a reason to act again. `find(acted)` learns whether this call acted."""
    attempt = 0
    acted = False
    succeeded = False
    while True:
        attempt += 1
        try:
            found = await find(acted)
            if found is not None:
                return found
            if succeeded:
                raise OdooProtocolError(f"{what} reported success but its result cannot be found")
            acted = True
            await act()
            succeeded = True
        except Exception as error:
            if not await client.back_off(attempt, error):
                raise


async def _read_one(client: OdooClient, model: str, record_id: int, fields: list[str]) -> dict[str, Any]:
    rows = await client.execute_kw(model, "read", [[record_id], fields])
    if not rows:
        raise OdooMissingError(f"{model} {record_id} does not exist", model=model, method="read")
    return dict(rows[0])


async def _backorders(client: OdooClient, picking_id: int) -> tuple[int, ...]:
    ids = await client.execute_kw("stock.picking", "search", [[("backorder_id", "=", picking_id)]])
    return tuple(int(i) for i in ids)


async def _skus(client: OdooClient, product_ids: list[int]) -> dict[int, str]:
    rows = await client.execute_kw(
        "product.product",
        "read",
        [sorted(set(product_ids)), ["default_code"]],
        {"context": {"active_test": False}},
    )
    return {int(row["id"]): text(row.get("default_code")) or "" for row in rows}


def _split(quantity: Decimal, demands: list[Decimal]) -> list[Decimal]:
    """Spread a quantity over moves of the same product, filling each demand in order."""
    shares = []
    remaining = quantity
    for index, demand in enumerate(demands):
        share = remaining if index == len(demands) - 1 else min(remaining, demand)
        shares.append(max(Decimal(0), share))
        remaining -= shares[-1]
    return shares


async def _record_quantities(
    client: OdooClient, picking_id: int, quantities: Mapping[str, Decimal | int] | None
) -> None:
    version = client.version
    moves = await client.execute_kw(
        "stock.move",
        "search_read",
        [[("picking_id", "=", picking_id), ("state", "not in", ["done", "cancel"])]],
        {"fields": ["product_id", "product_uom_qty"], "order": "id asc"},
    )
    skus = await _skus(client, [pid for m in moves if (pid := many2one_id(m.get("product_id"))) is not None])
    by_product: dict[int, list[dict[str, Any]]] = {}
    for move in moves:
        product_id = many2one_id(move.get("product_id"))
        if product_id is not None:
            by_product.setdefault(product_id, []).append(move)
    if quantities is not None:
        unknown = set(quantities) - {skus.get(pid, "") for pid in by_product}
        if unknown:
            raise OdooUserError(
                f"picking {picking_id} has no move for SKU {', '.join(sorted(unknown))}",
                model="stock.picking",
                method="button_validate",
            )
    for product_id, product_moves in by_product.items():
        demands = [decimal(move.get("product_uom_qty")) for move in product_moves]
        wanted = (
            sum(demands, Decimal(0)) if quantities is None else Decimal(quantities.get(skus[product_id], 0))
        )
        for move, share in zip(product_moves, _split(wanted, demands), strict=True):
            await client.execute_kw(
                "stock.move", "write", [[int(move["id"])], version.processed_move_values(float(share))]
            )


async def _finish_wizard(client: OdooClient, action: Mapping[str, Any], *, backorder: bool) -> None:
    model = str(action.get("res_model") or "")
    context = dict(action.get("context") or {})
    if model == "stock.backorder.confirmation":
        method = "process" if backorder else "process_cancel_backorder"
    elif model == "stock.immediate.transfer":
        method = "process"
    else:
        raise OdooProtocolError(
            f"button_validate asked for an unexpected wizard {model!r}", model="stock.picking"
        )
    wizard_id = action.get("res_id") or await client.act(model, "create", [{}], {"context": context})
    await client.act(model, method, [[int(wizard_id)]], {"context": context})


async def validate_picking(
    client: OdooClient,
    picking_id: int,
    quantities: Mapping[str, Decimal | int] | None = None,
    *,
    backorder: bool = True,
) -> PickingResult:
    """Validate a picking with the given quantities per SKU (None: everything demanded).

    Less than demanded leaves a backorder for the rest (or none with `backorder=False`)."""
    version = client.version

    async def find(acted: bool) -> PickingResult | None:
        picking = await _read_one(client, "stock.picking", picking_id, ["name", "state"])
        if picking["state"] == "done":
            return PickingResult(
                picking_id, str(picking["name"]), "done", await _backorders(client, picking_id)
            )
        if picking["state"] == "cancel":
            raise OdooUserError(
                f"picking {picking['name']} is cancelled", model="stock.picking", method="button_validate"
            )
        return None

    async def act() -> None:
        await _record_quantities(client, picking_id, quantities)
        context = version.validate_picking_context([picking_id], backorder=backorder)
        result = await client.act("stock.picking", "button_validate", [[picking_id]], {"context": context})
        if isinstance(result, dict) and result.get("res_model"):
            await _finish_wizard(client, result, backorder=backorder)

    return await _reconciling(client, f"validating picking {picking_id}", find, act)


async def create_return(
    client: OdooClient,
    picking_id: int,
    quantities: Mapping[str, Decimal | int] | None,
    *,
    reference: str,
) -> ReturnResult:
    """A return picking for a done delivery (None: return everything), created once per reference.

    The return picking is left to be validated when the goods arrive (`validate_picking`)."""
    version = client.version
    tag = f"[{reference}]"

    name = ""
    untagged_before: set[int] | None = None

    async def untagged_returns() -> list[dict[str, Any]]:
        rows = await client.execute_kw(
            "stock.picking", "search_read", [[("origin", "=", f"Return of {name}")]], {"fields": ["origin"]}
        )
        return list(rows)

    async def find(acted: bool) -> ReturnResult | None:
        nonlocal name, untagged_before
        if not name:
            name = str((await _read_one(client, "stock.picking", picking_id, ["name"]))["name"])
        rows = await client.execute_kw(
            "stock.picking",
            "search_read",
            [[("origin", "ilike", tag)]],
            {"fields": ["name", "state", "origin"]},
        )
        row = next((r for r in rows if str(r.get("origin") or "").endswith(tag)), None)
        if row is not None:
            return ReturnResult(int(row["id"]), str(row["name"]), str(row["state"]), acted)
        untagged = await untagged_returns()
        if untagged_before is None:
            untagged_before = {int(r["id"]) for r in untagged}
        elif orphans := [r for r in untagged if int(r["id"]) not in untagged_before]:
            # Our earlier attempt created the return but failed before tagging it: adopt it.
            orphan = orphans[0]
            origin = text(orphan.get("origin")) or f"Return of {name}"
            await client.execute_kw(
                "stock.picking", "write", [[int(orphan["id"])], {"origin": f"{origin} {tag}"}]
            )
            return await find(acted)
        return None

    async def act() -> None:
        context = {"active_id": picking_id, "active_ids": [picking_id], "active_model": "stock.picking"}
        wizard_id = await client.act(
            "stock.return.picking", "create", [{"picking_id": picking_id}], {"context": context}
        )
        lines = await client.execute_kw(
            "stock.return.picking.line", "search_read", [[("wizard_id", "=", wizard_id)]],
            {"fields": ["product_id", "quantity"]},
        )  # fmt: skip
        product_ids = [pid for line in lines if (pid := many2one_id(line.get("product_id"))) is not None]
        skus = await _skus(client, product_ids)
        for line in lines:
            values: dict[str, Any] = {}
            if quantities is not None:
                sku = skus.get(many2one_id(line.get("product_id")) or 0, "")
                values["quantity"] = float(quantities.get(sku, 0))
            if version.return_line_has_to_refund:
                values["to_refund"] = True
            if values:
                await client.execute_kw("stock.return.picking.line", "write", [[int(line["id"])], values])
        method = version.return_wizard_method
        action = await client.act("stock.return.picking", method, [[wizard_id]], {"context": context})
        new_id = action.get("res_id") if isinstance(action, dict) else None
        if not new_id:
            raise OdooProtocolError(
                f"{method} returned {action!r}", model="stock.return.picking", method=method
            )
        picking = await _read_one(client, "stock.picking", int(new_id), ["name", "origin"])
        origin = text(picking.get("origin")) or f"Return of {picking_id}"
        await client.execute_kw("stock.picking", "write", [[int(new_id)], {"origin": f"{origin} {tag}"}])

    return await _reconciling(client, f"return of picking {picking_id}", find, act)


async def create_credit_note(
    client: OdooClient, invoice_id: int, *, reason: str, reference: str
) -> CreditNoteResult:
    """A draft customer credit note reversing `invoice_id`, created once per reference."""
    version = client.version
    tag = f"[{reference}]"
    fields = ["name", "state", "amount_total", "ref"]

    refunds_before: set[int] | None = None

    async def find(acted: bool) -> CreditNoteResult | None:
        nonlocal refunds_before
        rows = await client.execute_kw(
            "account.move",
            "search_read",
            [[("reversed_entry_id", "=", invoice_id), ("move_type", "=", "out_refund")]],
            {"fields": fields, "order": "id asc"},
        )
        row = next((r for r in rows if tag in str(r.get("ref") or "")), None)
        if row is None and refunds_before is None:
            refunds_before = {int(r["id"]) for r in rows}
        elif row is None and (orphans := [r for r in rows if int(r["id"]) not in (refunds_before or set())]):
            # Our earlier attempt created it but failed before it was tagged: adopt it.
            row = orphans[0]
            ref = f"{text(row.get('ref')) or ''} {tag}".strip()
            await client.execute_kw("account.move", "write", [[int(row["id"])], {"ref": ref}])
        if row is None:
            return None
        return CreditNoteResult(
            int(row["id"]),
            str(row.get("name") or ""),
            str(row["state"]),
            decimal(row.get("amount_total")),
            acted,
        )

    async def act() -> None:
        extra, button = version.credit_note_wizard()
        context = {"active_model": "account.move", "active_ids": [invoice_id], "active_id": invoice_id}
        values = {"move_ids": [(6, 0, [invoice_id])], "reason": f"{reason} {tag}", **extra}
        wizard_id = await client.act("account.move.reversal", "create", [values], {"context": context})
        action = await client.act("account.move.reversal", button, [[wizard_id]], {"context": context})
        new_id = action.get("res_id") if isinstance(action, dict) else None
        if new_id:
            note = await _read_one(client, "account.move", int(new_id), fields)
            if tag not in str(note.get("ref") or ""):
                # A server that does not copy the reason into ref: tag it so a retry finds it.
                ref = f"{text(note.get('ref')) or ''} {tag}".strip()
                await client.execute_kw("account.move", "write", [[int(new_id)], {"ref": ref}])

    return await _reconciling(client, f"credit note for invoice {invoice_id}", find, act)
