"""Odoo payloads into Python: fault strings, values, change cursors, webhooks, price precedence."""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from channelhub.clock import ManualClock
from channelhub.connectors.errors import ValidationFailed, WebhookVerificationError
from channelhub.connectors.odoo.changes import ChangeCursor, read_changes
from channelhub.connectors.odoo.client import OdooClient, OdooConnection
from channelhub.connectors.odoo.errors import (
    OdooAccessError,
    OdooBusy,
    OdooMissingError,
    OdooNotFound,
    OdooSerializationFailure,
    OdooServerError,
    OdooUserError,
    from_error_object,
    from_fault,
    safe_to_retry,
)
from channelhub.connectors.odoo.pricing import PricelistPrices, PriceRule
from channelhub.connectors.odoo.values import decimal, many2one_id, parse_datetime, whole_down, whole_up
from channelhub.connectors.odoo.webhooks import OdooWebhookReceiver
from channelhub.domain import Money, Sku
from channelhub.resilience import CircuitOpenError

from .odoo_wire_fake import FakeOdoo


def test_traceback_faults_name_the_exception() -> None:
    traceback = (
        'Traceback (most recent call last):\n  File "/odoo/service/model.py", line 133\n'
        "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n"
    )
    error = from_fault(xmlrpc.client.Fault(1, traceback), model="stock.quant", method="write")
    assert isinstance(error, OdooSerializationFailure) and error.transient
    assert error.odoo_name == "psycopg2.errors.SerializationFailure"
    assert error.debug == traceback and str(error).startswith("odoo/stock.quant.write:")


def test_legacy_xmlrpc_string_fault_codes() -> None:
    error = from_fault(xmlrpc.client.Fault("warning -- AccessError\n\nNo access to Product", "tb"))
    assert isinstance(error, OdooAccessError) and error.odoo_message == "No access to Product"


def test_xmlrpc_code_2_missing_record_is_recognised() -> None:
    error = from_fault(
        xmlrpc.client.Fault(2, "Record does not exist or has been deleted.\n(Record: sale.order(9,))")
    )
    assert isinstance(error, OdooMissingError)
    assert isinstance(from_fault(xmlrpc.client.Fault(2, "Cannot confirm")), OdooUserError)


def test_unknown_traceback_is_a_permanent_server_error() -> None:
    error = from_fault(xmlrpc.client.Fault(1, "something odd happened"))
    assert isinstance(error, OdooServerError) and not error.transient


def test_jsonrpc_session_expired_and_not_found_codes() -> None:
    assert isinstance(from_error_object({"code": 404, "message": "404: Not Found", "data": {}}), OdooNotFound)
    expired = from_error_object({"code": 100, "message": "Odoo Session Expired", "data": {"name": ""}})
    assert expired.odoo_name == "odoo.http.SessionExpiredException"


def test_json2_werkzeug_service_unavailable_is_busy() -> None:
    error = from_error_object(
        {"name": "werkzeug.exceptions.ServiceUnavailable", "message": "busy"}, status=503
    )
    assert isinstance(error, OdooBusy) and error.transient


def test_safe_to_retry_distinguishes_ambiguous_failures() -> None:
    assert safe_to_retry(OdooBusy("busy"))
    assert safe_to_retry(CircuitOpenError("open", system="odoo"))
    assert not safe_to_retry(OdooUserError("no"))
    assert not safe_to_retry(TimeoutError())


