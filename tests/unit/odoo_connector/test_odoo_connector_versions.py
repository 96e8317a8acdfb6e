"""The version matrix: every 16/17/18/19 difference answered by `OdooVersion`."""

from __future__ import annotations

import pytest

from channelhub.connectors.odoo.errors import OdooProtocolError
from channelhub.connectors.odoo.versions import OdooVersion, require_supported

V16, V17, V18, V19 = (OdooVersion(major) for major in (16, 17, 18, 19))


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"server_version_info": [17, 0, 0, "final", 0, ""], "server_serie": "17.0"}, OdooVersion(17)),
        (
            {"server_version_info": [17, 4, 0, "final", 0, ""], "server_serie": "saas~17.4"},
            OdooVersion(17, 4),
        ),
        ({"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}, OdooVersion(19)),
        ({"server_serie": "saas~18.1"}, OdooVersion(18, 1)),
        ({"server_version": "16.0+e"}, OdooVersion(16)),
    ],
)
def test_version_is_read_from_common_version_or_web_version(payload: dict, expected: OdooVersion) -> None:
    assert OdooVersion.from_payload(payload) == expected


@pytest.mark.parametrize("payload", [{}, {"server_version": "banana"}, {"server_version_info": ["x"]}])
def test_unparseable_versions_are_protocol_errors(payload: dict) -> None:
    with pytest.raises(OdooProtocolError):
        OdooVersion.from_payload(payload)


def test_only_researched_series_are_supported() -> None:
    assert require_supported(OdooVersion(18, 3)) == OdooVersion(18, 3)
    for version in (OdooVersion(15), OdooVersion(20)):
        with pytest.raises(OdooProtocolError, match="not supported"):
            require_supported(version)


def test_storable_products() -> None:
    assert V16.storable_product_domain == [("type", "=", "product")]
    assert V17.storable_product_values() == {"type": "product"}
    assert V18.storable_product_domain == [("is_storable", "=", True)]
    assert V19.storable_product_values() == {"type": "consu", "is_storable": True}
    assert V17.is_storable({"type": "product"}) and not V17.is_storable({"type": "consu"})
    assert V18.is_storable({"type": "consu", "is_storable": True})
    assert not V18.is_storable({"type": "product"})  # 'product' no longer exists in 18


def test_warehouse_context_key() -> None:
    assert V16.warehouse_context(3) == {"warehouse": 3}
    assert V17.warehouse_context(3) == {"warehouse": 3}
    assert V18.warehouse_context(3) == {"warehouse_id": 3}
    assert V19.warehouse_context(3) == {"warehouse_id": 3}


def test_picking_validation() -> None:
    assert V16.processed_move_values(2.0) == {"quantity_done": 2.0}
    assert V17.processed_move_values(2.0) == {"quantity": 2.0, "picked": True}
    assert V18.processed_move_values(0.0) == {"quantity": 0.0, "picked": False}
    assert V16.validate_picking_context([9], backorder=True) == {
        "skip_backorder": True, "skip_sms": True, "skip_immediate": True,
    }  # fmt: skip
    assert V17.validate_picking_context([9], backorder=False) == {
        "skip_backorder": True, "skip_sms": True, "picking_ids_not_to_backorder": [9],
    }  # fmt: skip
    assert V16.has_immediate_transfer_wizard and not V17.has_immediate_transfer_wizard


def test_sale_order_states_and_locking() -> None:
    assert "done" in V16.sale_order_states and "done" not in V17.sale_order_states
    assert V16.is_sale_order_locked({"state": "done"})
    assert not V17.is_sale_order_locked({"state": "sale", "locked": False})
    assert V18.is_sale_order_locked({"state": "sale", "locked": True})
    assert "locked" in V17.sale_order_fields and "locked" not in V16.sale_order_fields
    assert V19.cancel_context == {"disable_cancel_warning": True}


def test_returns_credit_notes_and_wire_codes() -> None:
    assert (V16.return_wizard_method, V17.return_wizard_method) == ("create_returns", "create_returns")
    assert (V18.return_wizard_method, V19.return_wizard_method) == ("action_create_returns",) * 2
    assert V16.credit_note_wizard() == ({"refund_method": "refund"}, "reverse_moves")
    assert V17.credit_note_wizard() == ({}, "refund_moves")
    assert [v.jsonrpc_error_code for v in (V16, V17, V18, V19)] == [200, 200, 200, 0]
    assert OdooVersion(18, 1).jsonrpc_error_code == 0
    assert [v.has_json2 for v in (V16, V17, V18, V19)] == [False, False, False, True]
    assert not V16.supports_any_operator and V17.supports_any_operator