def test_values() -> None:
    assert many2one_id([7, "WH/Stock"]) == 7 and many2one_id(7) == 7 and many2one_id(False) is None
    assert decimal(19.99) == Decimal("19.99") and decimal(False) == 0
    assert (whole_down(2.7), whole_up(0.2), whole_down(-1.5)) == (2, 1, -2)
    assert parse_datetime("2026-03-01 10:00:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert parse_datetime(False) is None


def test_change_cursor_orders_ties_by_id_and_round_trips() -> None:
    earlier = ChangeCursor("2026-01-01 10:00:00", 50)
    later = ChangeCursor("2026-01-01 10:00:00", 51)
    assert earlier < later < ChangeCursor("2026-01-01 10:00:01", 1)
    assert ChangeCursor.decode(later.encode()) == later
    assert later.domain() == ["|", ("write_date", ">", "2026-01-01 10:00:00"), "&",
                              ("write_date", "=", "2026-01-01 10:00:00"), ("id", ">", 51)]  # fmt: skip
    for bad in ("", "2026-01-01|x", "yesterday|4"):
        with pytest.raises(ValueError):
            ChangeCursor.decode(bad)


SECRET = "s3cret-token-for-odoo"


def test_webhook_payload_of_odoo_automation_is_parsed() -> None:
    receiver = OdooWebhookReceiver(SECRET)
    body = json.dumps(
        {"_action": "Send Webhook Notification(#12)", "_id": 42, "_model": "product.product",
         "default_code": "SKU-1", "id": 42, "uom_id": 1}, sort_keys=True,
    ).encode()  # fmt: skip
    note = receiver.receive({"Content-Type": "application/json"}, body, url_token=SECRET)
    assert (note.model, note.record_id, note.action_name, note.action_id) == (
        "product.product", 42, "Send Webhook Notification", 12,
    )  # fmt: skip
    assert note.values == {"default_code": "SKU-1", "id": 42, "uom_id": 1}
    assert receiver.receive({"X-Channelhub-Token": SECRET}, body).record_id == 42


@pytest.mark.parametrize(
    ("headers", "token"), [({}, None), ({}, "wrong-token-xxxxxxx"), ({"x-channelhub-token": "no"}, None)]
)
def test_webhook_without_the_shared_secret_is_refused(headers: dict, token: str | None) -> None:
    with pytest.raises(WebhookVerificationError):
        OdooWebhookReceiver(SECRET).receive(headers, b'{"_model": "x", "_id": 1}', url_token=token)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1]", b'{"_id": 1}', b'{"_model": "x", "_id": "abc"}', b'{"_model": "x", "_id": true}'],
)
def test_malformed_webhook_bodies_are_validation_failures(body: bytes) -> None:
    with pytest.raises(ValidationFailed):
        OdooWebhookReceiver(SECRET).receive({}, body, url_token=SECRET)


def test_webhook_model_allow_list() -> None:
    receiver = OdooWebhookReceiver(SECRET, allowed_models=frozenset({"stock.quant"}))
    with pytest.raises(ValidationFailed, match="unexpected model"):
        receiver.receive({}, b'{"_model": "res.partner", "_id": 1}', url_token=SECRET)


def _rule(rule_id: int, price: str, *, min_qty: int = 0, applied_on: str = "0_product_variant",
          starts: datetime | None = None, ends: datetime | None = None) -> PriceRule:  # fmt: skip
    return PriceRule(rule_id, Sku("A-1"), Money.of(price, "EUR"), Decimal(min_qty), starts, ends, applied_on)


def test_price_precedence_follows_odoo_rule_order() -> None:
    at = datetime(2026, 6, 1, tzinfo=UTC)
    prices = PricelistPrices(
        1,
        "EUR",
        (
            _rule(1, "12.00", applied_on="1_product"),
            _rule(2, "10.00"),
            _rule(3, "9.00", min_qty=10),
            _rule(4, "5.00", starts=datetime(2026, 7, 1, tzinfo=UTC)),
            _rule(5, "8.00", ends=datetime(2026, 5, 1, tzinfo=UTC)),
        ),
    )
    assert prices.price_for(Sku("A-1"), 1, at) == Money.of("10.00", "EUR")  # variant beats template
    assert prices.price_for(Sku("A-1"), 10, at) == Money.of("9.00", "EUR")  # higher min qty first
    assert prices.price_for(Sku("A-1"), 1, datetime(2026, 7, 2, tzinfo=UTC)) == Money.of("5.00", "EUR")
    assert prices.price_for(Sku("B-2"), 1, at) is None


async def test_change_cursor_settles_only_after_its_second_is_old_enough() -> None:
    rows = [{"id": 4, "write_date": "2026-01-01 10:00:00"}, {"id": 9, "write_date": "2026-01-01 10:00:05"}]
    fake = FakeOdoo(answer=lambda model, method, args, kwargs: rows[: kwargs["limit"]])
    async with OdooClient(
        OdooConnection("http://odoo.test", "retail", "admin", "pw"),
        transport=fake.transport(),
        clock=ManualClock(),
    ) as client:
        recent = datetime(2026, 1, 1, 10, 0, 6, tzinfo=UTC)
        settled = datetime(2026, 1, 1, 10, 0, 30, tzinfo=UTC)
        batch = await read_changes(client, "product.product", ChangeCursor(), ["name"], now=recent)
        assert batch.cursor == ChangeCursor("2026-01-01 10:00:05", 0) and not batch.has_more
        batch = await read_changes(client, "product.product", ChangeCursor(), ["name"], now=settled)
        assert batch.cursor == ChangeCursor("2026-01-01 10:00:05", 9)
        paged = await read_changes(client, "product.product", ChangeCursor(), ["name"], limit=1, now=recent)
        assert paged.has_more and paged.cursor == ChangeCursor("2026-01-01 10:00:00", 4)  # exact while paging
    sent = fake.calls[0]
    assert sent.kwargs["order"] == "write_date asc, id asc" and "write_date" in sent.kwargs["fields"]
